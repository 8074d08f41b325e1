"""The explanatory text (情况说明): every figure computed from the model, prose from the clerk.

The layout lists the sections, each a heading and its content: text templates (filled from the
model), numbered subsections, tables, and generated blocks (duties, 三公 text, performance
goals, project tables …). The clerk types only duties, goals and reasons; totals, differences
and lists of amounts are filled in here, so the text cannot disagree with the tables.
"""
from __future__ import annotations

from .. import sentences
from ..layout import (
    AssetsTable,
    BlockItem,
    Subsection,
    TableItem,
    TemplateItem,
    TextItem,
    number_label,
)
from ..layout import Section as SectionSpec
from ..problems import Location, error
from .annex import assets_table, institutions_table, project_groups, project_tables
from .context import Ctx
from .sentences import build_context
from .tables import Heading, Paragraph, ProjectTable, Section, Table

DEFAULT_ASSETS = AssetsTable(kind="assets", title="部门固定资产占用情况表",
                             meta=["{编码}{部门}", "截止时间：{资产截止}"], sheet="固定资产")


# The program's own wording of each block, as sentence templates over the context of
# generator/sentences.py: a layout replaces any of them with `{block: …, template: …}`
# (docs/layouts.md prints them, to copy from). Each sentence is conditioned on its facts.
WORDING = {
    "versus_prior": (
        "{% if 有上年 %}{{ 年度 }}年预算收支安排{{ 支出合计 }}{{ 单位 }}，较{{ 上年 }}年预算"
        "{{ 比上年.支出合计|增减 }}，其中：基本支出{{ 比上年.基本支出|增减 }}"
        "{% if 上年预算.基本支出原因 %}，{{ 上年预算.基本支出原因 }}{% else %}。{% endif %}"
        "项目支出{{ 比上年.项目支出|增减 }}"
        "{% if 上年预算.项目支出原因 %}，{{ 上年预算.项目支出原因 }}{% else %}。{% endif %}{% endif %}"),
    "operating": (
        "{{ 年度 }}年，我部门机关运行经费共计安排{{ 公用经费 }}{{ 单位 }}"
        "{% for e in 经济分类列表 if e.类型 == '公用经费' and e.金额 %}"
        "{% if loop.first %}，主要用于{% endif %}{{ e.名称 }}{{ e.金额 }}{{ 单位 }}"
        "{% if not loop.last %}、{% else %}等日常运行支出{% endif %}{% endfor %}。"),
    "three_public": (
        "{{ 年度 }}年，我部门财政拨款“三公”经费预算安排{{ 三公经费 }}{{ 单位 }}，其中因公出国（境）费"
        "{{ 三公.overseas.金额 }}{{ 单位 }}；公务用车购置及运维费{{ 三公.vehicle.金额 }}{{ 单位 }}"
        "（其中：公务用车购置费{{ 三公.vehicle_purchase.金额 }}{{ 单位 }}，公务用车运行维护费"
        "{{ 三公.vehicle_operation.金额 }}{{ 单位 }}）；公务接待费{{ 三公.reception.金额 }}{{ 单位 }}。"
        "{% if 比上年.三公经费 is not none %}{% if 比上年.三公经费 == 0 %}与{{ 上年 }}年持平。"
        "{% else %}与{{ 上年 }}年相比{{ 比上年.三公经费|增减 }}。{% endif %}{{ 上年预算.三公经费原因 }}"
        "{% for i in 三公列表 if i.变化 is not none and i.变化 != 0 %}{{ i.名称 }}较{{ 上年 }}年"
        "{{ i.变化|增减 }}{% if i.原因 %}，{{ i.原因 }}{% endif %}。{% endfor %}{% endif %}"),
    "assets": (
        "{% if 有资产 %}{{ 部门 }}{% if 含所属单位 %}（含所属单位）{% endif %}上年末固定资产金额为"
        "{{ 资产总额 }}{{ 单位 }}{% if 附表 %}（详见下表）{% endif %}。"
        "{% if 拟购置资产 %}本年度拟购置固定资产总额为{{ 拟购置资产 }}{{ 单位 }}"
        "{% if 采购合计 %}，已按要求列入政府采购预算，详见政府采购预算表{% endif %}。"
        "{% else %}本年度未安排购置固定资产。{% endif %}"
        "{% else %}{{ 部门 }}无固定资产信息。{% endif %}"),
    "projects": (
        "{% if 项目个数 == 0 and 项目支出 == 0 %}{{ 部门 }}无项目支出预算。"
        "{% elif 项目个数 == 0 %}{{ 部门 }}项目支出预算{{ 项目支出 }}{{ 单位 }}。{% endif %}"),
    "composition": (
        "{% for u in 单位构成 %}{% if loop.first %}{{ 部门 }}"
        "{% if 单位构成|length > 1 %}部门预算由以下{{ 单位构成|length }}个单位的预算组成："
        "{% else %}只有本级，没有其他预算单位，部门预算仅含本级预算：{% endif %}{% endif %}"
        "{{ u.名称 }}{% if u.性质 or u.编制 is not none %}（{{ u.性质 }}"
        "{% if u.性质 and u.编制 is not none %}，{% endif %}"
        "{% if u.编制 is not none %}编制{{ u.编制 }}人{% endif %}）{% endif %}"
        "{{ '、' if not loop.last else '。' }}{% endfor %}"),
}
PERFORMANCE_HEADINGS = ("总体绩效目标", "分项绩效目标", "工作保障措施")


def say(ctx: Ctx, source: str, block: str = "", extra: dict | None = None,
        indent: bool = True) -> list:
    """A sentence template's paragraphs (a blank line of its output separates two), in this
    kind of disclosure's wording; a template that fails at run time is a located problem (at the
    template in the layout file), never a half-printed sentence."""
    worded = ctx.worded(source)
    try:
        checked = sentences.check(worded, block)
        context = dict(build_context(ctx, checked.names | {"单位"}), **(extra or {}))
        text = sentences.render(checked, context, ctx.text_money)
    except sentences.TemplateProblem as exc:
        where = sentences.WHERE.get(source) or Location(ctx.layout.key)
        ctx.problems.append(error("版式", f"版式文字：{exc.message}（模板第{exc.line}行）", where))
        return []
    return [Paragraph(p, indent=indent) for p in sentences.paragraphs(text)]


def _wording(item: BlockItem) -> str:
    return item.template if item.template is not None else WORDING[item.block]


def _duties(ctx: Ctx, with_table: bool = True) -> list:
    """部门职责 (with its label and the 机构设置 table), or the duty paragraphs alone."""
    duties = [Paragraph(p) for p in ctx.budget.duties]
    if not with_table:
        return duties
    return [Paragraph(ctx.worded("部门职责："), indent=False), *duties,
            Paragraph("机构设置：", indent=False), Heading(ctx.worded("部门机构设置情况"), 3),
            institutions_table(ctx)]


def _composition(ctx: Ctx, item: BlockItem) -> list:
    c = ctx.budget.composition
    if c is None:
        return []
    return say(ctx, _wording(item), "composition") + [Paragraph(p) for p in c.notes]


def _performance(ctx: Ctx, item: BlockItem) -> list:
    p = ctx.budget.performance
    blocks: list = []
    names = item.headings or PERFORMANCE_HEADINGS
    parts = [(heading, [x for x in paragraphs if x.strip()])
             for heading, paragraphs in zip(names, (p.overall, p.items, p.measures))]
    # a part with nothing in it is left out, heading and all (check warns: 文字-空白)
    for n, (heading, paragraphs) in enumerate([x for x in parts if x[1]], 1):
        blocks.append(Heading(number_label(item.numbering, n) + ctx.fill(heading), item.level))
        blocks += [Paragraph(x) for x in paragraphs]
    return blocks


def _projects(ctx: Ctx, item: BlockItem) -> list:
    # "无…" only from the same figure the schedules print (项目支出 = 0), never from an empty list
    # (项目支出 > 0 without projects is refused by the 项目-合计 rule; never printed as "无")
    if not ctx.budget.projects:
        return say(ctx, _wording(item), "projects")
    return list(project_tables(ctx, item.format))


def _assets(ctx: Ctx, item: BlockItem) -> list:
    table = assets_table(ctx, DEFAULT_ASSETS) if ctx.budget.assets is not None else None
    with_table = item.table and table is not None
    blocks = say(ctx, _wording(item), "assets", {"附表": with_table})
    if with_table and table is not None:
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
    if kind in ("versus_prior", "operating", "three_public"):
        return say(ctx, _wording(item), kind)
    if kind == "composition":
        return _composition(ctx, item)
    if kind == "performance":
        return _performance(ctx, item)
    if kind == "projects":
        return _projects(ctx, item)
    if kind == "special_funds":
        if b.special_funds:
            return [Paragraph(b.special_funds)]
        if item.template is not None:
            return say(ctx, item.template, kind)
        return [Paragraph(ctx.fill(layout.special_funds))]
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
    from . import build_table
    blocks: list = []
    n = 0
    for item in items:
        if isinstance(item, str):
            blocks += _block(ctx, BlockItem.model_validate({"block": item}))
        elif isinstance(item, BlockItem):
            blocks += _block(ctx, item)
        elif isinstance(item, TextItem):
            blocks += _text(ctx, item)
        elif isinstance(item, TemplateItem):
            blocks += say(ctx, item.template, indent=item.indent)
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
