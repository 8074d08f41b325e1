"""The explanatory text (情况说明): every figure computed from the model, prose from the clerk.

Each section is a list of Heading / Paragraph / Table / ProjectTable blocks in the edition's
order. The clerk types only duties, goals and reasons; totals, differences and lists of
amounts are filled in here, so the text cannot disagree with the schedules.
"""
from __future__ import annotations

from decimal import Decimal

from ..editions import Edition
from ..model import Budget
from ..money import fmt_text
from ..catalog import Catalog
from .annex import assets_table, institutions_table, procurement_table, project_groups
from .figures import CARRYOVER, UNIT_FUNDS, Figures
from .tables import Heading, Paragraph, ProjectTable, Section, Table

M = fmt_text


def _change(diff: Decimal) -> str:
    if diff > 0:
        return f"增加{M(diff)}万元"
    if diff < 0:
        return f"减少{M(-diff)}万元"
    return "持平"


def _duties(budget: Budget) -> list:
    blocks = [Paragraph("部门职责：", indent=False)]
    blocks += [Paragraph(p) for p in budget.duties]
    blocks += [Paragraph("机构设置：", indent=False), Heading("部门机构设置情况", 3),
               institutions_table(budget)]
    return blocks


def _income(budget: Budget, edition: Edition, fig: Figures) -> str:
    y = budget.department.year
    s = fig.source
    if edition.income_text == "2023":
        return (f"反映本部门当年全部收入。{y}年预算收入为{M(fig.total)}万元，其中：一般公共预算收入"
                f"{M(s('general'))}万元，基金预算收入{M(s('gov_fund'))}万元，财政专户核拨收入"
                f"{M(s('special_account'))}万元，其他来源收入{M(s('soe', *UNIT_FUNDS))}万元，"
                f"财政拨款结转{M(s(*CARRYOVER))}万元。")
    return (f"反映本部门当年全部收入。{y}年预算收入{M(fig.total)}万元，其中：一般公共预算收入"
            f"{M(s('general'))}万元，基金预算收入{M(s('gov_fund'))}万元，国有资本经营预算收入"
            f"{M(s('soe'))}万元，财政专户核拨收入{M(s('special_account'))}万元，单位资金收入"
            f"{M(s(*UNIT_FUNDS))}万元，上年结转结余{M(s(*CARRYOVER))}万元。")


def _spending(budget: Budget, edition: Edition, fig: Figures) -> str:
    d = budget.department
    head = (f"收支预算总表支出栏、基本支出表、项目支出表按经济分类和支出功能分类科目编制，反映{d.name}"
            f"年度部门预算中支出预算的总体情况。")
    basic = (f"基本支出{M(fig.basic)}万元，包括人员经费{M(fig.personnel)}万元和日常公用经费"
             f"{M(fig.public)}万元")
    groups = project_groups(budget)
    if edition.project_table == "goals":
        listing = "；".join(f"{name}项目，安排{M(amount)}万元" for name, amount in groups)
        projects = f"项目支出{M(fig.project)}万元" + (f"，其中：{listing}" if listing else "")
        return f"{head}{d.year}年预算支出为{M(fig.total)}万元，其中：{basic}；{projects}。"
    listing = "，".join(f"{name}{M(amount)}万元" for name, amount in groups)
    projects = f"项目支出{M(fig.project)}万元" + (f"，主要为{listing}" if listing else "")
    return f"{head}{d.year}年支出预算{M(fig.total)}万元，其中{basic}；{projects}。"


def _versus_prior(budget: Budget, fig: Figures) -> list:
    prior = budget.prior_year
    if prior is None:
        return []
    y = budget.department.year
    py = prior.year or y - 1
    total = prior.basic + prior.project
    r = prior.reasons
    basic = f"基本支出{_change(fig.basic - prior.basic)}" + (f"，{r.basic}" if r.basic else "。")
    project = f"项目支出{_change(fig.project - prior.project)}" + (f"，{r.project}" if r.project else "。")
    return [Heading("3、比上年增减情况", 3), Paragraph(
        f"{y}年预算收支安排{M(fig.total)}万元，较{py}年预算{_change(fig.total - total)}，其中："
        f"{basic}{project}")]


def _overview(budget: Budget, edition: Edition, fig: Figures) -> list:
    d = budget.department
    return [Paragraph(f"按照预算管理有关规定，目前部门预算的编制实行综合预算管理，即全部收入和支出都反映在预算中。"
                      f"{d.name}机关及所属事业单位的收支包含在部门预算中。"),
            Heading("1、收入说明", 3), Paragraph(_income(budget, edition, fig)),
            Heading("2、支出说明", 3), Paragraph(_spending(budget, edition, fig))] + \
        _versus_prior(budget, fig)


def _operating(budget: Budget, catalog: Catalog, fig: Figures) -> list:
    typed = {e.code: e.name for e in budget.basic_economic if e.name}
    items = [(typed.get(code) or catalog.economic_name(code) or code, amount)
             for code, amount in sorted(fig.economic_by_code.items())
             if catalog.economic_kind(code) != "personnel" and amount]
    listing = "、".join(f"{name}{M(amount)}万元" for name, amount in items)
    use = f"，主要用于{listing}等日常运行支出" if listing else ""
    return [Paragraph(f"{budget.department.year}年，我部门机关运行经费共计安排{M(fig.public)}万元{use}。")]


def _three_public(budget: Budget, fig: Figures) -> list:
    y = budget.department.year
    t = fig.three_public
    overseas = t["overseas"] + t["overseas_research"]
    vehicle = t["vehicle_purchase"] + t["vehicle_operation"]
    text = (f"{y}年，我部门财政拨款“三公”经费预算安排{M(fig.three_public_total)}万元，其中因公出国（境）费"
            f"{M(overseas)}万元；公务用车购置及运维费{M(vehicle)}万元（其中：公务用车购置费"
            f"{M(t['vehicle_purchase'])}万元，公务用车运行维护费{M(t['vehicle_operation'])}万元）；"
            f"公务接待费{M(t['reception'])}万元。")
    prior = budget.prior_year
    if prior is not None and prior.three_public is not None:  # not given: no comparison, never vs 0
        diff = fig.three_public_total - prior.three_public
        py = prior.year or y - 1
        text += (f"与{py}年持平。" if diff == 0 else f"与{py}年相比{_change(diff)}。")
        if prior.reasons.three_public:
            text += prior.reasons.three_public
    return [Paragraph(text)]


def _performance(budget: Budget) -> list:
    p = budget.performance
    blocks = []
    for heading, paragraphs in (("（一）总体绩效目标", p.overall), ("（二）分项绩效目标", p.items),
                                ("（三）工作保障措施", p.measures)):
        blocks.append(Heading(heading, 2))
        blocks += [Paragraph(x) for x in paragraphs]
    return blocks


def _projects(budget: Budget, fig: Figures, projects: tuple[ProjectTable, ...]) -> list:
    # "无…" only from the same figure the schedules print (项目支出 = 0), never from an empty list
    if fig.project == 0 and not projects:
        return [Paragraph(f"{budget.department.name}无项目支出预算。")]
    if not projects:  # refused by the 项目-合计 rule; never printed as "无"
        return [Paragraph(f"{budget.department.name}项目支出预算{M(fig.project)}万元。")]
    return list(projects)


def _procurement(budget: Budget, edition: Edition, fig: Figures, table: Table) -> list:
    blocks = []
    if edition.key == "hebei-2023":
        blocks.append(Paragraph(f"{budget.department.year}年，{budget.department.name}安排政府采购预算"
                                f"{M(fig.procurement_total)}万元。具体内容见下表。"))
    return blocks + [Heading("部门政府采购预算", 3), table]


def _assets(budget: Budget, fig: Figures, table: Table | None) -> list:
    if table is None:
        return [Paragraph(f"{budget.department.name}无固定资产信息。")]
    a = budget.assets
    return [Paragraph(f"{budget.department.name}（含所属单位）上年末固定资产金额为{M(fig.assets_total)}万元"
                      f"（详见下表）。本年度拟购置固定资产总额为{M(a.planned_purchase)}万元，已按要求列入"
                      f"政府采购预算，详见政府采购预算表。"),
            Heading("部门固定资产占用情况表", 3), table]


def build_sections(budget: Budget, catalog: Catalog, edition: Edition, fig: Figures,
                   projects: tuple[ProjectTable, ...]) -> tuple[tuple[Section, ...], tuple[Table, ...]]:
    """The explanatory sections in the edition's order, and the annex tables they contain."""
    procurement = procurement_table(budget, edition, fig)
    assets = assets_table(budget, fig)
    name = budget.department.name
    content = {
        "duties": lambda: _duties(budget),
        "overview": lambda: _overview(budget, edition, fig),
        "operating": lambda: _operating(budget, catalog, fig),
        "three_public": lambda: _three_public(budget, fig),
        "special_funds": lambda: [Paragraph(budget.special_funds or f"{name}无专项资金项目预算")],
        "projects": lambda: _projects(budget, fig, projects),
        "procurement": lambda: _procurement(budget, edition, fig, procurement),
        "assets": lambda: _assets(budget, fig, assets),
        "glossary": lambda: [Paragraph(x) for x in (budget.glossary if budget.glossary is not None
                                                    else edition.glossary)],
        "other": lambda: [Paragraph(x) for x in (budget.other_notes if budget.other_notes is not None
                                                 else ["我部门无其他需要说明的事项。"])],
    }
    if edition.project_table == "goals":  # 2023: 预算绩效信息 holds both parts
        content["performance"] = lambda: ([Heading("第一部分 部门整体绩效目标", 2)] + _performance(budget)
                                          + [Heading("第二部分 预算项目绩效目标", 2)]
                                          + _projects(budget, fig, projects))
    else:
        content["performance"] = lambda: _performance(budget)
    sections = tuple(Section(key, heading, tuple(content[key]())) for key, heading in edition.sections)
    annex = (procurement,) + ((assets,) if assets else ())
    return sections, annex
