"""Reminders and escalation (临近提醒 → 到期催办 → 逾期督办).

For every open share and each of its deadlines (the latest period's report deadline; the
measure's completion deadline when it has one):
- within the reminder window before the deadline → one 临近提醒 notification;
- on the deadline day → one 到期催办 notification;
- after it → one 督办单 (supervision order, with a new deadline one reporting window later)
  and a 逾期督办 notification.
Each message has a key, so running the job twice sends nothing twice. Orders are resolved
automatically once the missing report is filed or the share is closed. New notifications are
e-mailed to the unit's accounts when ``ECOPLAN_SMTP_HOST`` is set.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import get_settings
from ecoplan.db import utcnow
from ecoplan.plans.models import Plan
from ecoplan.supervision.board import Share, build_board
from ecoplan.supervision.models import (
    FILED_STATES,
    Notification,
    Period,
    Report,
    SupervisionOrder,
)

log = logging.getLogger(__name__)
KIND_LABELS = {"remind": "临近提醒", "due": "到期催办", "overdue": "逾期督办", "info": "通知"}


@dataclass
class ReminderRun:
    notifications: list[Notification] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    resolved: int = 0
    emailed: int = 0
    issued_before: int | None = None
    # keys already sent for this plan's measures, read once per run (not one query per share)
    sent: set[str] = field(default_factory=set)


def _notify(session: Session, run: ReminderRun, key: str, kind: str, share: Share,
            message: str) -> bool:  # fmt: skip
    if key in run.sent:
        return False
    run.sent.add(key)
    note = Notification(key=key, kind=kind, unit_id=share.unit.id, measure_id=share.measure.id,
                        message=message)  # fmt: skip
    session.add(note)
    run.notifications.append(note)
    return True


def _order(session: Session, run: ReminderRun, key: str, share: Share, reason: str,
           today: dt.date, window: int) -> None:  # fmt: skip
    if key in run.sent:
        return
    run.sent.add(key)
    year = share.measure.plan.year or today.year
    if run.issued_before is None:  # counted once: later queries would also see this run's orders
        run.issued_before = session.scalar(select(func.count()).select_from(SupervisionOrder)) or 0
    order = SupervisionOrder(
        key=key, number=f"督〔{year}〕{run.issued_before + len(run.orders) + 1}号", measure_id=share.measure.id,
        unit_id=share.unit.id, reason=reason, issued_on=today,
        respond_by=today + dt.timedelta(days=window),
    )  # fmt: skip
    session.add(order)
    run.orders.append(order)


def _deadline(session: Session, run: ReminderRun, share: Share, *, tag: str, what: str,
              due: dt.date, window: int, today: dt.date) -> None:  # fmt: skip
    m, u = share.measure, share.unit
    where = f"措施 {m.doc_id}({u.name})"
    days = (due - today).days
    if 0 < days <= window:
        _notify(session, run, f"remind:{tag}:{m.id}:{u.id}", "remind", share,
                f"【临近提醒】{where}{what}将于 {due} 截止,还有 {days} 天。")  # fmt: skip
    elif days == 0:
        _notify(session, run, f"due:{tag}:{m.id}:{u.id}", "due", share,
                f"【到期催办】{where}{what}今天({due})截止,请尽快办理。")  # fmt: skip
    elif days < 0:
        reason = f"{where}{what}已于 {due} 截止,逾期 {-days} 天。"
        _notify(
            session, run, f"overdue:{tag}:{m.id}:{u.id}", "overdue", share, f"【逾期督办】{reason}"
        )
        _order(session, run, f"order:{tag}:{m.id}:{u.id}", share, reason, today, max(window, 3))


def _resolve_orders(session: Session, plan: Plan, shares: list[Share], today: dt.date) -> int:
    """Lift orders whose cause is gone: the share is closed, or the missing report is in."""
    done = 0
    closed = {(s.measure.id, s.unit.id) for s in shares if s.closed}
    filed = {(m, u, k) for m, u, k in session.execute(
        select(Report.measure_id, Report.unit_id, Period.key)
        .join(Period, Period.id == Report.period_id)
        .where(Period.plan_id == plan.id, Report.state.in_(FILED_STATES))
    )}  # fmt: skip
    measure_ids = {s.measure.id for s in shares}
    open_orders = select(SupervisionOrder).where(SupervisionOrder.resolved_on.is_(None))
    for order in session.scalars(open_orders):
        if order.measure_id not in measure_ids:
            continue
        tag = order.key.split(":")[1]  # "report-<period key>" or "close"
        period_key = tag.removeprefix("report-") if tag.startswith("report-") else None
        if (order.measure_id, order.unit_id) in closed or (
            period_key and (order.measure_id, order.unit_id, period_key) in filed
        ):
            order.resolved_on = today
            done += 1
    return done


def run_reminders(session: Session, plan: Plan, today: dt.date, *, actor: str) -> ReminderRun:
    board = build_board(session, plan, today)
    ids = [m.id for m in board.measures]
    run = ReminderRun()
    run.sent.update(
        session.scalars(select(Notification.key).where(Notification.measure_id.in_(ids)))
    )
    run.sent.update(
        session.scalars(select(SupervisionOrder.key).where(SupervisionOrder.measure_id.in_(ids)))
    )
    remind, close_remind = board.remind_days, board.close_remind_days
    period = board.due_period
    for share in board.shares:
        if share.closed:
            continue
        if period is not None and not share.filed:
            _deadline(session, run, share, tag=f"report-{period.key}",
                      what=f"{period.label}进展报告", due=period.report_due, window=remind,
                      today=today)  # fmt: skip
        if share.measure.due is not None:
            _deadline(session, run, share, tag="close", what="办结销号", due=share.measure.due,
                      window=close_remind, today=today)  # fmt: skip
    session.flush()
    run.resolved = _resolve_orders(session, plan, board.shares, today)
    run.emailed = send_emails(session, run.notifications)
    audit.record(session, actor=actor, action="remind.run", entity_type="plan", entity_id=plan.id,
                 after={"today": today.isoformat(), "notifications": len(run.notifications),
                        "orders": [o.number for o in run.orders], "resolved": run.resolved,
                        "emailed": run.emailed})  # fmt: skip
    return run


def send_emails(session: Session, notes: list[Notification]) -> int:
    """E-mail each new notification to its unit's active accounts that have an address."""
    settings = get_settings()
    if not settings.smtp_host or not notes:
        return 0
    sent = 0
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        for note in notes:
            query = select(Account.email).where(
                Account.unit_id == note.unit_id,
                Account.active.is_(True),
                Account.email.is_not(None),
            )
            recipients = [e for e in session.scalars(query) if e]
            if not recipients:
                continue
            message = EmailMessage()
            message["From"] = settings.smtp_sender
            message["To"] = ", ".join(recipients)
            message["Subject"] = f"[EcoPlan] {KIND_LABELS.get(note.kind, '通知')}"
            message.set_content(note.message)
            smtp.send_message(message)
            note.emailed_at = utcnow()
            sent += 1
    return sent
