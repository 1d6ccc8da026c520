"""Lookups shared by the API and the pages, with the access rules applied."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.config import today
from ecoplan.errors import NotFoundError
from ecoplan.plans.models import Measure, MeasureUnit, Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.supervision import access
from ecoplan.supervision.board import Board, build_board
from ecoplan.supervision.models import Notification, Period, Report
from ecoplan.supervision.reports import get_report


def plans(session: Session) -> list[Plan]:
    return list(session.scalars(select(Plan).order_by(Plan.id.desc())))


def plan_or_latest(session: Session, plan_id: int | None) -> Plan:
    plan = session.get(Plan, plan_id) if plan_id else session.scalar(
        select(Plan).order_by(Plan.id.desc()).limit(1))  # fmt: skip
    if plan is None:
        raise NotFoundError("没有找到计划,请先导入计划(ecoplan plan import)")
    return plan


def visible_measure_ids(session: Session, account: Account, plan: Plan) -> set[int] | None:
    """None means every measure; a unit user gets the measures its unit is named in."""
    if account.role in access.READ_ALL_ROLES:
        return None
    query = (
        select(MeasureUnit.measure_id)
        .join(Measure, Measure.id == MeasureUnit.measure_id)
        .where(Measure.plan_id == plan.id, MeasureUnit.unit_id == account.unit_id)
    )
    return set(session.scalars(query))


def board_for(session: Session, account: Account, plan: Plan,
              only: set[int] | None = None) -> Board:  # fmt: skip
    """The board limited to what the account may see (a district: its own shares), and to
    the measures in ``only`` when given (a measure page needs just its own)."""
    visible = visible_measure_ids(session, account, plan)
    if only is not None:
        visible = only if visible is None else visible & only
    board = build_board(session, plan, today(), visible)
    if account.role == "unit":
        board.shares = [s for s in board.shares
                        if access.can_view_all_shares(account, s.measure) or s.unit.id == account.unit_id]  # fmt: skip
    return board


def _visible(account: Account, measure: Measure) -> Measure:
    access.require(access.can_view_measure(account, measure), f"查看措施 {measure.doc_id}")
    return measure


def measure_for(session: Session, account: Account, measure_id: int) -> Measure:
    measure = session.get(Measure, measure_id)
    if measure is None or measure.removed:
        raise NotFoundError(f"措施 {measure_id} 不存在")
    return _visible(account, measure)


def measure_by_uid_for(session: Session, account: Account, plan: Plan, uid: str) -> Measure:
    return _visible(account, measure_by_uid(session, plan, uid))


def period_by_key(session: Session, plan: Plan, key: str) -> Period:
    period = session.scalar(select(Period).where(Period.plan_id == plan.id, Period.key == key))
    if period is None:
        raise NotFoundError(f"填报周期 {key} 不存在")
    return period


def reports_for(session: Session, account: Account, measure: Measure,
                period: Period | None = None) -> list[Report]:  # fmt: skip
    query = select(Report).where(Report.measure_id == measure.id)
    if period is not None:
        query = query.where(Report.period_id == period.id)
    rows = session.scalars(query.order_by(Report.period_id.desc(), Report.unit_id))
    return [r for r in rows if access.can_view_report(account, r)]


def report_for(session: Session, account: Account, report_id: int) -> Report:
    report = get_report(session, report_id)
    access.require(access.can_view_report(account, report), "查看该报告")
    return report


def notifications_for(session: Session, account: Account, limit: int) -> list[Notification]:
    """Newest first; a unit user gets its own unit's, readers get all."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if account.role == "unit":
        query = query.where(Notification.unit_id == account.unit_id)
    return list(session.scalars(query))
