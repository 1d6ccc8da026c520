"""Unit scoring (考评) from the supervision record, with weights from ``data/scoring.toml``.

score = 100 × (w_on_time × on-time rate + w_first_pass × first-pass rate + w_closed × closed
rate) − per_order × orders, clipped to [0, 100]. A rate with nothing to measure yet (no report
due, nothing reviewed, no deadline passed) counts as 1: a unit is not marked down for what
was not yet asked of it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan.supervision.board import Board
from ecoplan.supervision.models import Period, Report, SupervisionOrder


@lru_cache(maxsize=1)
def scoring_rules() -> dict[str, Any]:
    text = resources.files("ecoplan.supervision").joinpath("data/scoring.toml").read_text("utf-8")
    return tomllib.loads(text)


@dataclass
class UnitScore:
    unit_id: int
    unit_name: str
    shares: int
    due_reports: int
    on_time: int
    reviewed: int
    first_pass: int
    closable: int
    closed: int
    orders: int
    score: float


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def unit_scores(session: Session, board: Board) -> list[UnitScore]:
    rules = scoring_rules()
    weights, penalty = rules["weights"], rules["penalty"]["per_order"]
    today = board.today
    ids = [m.id for m in board.measures]
    due_periods = int(session.scalar(select(func.count()).select_from(Period).where(
        Period.plan_id == board.plan.id, Period.report_due < today)) or 0)  # fmt: skip
    deadline = select(Period.report_due).where(Period.id == Report.period_id).scalar_subquery()
    stats = session.execute(
        select(
            Report.unit_id,
            func.count().filter(Report.submitted_at.is_not(None), deadline < today,
                                func.date(Report.submitted_at) <= deadline),
            func.count().filter(Report.state.in_(("accepted", "returned")) | (Report.times_returned > 0)),
            func.count().filter(Report.state == "accepted", Report.times_returned == 0),
        )
        .where(Report.measure_id.in_(ids), Report.role == "responsible")
        .group_by(Report.unit_id)
    ).all()  # fmt: skip
    per_unit = {row[0]: row[1:] for row in stats}
    orders = {row[0]: row[1] for row in session.execute(
        select(SupervisionOrder.unit_id, func.count())
        .where(SupervisionOrder.measure_id.in_(ids)).group_by(SupervisionOrder.unit_id)
    )}  # fmt: skip
    result = []
    for unit_id, shares in board.by_unit().items():
        on_time, reviewed, first_pass = per_unit.get(unit_id, (0, 0, 0))
        due_reports = due_periods * len(shares)
        closable = [s for s in shares if s.measure.due is not None and s.measure.due < today]
        closed = sum(1 for s in closable if s.closed)
        n_orders = int(orders.get(unit_id, 0))
        raw = (
            100
            * (
                weights["on_time"] * _rate(min(on_time, due_reports), due_reports)
                + weights["first_pass"] * _rate(first_pass, reviewed)
                + weights["closed"] * _rate(closed, len(closable))
            )
            - penalty * n_orders
        )
        result.append(UnitScore(unit_id, shares[0].unit.name, len(shares), due_reports, on_time,
                                reviewed, first_pass, len(closable), closed, n_orders,
                                round(max(0.0, min(100.0, raw)), 1)))  # fmt: skip
    return sorted(result, key=lambda s: (-s.score, s.unit_name))
