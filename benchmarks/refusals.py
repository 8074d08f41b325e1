#!/usr/bin/env python3
"""How long budgetgen takes to refuse hostile input, as a ratio to checking the 2025 example
(the tests check *that* each is refused, located and in bounded memory; how fast is measured
here, never in a test): a billion-laughs file, a 6 MB text, more than MAX_NODES entries,
5,000 levels of nesting, a 50 GB sparse file, the work limits (2,001 spending lines).

    python3 benchmarks/refusals.py [-n 5]

Each case is run alternately with the reference (`check` of the example, in this process),
so a change in the machine's load hits both alike; medians and ratios are printed. Before the
tests lost their stopwatches they asked for under 2 s each (60 s for the work limits).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import loader, model  # noqa: E402
from generator.pipeline import run, run_text  # noqa: E402

EXAMPLE = ROOT / "inputs" / "524-xigang-2025.yaml"
EX = EXAMPLE.read_text(encoding="utf-8")


def laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 [' + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "department: {code: '1', name: x, year: 2025, edition: hebei-2025}\n" + "\n".join(lines) + "\n"


def cases(tmp: Path) -> dict:
    sparse = tmp / "big.yaml"
    with open(sparse, "wb") as fh:
        fh.truncate(50 * 1024 ** 3)
    lines = "".join("  - {code: 2010301, basic: 0.01}\n" for _ in range(model.MAX_EXPENDITURE_LINES + 1))
    return {
        "billion laughs": lambda: run_text(laughs(), "d.yaml"),
        "6 MB text": lambda: run_text(EX + "# " + "数" * (2 * 1024 * 1024) + "\n", "d.yaml"),
        "too many nodes": lambda: run_text(EX + "".join(f"k{i}: v\n" for i in range(loader.MAX_NODES)),
                                           "d.yaml"),
        "5,000 levels": lambda: run_text(EX + "glossary: " + "[" * 5000 + "]" * 5000 + "\n", "d.yaml"),
        "50 GB sparse file": lambda: run(sparse),
        "2,001 spending lines": lambda: run_text(EX.replace("expenditure:\n", "expenditure:\n" + lines, 1),
                                                 "d.yaml"),
    }


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args()
    reference = lambda: run(EXAMPLE)  # noqa: E731
    reference()  # imports and caches warm
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in cases(Path(tmp)).items():
            ours, refs = [], []
            for _ in range(args.n):
                refs.append(timed(reference))
                ours.append(timed(fn))
            ratio = statistics.median(ours) / statistics.median(refs)
            print(f"{name:22} {statistics.median(ours):6.3f} s  {ratio:5.2f}× the example's check")


if __name__ == "__main__":
    main()
