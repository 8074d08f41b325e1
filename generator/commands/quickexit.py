"""Ending the process without the interpreter's teardown.

After a render the heap holds WeasyPrint's whole box tree (frozen out of the collector's sight,
see render/pdf.py); an ordinary exit tears every module down and runs a last full collection over
it, 0.3–0.6 s of a 3 s command. The CLI's work is done by then — outputs were written and
fsynced, streams are flushed here — so it leaves with os._exit.
"""
from __future__ import annotations

import os
import sys
from typing import NoReturn


def quick_exit(code: object = 0) -> NoReturn:
    """Flush stdout and stderr and end the process with `code` (SystemExit's convention:
    None → 0, an int → itself, anything else printed to stderr → 1)."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 1
    os._exit(status)
