#!/usr/bin/env python3
"""Batch throughput against the bare-WeasyPrint baseline, side by side (issue 28), run by hand:

    python3 benchmarks/throughput.py [-n 3] [--files 6]

Writes `--files` copies of the 2025 example (different 部门编码), starts a Dask
distributed.LocalCluster here (2 spawned worker processes, one thread each, as `dask worker
--nthreads 1` would run them), warms its workers with one batch (a bureau's cluster stays up:
its workers import WeasyPrint once), then runs alternately, each a fresh process:

  A. the baseline `files` times in a row (benchmarks/baseline.py, one process each);
  B. `budgetgen render FILES… -j 2 --force` (the local pool);
  C. `budgetgen render FILES… --executor dask://… --force` (the 2-worker cluster);
  D. the same on a second cluster of 1 worker (with --scaling): throughput per worker, so the
     2-worker ratio shows how it scales with workers (2.0 is linear; on this 2-core machine the
     two workers are also all its cores).

Prints wall-time medians and each batch's ratio to A, and the size of the 2025 example's PDF.
CPU time is not compared: the Dask workers are not children of the measured process.
Needs the `dask` extra (pip install '.[dask]') and the seed text benchmarks/baseline.py reads.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def run(cmd: str) -> tuple[float, float]:
    """(wall, CPU of the command's processes) — the CPU misses the Dask workers."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          check=False).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code:
        print(f"exit {code}: {cmd}", file=sys.stderr)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=3, help="alternating rounds")
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--scaling", action="store_true", help="also a 1-worker cluster (D)")
    args = ap.parse_args()
    from bench import copies_of_example
    from distributed import LocalCluster
    py = shlex.quote(sys.executable)
    with tempfile.TemporaryDirectory(prefix="budgetgen-throughput-") as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            (LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
             if args.scaling else contextlib.nullcontext()) as single:
        files = " ".join(shlex.quote(str(p)) for p in copies_of_example(args.files, Path(tmp)))
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        base = " && ".join([f"{py} {ROOT}/benchmarks/baseline.py -o {tmp}/base.pdf"] * args.files)
        render = f"{py} -m generator render {files} -o {tmp}/out --force"
        commands = {f"{args.files} × baseline": base,
                    "render -j 2": f"{render} -j 2",
                    "render --executor dask:// (2 workers)": f"{render} --executor {address}"}
        if args.scaling:
            one = single.scheduler_address.replace("tcp://", "dask://")
            commands["render --executor dask:// (1 worker)"] = f"{render} --executor {one}"
        for name, cmd in commands.items():
            if "dask" in name:
                run(cmd)  # warm the workers
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpus: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.n):
            for name, cmd in commands.items():
                wall, cpu = run(cmd)
                times[name].append(wall)
                cpus[name].append(cpu)
        load = os.getloadavg()[0]
        single = Path(tmp) / "single"
        subprocess.run([sys.executable, "-m", "generator", "render", str(ROOT / "inputs" / "524-xigang-2025.yaml"),
                        "-o", str(single), "-f", "pdf"], stdout=subprocess.DEVNULL, check=False)
        size = sum(p.stat().st_size for p in single.rglob("*.pdf"))
    first = f"{args.files} × baseline"
    w0, c0 = statistics.median(times[first]), statistics.median(cpus[first])
    print(f"load {load:.2f}; {args.n} alternating rounds; medians (CPU: the measured command's own "
          "processes, not the Dask workers)")
    print("| command | wall (s) | min–max | wall ratio | CPU (s) | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, values in times.items():
        w, c = statistics.median(values), statistics.median(cpus[name])
        dask = "dask" in name
        print(f"| {name} | {w:.2f} | {min(values):.2f}–{max(values):.2f} | {w / w0:.2f} | "
              f"{'—' if dask else f'{c:.2f}'} | {'—' if dask else f'{c / c0:.2f}'} |")
    if args.scaling:
        one, two = (statistics.median(times[f"render --executor dask:// ({n})"])
                    for n in ("1 worker", "2 workers"))
        print(f"Dask throughput, 2 workers over 1: {one / two:.2f}× (2.00 would be linear)")
    print(f"PDF of the 2025 example: {size} bytes ({size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
