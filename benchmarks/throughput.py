#!/usr/bin/env python3
"""Batch throughput against the bare-WeasyPrint baseline, side by side (issue 28), run by hand:

    python3 benchmarks/throughput.py [-n 3] [--files 6]

Writes `--files` copies of the 2025 example (different 部门编码), starts a Dask
distributed.LocalCluster here (2 spawned worker processes, one thread each, as `dask worker
--nthreads 1` would run them), warms its workers with one batch (a bureau's cluster stays up:
its workers import WeasyPrint once), then runs alternately, each a fresh process:

  A. the baseline `files` times in a row (benchmarks/baseline.py, one process each);
  B. `budgetgen render FILES… -j 2 --force` (the local pool);
  C. `budgetgen render FILES… --executor dask://… --force` (the 2-worker cluster).

Prints wall-time medians and each batch's ratio to A, and the size of the 2025 example's PDF.
CPU time is not compared: the Dask workers are not children of the measured process.
Needs the `dask` extra (pip install '.[dask]') and the seed text benchmarks/baseline.py reads.
"""
from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def run(cmd: str) -> float:
    start = time.perf_counter()
    code = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          check=False).returncode
    if code:
        print(f"exit {code}: {cmd}", file=sys.stderr)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3, help="alternating rounds")
    ap.add_argument("--files", type=int, default=6)
    args = ap.parse_args()
    from bench import copies_of_example
    from distributed import LocalCluster
    py = shlex.quote(sys.executable)
    with tempfile.TemporaryDirectory(prefix="budgetgen-throughput-") as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        files = " ".join(shlex.quote(str(p)) for p in copies_of_example(args.files, Path(tmp)))
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        base = " && ".join([f"{py} {ROOT}/benchmarks/baseline.py -o {tmp}/base.pdf"] * args.files)
        render = f"{py} -m generator render {files} -o {tmp}/out --force"
        commands = {f"{args.files} × baseline": base,
                    "render -j 2": f"{render} -j 2",
                    "render --executor dask:// (2 workers)": f"{render} --executor {address}"}
        run(commands["render --executor dask:// (2 workers)"])  # warm the workers
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.n):
            for name, cmd in commands.items():
                times[name].append(run(cmd))
        load = os.getloadavg()[0]
        single = Path(tmp) / "single"
        subprocess.run([sys.executable, "-m", "generator", "render", str(ROOT / "inputs" / "524-xigang-2025.yaml"),
                        "-o", str(single), "-f", "pdf"], stdout=subprocess.DEVNULL, check=False)
        pdf = next(single.rglob("*.pdf"), None)
    first = statistics.median(times[f"{args.files} × baseline"])
    print(f"load {load:.2f}; {args.n} alternating rounds; wall-time medians")
    print("| command | wall (s) | min–max | ratio to the baseline |")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        m = statistics.median(values)
        print(f"| {name} | {m:.2f} | {min(values):.2f}–{max(values):.2f} | {m / first:.2f} |")
    if pdf is not None:
        print(f"PDF of the 2025 example: {pdf.stat().st_size} bytes ({pdf.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
