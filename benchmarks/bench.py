#!/usr/bin/env python3
"""Benchmarks for budgetgen, run by hand (not a test):

    python3 benchmarks/bench.py                 # everything (≈15 min on 2 cores, mostly the batch)
    python3 benchmarks/bench.py --quick         # smaller sizes, 10-file batch, 2 runs
    python3 benchmarks/bench.py --skip-pdf      # when the PDF renderer is not ready

Measures, each case in a fresh Python process:
  * the 2025 example and synthetic departments of growing size (项 lines / projects):
    load+check, XLSX, PDF wall time, peak memory (ru_maxrss), PDF size and pages;
  * a fresh process `python -m generator render <example>` (YAML → PDF + XLSX), median of N runs,
    and a fresh `python -m generator check`;
  * batch throughput: 100 copies of the example (different 部门编码) with -j 1 and -j 2.
Prints a Markdown table and writes benchmarks/results.md with the machine description.
A stage that fails (a renderer not written yet, a crash) is reported in the table, not raised.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "inputs" / "524-xigang-2025.yaml"
RESULTS = ROOT / "benchmarks" / "results.md"
SIZES = ((10, 5), (100, 50), (1000, 200))  # (项 lines, projects)
QUICK_SIZES = ((10, 5), (100, 50))
SOURCES = ("general", "special_account", "institution")  # sources that take general-budget codes
CENT = Decimal("0.01")
KEPT = "<!-- 以下由手工记录（benchmarks/ab.py），bench.py 重新运行时保留 -->"

# --------------------------------------------------------------------------- synthetic input


def _split(total_cents: int, parts: int, rng: random.Random) -> list[int]:
    """total_cents as `parts` positive integers (cents) that add up exactly."""
    if parts <= 0:
        return []
    assert total_cents >= parts, (total_cents, parts)
    cuts = sorted(rng.sample(range(1, total_cents), parts - 1)) if parts > 1 else []
    edges = [0] + cuts + [total_cents]
    return [b - a for a, b in zip(edges, edges[1:])]


def _m(cents: int) -> str:
    return str((Decimal(cents) * CENT).quantize(CENT))


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a double-quoted YAML scalar


def synthetic_yaml(lines: int, projects: int, year: int = 2025, seed: int = 7) -> str:
    """A consistent department (passes `check`) with `lines` expenditure lines (项 × 资金来源)
    and `projects` projects, built from the catalog's own codes and names."""
    sys.path.insert(0, str(ROOT))
    from generator.catalog import load_catalog
    cat = load_catalog()
    rng = random.Random(seed * 1000 + lines)
    # confirmed general-budget 项 codes (every source below is a general-budget fund source)
    codes = sorted(c for c in cat.function_names if len(c) == 7 and cat.fund_of(c) == "general"
                   and not cat.is_unconfirmed(c))
    econ = [c for c in sorted(cat.economic_names) if len(c) == 5 and c[:3] in ("301", "302", "303")
            and c not in ("30217", "30231") and not cat.is_unconfirmed(c, "economic")]
    if lines > len(codes) * len(SOURCES):
        raise ValueError(f"at most {len(codes) * len(SOURCES)} lines with this catalog")
    rows, basic_cents, project_cents = [], 0, 0
    for i in range(lines):
        code, source = codes[i % len(codes)], SOURCES[i // len(codes)]
        basic = rng.randint(500, 200000) if source == "general" and i % 3 != 2 else 0
        project = rng.randint(projects * 100 // max(lines, 1) + 100, 300000) if not basic else 0
        basic_cents += basic
        project_cents += project
        fields = [f"code: {code}", f"name: {_q(cat.function_names[code])}"]
        if basic:
            fields.append(f"basic: {_m(basic)}")
        if project:
            fields.append(f"project: {_m(project)}")
        if source != "general":
            fields.append(f"source: {source}")
        rows.append("  - {" + ", ".join(fields) + "}")
    if project_cents < projects * 100:  # make room for every project
        extra = projects * 100 - project_cents
        rows.append(f"  - {{code: 2010302, name: 一般行政管理事务, project: {_m(extra)}, source: other}}")
        project_cents += extra
    out = [f"# synthetic department: {lines} 项 lines, {projects} projects (benchmarks/bench.py)",
           "department:", f'  code: "S{lines}"', f"  name: 合成测试部门{lines}", f"  year: {year}",
           "  edition: hebei-2025", "duties:"]
    out += ["  - " + f"（{n}）合成职责第{n}段，用于性能测试。" * 3 for n in range(1, 6)]
    out += ["institutions:"]
    out += [f"  - {{name: 合成单位{n}, nature: 行政, rank: 正科级, funding: 财政拨款}}" for n in range(1, 4)]
    out += ["expenditure:"] + rows
    out += ["basic_economic:"]
    parts = _split(basic_cents, min(len(econ), max(1, basic_cents // 1000)), rng) if basic_cents else []
    out += [f"  - {{code: {c}, name: {_q(cat.economic_names[c])}, amount: {_m(a)}}}" for c, a in zip(econ, parts)]
    out += ["three_public:", "  vehicle_operation: 1.00", "  reception: 0.50", "projects:"]
    for n, amount in enumerate(_split(project_cents, projects, rng), start=1):
        plan = [amount // 4, amount // 2, amount * 3 // 4, amount]
        out += [f"  - code: S{lines}P{n:05d}", f"    name: 合成项目{n}", f"    amount: {_m(amount)}",
                f"    purpose: 合成项目{n}的资金用途", f"    plan: [{', '.join(_m(p) for p in plan)}]",
                "    goals:", f"      - 1.合成项目{n}的第一条绩效目标", f"      - 2.合成项目{n}的第二条绩效目标",
                "    indicators:",
                "      - [产出指标, 数量指标, 开展活动数量, 开展活动数量, ≥10次, 年初工作计划]",
                "      - [产出指标, 质量指标, 验收合格率, 验收合格率, 100%, 年初工作计划]",
                f"      - [产出指标, 时效指标, 资金支付时间, 资金支付时间, {year}年12月底, 年初工作计划]",
                f"      - [产出指标, 成本指标, 控制在预算内, 控制在预算内, ≤{_m(amount)}万元, 年初工作计划]",
                "      - [效益指标, 社会效益指标, 服务水平, 服务水平, 进一步提高, 工作目标]",
                "      - [满意度指标, 服务对象满意度指标, 群众满意度, 群众满意度, ≥90%, 实际调查]"]
    out += ["performance:", "  overall:", "    - 合成总体绩效目标。", "  items:"]
    out += [f"    - {n}、合成分项绩效目标。" for n in range(1, 11)]
    out += ["  measures:", "    - 合成工作保障措施。", "procurement:"]
    for g in range(1, max(1, projects // 5) + 1):
        items = [rng.randint(100, 50000) for _ in range(3)]
        out += [f"  - source: 公用经费{g}", f"    budget: {_m(sum(items))}", "    items:"]
        out += [f"      - {{name: 复印纸, catalog: A05040101, unit: 包, quantity: {k + 1}, amount: {_m(a)}}}"
                for k, a in enumerate(items)]
    out += ["assets:", f"  as_of: {year - 1}-12-31", "  buildings: {quantity: 2046, value: 130.77}",
            "  office_buildings: {quantity: 730, value: 47.45}", "  vehicles: {quantity: 3, value: 26.92}",
            "  other: {quantity: 2031, value: 318.44}", "prior_year:",
            f"  basic: {_m(basic_cents)}", f"  project: {_m(max(project_cents - 800, 0))}", "  three_public: 1.50",
            "  reasons:", "    project: 主要为新增项目。"]
    return "\n".join(out) + "\n"


def copies_of_example(n: int, directory: Path) -> list[Path]:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count('code: "524"') == 1
    files = []
    for i in range(1, n + 1):
        path = directory / f"dept-{i:03d}.yaml"
        path.write_text(text.replace('code: "524"', f'code: "B{i:03d}"'), encoding="utf-8")
        files.append(path)
    return files


# --------------------------------------------------------------------------- one case, in a child


def measure(path: str, do_pdf: bool, do_xlsx: bool) -> dict:
    """Runs in a fresh process: times of each stage and peak memory."""
    import resource

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    out: dict = {"file": path, "yaml_kb": os.path.getsize(path) / 1024}
    t = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from generator.pipeline import run
    out["import_s"] = time.perf_counter() - t
    t = time.perf_counter()
    result = run(path)
    out["check_s"] = time.perf_counter() - t
    out["errors"] = sum(p.is_error for p in result.problems)
    out["warnings"] = len(result.problems) - out["errors"]
    out["peak_check_mb"] = peak_mb()
    if not result.ok:
        out["failed"] = "; ".join(str(p) for p in result.problems[:3])
        return out
    d = result.disclosure
    if do_xlsx:
        try:
            from generator.render.xlsx import render_xlsx
            t = time.perf_counter()
            data = render_xlsx(d)
            out["xlsx_s"] = time.perf_counter() - t
            out["xlsx_kb"] = len(data) / 1024
        except Exception as exc:  # a renderer not ready yet
            out["xlsx_error"] = f"{type(exc).__name__}: {exc}"[:200]
    if do_pdf:
        try:
            from generator.render.pdf import render_pdf
            t = time.perf_counter()
            data = render_pdf(d)
            out["pdf_s"] = time.perf_counter() - t
            out["pdf_kb"] = len(data) / 1024
            out["pages"] = pdf_pages(data)
        except Exception as exc:
            out["pdf_error"] = f"{type(exc).__name__}: {exc}"[:200]
    out["peak_mb"] = peak_mb()
    return out


def pdf_pages(data: bytes):
    """Page count: pypdf reads compressed object streams (WeasyPrint writes them); without it,
    the /Type /Page objects visible in the file (0 when they are all compressed)."""
    try:
        import io
        import pypdf
        return len(pypdf.PdfReader(io.BytesIO(data)).pages)
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page\b", data)) or None
    except Exception:
        return None


def run_case(path: Path, do_pdf: bool, do_xlsx: bool, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--measure", str(path)] + (["--skip-pdf"] if not do_pdf else []) \
        + (["--skip-xlsx"] if not do_xlsx else [])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"file": str(path), "failed": f"超时（>{timeout:.0f}秒）"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"file": str(path), "failed": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- fresh process, batch


def timed(cmd: list[str], timeout: float) -> tuple[float, int]:
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = -1
    return time.perf_counter() - t, code


def fresh_process(runs: int, formats: str, work: Path, timeout: float) -> dict:
    out: dict = {}
    for label, args in (("check", ["check", str(EXAMPLE)]),
                        ("render", ["render", str(EXAMPLE), "-o", str(work / "fresh"), "-f", formats,
                                    "--force"])):
        times, codes = [], set()
        for _ in range(runs):
            seconds, code = timed([sys.executable, "-m", "generator", *args], timeout)
            times.append(seconds)
            codes.add(code)
        out[label] = {"median": statistics.median(times), "min": min(times), "max": max(times),
                      "runs": runs, "exit": sorted(codes)}
    return out


def batch(n: int, jobs_list, formats: str, work: Path, timeout: float) -> list[dict]:
    src = work / "batch-in"
    src.mkdir(parents=True, exist_ok=True)
    files = copies_of_example(n, src)
    rows = []
    for jobs in jobs_list:
        dest = work / f"batch-out-{jobs}"
        shutil.rmtree(dest, ignore_errors=True)
        seconds, code = timed([sys.executable, "-m", "generator", "render", *map(str, files), "-o", str(dest),
                               "-f", formats, "-j", str(jobs), "--force"], timeout)
        written = len(list(dest.glob("*"))) if dest.exists() else 0
        rows.append({"files": n, "jobs": jobs, "formats": formats, "seconds": seconds, "exit": code,
                     "outputs": written, "per_file": seconds / n, "per_minute": 60 * n / seconds})
    return rows


# --------------------------------------------------------------------------- report


def machine() -> dict:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count()
    try:
        import weasyprint
        weasy = weasyprint.__version__
    except Exception:
        weasy = "未安装"
    import ctypes.util
    try:
        mem = next(int(l.split()[1]) // 1024 for l in Path("/proc/meminfo").read_text().splitlines()
                   if l.startswith("MemTotal"))
    except Exception:
        mem = 0
    return {"nproc": cpus, "cpu": model, "python": platform.python_version(), "os": platform.platform(),
            "memory_mb": mem, "weasyprint": weasy,
            "harfbuzz_subset": bool(ctypes.util.find_library("harfbuzz-subset")),
            "load": os.getloadavg() if hasattr(os, "getloadavg") else None}


def _f(value, fmt="{:.2f}") -> str:
    return "—" if value is None else fmt.format(value)


def report(m: dict, cases: list[dict], fresh: dict | None, batches: list[dict], load_end, notes) -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = " / ".join(f"{x:.2f}" for x in m["load"]) if m["load"] else "?"
    lines = [
        "# budgetgen 性能测试结果", "",
        f"由 `python3 benchmarks/bench.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}` 生成于 {now}。", "",
        "## 机器", "",
        f"- CPU：{m['cpu']}，可用核数（nproc）：{m['nproc']}；内存 {m['memory_mb']} MB",
        f"- Python {m['python']}；{m['os']}",
        f"- WeasyPrint {m['weasyprint']}；libharfbuzz-subset：{'有' if m['harfbuzz_subset'] else '无（字体子集化走慢路径）'}",
        f"- 开始时负载（1/5/15 分钟）：{load}；结束时：{' / '.join(f'{x:.2f}' for x in load_end) if load_end else '?'}"
        "（机器与其他进程共用时，时间会偏大）", "",
        "## 单个部门（每个用例一个新进程；时间不含 Python 与库的导入）", "",
        "| 用例 | 项级支出行 | 项目 | YAML (KB) | 读入+检查 (秒) | XLSX (秒) | PDF (秒) | 峰值内存 (MB) | PDF (KB) | 页数 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        if c.get("failed"):
            lines.append(f"| {c['label']} | {c.get('lines', '')} | {c.get('projects', '')} | — | 失败：{c['failed']} ||||||")
            continue
        lines.append(
            f"| {c['label']} | {c['lines']} | {c['projects']} | {_f(c.get('yaml_kb'), '{:.0f}')} | "
            f"{_f(c.get('check_s'), '{:.3f}')} | {_f(c.get('xlsx_s'))} | {_f(c.get('pdf_s'))} | "
            f"{_f(c.get('peak_mb'), '{:.0f}')} | {_f(c.get('pdf_kb'), '{:.0f}')} | {_f(c.get('pages'), '{}')} |")
    lines.append("")
    lines.append("导入时间（pydantic、模型等）另计，约 " +
                 _f(statistics.median([c["import_s"] for c in cases if "import_s" in c]) if any(
                     "import_s" in c for c in cases) else None) + " 秒；峰值内存为整个进程（检查与两种渲染）的最大常驻内存。")
    if fresh:
        lines += ["", "## 新进程：从 YAML 到输出（`python -m generator …`，示例 524）", "",
                  "| 命令 | 中位数 (秒) | 最快 | 最慢 | 次数 | 退出状态 |", "|---|---:|---:|---:|---:|---|"]
        for label, title in (("check", "check（只检查）"), ("render", f"render（{fresh.get('formats', '')}）")):
            r = fresh[label]
            lines.append(f"| {title} | {r['median']:.2f} | {r['min']:.2f} | {r['max']:.2f} | {r['runs']} | "
                         f"{', '.join(map(str, r['exit']))} |")
    if batches:
        lines += ["", f"## 批量：{batches[0]['files']} 个部门（示例的副本，部门编码不同），"
                      f"`render -f {batches[0]['formats']}`", "",
                  "| 进程数 (-j) | 总用时 (秒) | 每个部门 (秒) | 每分钟部门数 | 输出文件数 | 退出状态 |",
                  "|---:|---:|---:|---:|---:|---:|"]
        for b in batches:
            lines.append(f"| {b['jobs']} | {b['seconds']:.1f} | {b['per_file']:.2f} | {b['per_minute']:.1f} | "
                         f"{b['outputs']} | {b['exit']} |")
        if len(batches) > 1 and batches[-1]["seconds"]:
            lines.append("")
            lines.append(f"-j {batches[-1]['jobs']} 相对 -j {batches[0]['jobs']} 的加速比："
                         f"{batches[0]['seconds'] / batches[-1]['seconds']:.2f}。")
    if notes:
        lines += ["", "## 说明", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description="budgetgen 性能测试（手动运行）")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="小规模：两个合成规模、10 个文件的批量、2 次")
    ap.add_argument("--skip-pdf", action="store_true", help="不测 PDF")
    ap.add_argument("--skip-xlsx", action="store_true", help="不测 XLSX")
    ap.add_argument("--skip-batch", action="store_true", help="不测批量")
    ap.add_argument("--batch", type=int, default=None, help="批量的部门数（默认 100；--quick 为 10）")
    ap.add_argument("--runs", type=int, default=None, help="新进程计时次数（默认 5；--quick 为 2）")
    ap.add_argument("--timeout", type=float, default=1800, help="每个子进程的超时（秒）")
    ap.add_argument("--out", default=str(RESULTS), help="结果文件（默认 benchmarks/results.md）")
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, not args.skip_pdf, not args.skip_xlsx), ensure_ascii=False))
        return 0

    sizes = QUICK_SIZES if args.quick else SIZES
    runs = args.runs or (2 if args.quick else 5)
    n_batch = args.batch or (10 if args.quick else 100)
    formats = ",".join(f for f, skip in (("pdf", args.skip_pdf), ("xlsx", args.skip_xlsx)) if not skip) or "html"
    notes = []
    m = machine()
    print(f"机器：{m['cpu']}，{m['nproc']} 核，Python {m['python']}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="budgetgen-bench-") as tmp:
        work = Path(tmp)
        cases = []
        inputs = [("示例 524（2025）", EXAMPLE, None, None)]
        for lines_n, projects_n in sizes:
            path = work / f"synthetic-{lines_n}-{projects_n}.yaml"
            path.write_text(synthetic_yaml(lines_n, projects_n), encoding="utf-8")
            inputs.append((f"合成 {lines_n} 行 / {projects_n} 项目", path, lines_n, projects_n))
        for label, path, lines_n, projects_n in inputs:
            print(f"… {label}", file=sys.stderr, flush=True)
            c = run_case(path, not args.skip_pdf, not args.skip_xlsx, args.timeout)
            if lines_n is None:
                sys.path.insert(0, str(ROOT))
                from generator.pipeline import run
                b = run(path).budget
                lines_n, projects_n = len(b.expenditure), len(b.projects)
            c.update(label=label, lines=lines_n, projects=projects_n)
            for key in ("xlsx_error", "pdf_error"):
                if c.get(key):
                    notes.append(f"{label}：{key[:-6].upper()} 未能生成（{c[key]}）")
            if c.get("warnings"):
                notes.append(f"{label}：检查有 {c['warnings']} 个警告（不影响生成）")
            cases.append(c)
        print("… 新进程", file=sys.stderr, flush=True)
        fresh = fresh_process(runs, formats, work, args.timeout)
        fresh["formats"] = formats
        batches = []
        if not args.skip_batch:
            for jobs in (1, 2):
                print(f"… 批量 {n_batch} 个，-j {jobs}", file=sys.stderr, flush=True)
                batches += batch(n_batch, (jobs,), formats, work, args.timeout * 4)
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None
    text = report(m, cases, fresh, batches, load_end, notes)
    print(text)
    try:  # the hand-kept part (alternating A/B runs of each change) survives a re-run
        old = Path(args.out).read_text(encoding="utf-8")
        if KEPT in old:
            text += "\n" + old[old.index(KEPT):]
    except OSError:
        pass
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"已写出 {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
