"""The supervision board: every share of every measure with its traffic light, as of a date.

Traffic lights (亮灯), per share (measure × reporting unit):
- green 绿: closed (已办结), or the latest due report is in and nothing is near a deadline;
- yellow 黄: a report or completion deadline is within the reminder window and not met, the
  last report was returned (退回) and not yet refiled, or the unit reports 滞后;
- red 红: the report for the latest ended period is missing after its deadline, or the
  completion deadline (年底前) has passed without 办结销号.
A measure's light is the worst of its shares'; a unit's is the worst of its shares'.

The board is built with a fixed number of queries per plan (measures, periods, reports of
two periods, closures, open orders), so the pages stay fast as data grows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoplan.plans.models import Measure, Plan
from ecoplan.supervision import periods as periods_mod
from ecoplan.supervision.access import share_unit_ids
from ecoplan.supervision.models import Closure, Period, Report, ReportingCycle, SupervisionOrder
from ecoplan.units.models import Unit

LIGHTS = {"green": "绿", "yellow": "黄", "red": "红"}
_RANK = {"green": 0, "yellow": 1, "red": 2}


def worst(lights: list[str]) -> str:
    return max(lights, key=_RANK.__getitem__, default="green")


@dataclass
class Share:
    measure: Measure
    unit: Unit
    report: Report | None  # for the latest due period
    closure: Closure | None
    open_orders: int
    light: str = "green"
    reasons: list[str] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.closure is not None and self.closure.state == "closed"

    @property
    def filed(self) -> bool:
        """The report for the latest due period is in."""
        return self.report is not None and self.report.filed


@dataclass
class Board:
    plan: Plan
    today: dt.date
    cycle: ReportingCycle | None
    due_period: Period | None
    measures: list[Measure]
    units: dict[int, Unit]
    shares: list[Share]
    _by_measure: dict[int, list[Share]] | None = field(default=None, repr=False)

    @property
    def remind_days(self) -> int:
        return self.cycle.remind_days if self.cycle else periods_mod.DEFAULT_REMIND_DAYS

    @property
    def close_remind_days(self) -> int:
        return self.cycle.close_remind_days if self.cycle else periods_mod.DEFAULT_CLOSE_REMIND_DAYS

    def shares_of(self, measure: Measure) -> list[Share]:
        return self.by_measure().get(measure.id, [])

    def measure_light(self, measure: Measure) -> str:
        return worst([s.light for s in self.shares_of(measure)])

    def by_measure(self) -> dict[int, list[Share]]:
        # Computed once per board (pages ask per measure); the board is not changed after
        # build_board except by queries.board_for, which filters before anyone asks.
        if self._by_measure is None:
            grouped: dict[int, list[Share]] = defaultdict(list)
            for share in self.shares:
                grouped[share.measure.id].append(share)
            self._by_measure = dict(grouped)
        return self._by_measure

    def by_unit(self) -> dict[int, list[Share]]:
        grouped: dict[int, list[Share]] = defaultdict(list)
        for share in self.shares:
            grouped[share.unit.id].append(share)
        return grouped


def _judge(share: Share, board: Board) -> None:
    """Set the share's light and the reasons a person reads next to it."""
    if share.closed:
        share.light, share.reasons = "green", ["已办结销号"]
        return
    reasons: list[tuple[str, str]] = []
    today, period = board.today, board.due_period
    remind, close_remind = board.remind_days, board.close_remind_days
    report = share.report
    if period is not None:
        filed = share.filed
        if not filed and today > period.report_due:
            reasons.append(("red", f"{period.label}报告逾期未报(截止 {period.report_due})"))
        elif report is not None and report.state == "returned":
            reasons.append(("yellow", f"{period.label}报告被退回,待修改"))
        elif not filed and (period.report_due - today).days <= remind:
            reasons.append(("yellow", f"{period.label}报告 {period.report_due} 截止,尚未提交"))
        if report is not None and report.status == "late" and filed:
            reasons.append(("yellow", "单位报告进度滞后"))
    due = share.measure.due
    if due is not None:
        if today > due:
            reasons.append(("red", f"完成时限 {due} 已过,尚未办结"))
        elif (due - today).days <= close_remind:
            reasons.append(("yellow", f"完成时限 {due} 临近"))
    if share.open_orders:
        reasons.append(("red", f"有 {share.open_orders} 张未办结的督办单"))
    share.light = worst([light for light, _ in reasons])
    share.reasons = [text for _, text in reasons]


def build_board(
    session: Session, plan: Plan, today: dt.date, measure_ids: set[int] | None = None
) -> Board:
    """The board for a plan (optionally only some measures) as of ``today``."""
    query = (
        select(Measure)
        .where(Measure.plan_id == plan.id, Measure.removed.is_(False))
        .options(selectinload(Measure.assignments))
        .order_by(Measure.position)
    )
    measures = [m for m in session.scalars(query) if measure_ids is None or m.id in measure_ids]
    all_periods = periods_mod.periods(session, plan)
    due_period = periods_mod.latest_due_period(all_periods, today)
    ids = [m.id for m in measures]
    reports: dict[tuple[int, int], Report] = {}
    if due_period is not None and ids:
        rows = session.scalars(
            select(Report).where(Report.period_id == due_period.id, Report.measure_id.in_(ids))
        )
        reports = {(r.measure_id, r.unit_id): r for r in rows}
    closures = {
        (c.measure_id, c.unit_id): c
        for c in session.scalars(select(Closure).where(Closure.measure_id.in_(ids)))
    }
    orders: dict[tuple[int, int], int] = defaultdict(int)
    open_orders = select(SupervisionOrder).where(
        SupervisionOrder.measure_id.in_(ids), SupervisionOrder.resolved_on.is_(None)
    )
    for order in session.scalars(open_orders):
        orders[(order.measure_id, order.unit_id)] += 1
    units = {u.id: u for u in session.scalars(select(Unit))}
    board = Board(plan, today, periods_mod.cycle_of(session, plan), due_period, measures, units, [])
    for measure in measures:
        for unit_id in share_unit_ids(measure):
            share = Share(
                measure=measure,
                unit=units[unit_id],
                report=reports.get((measure.id, unit_id)),
                closure=closures.get((measure.id, unit_id)),
                open_orders=orders[(measure.id, unit_id)],
            )
            _judge(share, board)
            board.shares.append(share)
    return board
