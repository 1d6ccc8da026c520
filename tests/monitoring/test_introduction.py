"""外来物种引入审批: every (state, action, who) cell against a table written from the rules in
docs/monitoring-invasive.md (not from the code's ACTIONS), what each step requires, stale
versions and who sees what (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ecoplan import audit, db
from ecoplan.errors import ConflictError, NotFoundError, PermissionDenied, ValidationError
from ecoplan.monitoring.introduction import (
    ACTIONS,
    STATES,
    ApplicationForm,
    ReportFile,
    actions_for,
    create_application,
    get_application,
    list_applications,
    step,
    update_application,
)
from ecoplan.monitoring.invasive_models import IntroductionApplication
from ecoplan.supervision.evidence import path_of
from ecoplan.units.models import Unit
from tests.monitoring.invasive_fixtures import TODAY, account, iworld

__all__ = ["iworld"]

MONITOR_UNTIL = TODAY + dt.timedelta(days=365)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# who -> username: the applicant is 延庆区政府 (a 林草 application, so 市园林绿化局 reviews it)
WHO = {"applicant": "yanqing", "reviewer": "ylljj", "other": "haidian", "admin": "admin", "coordinator": "coord",
       "leader": "leader"}  # fmt: skip

# The rules (docs/monitoring-invasive.md): state -> action -> (who may, resulting state).
# Applicant: submit, resubmit, withdraw before a decision, monitoring reports. Reviewer:
# accept, assess, return (before a decision), approve / refuse, monitoring (inspection)
# reports, close after the monitoring period. Nobody else acts; another unit sees nothing.
EXPECTED: dict[str, dict[str, tuple[set[str], str]]] = {
    "draft": {"submit": ({"applicant"}, "submitted"), "withdraw": ({"applicant"}, "withdrawn")},
    "submitted": {"accept": ({"reviewer"}, "accepted"), "return": ({"reviewer"}, "returned"),
                  "withdraw": ({"applicant"}, "withdrawn")},
    "accepted": {"assess": ({"reviewer"}, "assessing"), "return": ({"reviewer"}, "returned"),
                 "withdraw": ({"applicant"}, "withdrawn")},
    "assessing": {"approve": ({"reviewer"}, "approved"), "refuse": ({"reviewer"}, "refused"),
                  "return": ({"reviewer"}, "returned"), "withdraw": ({"applicant"}, "withdrawn")},
    "returned": {"resubmit": ({"applicant"}, "submitted"), "withdraw": ({"applicant"}, "withdrawn")},
    "approved": {"report": ({"applicant", "reviewer"}, "monitoring")},
    "monitoring": {"report": ({"applicant", "reviewer"}, "monitoring"), "close": ({"reviewer"}, "closed")},
    "refused": {},
    "closed": {},
    "withdrawn": {},
}  # fmt: skip
# every action with what it needs; close is taken on the last day of the monitoring period
ARGS: dict[str, dict[str, Any]] = {
    "assess": {"risk_level": "中", "risk_summary": "逃逸风险可控", "risk_report": ReportFile(PDF, "评估报告.pdf")},
    "approve": {"conditions": "封闭养殖,防逃逸围网", "monitor_until": MONITOR_UNTIL},
    "refuse": {"note": "风险过高"},
    "return": {"note": "缺少隔离设施说明"},
    "report": {"note": "第一季度未发现逃逸"},
    "close": {"today": MONITOR_UNTIL},
}  # fmt: skip
# how to reach each state from a fresh draft: (action, who) steps
PATH = {
    "draft": [],
    "submitted": [("submit", "applicant")],
    "accepted": [("submit", "applicant"), ("accept", "reviewer")],
    "assessing": [("submit", "applicant"), ("accept", "reviewer"), ("assess", "reviewer")],
    "returned": [("submit", "applicant"), ("return", "reviewer")],
    "approved": [("submit", "applicant"), ("accept", "reviewer"), ("assess", "reviewer"), ("approve", "reviewer")],
    "refused": [("submit", "applicant"), ("accept", "reviewer"), ("assess", "reviewer"), ("refuse", "reviewer")],
    "monitoring": [("submit", "applicant"), ("accept", "reviewer"), ("assess", "reviewer"), ("approve", "reviewer"),
                   ("report", "applicant")],
    "closed": [("submit", "applicant"), ("accept", "reviewer"), ("assess", "reviewer"), ("approve", "reviewer"),
               ("report", "applicant"), ("close", "reviewer")],
    "withdrawn": [("withdraw", "applicant")],
}  # fmt: skip


def form(**changes: Any) -> ApplicationForm:
    base = {"applicant": "北京某苗木公司", "scientific_name": "Picea pungens", "name_cn": "蓝云杉", "category": "林草",
            "purpose": "城市绿化苗木繁育", "origin_country": "美国", "quantity": "种子 2 kg",
            "destination": "延庆区某苗圃", "containment": "隔离苗圃种植,落果清理"}  # fmt: skip
    return ApplicationForm(**{**base, **changes})


def act(session: Session, app_id: int, action: str, who: str, **extra: Any) -> Any:
    kwargs = {"today": TODAY, **ARGS.get(action, {}), **extra}
    return step(session, account(session, WHO[who]), app_id, action, **kwargs)


def reach(session: Session, state: str) -> IntroductionApplication:
    app = create_application(session, account(session, WHO["applicant"]), form(), today=TODAY)
    for action, who in PATH[state]:
        act(session, app.id, action, who)
    assert app.state == state
    return app


def test_the_expected_table_covers_the_code_vocabulary() -> None:
    assert set(EXPECTED) == set(STATES)
    assert {a for cells in EXPECTED.values() for a in cells} == set(ACTIONS)


def test_every_state_action_who_cell(iworld: Engine) -> None:
    refused = allowed = 0
    with db.session_scope(iworld) as session:
        for state in STATES:
            app = reach(session, state)
            version = app.version
            for action in ACTIONS:
                for who in WHO:
                    cell = EXPECTED[state].get(action)
                    if cell and who in cell[0]:
                        continue  # taken below on a fresh application
                    error: type[Exception]
                    if who == "other":
                        error = NotFoundError  # another unit cannot see the application at all
                    elif cell is None:
                        error = ValidationError  # not an action of this state
                    else:
                        error = PermissionDenied
                    with pytest.raises(error):
                        act(session, app.id, action, who)
                    assert (app.state, app.version) == (state, version), (state, action, who)
                    refused += 1
            assert sorted(actions_for(account(session, WHO["applicant"]), app)) == sorted(
                a for a, (whos, _) in EXPECTED[state].items() if "applicant" in whos)  # fmt: skip
            assert sorted(actions_for(account(session, WHO["admin"]), app)) == []
        for state, cells in EXPECTED.items():
            for action, (whos, target) in cells.items():
                for who in sorted(whos):
                    app = reach(session, state)
                    before = (app.version, len(app.events))
                    result = act(session, app.id, action, who)
                    assert (app.state, result.event.to_state, result.event.from_state) == (
                        target,
                        target,
                        state,
                    )
                    assert (app.version, len(app.events)) == (before[0] + 1, before[1] + 1)
                    allowed += 1
    # 10 states × 10 actions × 6 kinds of account = 600 cells; allowed, by state: draft 2,
    # submitted 3, accepted 3, assessing 4, returned 2, approved 2 (report by either side),
    # monitoring 3 (report × 2, close) = 19; 600 − 19 = 581 refused
    assert (refused, allowed) == (581, 19)


def test_each_step_requires_what_it_decides_on(iworld: Engine) -> None:
    with db.session_scope(iworld) as session:
        app = reach(session, "submitted")
        with pytest.raises(ValidationError, match="理由"):
            act(session, app.id, "return", "reviewer", note=" ")
        act(session, app.id, "accept", "reviewer")
        with pytest.raises(ValidationError) as err:
            act(
                session,
                app.id,
                "assess",
                "reviewer",
                risk_level="极高",
                risk_summary="",
                risk_report=None,
            )
        assert (
            len(err.value.rows) == 3
        )  # level not 低/中/高, no summary, no report (first introduction)
        with pytest.raises(ValidationError, match="不符"):  # a "PDF" that is not one
            act(
                session, app.id, "assess", "reviewer", risk_report=ReportFile(b"not a pdf", "r.pdf")
            )
        assert (app.state, app.risk_level, app.risk_report) == ("accepted", None, None)  # untouched
        act(session, app.id, "assess", "reviewer")
        assert app.risk_report is not None and path_of(app.risk_report).read_bytes() == PDF
        with pytest.raises(ValidationError, match="理由"):
            act(session, app.id, "refuse", "reviewer", note="")
        with pytest.raises(ValidationError, match="批准条件"):
            act(session, app.id, "approve", "reviewer", conditions=" ")
        with pytest.raises(ValidationError, match="晚于今天"):
            act(session, app.id, "approve", "reviewer", monitor_until=TODAY)
        act(session, app.id, "approve", "reviewer")
        assert (app.monitor_until, app.conditions) == (MONITOR_UNTIL, "封闭养殖,防逃逸围网")
        with pytest.raises(ValidationError, match="监测情况"):
            act(session, app.id, "report", "applicant", note="")
        act(session, app.id, "report", "applicant")
        act(session, app.id, "report", "reviewer", note="现场检查: 围网完好")
        day_before = MONITOR_UNTIL - dt.timedelta(days=1)
        with pytest.raises(ValidationError, match="期满后"):
            act(session, app.id, "close", "reviewer", today=day_before)
        act(session, app.id, "close", "reviewer")  # on MONITOR_UNTIL itself
        assert [e.action for e in app.events] == ["create", "submit", "accept", "assess", "approve", "report",
                                                  "report", "close"]  # fmt: skip
        assert [e.note for e in app.events if e.action == "report"] == [
            "第一季度未发现逃逸",
            "现场检查: 围网完好",
        ]
        # the species was introduced once: a second application needs no report to be assessed
        second = reach(session, "accepted")
        act(session, second.id, "assess", "reviewer", risk_report=None)
        assert second.state == "assessing" and second.risk_report is None


def test_deadlines_events_and_audit(iworld: Engine) -> None:
    # due days (invasive.toml): submitted 5, accepted 20, assessing 20, returned 30,
    # approved 90, monitoring 90; none once decided against, closed or withdrawn
    with db.session_scope(iworld) as session:
        app = reach(session, "draft")
        assert (app.number, app.due_on, app.version) == ("引〔2024〕1号", None, 1)
        expected = [("submit", "applicant", 5), ("return", "reviewer", 30), ("resubmit", "applicant", 5),
                    ("accept", "reviewer", 20), ("assess", "reviewer", 20), ("approve", "reviewer", 90),
                    ("report", "applicant", 90)]  # fmt: skip
        for action, who, days in expected:
            act(session, app.id, action, who)
            assert app.due_on == TODAY + dt.timedelta(days=days), action
        assert app.submitted_on == TODAY
        act(session, app.id, "close", "reviewer")
        assert app.due_on is None
        entries = audit.entries(session, entity_type="introduction", entity_id=str(app.id))
        assert [e.action for e in entries] == ["introduction.create"] + [f"introduction.{a}" for a, _, _ in expected] + [
            "introduction.close"]  # fmt: skip
        assert (
            entries[2].before["state"] == "submitted"
            and entries[2].after["note"] == "缺少隔离设施说明"
        )


def test_stale_version_is_refused(iworld: Engine) -> None:
    with db.session_scope(iworld) as session:
        app_id, read_version = reach(session, "submitted").id, 2  # created (1), submitted (2)
    with db.session_scope(iworld) as session:
        act(session, app_id, "accept", "reviewer", expected_version=read_version)
    with db.session_scope(iworld) as session:  # the applicant still looks at version 2
        with pytest.raises(ConflictError, match="已被他人更新"):
            act(session, app_id, "withdraw", "applicant", expected_version=read_version)
        assert get_application(session, account(session, "yanqing"), app_id).state == "accepted"


def test_who_sees_which_applications(iworld: Engine) -> None:
    with db.session_scope(iworld) as session:
        forestry = reach(session, "submitted")  # 延庆区 → 市园林绿化局
        fishery = create_application(session, account(session, "haidian"), form(category="水产",
                                     scientific_name="Procambarus clarkii", name_cn="克氏原螯虾"), today=TODAY)  # fmt: skip
        assert [session.get(Unit, a.reviewer_unit_id).code for a in (forestry, fishery)] == [
            "ylljj",
            "nyncj",
        ]  # type: ignore[union-attr]
        seen = {who: {a.id for a in list_applications(session, account(session, user))} for who, user in
                {**WHO, "nyncj": "nyncj", "swj": "swj"}.items()}  # fmt: skip
        assert seen == {"applicant": {forestry.id}, "reviewer": {forestry.id}, "other": {fishery.id},
                        "admin": {forestry.id, fishery.id}, "coordinator": {forestry.id, fishery.id},
                        "leader": {forestry.id, fishery.id}, "nyncj": {fishery.id}, "swj": set()}  # fmt: skip
        with pytest.raises(NotFoundError):
            get_application(session, account(session, "swj"), forestry.id)


def test_who_may_apply_and_correct(iworld: Engine) -> None:
    with db.session_scope(iworld) as session:
        with pytest.raises(PermissionDenied):
            create_application(session, account(session, "admin"), form(), today=TODAY)
        with pytest.raises(ValidationError, match="自行审批"):  # 市园林绿化局 would review itself
            create_application(session, account(session, "ylljj"), form(), today=TODAY)
        with pytest.raises(ValidationError) as err:
            create_application(
                session, account(session, "yanqing"), form(purpose="", category="渔业"), today=TODAY
            )
        assert len(err.value.rows) == 2
        app = reach(session, "returned")
        with pytest.raises(ValidationError, match="类别"):
            update_application(session, account(session, "yanqing"), app.id, form(category="农业"))
        with pytest.raises(PermissionDenied):
            update_application(session, account(session, "ylljj"), app.id, form())
        update_application(session, account(session, "yanqing"), app.id, form(quantity="种子 1 kg"),
                           expected_version=app.version)  # fmt: skip
        assert (app.quantity, app.events[-1].action) == ("种子 1 kg", "edit")
        act(session, app.id, "resubmit", "applicant")
        with pytest.raises(ValidationError, match="不能修改"):
            update_application(session, account(session, "yanqing"), app.id, form())
        assert (
            session.scalar(
                select(IntroductionApplication.state).where(IntroductionApplication.id == app.id)
            )
            == "submitted"
        )
