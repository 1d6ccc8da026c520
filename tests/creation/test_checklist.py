"""Demonstration creation on the sample plan (SQLite and PostgreSQL): verdicts with hand
arithmetic, values filled from the indicator registry, EI and GEP-R with their lineage, the gap
order, the xlsx import (all or nothing, bad rows named), refusals that change nothing, annual
tasks and the post-evaluation flow, the evidence on 13.1–13.3 and the demo.

The clock is 2024-07-10 (``clock`` fixture)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounting.ei.models import EIResultRow, EIRun
from ecoplan.accounting.feed import evidence_for, kinds_for
from ecoplan.accounting.gep.models import GepResult, GepRun
from ecoplan.accounts.models import Account
from ecoplan.config import get_settings
from ecoplan.creation import posteval, titles, values
from ecoplan.creation.checklist import Reading, judge
from ecoplan.creation.models import ChecklistValue, CreationTask, CreationTitle, PostEvaluation
from ecoplan.creation.params import config
from ecoplan.creation.status import district_status
from ecoplan.db import session_scope
from ecoplan.demo.creation import load_demo_creation
from ecoplan.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from ecoplan.indicators.registry import get_indicator, record_value, sync_from_plan
from ecoplan.plans.models import Measure, Plan
from ecoplan.units.models import Unit

from ..supervision.conftest import World, data_dir, world

__all__ = ["data_dir", "world"]
TODAY = dt.date(2024, 7, 10)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOPLAN_TODAY", TODAY.isoformat())
    get_settings.cache_clear()


def _acc(session: Session, username: str) -> Account:
    return session.scalars(select(Account).where(Account.username == username)).one()


def _counts(session: Session) -> list[int]:
    return [int(session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (ChecklistValue, CreationTitle, CreationTask, PostEvaluation, audit.AuditEntry)]  # fmt: skip


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_verdicts_by_hand() -> None:
    cfg = config()
    assert cfg.verified is False and not any(s.verified for s in cfg.indicator)
    d03, d11, d10, d01 = (cfg.spec(c) for c in ("D03", "D11", "D10", "D01"))
    assert d03 and d11 and d10 and d01
    # D03 ≥ 20 %: 25 and exactly 20 meet it, 19.99 does not
    assert judge(d03, Reading(number=25.0), "平原区")[0] == "达标"
    assert judge(d03, Reading(number=20.0), "平原区")[0] == "达标"
    assert judge(d03, Reading(number=19.99), "平原区") == ("未达标", "19.99% 未达到 ≥ 20%")
    # D11 林草覆盖率 by terrain: 平原区 ≥ 18, 山区 ≥ 60. 森林覆盖率 is only a lower bound:
    # 20 ≥ 18 decides 达标 in the plain; 45 < 60 in the mountains decides nothing (report it);
    # a reported 45 (the indicator itself) in the mountains misses it
    assert judge(d11, Reading(number=20.0, lower_bound=True), "平原区")[0] == "达标"
    assert judge(d11, Reading(number=45.0, lower_bound=True), "山区")[0] == "待填报"
    assert judge(d11, Reading(number=45.0), "山区") == ("未达标", "45% 未达到 ≥ 60%")
    # D10 EI ≥ 60 且不降低: 62.3 after 61.0 meets it; after 63.0 it fell by 63.0 − 62.3 = 0.7;
    # without last year it cannot be decided; 58 < 60 misses it whatever last year was
    assert judge(d10, Reading(number=62.3, previous=61.0), "山区")[0] == "达标"
    assert judge(d10, Reading(number=62.3, previous=63.0), "山区") == (
        "未达标", "62.3 达到 ≥ 60,但较上年 63 下降 0.7")  # fmt: skip
    assert judge(d10, Reading(number=62.3), "山区")[0] == "待填报"
    assert judge(d10, Reading(number=58.0, previous=50.0), "山区")[0] == "未达标"
    # qualitative: yes / no / nothing
    assert judge(d01, Reading(flag=True), "")[0] == "达标"
    assert judge(d01, Reading(flag=False), "")[0] == "未达标"
    assert judge(d01, None, "")[0] == "待填报"


def _computed_world(session: Session, plan_id: int) -> None:
    """森林覆盖率 65.2 % for 门头沟 in the registry, an EI run (2024: 门头沟 80.2 after 79.0),
    a GEP-R run covering 门头沟 (2 services: 3.0e8 + 1.5e8 元)."""
    sync_from_plan(session, session.get_one(Plan, plan_id), "test")
    record_value(session, get_indicator(session, "2024-forest_coverage"), value=65.2,
                 origin="computed", source="森林资源图层(测试)", actor="test", region="110109",
                 as_of=dt.date(2024, 6, 30), today=TODAY)  # fmt: skip
    run = EIRun(year=2024, title="2024年测试核算", method_key="hj192-2015@1",
                method_standard="HJ 192-2015", method_name="生态环境状况评价技术规范",
                method_sha256="0" * 64, method_definition={}, unverified=[], provenance={},
                created_by="test", created_at=dt.datetime(2024, 6, 1, 2, tzinfo=dt.UTC))  # fmt: skip
    run.results.append(EIResultRow(position=0, region_code="110109", region_name="门头沟区",
                                   level="district", area_km2=1448.0, biological_abundance=50.0,
                                   vegetation_cover=50.0, water_network=50.0, land_stress=10.0,
                                   pollution_load=5.0, ei_unrestricted=80.2, ei=80.2, grade="优",
                                   previous_ei=79.0, delta=1.2, inputs={}))  # fmt: skip
    gep = GepRun(year=2023, title="2023年GEP-R测试", parameters_key="p", prices_key="q",
                 services=[], provenance={}, rasters={}, warnings=[], created_by="test")  # fmt: skip
    for i, (service, value) in enumerate((("carbon", 3.0e8), ("water_conservation", 1.5e8))):
        gep.results.append(GepResult(position=i, level="district", region_code="110109",
                                     region_name="门头沟区", service=service, service_name=service,
                                     quantity=1.0, unit="t", value_yuan=value, variant="main",
                                     verified=False, components={}))  # fmt: skip
    session.add_all([run, gep])
    session.flush()


def test_computed_values_lineage_and_gaps(world: World) -> None:
    with session_scope(world.engine) as session:
        _computed_world(session, world.plan_id)
        mtg = _acc(session, "coord")
        values.record_value(session, mtg, district="门头沟区", code="D37", value="75",
                            source="区财政局统计", as_of=dt.date(2024, 3, 31))  # fmt: skip
        values.record_value(session, mtg, district="门头沟区", code="D39", value="70%",
                            source="满意度调查", as_of=dt.date(2024, 3, 31))  # fmt: skip
        values.record_value(session, mtg, district="110109", code="D01", value="已完成",
                            source="区政府文件")  # fmt: skip
        s = district_status(session, "110109", "门头沟区", 2024)
        assert s.terrain == "山区"  # 生态涵养区 (full) → 山区
        zone = {r.spec.code: r for r in s.checklists["demo_zone"].rows}
        base = {r.spec.code: r for r in s.checklists["two_mountains"].rows}
        # EI 80.2 ≥ 60 and 80.2 ≥ 79.0 last year: 达标 from the run, with its lineage
        d10 = zone["D10"]
        assert (d10.verdict, d10.origin, d10.used) == ("达标", "计算", "computed")
        assert d10.computed is not None
        assert d10.computed.lineage["link"] == "/ei/runs/1/regions/110109"
        assert base["L05"].verdict == "达标"
        # 森林覆盖率 65.2 ≥ 60 (山区): 林草覆盖率 达标 from the registry value (a lower bound)
        d11 = zone["D11"]
        assert d11.verdict == "达标" and d11.computed is not None
        assert d11.computed.lineage["link"] == "/targets/2024-forest_coverage"
        assert "森林资源图层(测试)" in d11.source
        # GEP-R: 3.0e8 + 1.5e8 = 4.5e8 元 = 4.50 亿元, so 生态产品价值核算 开展
        assert base["L07"].value == "已开展(GEP-R 4.50 亿元)" and base["L07"].verdict == "达标"
        # a report dated after the EI run (2024-07-05 > 2024-06-01) takes over: 58 < 60
        values.record_value(session, mtg, district="110109", code="D10", value="58",
                            previous="59", source="区监测站", as_of=dt.date(2024, 7, 5))  # fmt: skip
        checklist = district_status(session, "110109", "门头沟区", 2024).checklists["demo_zone"]
        row = next(r for r in checklist.rows if r.spec.code == "D10")
        assert (row.verdict, row.origin, row.value) == ("未达标", "填报", "58")
        assert row.computed is not None  # the computed value stays visible beside the report
        # gaps: binding 未达标 (D10 before D37, file order), binding 待填报, then reference
        # 未达标 (D39), then reference 待填报
        gaps = checklist.gaps
        assert [g.spec.code for g in gaps[:2]] == ["D10", "D37"]
        kinds = [(g.spec.binding, g.verdict) for g in gaps]
        assert kinds == sorted(kinds, key=lambda k: (not k[0], k[1] != "未达标"))
        assert [g.spec.code for g in gaps if not g.spec.binding][0] == "D39"
        assert checklist.binding_missed == 2 and checklist.counts["达标"] == 2  # D01, D11


def test_xlsx_import_refusals_and_tasks(world: World, tmp_path: Path) -> None:
    header: list[object] = ["指标编号", "数值", "来源", "日期", "佐证说明"]
    bad = _xlsx(tmp_path / "bad.xlsx", [
        header,
        ["D01", "是", "区政府文件", "2024-03-01", "规划批复"],  # row 2: fine
        ["D99", "1", "x", None, None],  # row 3: no such indicator
        ["D03", "abc", "考核办法", None, None],  # row 4: not a number
        ["D05", "150", "公开目录", None, None],  # row 5: 150 % is out of range
        ["D01", "否", "重复", None, None],  # row 6: D01 again
        ["D29", "90", "", None, None],  # row 7: no source
        ["D04", "是", "文件", "2024-12-01", None],  # row 8: date after today
    ])  # fmt: skip
    with session_scope(world.engine) as session:
        chaoyang = _acc(session, "chaoyang")
        before = _counts(session)
        with pytest.raises(ValidationError) as caught:
            values.import_checklist(session, bad, account=chaoyang, district="朝阳区")
        rows = caught.value.rows
        assert "6 行有误,未导入任何数值" in str(caught.value)
        assert [r.split(":")[0] for r in rows] == [f"第 {n} 行" for n in (3, 4, 5, 6, 7, 8)]
        assert "D99" in rows[0] and "不是数字" in rows[1] and "超出" in rows[2]
        assert "与第 2 行重复" in rows[3] and "来源为空" in rows[4] and "晚于今天" in rows[5]
        assert _counts(session) == before
        # another district's rows (区 column) are refused for a district account
        other = _xlsx(
            tmp_path / "other.xlsx", [["区", *header], ["海淀区", "D01", "是", "文件", None, None]]
        )
        with pytest.raises(ValidationError) as caught:
            values.import_checklist(session, other, account=chaoyang)
        assert "第 2 行: 无权填报海淀区" in caught.value.rows[0]
        good = _xlsx(tmp_path / "good.xlsx", [
            header, ["D01", "是", "区政府文件", "2024-03-01", "规划批复"],
            ["D03", 22, "考核办法", None, None], ["D39", "85.5%", "满意度调查", None, None]])  # fmt: skip
        result = values.import_checklist(session, good, account=chaoyang, district="朝阳区")
        assert len(result.values) == 3 and result.districts == ["朝阳区"]
        checklist = district_status(session, "110105", "朝阳区", 2024).checklists["demo_zone"]
        assert checklist.counts["达标"] == 3 and checklist.terrain == "平原区"
        assert _counts(session)[0] == before[0] + 3
        _refusals_and_tasks(session)


def _refusals_and_tasks(session: Session) -> None:
    """Refusals change nothing; the lead unit records a title, the district files a task and its
    progress (late before, not after; a stale version is refused)."""
    acc = {n: _acc(session, n) for n in ("coord", "leader", "sthjj", "chaoyang", "haidian", "swj")}
    before = _counts(session)
    refusals: list[Callable[[], object]] = [
        lambda: values.record_value(session, acc["haidian"], district="朝阳区", code="D01",
                                    value="是", source="x"),
        lambda: values.record_value(session, acc["leader"], district="朝阳区", code="D01",
                                    value="是", source="x"),
        lambda: titles.record_title(session, acc["chaoyang"], district="朝阳区",
                                    program="示范区", year_awarded=2020),
        lambda: titles.record_title(session, acc["swj"], district="朝阳区", program="示范区",
                                    year_awarded=2020),
        lambda: posteval.create(session, acc["coord"], district="朝阳区", year=2023,
                                program="示范区"),
    ]  # fmt: skip
    for refused in refusals:
        with pytest.raises(PermissionDenied):
            refused()
    with pytest.raises(ValidationError, match="尚未登记示范区称号"):
        titles.add_task(session, acc["chaoyang"], district="朝阳区", program="示范区",
                        year=2024, kind="工程项目", name="x")  # fmt: skip
    with pytest.raises(ValidationError, match="D01.*应填 是 或 否"):
        values.record_value(session, acc["chaoyang"], district="朝阳区", code="D01",
                            value="大概", source="x")  # fmt: skip
    assert _counts(session) == before
    # the lead unit records the title; the district then files and reports its tasks
    titles.record_title(session, acc["sthjj"], district="朝阳区", program="示范区",
                        year_awarded=2020, batch="第四批")  # fmt: skip
    task = titles.add_task(session, acc["chaoyang"], district="朝阳区", program="示范区",
                           year=2024, kind="工程项目", name="温榆河湿地修复",
                           due_on=dt.date(2024, 6, 30))  # fmt: skip
    assert titles.is_late(task, TODAY)  # due 30 June, not done on 10 July
    with pytest.raises(NotFoundError):
        titles.report_progress(session, acc["haidian"], task.id, state="推进中", note="x")
    titles.report_progress(session, acc["chaoyang"], task.id, state="已完成", note="完工验收",
                           expected_version=1)  # fmt: skip
    assert not titles.is_late(task, TODAY) and task.progress[-1]["text"] == "完工验收"
    with pytest.raises(ConflictError):
        titles.report_progress(session, acc["coord"], task.id, state="已完成", note="复核",
                               expected_version=1)  # fmt: skip


def test_post_evaluation_flow_feed_and_demo(world: World) -> None:
    with session_scope(world.engine) as session:
        acc = {n: _acc(session, n) for n in ("coord", "sthjj", "chaoyang", "haidian")}
        cy, lead = acc["chaoyang"], acc["sthjj"]
        p = posteval.create(session, cy, district="朝阳区", year=2023, program="示范区",
                            problems="部分指标数据来源不规范")  # fmt: skip
        assert posteval.allowed_actions(session, cy, p) == ["submit"]
        with pytest.raises(ValidationError, match="对策措施"):
            posteval.act(session, cy, p.id, "submit")
        posteval.update(session, cy, p.id, measures="建立数据台账", cases="社区垃圾分类案例")
        posteval.act(session, cy, p.id, "submit")
        for who in (cy, acc["coord"], acc["haidian"]):
            with pytest.raises((PermissionDenied, NotFoundError)):
                posteval.act(session, who, p.id, "review")
        with pytest.raises(ValidationError, match="须说明理由"):
            posteval.act(session, lead, p.id, "return")
        posteval.act(session, lead, p.id, "return", note="典型案例过于简略")
        assert p.state == "returned" and p.review_note == "典型案例过于简略"
        posteval.update(session, cy, p.id, cases="社区垃圾分类:分出率由 12% 升至 30%")
        posteval.act(session, cy, p.id, "submit")
        posteval.act(session, lead, p.id, "review", note="同意")
        with pytest.raises(ValidationError, match="整改完成后才能办结"):
            posteval.act(session, lead, p.id, "close")
        with pytest.raises(ValidationError, match="只能更新整改情况"):
            posteval.update(session, cy, p.id, problems="改写")
        posteval.update(session, cy, p.id, rectification="已整改")
        posteval.act(session, lead, p.id, "close")
        assert p.state == "closed"
        assert [e.action.rsplit(".", 1)[1] for e in posteval.history(session, p)] == [
            "create", "update", "submit", "return", "update", "submit", "review", "update", "close"]  # fmt: skip

        # the plan names 市生态环境局 as lead of 13.1 and 13.3: the reviewer in creation.toml
        plan = session.get_one(Plan, world.plan_id)
        measures = {
            m.doc_id: m for m in session.scalars(select(Measure).where(Measure.plan_id == plan.id))
        }
        for doc_id in ("13.1", "13.3"):
            leads = [a.unit_id for a in measures[doc_id].assignments if a.role == "lead"]
            assert set(session.scalars(select(Unit.code).where(Unit.id.in_(leads)))) == {
                config().lead_unit}  # fmt: skip
        # evidence on exactly 13.1, 13.2, 13.3
        linked = {
            d: [k for k in kinds_for(m) if k.startswith("creation:")] for d, m in measures.items()
        }
        assert {d: k for d, k in linked.items() if k} == {
            "13.1": ["creation:checklist"], "13.2": ["creation:annual"], "13.3": ["creation:post_eval"]}  # fmt: skip

        # the demo: idempotent, and the evidence shows it
        written = load_demo_creation(session)
        assert written is not None and written > 40
        assert load_demo_creation(session) is None
        in_review = session.scalars(
            select(PostEvaluation).where(PostEvaluation.state == "submitted")
        ).all()
        assert [(r.district_name, r.is_demo) for r in in_review] == [("延庆区", True)]
        items = {
            e.kind: e for d in ("13.1", "13.2", "13.3") for e in evidence_for(session, measures[d])
        }
        assert "示范区 3 个区、两山基地 2 个区" in items["creation:checklist"].lines[0]
        assert "年度目标任务和工程项目 5 项" in items["creation:annual"].lines[0]
        assert "已提交 1 份" in items["creation:post_eval"].lines[0]
        yanqing = district_status(session, "110119", "延庆区", 2024).checklists["demo_zone"]
        assert yanqing.gaps[0].spec.code == "D37"  # 75 < 80: the demo's binding miss
