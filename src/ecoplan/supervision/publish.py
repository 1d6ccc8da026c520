"""Public disclosure: the coordinator publishes a snapshot of a measure; the public view shows
the latest snapshot of each published measure and nothing else (no drafts, no unit reports,
no evidence, no names of people).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import today
from ecoplan.plans.models import Measure, Plan
from ecoplan.supervision import access
from ecoplan.supervision.board import Board, build_board
from ecoplan.supervision.models import Publication
from ecoplan.supervision.rollup import target_progress

PUBLIC_LIGHT_TEXT = {"green": "正常推进", "yellow": "需关注", "red": "滞后"}


def public_content(
    session: Session, board: Board, measure: Measure, summary: str
) -> dict[str, Any]:
    shares = board.shares_of(measure)
    targets = target_progress(session, [measure], board.due_period)
    return {
        "uid": measure.uid,
        "doc_id": measure.doc_id,
        "task": f"{measure.task_number or ''} {measure.task_title or ''}".strip(),
        "text": measure.text,
        "deadline": measure.deadline_raw,
        "units": sorted({a.written for a in measure.assignments if a.role == "lead"}),
        "shares": len(shares),
        "closed": sum(1 for s in shares if s.closed),
        "light": board.measure_light(measure),
        "light_text": PUBLIC_LIGHT_TEXT[board.measure_light(measure)],
        "targets": [
            {"indicator": t.indicator, "unit": t.unit, "target": t.target, "value": t.value}
            for t in targets
        ],  # fmt: skip
        "summary": summary.strip(),
        "as_of": board.today.isoformat(),
    }


def publish(session: Session, account: Account, measure: Measure, summary: str) -> Publication:
    access.require(access.is_coordinator(account), "发布公开信息")
    board = build_board(session, measure.plan, today(), {measure.id})  # this measure only
    content = public_content(session, board, measure, summary)
    item = Publication(measure_id=measure.id, content=content, published_by=account.actor)
    session.add(item)
    session.flush()
    audit.record(session, actor=account.actor, action="measure.publish", entity_type="measure",
                 entity_id=measure.id, after=content)  # fmt: skip
    return item


def published(session: Session, plan: Plan) -> list[Publication]:
    """The latest publication of each published measure of the plan, in plan order."""
    latest = (
        select(func.max(Publication.id))
        .join(Measure, Measure.id == Publication.measure_id)
        .where(Measure.plan_id == plan.id)
        .group_by(Publication.measure_id)
    )
    rows = session.scalars(select(Publication).where(Publication.id.in_(latest)))
    return sorted(rows, key=lambda p: p.content.get("uid", ""))
