"""Reports, review, closure, conflicts and audit on the sample plan (SQLite and PostgreSQL).

Measure 8.4 (uid M020) is led by 市园林绿化局 with the 17 district units responsible and has
three targets: 新增城市绿地 200 公顷, 休闲公园、城市森林 15 处, 口袋公园及小微绿地 50 处.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ecoplan import audit, db
from ecoplan.accounts.service import account_by_username
from ecoplan.errors import ConflictError, PermissionDenied, ValidationError
from ecoplan.plans.models import Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.supervision import closure, reports
from ecoplan.supervision.board import build_board
from ecoplan.supervision.periods import periods
from ecoplan.supervision.reports import ReportInput
from ecoplan.supervision.rollup import target_progress

from .conftest import World

JUNE = 5  # index of 2024-06 among the monthly periods


def _file(world: World, username: str, uid: str, data: ReportInput, submit: bool = True) -> int:
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        report = reports.save_report(
            session, account_by_username(session, username), measure_by_uid(session, plan, uid),
            periods(session, plan)[JUNE], data, submit=submit,
        )  # fmt: skip
        return report.id


def test_district_files_lead_returns_district_fixes_lead_accepts(world: World) -> None:
    data = ReportInput(status="in_progress", narrative="完成绿地建设", progress={"0": 12.5})
    report_id = _file(world, "chaoyang", "M020", data)
    with db.session_scope(world.engine) as session:
        report = reports.get_report(session, report_id)
        assert (report.state, report.role, report.version) == ("submitted", "responsible", 1)
        with pytest.raises(ValidationError, match="退回必须填写理由"):
            reports.review_report(session, account_by_username(session, "ylljj"), report,
                                  accept=False)  # fmt: skip
        reports.review_report(session, account_by_username(session, "ylljj"), report,
                              accept=False, reason="缺少佐证照片")  # fmt: skip
    with db.session_scope(world.engine) as session:
        report = reports.get_report(session, report_id)
        assert (report.state, report.return_reason, report.times_returned) == (
            "returned", "缺少佐证照片", 1)  # fmt: skip
    _file(world, "chaoyang", "M020", data.model_copy(update={"narrative": "已补充照片"}))
    with db.session_scope(world.engine) as session:
        report = reports.get_report(session, report_id)
        reports.review_report(session, account_by_username(session, "ylljj"), report, accept=True)
        actions = [e.action for e in audit.entries(session, entity_type="report",
                                                    entity_id=str(report_id))]  # fmt: skip
        assert actions == ["report.submit", "report.return", "report.submit", "report.accept"]
        returned = audit.entries(session, entity_type="report", entity_id=str(report_id))[1]
        assert (returned.before["state"], returned.after["state"]) == ("submitted", "returned")


def test_late_status_needs_reasons_and_remedy(world: World) -> None:
    with pytest.raises(ValidationError, match="滞后原因和整改措施"):
        _file(world, "chaoyang", "M020", ReportInput(status="late", reasons="拆迁未完成"))
    with pytest.raises(ValidationError, match="不是本措施的量化目标"):
        _file(world, "chaoyang", "M020", ReportInput(status="in_progress", progress={"7": 1}))
    with pytest.raises(ValidationError, match="非负数"):
        _file(world, "chaoyang", "M020", ReportInput(status="in_progress", progress={"0": -1}))


def test_roles_outside_the_measure_are_refused_and_nothing_changes(world: World) -> None:
    data = ReportInput(status="in_progress")
    for username in ("swj", "coord", "leader", "admin", "ylljj"):
        if username == "ylljj":
            continue  # the lead unit files a summary, tested below
        with pytest.raises(PermissionDenied):
            _file(world, username, "M020", data)
    report_id = _file(world, "chaoyang", "M020", data)
    with db.session_scope(world.engine) as session:
        report = reports.get_report(session, report_id)
        for username in ("haidian", "chaoyang", "swj", "leader", "coord"):
            with pytest.raises(PermissionDenied):
                reports.review_report(session, account_by_username(session, username), report,
                                      accept=True)  # fmt: skip
        assert report.state == "submitted"


def test_two_reviewers_one_wins(world: World) -> None:
    report_id = _file(world, "chaoyang", "M020", ReportInput(status="in_progress"))
    with db.session_scope(world.engine) as first:
        seen = reports.get_report(first, report_id).version
    with db.session_scope(world.engine) as second:
        reports.review_report(second, account_by_username(second, "ylljj"),
                              reports.get_report(second, report_id), accept=True,
                              expected_version=seen)  # fmt: skip
    with db.session_scope(world.engine) as first, pytest.raises(ConflictError, match="他人"):
        reports.review_report(first, account_by_username(first, "ylljj"),
                              reports.get_report(first, report_id), accept=False,
                              reason="x", expected_version=seen)  # fmt: skip
    with db.session_scope(world.engine) as session:
        assert reports.get_report(session, report_id).state == "accepted"


def test_rollup_sums_additive_targets_and_takes_lead_value_for_rates(world: World) -> None:
    _file(
        world, "chaoyang", "M020", ReportInput(status="in_progress", progress={"0": 12.5, "2": 3})
    )
    _file(world, "haidian", "M020", ReportInput(status="in_progress", progress={"0": 7.5}))
    _file(world, "ylljj", "M019", ReportInput(status="in_progress", progress={"0": 44.6}))
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        june = periods(session, plan)[JUNE]
        m020, m019 = measure_by_uid(session, plan, "M020"), measure_by_uid(session, plan, "M019")
        rows = {(t.measure.uid, t.index): t for t in target_progress(session, [m020, m019], june)}
        # 新增城市绿地: 12.5 (朝阳) + 7.5 (海淀) = 20 公顷 of 200 → 10 %
        assert (rows[("M020", 0)].value, rows[("M020", 0)].percent) == (20.0, 10.0)
        # 口袋公园: only 朝阳 reported 3 处; 休闲公园: nobody → None
        assert (rows[("M020", 2)].value, rows[("M020", 1)].value) == (3.0, None)
        # 森林覆盖率 is a rate: the lead unit's city-wide 44.6 %, not a sum over 17 districts
        assert rows[("M019", 0)].value == 44.6


def test_closure_request_approve_reopen(world: World) -> None:
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        m020 = measure_by_uid(session, plan, "M020")
        chaoyang = account_by_username(session, "chaoyang")
        with pytest.raises(PermissionDenied):
            closure.request_closure(session, account_by_username(session, "swj"), m020, "完成")
        item = closure.request_closure(session, chaoyang, m020, "200 公顷中朝阳承担部分已完成")
        with pytest.raises(PermissionDenied):
            closure.decide_closure(session, account_by_username(session, "ylljj"), item,
                                   approve=True)  # fmt: skip
        coord = account_by_username(session, "coord")
        closure.decide_closure(session, coord, item, approve=True)
        board = build_board(session, plan, dt.date(2024, 7, 10))
        (share,) = [s for s in board.shares_of(m020) if s.unit.code == "110105"]
        assert (share.closed, share.light, share.reasons) == (True, "green", ["已办结销号"])
        with pytest.raises(ValidationError):
            closure.reopen_closure(session, coord, item, " ")
        closure.reopen_closure(session, coord, item, "核查发现绿地面积不实")
        assert item.state == "open"
        trail = [e.action for e in audit.entries(session, entity_type="closure")]
        assert trail == ["closure.request", "closure.approve", "closure.reopen"]


def test_lights_follow_deadlines(world: World) -> None:
    """June reports are due 2024-07-05 (30 June + 5 days); 年底前 measures close by 12-31."""
    _file(world, "chaoyang", "M020", ReportInput(status="in_progress"))
    _file(
        world, "haidian", "M020", ReportInput(status="late", reasons="征地延误", remedy="7月完成")
    )
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        m020 = measure_by_uid(session, plan, "M020")

        def lights(day: dt.date) -> dict[str, str]:
            board = build_board(session, plan, day)
            return {s.unit.code: s.light for s in board.shares_of(m020)}

        # 3 July: June reports due in 2 days (≤ 3-day window) → missing ones are yellow
        early = lights(dt.date(2024, 7, 3))
        assert (early["110105"], early["110108"], early["110101"]) == ("green", "yellow", "yellow")
        # 10 July: missing June reports are 5 days late → red; 海淀 filed but 滞后 → yellow
        late = lights(dt.date(2024, 7, 10))
        assert (late["110105"], late["110108"], late["110101"]) == ("green", "yellow", "red")
        # 1 January 2025: completion deadline passed without closure → red for everyone
        assert set(lights(dt.date(2025, 1, 1)).values()) == {"red"}
        assert len(lights(dt.date(2025, 1, 1))) == 17
    with db.session_scope(world.engine) as session:
        assert session.scalar(select(audit.AuditEntry.id).where(
            audit.AuditEntry.action == "report.submit")) is not None  # fmt: skip
