"""Reporting cycle of a plan: monthly (default) or quarterly periods with a report deadline.

A period's report is due ``due_days`` after the period ends (e.g. the March report on
5 April). Measures due 年底前 must be closed by their due date; 持续推进 measures are never
"done by a date" and are simply reported on every period.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.errors import ConflictError, ValidationError
from ecoplan.plans.models import Plan
from ecoplan.supervision.models import Period, Report, ReportingCycle

FREQUENCIES = {"monthly": "每月", "quarterly": "每季度"}
DEFAULT_DUE_DAYS = 5
DEFAULT_REMIND_DAYS = 3
DEFAULT_CLOSE_REMIND_DAYS = 30
_QUARTER_NAMES = "一二三四"


def _period_bounds(year: int, frequency: str) -> list[tuple[str, str, dt.date, dt.date]]:
    rows = []
    if frequency == "monthly":
        for month in range(1, 13):
            start = dt.date(year, month, 1)
            end = (dt.date(year + month // 12, month % 12 + 1, 1)) - dt.timedelta(days=1)
            rows.append((f"{year}-{month:02d}", f"{year}年{month}月", start, end))
    else:
        for quarter in range(4):
            start = dt.date(year, 3 * quarter + 1, 1)
            end = dt.date(year + (quarter == 3), (3 * quarter + 3) % 12 + 1, 1)
            rows.append((f"{year}Q{quarter + 1}", f"{year}年第{_QUARTER_NAMES[quarter]}季度",
                         start, end - dt.timedelta(days=1)))  # fmt: skip
    return rows


def _cycle_dict(cycle: ReportingCycle) -> dict[str, object]:
    return {"frequency": cycle.frequency, "due_days": cycle.due_days,
            "remind_days": cycle.remind_days, "close_remind_days": cycle.close_remind_days}  # fmt: skip


def cycle_of(session: Session, plan: Plan) -> ReportingCycle | None:
    return session.get(ReportingCycle, plan.id)


def configure_cycle(
    session: Session,
    plan: Plan,
    *,
    frequency: str = "monthly",
    due_days: int = DEFAULT_DUE_DAYS,
    remind_days: int = DEFAULT_REMIND_DAYS,
    close_remind_days: int = DEFAULT_CLOSE_REMIND_DAYS,
    actor: str,
) -> ReportingCycle:
    """Set the plan's cycle and create its periods; the frequency is fixed once reports exist."""
    if frequency not in FREQUENCIES:
        raise ValidationError(f"填报周期只能是 {'/'.join(FREQUENCIES)}")
    if not 0 <= due_days <= 60 or not 0 <= remind_days <= 30 or not 0 <= close_remind_days <= 90:
        raise ValidationError("截止天数须在 0–60 之间,填报提醒 0–30 天,办结提醒 0–90 天")
    year = plan.year or dt.date.today().year
    cycle = cycle_of(session, plan)
    before = None
    if cycle is not None:
        before = _cycle_dict(cycle)
        has_reports = session.scalar(
            select(Report.id).join(Period).where(Period.plan_id == plan.id).limit(1)
        )
        if has_reports and cycle.frequency != frequency:
            raise ConflictError("已有填报记录,不能再更改填报周期")
    else:
        cycle = ReportingCycle(plan_id=plan.id)
        session.add(cycle)
    cycle.frequency, cycle.due_days, cycle.remind_days = frequency, due_days, remind_days
    cycle.close_remind_days = close_remind_days
    existing = {p.key: p for p in periods(session, plan)}
    wanted = _period_bounds(year, frequency)
    for key in set(existing) - {row[0] for row in wanted}:
        session.delete(existing[key])
    for key, label, start, end in wanted:
        period = existing.get(key) or Period(plan_id=plan.id, key=key)
        period.label, period.starts, period.ends = label, start, end
        period.report_due = end + dt.timedelta(days=due_days)
        session.add(period)
    session.flush()
    audit.record(session, actor=actor, action="cycle.configure", entity_type="plan",
                 entity_id=plan.id, before=before, after=_cycle_dict(cycle))  # fmt: skip
    return cycle


def periods(session: Session, plan: Plan) -> list[Period]:
    query = select(Period).where(Period.plan_id == plan.id).order_by(Period.starts)
    return list(session.scalars(query))


def latest_due_period(all_periods: list[Period], today: dt.date) -> Period | None:
    """The most recent period that has ended: the one whose report is due now or overdue."""
    ended = [p for p in all_periods if p.ends < today]
    return ended[-1] if ended else None
