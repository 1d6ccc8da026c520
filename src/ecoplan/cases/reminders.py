"""Clue deadlines chased with the supervision machinery (临近提醒 → 到期催办 → 逾期督办).

A district with many clues must not get one message per clue, so messages are grouped: one
notification per (unit that must act, clue kind, stage) and day, naming the count and the first
codes. The unit that must act is the district while it verifies and rectifies, the verifying
unit while the clue waits for its acceptance. Overdue clues also raise one 督办单 per (kind,
unit) on the plan measure the kind feeds (``measure_words`` in the rules), kept open until the
unit has no overdue clue of that kind left; clues overdue by more than twice the reminder
window are reported to the verifying unit as well (抄送, escalation). Running the job twice on
one day sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.models import CLUE_STATES, Clue
from ecoplan.cases.rules import load_rules
from ecoplan.plans.models import Measure, Plan
from ecoplan.supervision.models import Notification, SupervisionOrder
from ecoplan.supervision.reminders import send_emails

VERIFIER_STATES = frozenset({"accepting", "rejected"})  # waiting for the verifying unit
ORDER_PREFIX = "order:clues-"


@dataclass
class ClueReminderRun:
    notifications: list[Notification] = field(default_factory=list)
    orders: list[SupervisionOrder] = field(default_factory=list)
    resolved: int = 0
    emailed: int = 0


def measure_for(session: Session, words: list[str]) -> Measure | None:
    """The measure of the newest plan whose text holds all ``words``."""
    plan = session.scalar(
        select(Plan).order_by(Plan.year.desc().nulls_last(), Plan.id.desc()).limit(1)
    )
    if plan is None:
        return None
    return next((m for m in plan.measures if all(w in m.text for w in words)), None)


def run_clue_reminders(session: Session, today: dt.date, *, actor: str) -> ClueReminderRun:
    rules = load_rules()
    horizon = today + dt.timedelta(days=rules.remind_days)
    query = select(Clue.code, Clue.kind, Clue.state, Clue.due_on, Clue.unit_id, Clue.verifier_unit_id).where(
        Clue.state != "closed", Clue.due_on.is_not(None), Clue.due_on <= horizon
    )  # fmt: skip
    groups: dict[tuple[int, str, str], list[tuple[str, dt.date, str]]] = defaultdict(list)
    escalate: dict[tuple[int, str, int], list[str]] = defaultdict(list)
    for code, kind, state, due, unit_id, verifier_id in session.execute(query):
        target = verifier_id if state in VERIFIER_STATES else unit_id
        if target is None or due is None:
            continue
        days = (due - today).days
        stage = "remind" if days > 0 else "due" if days == 0 else "overdue"
        groups[(target, kind, stage)].append((code, due, state))
        if days < -2 * rules.remind_days and verifier_id is not None and verifier_id != target:
            escalate[(verifier_id, kind, target)].append(code)
    run = ClueReminderRun()
    sent = set(session.scalars(select(Notification.key).where(Notification.key.like("clue-%"))))
    measures = {k: measure_for(session, r.measure_words) for k, r in rules.kinds.items()}
    for (unit_id, kind, stage), items in sorted(groups.items()):
        label = rules.kinds[kind].label if kind in rules.kinds else kind
        key = f"clue-{stage}:{kind}:{unit_id}:{today.isoformat()}"
        if key in sent:
            continue
        earliest = min(d for _, d, _ in items)
        codes = "、".join(c for c, _, _ in items[:5]) + (" 等" if len(items) > 5 else "")
        states = "、".join(sorted({CLUE_STATES[s] for _, _, s in items}))
        text = {
            "remind": f"【临近提醒】{len(items)} 条{label}({states})将于 {earliest} 起陆续到期: {codes}",
            "due": f"【到期催办】{len(items)} 条{label}({states})今天到期: {codes}",
            "overdue": f"【逾期督办】{len(items)} 条{label}({states})已超过办理时限(最早 {earliest}): {codes}",
        }[stage]
        measure = measures.get(kind)
        note = Notification(key=key, kind=stage, unit_id=unit_id, measure_id=measure.id if measure else None,
                            message=text)  # fmt: skip
        session.add(note)
        run.notifications.append(note)
        if stage == "overdue" and measure is not None:
            _order(
                session, run, kind, measure, unit_id, len(items), label, today, rules.remind_days
            )
    for (verifier_id, kind, unit_id), codes_list in sorted(escalate.items()):
        key = f"clue-escalate:{kind}:{verifier_id}:{unit_id}:{today.isoformat()}"
        if key in sent:
            continue
        label = rules.kinds[kind].label if kind in rules.kinds else kind
        measure = measures.get(kind)
        note = Notification(
            key=key, kind="overdue", unit_id=verifier_id, measure_id=measure.id if measure else None,
            message=f"【抄送】{len(codes_list)} 条{label}逾期超过 {2 * rules.remind_days} 天仍未办理"
                    f"(承办单位 id {unit_id}): {'、'.join(codes_list[:5])}",
        )  # fmt: skip
        session.add(note)
        run.notifications.append(note)
    session.flush()
    run.resolved = _resolve(session, groups, today)
    run.emailed = send_emails(session, run.notifications)
    audit.record(session, actor=actor, action="clue.remind.run", entity_type="clue", entity_id="*",
                 after={"today": today.isoformat(), "notifications": len(run.notifications),
                        "orders": [o.number for o in run.orders], "resolved": run.resolved})  # fmt: skip
    return run


def _order(session: Session, run: ClueReminderRun, kind: str, measure: Measure, unit_id: int, count: int,
           label: str, today: dt.date, window: int) -> None:  # fmt: skip
    prefix = f"{ORDER_PREFIX}{kind}:{measure.id}:{unit_id}:"
    open_order = session.scalar(select(SupervisionOrder.id).where(
        SupervisionOrder.key.like(prefix + "%"), SupervisionOrder.resolved_on.is_(None)))  # fmt: skip
    if open_order is not None:
        return
    year = measure.plan.year or today.year
    issued = (session.scalar(select(func.count()).select_from(SupervisionOrder)) or 0) + len(
        run.orders
    )
    order = SupervisionOrder(
        key=f"{prefix}{today.isoformat()}", number=f"督〔{year}〕{issued + 1}号", measure_id=measure.id,
        unit_id=unit_id, reason=f"措施 {measure.doc_id}: {count} 条{label}逾期未办理",
        issued_on=today, respond_by=today + dt.timedelta(days=max(window, 3)),
    )  # fmt: skip
    session.add(order)
    run.orders.append(order)


def _resolve(session: Session, groups: dict[tuple[int, str, str], list[tuple[str, dt.date, str]]],
             today: dt.date) -> int:  # fmt: skip
    """Lift clue orders whose unit has no overdue clue of that kind any more."""
    overdue = {(unit, kind) for (unit, kind, stage) in groups if stage == "overdue"}
    done = 0
    query = select(SupervisionOrder).where(SupervisionOrder.key.like(ORDER_PREFIX + "%"),
                                           SupervisionOrder.resolved_on.is_(None))  # fmt: skip
    for order in session.scalars(query):
        kind = order.key.removeprefix(ORDER_PREFIX).split(":")[0]
        if (order.unit_id, kind) not in overdue:
            order.resolved_on = today
            done += 1
    return done
