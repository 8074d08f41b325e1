#!/usr/bin/env python3
"""One render (YAML → PDF + XLSX, like `budgetgen render`) with the speed changes switched on up
to a step, for measuring each change before and after in fresh processes (benchmarks/ab.py):

    python3 benchmarks/ab.py -n 7 'python3 benchmarks/steps.py none' \
        'python3 benchmarks/steps.py import' … 'python3 benchmarks/steps.py all'

Steps, cumulative in this order: import (no find_library child processes), gc (collector
paused, the document frozen instead of collected), expat (HTML parsed by expat), exit (no
interpreter teardown), two (one document laid out on two cores, render/parallel.py). `none` is
the code before the changes; the stylesheet parsed once per process only counts in a batch
(`--batch N` renders the file N times in one process).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("none", "import", "gc", "expat", "exit", "two", "all")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=STEPS)
    ap.add_argument("file", nargs="?", default=str(ROOT / "inputs" / "524-xigang-2025.yaml"))
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--no-sheet-cache", action="store_true")
    ap.add_argument("--idle", action="store_true",
                    help="take the two-core path whatever else runs (as if two cores were free)")
    args = ap.parse_args()
    on = set(STEPS[1:STEPS.index(args.step) + 1]) if args.step != "all" else set(STEPS)
    sys.path.insert(0, str(ROOT))
    if "import" not in on:
        import weasyprint  # noqa: F401  the ordinary import, before compat's
    from generator.render import compat, parallel, pdf, weasy
    if args.idle:
        parallel.others_running = lambda: 0  # type: ignore[assignment]
    if "gc" not in on:
        pdf.collector_paused = contextlib.nullcontext  # type: ignore[assignment]
        weasy.collector_paused = contextlib.nullcontext  # type: ignore[assignment]
    if "expat" not in on:
        compat._xml_tree = lambda html: None  # type: ignore[assignment]
    if args.no_sheet_cache:
        real = weasy._sheet

        def fresh(key, text):
            weasy._SHEETS.pop(text, None)
            return real(key, text)
        weasy._sheet = fresh  # type: ignore[assignment]
    from generator.commands.jobs import render_file
    out = tempfile.mkdtemp(prefix="budgetgen-steps-")
    for _ in range(args.batch):
        outcome = render_file(args.file, out, ("pdf", "xlsx"), two_cores="two" in on)
        if outcome.status != "ok":
            print(outcome.problems, file=sys.stderr)
            return 1
    if "exit" in on:
        from generator.commands.quickexit import quick_exit
        quick_exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
