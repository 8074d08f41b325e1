"""The explanatory text (情况说明): every figure computed from the model, prose from the clerk.

The layout lists the sections, each a heading and its content: text templates (filled from the
model), numbered subsections, tables, and generated blocks (duties, 三公 text, performance
goals, project tables …). The clerk types only duties, goals and reasons; totals, differences
and lists of amounts are filled in here, so the text cannot disagree with the tables.
"""
from __future__ import annotations

from decimal import Decimal

from ..layout import (
    AssetsTable,
    BlockItem,
    Subsection,
    TableItem,
    TextItem,
    number_label,
)
from ..layout import Section as SectionSpec
from ..money import ZERO
from .annex import assets_table, institutions_table, project_groups, project_tables
from .builders import build_table
from .context import Ctx
from .tables import Heading, Paragraph, ProjectTable, Section, Table

DEFAULT_ASSETS = AssetsTable(kind="assets", title="部门固定资产占用情况表",
                             meta=["{编码}{部门}", "截止时间：{资产截止}"], sheet="固定资产")


def _change(ctx: Ctx, diff: Decimal) -> str:
    if diff > 0:
        return f"增加{ctx.text_money(diff)}{ctx.unit}"
    if diff < 0:
        return f"减少{ctx.text_money(-diff)}{ctx.unit}"
    return "持平"


def _duties(ctx: Ctx, with_table: bool = True) -> list:
    """部门职责 (with its label and the 机构设置 table), or the duty paragraphs alone."""
    duties = [Paragraph(p) for p in ctx.budget.duties]
    if not with_table:
        return duties
    return [Paragraph(ctx.worded("部门职责："), indent=False), *duties,
            Paragraph("机构设置：", indent=False), Heading(ctx.worded("部门机构设置情况"), 3),
            institutions_table(ctx)]


def _versus_prior(ctx: Ctx) -> list:
    b = ctx.budget
    prior = b.prior_year
    if prior is None:
        return []
    y = b.department.year
    py = prior.year or y - 1
    fig = ctx.fig
    total = prior.basic + prior.project
    r = prior.reasons
    basic = f"基本支出{_change(ctx, fig.basic - prior.basic)}" + (f"，{r.basic}" if r.basic else "。")
    project = f"项目支出{_change(ctx, fig.project - prior.project)}" + (f"，{r.project}" if r.project else "。")
    return [Paragraph(f"{y}年预算收支安排{ctx.text_money(fig.total)}{ctx.unit}，较{py}年预算"
                      f"{_change(ctx, fig.total - total)}，其中：{basic}{project}")]


def _operating(ctx: Ctx) -> list:
    b, fig, cat = ctx.budget, ctx.fig, ctx.catalog
    typed = {e.code: e.name for e in b.basic_economic if e.name}
    items = [(typed.get(code) or cat.economic_name(code) or code, amount)
             for code, amount in sorted(fig.economic_by_code.items())
             if cat.economic_kind(code) != "personnel" and amount]
    listing = "、".join(f"{name}{ctx.text_money(amount)}{ctx.unit}" for name, amount in items)
    use = f"，主要用于{listing}等日常运行支出" if listing else ""
    return [Paragraph(f"{b.department.year}年，{ctx.worded('我部门')}机关运行经费共计安排"
                      f"{ctx.text_money(fig.public)}"
                      f"{ctx.unit}{use}。")]


def _three_public(ctx: Ctx) -> list:
    b, fig, M, u = ctx.budget, ctx.fig, ctx.text_money, ctx.unit
    y = b.department.year
    t = fig.three_public
    overseas = t["overseas"] + t["overseas_research"]
    vehicle = t["vehicle_purchase"] + t["vehicle_operation"]
    text = (f"{y}年，{ctx.worded('我部门')}财政拨款“三公”经费预算安排{M(fig.three_public_total)}{u}，"
            f"其中因公出国（境）费"
            f"{M(overseas)}{u}；公务用车购置及运维费{M(vehicle)}{u}（其中：公务用车购置费"
            f"{M(t['vehicle_purchase'])}{u}，公务用车运行维护费{M(t['vehicle_operation'])}{u}）；"
            f"公务接待费{M(t['reception'])}{u}。")
    prior = b.prior_year
    if prior is not None and prior.three_public is not None:  # not given: no comparison, never vs 0
        diff = fig.three_public_total - prior.three_public
        py = prior.year or y - 1
        text += (f"与{py}年持平。" if diff == 0 else f"与{py}年相比{_change(ctx, diff)}。")
        if prior.reasons.three_public:
            text += prior.reasons.three_public
    return [Paragraph(text)]


def _performance(ctx: Ctx, item: BlockItem) -> list:
    p = ctx.budget.performance
    blocks: list = []
    for n, (heading, paragraphs) in enumerate((("总体绩效目标", p.overall), ("分项绩效目标", p.items),
                                               ("工作保障措施", p.measures)), 1):
        blocks.append(Heading(number_label(item.numbering, n) + heading, item.level))
        blocks += [Paragraph(x) for x in paragraphs]
    return blocks


def _projects(ctx: Ctx, item: BlockItem) -> list:
    # "无…" only from the same figure the schedules print (项目支出 = 0), never from an empty list
    name = ctx.budget.department.name
    if not ctx.budget.projects and ctx.fig.project == 0:
        return [Paragraph(f"{name}无项目支出预算。")]
    if not ctx.budget.projects:  # refused by the 项目-合计 rule; never printed as "无"
        return [Paragraph(f"{name}项目支出预算{ctx.text_money(ctx.fig.project)}{ctx.unit}。")]
    return list(project_tables(ctx, item.format))


def _assets(ctx: Ctx, item: BlockItem) -> list:
    name = ctx.budget.department.name
    a = ctx.budget.assets
    if a is None:
        return [Paragraph(f"{name}无固定资产信息。")]
    see = "（详见下表）" if item.table else ""
    blocks: list = [Paragraph(
        f"{name}（含所属单位）上年末固定资产金额为{ctx.text_money(ctx.fig.assets_total or ZERO)}"
        f"{ctx.unit}{see}。本年度拟购置固定资产总额为{ctx.text_money(a.planned_purchase)}{ctx.unit}，"
        f"已按要求列入政府采购预算，详见政府采购预算表。")]
    table = assets_table(ctx, DEFAULT_ASSETS)
    if item.table and table is not None:
        blocks += [Heading(table.title, 3), table]
    return blocks


def _block(ctx: Ctx, item: BlockItem) -> list:
    b, layout = ctx.budget, ctx.layout
    kind = item.block
    if kind == "duties":
        return _duties(ctx)
    if kind == "duties_text":
        return _duties(ctx, with_table=False)
    if kind == "institutions":
        return [Heading(ctx.worded("部门机构设置情况"), 3), institutions_table(ctx)]
    if kind == "versus_prior":
        return _versus_prior(ctx)
    if kind == "operating":
        return _operating(ctx)
    if kind == "three_public":
        return _three_public(ctx)
    if kind == "performance":
        return _performance(ctx, item)
    if kind == "projects":
        return _projects(ctx, item)
    if kind == "special_funds":
        return [Paragraph(b.special_funds or ctx.fill(layout.special_funds))]
    if kind == "assets":
        return _assets(ctx, item)
    if kind == "glossary":
        return [Paragraph(x) for x in (b.glossary if b.glossary is not None else layout.glossary)]
    if kind == "other":
        return [Paragraph(x) for x in (b.other_notes if b.other_notes is not None
                                       else map(ctx.worded, layout.other_notes))]
    raise ValueError(f"unknown block {kind}")  # pragma: no cover - the layout loader refuses it


def _text(ctx: Ctx, item: TextItem) -> list:
    listing = item.project_list
    groups = project_groups(ctx)
    parts = [ctx.fill(listing.item, {"名称": name, "金额": ctx.text_money(amount), "单位": ctx.unit})
             for name, amount in groups]
    text = listing.separator.join(parts)
    extra = {"项目列表": (listing.prefix + text) if text else ""}
    return [Paragraph(ctx.fill(item.text, extra), indent=item.indent)]


def _content(ctx: Ctx, items) -> list:
    """A list of layout content items → blocks. Numbered subsections count only the ones
    printed (a subsection whose content is empty is left out, heading and all)."""
    blocks: list = []
    n = 0
    for item in items:
        if isinstance(item, str):
            blocks += _block(ctx, BlockItem.model_validate({"block": item}))
        elif isinstance(item, BlockItem):
            blocks += _block(ctx, item)
        elif isinstance(item, TextItem):
            blocks += _text(ctx, item)
        elif isinstance(item, TableItem):
            seen = ctx.memo.setdefault("table keys", {})
            kind = item.table.kind
            seen[kind] = seen.get(kind, 0) + 1
            table = build_table(ctx, item.table, kind if seen[kind] == 1 else f"{kind}{seen[kind]}")
            if table is not None:
                blocks += ([Heading(table.title, 3)] if item.caption else []) + [table]
        elif isinstance(item, Subsection):
            style = item.numbering or ctx.layout.numbering.subsections
            inner = _content(ctx, item.content)
            if inner or item.keep_empty:
                n += 1
                blocks.append(Heading(number_label(style, n) + ctx.fill(item.heading), item.level))
                blocks += inner
    return blocks


def build_sections(ctx: Ctx) -> tuple[tuple[Section, ...], tuple[Table, ...]]:
    """The explanatory sections in the layout's order, and the tables they contain."""
    layout = ctx.layout
    sections: list[Section] = []
    for i, spec in enumerate(layout.sections, 1):
        blocks = _content(ctx, spec.content)
        heading = number_label(layout.numbering.sections, i) + ctx.fill(spec.heading)
        sections.append(Section(_key(spec, i), heading, tuple(blocks)))
    tables = [b for s in sections for b in s.blocks if isinstance(b, Table)]
    # every table of the text is also a sheet of the workbook; the institutions table last
    annex = tuple(sorted(tables, key=lambda t: t.key == "institutions"))
    return tuple(sections), annex


def _key(spec: SectionSpec, i: int) -> str:
    return spec.key or f"part{i}"


def section_projects(sections: tuple[Section, ...]) -> tuple[ProjectTable, ...]:
    return tuple(b for s in sections for b in s.blocks if isinstance(b, ProjectTable))
