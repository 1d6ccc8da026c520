"""Reminders and escalation on the sample plan, with e-mail delivered to a local SMTP sink.

June 2024 reports are due 2024-07-05 (30 June + 5 days); the reminder window is 3 days.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from ecoplan import db
from ecoplan.accounts.service import account_by_username
from ecoplan.config import get_settings
from ecoplan.plans.models import Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.supervision import reports
from ecoplan.supervision.board import build_board
from ecoplan.supervision.models import Notification, SupervisionOrder
from ecoplan.supervision.periods import periods
from ecoplan.supervision.reminders import run_reminders
from ecoplan.supervision.reports import ReportInput

from .conftest import World


class Sink:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("ECOPLAN_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ECOPLAN_SMTP_PORT", str(port))
    get_settings.cache_clear()
    yield sink
    controller.stop()
    get_settings.cache_clear()


def _run(world: World, day: dt.date) -> tuple[int, list[str], int, int]:
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        run = run_reminders(session, plan, day, actor="test")
        return len(run.notifications), [o.number for o in run.orders], run.resolved, run.emailed


def test_near_due_overdue_escalation_and_resolution(world: World, smtp: Sink) -> None:
    with db.session_scope(world.engine) as session:
        account_by_username(session, "chaoyang").email = "chaoyang@example.invalid"
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        shares = len(build_board(session, plan, dt.date(2024, 7, 3)).shares)
    # 3 July: every share lacks its June report, due in 2 days → one 临近提醒 each
    notes, orders, _, emailed = _run(world, dt.date(2024, 7, 3))
    assert (notes, orders) == (shares, [])
    # 朝阳区 is responsible in 1.1, 5.1, 6.3?, ... : one e-mail per notification of its unit
    with db.session_scope(world.engine) as session:
        chaoyang_notes = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.unit_id == account_by_username(session, "chaoyang").unit_id))  # fmt: skip
    assert emailed == chaoyang_notes == len(smtp.messages) > 0
    first = message_from_bytes(smtp.messages[0])
    assert "临近提醒" in str(make_header(decode_header(first["Subject"])))
    assert first["To"] == "chaoyang@example.invalid"
    # running again the same day sends nothing twice
    assert _run(world, dt.date(2024, 7, 3))[:2] == (0, [])
    # 5 July: the deadline day → 到期催办
    assert _run(world, dt.date(2024, 7, 5))[:2] == (shares, [])

    # 朝阳区 files June for 8.4 (M020) late, on 6 July before the job runs
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        reports.save_report(session, account_by_username(session, "chaoyang"),
                            measure_by_uid(session, plan, "M020"), periods(session, plan)[5],
                            ReportInput(status="in_progress"), submit=True)  # fmt: skip
    # 6 July: overdue → a 督办单 per share still missing its report (all but one)
    notes, orders, _, _ = _run(world, dt.date(2024, 7, 6))
    assert notes == len(orders) == shares - 1
    assert orders[0] == "督〔2024〕1号" and orders[-1] == f"督〔2024〕{shares - 1}号"
    with db.session_scope(world.engine) as session:
        order = session.scalars(select(SupervisionOrder).limit(1)).one()
        # the order gives the unit max(remind window 3, 3) days to respond
        assert (order.issued_on, order.respond_by) == (dt.date(2024, 7, 6), dt.date(2024, 7, 9))
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        # 海淀区 files its M020 report: its order is lifted on the next run
        reports.save_report(session, account_by_username(session, "haidian"),
                            measure_by_uid(session, plan, "M020"), periods(session, plan)[5],
                            ReportInput(status="in_progress"), submit=True)  # fmt: skip
    _, new_orders, resolved, _ = _run(world, dt.date(2024, 7, 7))
    assert (new_orders, resolved) == ([], 1)
