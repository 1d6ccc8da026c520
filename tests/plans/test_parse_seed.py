"""The seed plan (text layer of the published PDF) parses into the structure it has."""

from __future__ import annotations

import datetime as dt

import pytest

from ecoplan.demo import sample_plan_path
from ecoplan.plans.document import PlanDocument, validate_document
from ecoplan.plans.parsers import parse_file


@pytest.fixture(scope="module")
def seed() -> PlanDocument:
    return parse_file(sample_plan_path())


def test_counts_and_schema(seed: PlanDocument) -> None:
    # 一 … 四 are the 4 sections; 序号 1 … 14 the tasks; 32 measures in total:
    # 1+2+1+3+4+4+1+5+1+2+2+2+3+1 = 32.
    assert seed.counts() == {"sections": 4, "tasks": 14, "measures": 32, "targets": 8}
    per_task = [len(t.measures) for s in seed.sections for t in s.tasks]
    assert per_task == [1, 2, 1, 3, 4, 4, 1, 5, 1, 2, 2, 2, 3, 1]
    assert validate_document(seed.to_json_dict()) == []
    assert seed.title == "生态保护2024年行动计划"
    assert seed.year == 2024


def test_document_order_and_titles(seed: PlanDocument) -> None:
    ids = [m.id for m in seed.measures()]
    assert ids[:4] == ["1.1", "2.1", "2.2", "3.1"] and ids[-1] == "14.1"
    titles = [t.title for s in seed.sections for t in s.tasks]
    # Task titles are broken over 3-4 short lines in the 重点任务 column and re-joined.
    assert titles[1] == "加大生物多样性保护力度"
    assert titles[11] == "开展GEP-R核算和应用"
    assert [s.title for s in seed.sections][2] == "维护生态空间格局稳定性"


def test_full_text_across_lines_and_pages(seed: PlanDocument) -> None:
    measures = {m.id: m for m in seed.measures()}
    # 6.1 is the last row on page 2; 6.2 starts page 3 under the repeated task number 6.
    assert measures["6.1"].text.endswith("组织开展生态保护红线人类活动问题线索核实处理。")
    assert measures["6.2"].text == "做好自然保护地整合优化,推进燕山-塞罕坝国家公园创建工作。"
    # Justified spacing ("森 林 覆 盖 率") is typesetting and removed.
    assert measures["8.3"].text.startswith("推进园林绿化“增绿提质”,森林覆盖率达到44.95%。")
    assert "GEP-R核算" in measures["12.1"].text


def test_deadlines(seed: PlanDocument) -> None:
    measures = list(seed.measures())
    ongoing = [m.id for m in measures if m.deadline.kind == "ongoing"]
    assert ongoing == ["8.2", "13.2", "13.3", "14.1"]
    # Every other measure is 年底前 of the plan year 2024 → 2024-12-31.
    assert {m.deadline.due for m in measures if m.id not in ongoing} == {dt.date(2024, 12, 31)}


def test_units_and_groups(seed: PlanDocument) -> None:
    measures = {m.id: m for m in seed.measures()}
    # Names on one text line separated by spaces sat in different cells: no ambiguity.
    assert (measures["2.2"].lead, measures["2.2"].responsible, measures["2.2"].assisting) == (
        ["市水务局"],
        ["相关区政府"],
        ["市发展改革委"],
    )
    # "各区政府\n(含北京经济技术\n开发区管委会)" is one name broken over three lines.
    assert measures["8.4"].responsible == ["各区政府(含北京经济技术开发区管委会)"]
    assert measures["1.1"].lead == ["市生态环境局"]
    assert measures["1.1"].responsible == ["各区政府"]
    assert measures["1.1"].assisting == [
        "市规划自然资源委",
        "市园林绿化局",
        "市水务局",
        "市农业农村局",
    ]
    # 6.3 lists 12 district governments: 海淀 … 延庆 without 朝阳, 通州, 东城, 西城.
    assert len(measures["6.3"].responsible) == 12
    assert measures["11.2"].lead == ["各区政府(含北京经济技术开发区管委会)"]


def test_targets(seed: PlanDocument) -> None:
    found = {(t.indicator, t.value, t.unit) for m in seed.measures() for t in m.targets}
    assert found == {
        ("收集林草种质资源", 600.0, "份"),
        ("森林覆盖率", 44.95, "%"),
        ("生态保育小区", 100.0, "处"),
        ("平原生态林养护经营示范区", 5.0, "处"),
        ("新增城市绿地", 200.0, "公顷"),
        ("休闲公园、城市森林", 15.0, "处"),
        ("口袋公园及小微绿地", 50.0, "处"),
        ("湿地保护率", 80.0, "%"),
    }


def test_ambiguous_columns_are_flagged_not_guessed(seed: PlanDocument) -> None:
    flagged = [m for m in seed.measures() if m.confidence < 0.8]
    # 3.1 prints 5 bureaus over 3 columns with only line breaks between them: ambiguous.
    assert "3.1" in {m.id for m in flagged}
    for m in flagged:
        assert any("单位归属不确定" in w and "采用" in w for w in m.warnings), m.id
    # Rows whose names sit on one line, or are fixed by "———", are read with confidence.
    confident = {m.id for m in seed.measures() if m.confidence >= 0.8}
    assert {"2.2", "6.1", "8.4", "8.5", "10.1", "13.1", "14.1"} <= confident
