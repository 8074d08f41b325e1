"""Which typefaces the stylesheet asks for, and which ones this machine will really use.

An official document's body is 仿宋, its headings 黑体 and 楷体, its tables 宋体. When none of the
faces a `font-family` list names for such a style is installed, WeasyPrint silently takes the
next one (e.g. Noto Serif CJK SC for 仿宋 text). `font_warnings` says so before a render:
each declaration's style is that of its first family; the family used is the first one
fontconfig knows; a family of another style is a fallback worth a warning.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from ..problems import Location, Problem, warning
from .html import TEMPLATES

# Faces that are, typographically, each style (names as fontconfig and Windows spell them).
STYLES: dict[str, tuple[str, ...]] = {
    "仿宋": ("FangSong", "仿宋", "FangSong_GB2312", "仿宋_GB2312", "STFangsong", "华文仿宋",
           "FandolFang", "FZFangSong-Z02S", "方正仿宋简体"),
    "黑体": ("SimHei", "黑体", "STHeiti", "华文黑体", "FandolHei", "Noto Sans CJK SC",
           "Source Han Sans SC", "Source Han Sans CN", "思源黑体", "Microsoft YaHei", "微软雅黑",
           "FZHei-B01S", "方正黑体简体"),
    "楷体": ("KaiTi", "楷体", "KaiTi_GB2312", "楷体_GB2312", "STKaiti", "华文楷体", "FandolKai",
           "LXGW WenKai", "霞鹜文楷", "FZKai-Z03S", "方正楷体简体"),
    "宋体": ("SimSun", "宋体", "NSimSun", "新宋体", "STSong", "华文宋体", "FandolSong",
           "Noto Serif CJK SC", "Source Han Serif SC", "Source Han Serif CN", "思源宋体",
           "FZXiaoBiaoSong-B05S", "方正小标宋简体", "FZShuSong-Z01S", "方正书宋简体"),
}
GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}
_FAMILY_DECL = re.compile(r"font(?:-family)?\s*:\s*([^;{}]+)")
_SIZE_PREFIX = re.compile(r"^.*?\d+(?:\.\d+)?(?:pt|px|em|rem|%|mm)(?:\s*/\s*\S+)?\s+")


def style_of(family: str) -> str | None:
    key = family.casefold()
    for style, names in STYLES.items():
        if any(key == n.casefold() for n in names):
            return style
    return None


def family_lists(css: str) -> list[tuple[str, ...]]:
    """Every distinct font-family list in a stylesheet, in order (from `font-family:` and the
    `font:` shorthand)."""
    out: list[tuple[str, ...]] = []
    for m in _FAMILY_DECL.finditer(re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)):
        value = m.group(1).strip()
        if m.group(0).startswith("font:") or re.match(r"font\s*:", m.group(0)):
            value = _SIZE_PREFIX.sub("", value, count=1)
        names = tuple(n.strip().strip("\"'").strip() for n in value.split(","))
        names = tuple(n for n in names if n)
        if names and style_of(names[0]) and names not in out:
            out.append(names)
    return out


@lru_cache(maxsize=1)
def installed_families() -> frozenset[str] | None:
    """Every family name fontconfig knows (all languages' spellings), case-folded; None when
    fontconfig's fc-list is not available (then nothing can be said)."""
    exe = shutil.which("fc-list")
    if not exe:
        return None
    try:
        text = subprocess.run([exe, ":", "family"], capture_output=True, text=True, timeout=20,
                              check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(name.strip().casefold() for line in text.splitlines()
                     for name in line.split(",") if name.strip())


def resolve(names: tuple[str, ...], installed: frozenset[str]) -> str | None:
    """The first family of the list that is installed (generic names excluded)."""
    return next((n for n in names if n.casefold() not in GENERIC and n.casefold() in installed),
                None)


def font_warnings(file: str, css: str | None = None,
                  installed: frozenset[str] | None = None) -> list[Problem]:
    """One warning per style (仿宋/黑体/楷体/宋体) whose faces are all missing, naming the
    faces asked for and the one used instead."""
    if css is None:
        css = (Path(TEMPLATES) / "disclosure.css").read_text(encoding="utf-8")
    installed = installed if installed is not None else installed_families()
    if installed is None:
        return []
    out: list[Problem] = []
    seen: set[str] = set()
    for names in family_lists(css):
        style = style_of(names[0])
        used = resolve(names, installed)
        if style is None or style in seen or (used is not None and style_of(used) == style):
            continue
        seen.add(style)
        wanted = [n for n in names if style_of(n) == style]
        instead = used or "系统默认字体"
        out.append(warning(
            "字体", f"版式要求{style}字体（{'、'.join(wanted)}），本机均未安装，PDF 中改用 {instead}；"
            f"请安装{style}字体（如 bash .ci/setup 安装的 Fandol 字体）后重新生成",
            Location(file), "、".join(wanted), instead))
    return out
