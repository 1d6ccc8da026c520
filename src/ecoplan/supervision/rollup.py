"""Roll-ups: target progress across units and reporting trend across periods.

Target progress. Each report gives, per quantitative target of its measure, the value reached
so far (cumulative). The roll-up rule, shown beside every figure in the UI:
- a target counted in things or area (处, 份, 公顷, ...) is the **sum** over reporting units of
  each unit's latest filed value; when no unit has filed, the lead unit's summary is used;
- a target that is a rate (%, ‰) cannot be summed: it is the lead unit's latest city-wide
  summary (汇总) value, or the single reporting unit's value when only one unit reports.
Only submitted or accepted reports count; drafts and returned reports do not.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ecoplan.plans.models import Measure, Plan
from ecoplan.supervision.access import share_unit_ids
from ecoplan.supervision.models import FILED_STATES, Period, Report

NON_ADDITIVE_UNITS = frozenset({"%", "‰"})


@dataclass
class TargetProgress:
    measure: Measure
    index: int
    indicator: str
    unit: str
    target: float
    comparator: str
    value: float | None
    rule: str
    units_reporting: int

    @property
    def percent(self) -> float | None:
        """Share of the target reached (for ≥ targets), capped at 100 for bars."""
        if self.value is None or not self.target:
            return None
        return min(100.0, 100.0 * self.value / self.target)


def _latest_values(
    session: Session, measures: list[Measure], upto: Period | None
) -> dict[tuple[int, int, str], dict[str, float]]:
    """(measure id, unit id, role) → latest filed progress values, key by key."""
    if not measures:
        return {}
    query = (
        select(Report.measure_id, Report.unit_id, Report.role, Report.progress)
        .join(Period, Report.period_id == Period.id)
        .where(Report.measure_id.in_([m.id for m in measures if m.targets]))
        .where(Report.state.in_(FILED_STATES))
        .order_by(Period.starts)
    )
    if upto is not None:
        query = query.where(Period.starts <= upto.starts)
    latest: dict[tuple[int, int, str], dict[str, float]] = defaultdict(dict)
    for measure_id, unit_id, role, progress in session.execute(query):
        latest[(measure_id, unit_id, role)].update(progress or {})
    return latest


def target_progress(
    session: Session, measures: list[Measure], upto: Period | None = None
) -> list[TargetProgress]:
    latest = _latest_values(session, measures, upto)
    rows = []
    for measure in measures:
        shares = share_unit_ids(measure)
        for index, target in enumerate(measure.targets or []):
            key = str(index)
            share_values = [
                v[key]
                for (mid, uid, role), v in latest.items()
                if mid == measure.id and role == "responsible" and uid in shares and key in v
            ]
            lead_values = [
                v[key]
                for (mid, _uid, role), v in latest.items()
                if mid == measure.id and role == "lead" and key in v
            ]
            value: float | None
            if target["unit"] in NON_ADDITIVE_UNITS:
                rule = "比率指标不可加总:取牵头单位汇总值,仅一个填报单位时取其值"
                if lead_values:
                    value = lead_values[-1]
                elif len(shares) == 1 and share_values:
                    value = share_values[0]
                else:
                    value = None
            else:
                rule = "各填报单位最新累计值之和(无单位填报时取牵头单位汇总值)"
                value = (
                    sum(share_values)
                    if share_values
                    else (lead_values[-1] if lead_values else None)
                )
            rows.append(TargetProgress(measure, index, target["indicator"], target["unit"],
                                       float(target["value"]), target.get("comparator", ">="),
                                       value, rule, len(share_values)))  # fmt: skip
    return rows


def reporting_trend(session: Session, plan: Plan, upto: Period | None) -> list[dict[str, Any]]:
    """Per period: reports filed, filed on time, accepted, returned at least once, 滞后."""
    if upto is None:
        return []
    on_time = case((Report.submitted_at.is_not(None), 1), else_=0)
    query = (
        select(
            Period.key,
            Period.label,
            Period.report_due,
            func.count(Report.id),
            func.sum(case((Report.state.in_(FILED_STATES), 1), else_=0)),
            func.sum(case((Report.state == "accepted", 1), else_=0)),
            func.sum(case((Report.times_returned > 0, 1), else_=0)),
            func.sum(case((Report.status == "late", 1), else_=0)),
            func.sum(on_time),
        )
        .join(Report, Report.period_id == Period.id, isouter=True)
        .where(Period.plan_id == plan.id, Period.starts <= upto.starts)
        .where((Report.role == "responsible") | Report.id.is_(None))
        .group_by(Period.key, Period.label, Period.report_due, Period.starts)
        .order_by(Period.starts)
    )
    return [
        {
            "key": key,
            "label": label,
            "due": due,
            "reports": int(n or 0),
            "filed": int(f or 0),
            "accepted": int(a or 0),
            "returned": int(r or 0),
            "late": int(late or 0),
        }  # fmt: skip
        for key, label, due, n, f, a, r, late, _ in session.execute(query)
    ]
