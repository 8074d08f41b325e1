"""Classification catalogs: 支出功能分类 (类/款/项) and 部门预算支出经济分类 (类/款).

Shipped as data in schemas/catalog/*.yaml so that a finance bureau can extend them to the full
official catalog without touching code. Loaded once per process and passed along as a value.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .resources import resource_dir

CATALOG_DIR = resource_dir("schemas") / "catalog"
CN_NUMERALS = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 31 → 三十一."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else CN_NUMERALS[tens - 1]) + "十"
    return head + (CN_NUMERALS[ones - 1] if ones else "")


@dataclass(frozen=True)
class FunctionClass:
    seq: int
    code: str | None
    name: str

    @property
    def label(self) -> str:  # 一、一般公共服务支出
        return f"{cn_number(self.seq)}、{self.name}"


@dataclass(frozen=True)
class EconomicClass:
    code: str
    name: str
    kind: str  # personnel | public


@dataclass(frozen=True)
class Catalog:
    function_classes: tuple[FunctionClass, ...]
    function_names: dict  # code (3/5/7 digits) → name
    economic_classes: dict  # code (3) → EconomicClass
    economic_names: dict  # code (3/5) → name

    def function_name(self, code: str) -> str | None:
        return self.function_names.get(code)

    def economic_name(self, code: str) -> str | None:
        return self.economic_names.get(code)

    def economic_kind(self, code: str) -> str | None:
        cls = self.economic_classes.get(code[:3])
        return cls.kind if cls else None


def _read(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


@lru_cache(maxsize=4)
def load_catalog(directory: str | Path = CATALOG_DIR) -> Catalog:
    directory = Path(directory)
    fn = _read(directory / "function.yaml")
    ec = _read(directory / "economic.yaml")
    classes = tuple(FunctionClass(i + 1, None if c.get("code") is None else str(c["code"]),
                                  str(c["name"])) for i, c in enumerate(fn["classes"]))
    fnames = {c.code: c.name for c in classes if c.code}
    fnames.update({str(k): str(v) for k, v in (fn.get("items") or {}).items()})
    eclasses = {str(c["code"]): EconomicClass(str(c["code"]), str(c["name"]), str(c["kind"]))
                for c in ec["classes"]}
    enames = {k: v.name for k, v in eclasses.items()}
    enames.update({str(k): str(v) for k, v in (ec.get("items") or {}).items()})
    return Catalog(classes, fnames, eclasses, enames)
