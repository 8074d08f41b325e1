#!/usr/bin/env python3
"""The baseline every speed target is a ratio to: bare WeasyPrint, in a fresh process, rendering
the 2025 seed's content (all its text and table cells) as plain HTML with no stylesheet beyond a
CJK font family, to a PDF.

    python3 benchmarks/baseline.py [SEED.txt] [-o OUT.pdf]

SEED defaults to /work/shared/seeds/000_2ffe7de2add8e453.txt (the published 524 disclosure as
text: a line starting with a tab is a table cell, a blank line ends a row, other lines are
headings or paragraphs). The time of the whole process is what benchmarks/ab.py measures.
"""
from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

SEED = Path("/work/shared/seeds/000_2ffe7de2add8e453.txt")


def seed_html(text: str) -> str:
    """The seed's content as plain HTML: paragraphs and bordered tables."""
    out = ["<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>",
           ("<style>body{font-family:'Noto Serif CJK SC',serif;font-size:10pt}"
            "table{border-collapse:collapse;width:100%}td{border:1px solid #000}</style>"),
           "</head><body>"]
    row: list[str] = []
    in_table = False
    for line in text.splitlines():
        if line.startswith("\t"):
            if not in_table:
                out.append("<table>")
                in_table = True
            row.append(line[1:])
            continue
        if row:
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
            row = []
        if line.strip():
            if in_table:
                out.append("</table>")
                in_table = False
            out.append(f"<p>{html.escape(line.split(']', 1)[-1] if line.startswith('[') else line)}</p>")
    if row:
        out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    if in_table:
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seed", nargs="?", default=str(SEED))
    ap.add_argument("-o", "--out", default="/tmp/budgetgen-baseline.pdf")
    args = ap.parse_args()
    from weasyprint import HTML
    data = HTML(string=seed_html(Path(args.seed).read_text(encoding="utf-8"))).write_pdf()
    Path(args.out).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
