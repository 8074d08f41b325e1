#!/usr/bin/env python3
"""Probe for issue 17's "one document on two cores": how the layout time of the 2025 example
divides between its parts (cover + 目录 | the schedules | the text and annexes), and whether a
part laid out on its own, from its real start page, gives the sequential render's pages.

    python3 benchmarks/split_probe.py [file.yaml] [--out DIR]

A part starts on its real page number and side with public CSS only: `html { break-before:
left|right }` picks the side of its first page (WeasyPrint's initialize_page_maker) and
`@page :first { counter-set: page N }` its number. Writes DIR/seq.pdf and DIR/part-K.pdf.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_BODY = re.compile(r"(<body[^>]*>)(.*)(</body>)", re.DOTALL)
_TOP = re.compile(r'<(section|nav) class="(cover|toc|part-divider|schedule|prose)')


def top_level_blocks(body: str) -> list[tuple[str, str]]:
    """(class, markup) of each top-level block of the body (they do not nest)."""
    starts = [(m.start(), m.group(2)) for m in _TOP.finditer(body)]
    # prose contains nested <section class="sect">: only the first match of prose counts and
    # it runs to the end
    out, i = [], 0
    while i < len(starts):
        pos, cls = starts[i]
        if cls == "prose":
            out.append((cls, body[pos:]))
            break
        end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
        out.append((cls, body[pos:end]))
        i += 1
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(ROOT / "inputs" / "524-xigang-2025.yaml"))
    ap.add_argument("--out", default="/tmp/split-probe")
    args = ap.parse_args()
    from generator.pipeline import run
    from generator.render import compat, pdf
    from generator.render.html import TEMPLATES, render_html
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d = run(args.file).disclosure
    html = pdf._INTER_TAG_SPACE.sub("><", render_html(d)).strip()
    html, sheets = pdf._split_style(html)

    def lay(markup: str, extra_css: str = "") -> tuple[object, float]:
        extra = [pdf.CSS(string=extra_css)] if extra_css else []
        t = time.perf_counter()
        with pdf.collector_paused():
            doc, ua = compat.make_html(markup, str(TEMPLATES) + "/", pdf.LocalFetcher(),
                                       pdf._ua_sheet())
            rendered = doc.render(stylesheets=ua + sheets + extra)
        return rendered, time.perf_counter() - t

    lay(html)  # warm: fonts, fontconfig
    seq, t_seq = lay(html)
    t = time.perf_counter()
    (out / "seq.pdf").write_bytes(seq.write_pdf())
    t_write = time.perf_counter() - t
    print(f"sequential: layout {t_seq:.2f} s, write {t_write:.2f} s, {len(seq.pages)} pages")
    m = _BODY.search(html)
    assert m
    blocks = top_level_blocks(m.group(2))
    groups = {"A": ["cover", "toc"], "B": ["part-divider", "schedule"], "C": ["prose"]}
    start = 1
    for name, classes in groups.items():
        inner = "".join(b for c, b in blocks if c in classes)
        markup = html[:m.start(2)] + inner + html[m.end(2):]
        side = "right" if start % 2 else "left"
        css = f"html {{ break-before: {side} }} @page :first {{ counter-set: page {start} }}"
        part, t_part = lay(markup, css)
        n = len(part.pages)
        t = time.perf_counter()
        (out / f"part-{name}.pdf").write_bytes(part.write_pdf())
        t_pw = time.perf_counter() - t
        print(f"part {name}: pages {start}–{start + n - 1}, layout {t_part:.2f} s, "
              f"write {t_pw:.2f} s")
        start += n
    fork_probe(html, sheets, blocks, out, t_seq + t_write)
    return 0


def fork_probe(html: str, sheets: list, blocks: list, out: Path, t_seq: float) -> None:
    """Wall time of laying out and writing the parts on two cores: a process forked after the
    imports lays out and writes the text part (from its real start page, taken from the run
    above: an oracle guess), the parent the schedules, then the cover + 目录 with the child's
    anchors. The join of the three PDFs is not included (not written yet)."""
    import json
    import os

    from generator.render import parts
    cut = parts.blocks(html)
    assert cut is not None
    head, tail, blks = cut
    toc = next(i for i, b in enumerate(blks) if b.cls == "toc")
    groups = [blks[:toc + 1], blks[toc + 1:-1], blks[-1:]]
    import gc

    from generator.render import weasy
    gc.collect()
    gc.freeze()  # the earlier documents out of the collector's sight, as before a batch's fork
    weasy._UNCOLLECTED = False
    t = time.perf_counter()
    first_len = 2  # cover + 目录: its length is known from the run above
    pid = os.fork()
    if pid == 0:
        c_start = int(os.environ.get("PROBE_C_START", "0"))
        doc = parts.lay_out(parts.part_markup(head, tail, groups[2]), sheets,
                            parts.start_css(c_start))
        (out / "fork-C.pdf").write_bytes(doc.write_pdf())
        (out / "fork-C.json").write_text(json.dumps(parts.anchor_pages(doc.pages, c_start)))
        os._exit(0)
    doc_b = parts.lay_out(parts.part_markup(head, tail, groups[1]), sheets,
                          parts.start_css(first_len + 1))
    b_len = len(doc_b.pages)
    anchors = parts.anchor_pages(doc_b.pages, first_len + 1)
    (out / "fork-B.pdf").write_bytes(doc_b.write_pdf())
    t_b = time.perf_counter() - t
    os.waitpid(pid, 0)
    t_c = time.perf_counter() - t
    anchors.update(json.loads((out / "fork-C.json").read_text()))
    doc_a = parts.lay_out(parts.part_markup(head, tail, groups[0]), sheets,
                          parts.toc_css(anchors))
    (out / "fork-A.pdf").write_bytes(doc_a.write_pdf())
    t_all = time.perf_counter() - t
    print(f"two processes: schedules done {t_b:.2f} s, text part joined {t_c:.2f} s, "
          f"all three parts written {t_all:.2f} s (sequential layout + write {t_seq:.2f} s: "
          f"{t_all / t_seq:.2f}×); schedules {b_len} pages")


if __name__ == "__main__":
    sys.exit(main())
