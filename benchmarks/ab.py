#!/usr/bin/env python3
"""Alternating runs of two or more shell commands, each in a fresh process: wall time and CPU
time (user + sys of the children, less sensitive than wall time to the other processes on a
shared machine), medians and the ratio of each command to the first.

    python3 benchmarks/ab.py -n 7 'python3 benchmarks/baseline.py' \
        'python3 -m generator render inputs/524-xigang-2025.yaml -o /tmp/ab-out --force'

Runs A B A B …, so a change in the machine's load hits every command alike.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def once(cmd: str) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    code = subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=5, help="runs of each command")
    ap.add_argument("commands", nargs="+")
    args = ap.parse_args()
    walls: list[list[float]] = [[] for _ in args.commands]
    cpus: list[list[float]] = [[] for _ in args.commands]
    for _ in range(args.n):
        for i, cmd in enumerate(args.commands):
            wall, cpu, code = once(cmd)
            if code:
                print(f"exit {code}: {cmd}", file=sys.stderr)
            walls[i].append(wall)
            cpus[i].append(cpu)
    w0, c0 = statistics.median(walls[0]), statistics.median(cpus[0])
    print(f"load {os.getloadavg()[0]:.2f}; {args.n} alternating runs; medians")
    print("| command | wall (s) | min–max | CPU (s) | wall ratio | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for i, cmd in enumerate(args.commands):
        w, c = statistics.median(walls[i]), statistics.median(cpus[i])
        print(f"| `{cmd}` | {w:.2f} | {min(walls[i]):.2f}–{max(walls[i]):.2f} | {c:.2f} | "
              f"{w / w0:.2f} | {c / c0:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
