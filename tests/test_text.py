"""The explanatory text: every figure comes from the model, so text and tables agree."""
from __future__ import annotations

from generator.compute.tables import Heading, Paragraph


def paragraphs(result, key):
    section = next(s for s in result.disclosure.sections if s.key == key)
    return [b.text for b in section.blocks if isinstance(b, (Paragraph, Heading))]


def joined(result, key):
    return "\n".join(paragraphs(result, key))


def test_2025_overview_figures(xigang):
    text = joined(xigang, "overview")
    assert ("2025年预算收入2256.69万元，其中：一般公共预算收入2256.69万元，基金预算收入0.00万元，"
            "国有资本经营预算收入0.00万元，财政专户核拨收入0.00万元，单位资金收入0.00万元，"
            "上年结转结余0.00万元。") in text
    assert "其中基本支出1822.69万元，包括人员经费1759.32万元和日常公用经费63.37万元；项目支出434.00万元" in text
    # projects grouped by name as the seed groups them: 社区工作经费 74 + 社区工作经费（WL） 56
    assert "社区工作经费130.00万元" in text
    assert "社区党组织服务群众专项经费260.00万元" in text
    assert ("2025年预算收支安排2256.69万元，较2024年预算增加129.68万元，其中：基本支出增加121.68万元，"
            "主要为人员经费变化") in text
    assert "项目支出增加8.00万元，主要为新增" in text


def test_2025_operating_and_three_public(xigang):
    assert "机关运行经费共计安排63.37万元" in joined(xigang, "operating")
    tp = joined(xigang, "three_public")
    assert "“三公”经费预算安排2.48万元" in tp
    assert "公务用车运行维护费2.25万元" in tp and "公务接待费0.23万元" in tp
    assert "与2024年持平" in tp


def test_2023_text_agrees_with_its_schedules(nanguan):
    """The seed prints 三公 1.22 in the text (it adds 培训费 0.17) against 1.05 in schedule 9;
    generated text cannot disagree with the table."""
    tp = joined(nanguan, "three_public")
    assert "“三公”经费预算安排1.05万元" in tp
    assert "1.22" not in tp
    s9 = nanguan.disclosure.schedules[8]
    assert str(s9.rows[0].cells[2]) == "1.05"
    assert "机关运行经费共计安排41.49万元" in joined(nanguan, "operating")
    overview = joined(nanguan, "overview")
    assert "2023年预算收入为822.44万元" in overview
    assert "社区工作经费项目，安排259.00万元" in overview
    assert "较2022年预算增加84.58万元，其中：基本支出增加281.93万元" in overview


def test_sections_follow_the_edition(xigang, nanguan):
    assert [s.heading for s in xigang.disclosure.sections] == [
        "一、部门职责及机构设置情况", "二、部门预算安排的总体情况", "三、机关运行经费安排情况",
        "四、财政拨款“三公”经费预算情况及增减变化原因", "五、部门整体绩效目标",
        "六、部门主管专项资金预算安排情况及绩效目标", "七、部门项目预算安排情况及绩效目标",
        "八、政府采购预算情况", "九、国有资产信息", "十、名词解释", "十一、其他需要说明的事项"]
    assert [s.heading for s in nanguan.disclosure.sections] == [
        "一、部门职责及机构设置情况", "二、部门预算安排的总体情况", "三、机关运行经费安排情况",
        "四、财政拨款“三公”经费预算情况及增减变化原因", "五、预算绩效信息", "六、政府采购预算情况",
        "七、国有资产信息", "八、名词解释", "九、其他需要说明的事项"]


def test_assets_and_procurement_text(xigang, nanguan):
    assert "上年末固定资产金额为501.43万元" in joined(xigang, "assets")
    assert "上年末固定资产金额为131.20万元" in joined(nanguan, "assets")  # seed: 131.19
    assert "安排政府采购预算0.00万元" in joined(nanguan, "procurement")


def test_glossary_defaults_per_edition(xigang, nanguan):
    g25 = paragraphs(xigang, "glossary")
    g23 = paragraphs(nanguan, "glossary")
    assert len(g25) == 10 and g25[0].startswith("1、财政拨款收入：")
    assert len(g23) == 10 and g23[0].startswith("1、一般公共预算拨款收入：")
    assert paragraphs(xigang, "other") == ["我部门无其他需要说明的事项。"]


def test_projects_in_both_formats(xigang, nanguan):
    p25 = xigang.disclosure.projects
    assert len(p25) == 10 and p25[6].title == "7、社区党组织服务群众专项经费（RY）绩效目标表"
    assert p25[0].format == "full" and p25[0].code == "13030225P00455510023W"
    assert [str(x) for x in p25[0].plan] == ["5.00", "15.00", "20.00", "26.00"]
    # 一级指标 printed once per group
    assert [r[0] for r in p25[0].indicators][:3] == ["产出指标", "", ""]
    p23 = nanguan.disclosure.projects
    assert len(p23) == 8 and p23[0].format == "goals" and p23[0].plan == ()
    assert p23[0].goals == ("6.目标内容1保障单位公务用车正常运转",)
