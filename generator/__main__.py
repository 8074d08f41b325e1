"""`python -m generator` runs the command line (the same as `budgetgen`)."""
from .commands.cli import main

if __name__ == "__main__":  # not when a 'spawn' worker re-imports the main module as __mp_main__
    main()
