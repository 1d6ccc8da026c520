"""办结销号: the reporting unit asks to close its share, the coordinator approves or rejects,
and a closed share can be reopened with a reason. A measure is closed when all its shares are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.db import check_version, flush_versioned, utcnow
from ecoplan.errors import ConflictError, NotFoundError, ValidationError
from ecoplan.plans.models import Measure
from ecoplan.supervision import access
from ecoplan.supervision.models import Closure

HANDLED_BY_OTHERS = "该办结申请已被他人处理,请刷新页面"


def _snapshot(closure: Closure) -> dict[str, Any]:
    return {"state": closure.state, "request_note": closure.request_note,
            "decision_note": closure.decision_note}  # fmt: skip


def closure_for(session: Session, measure: Measure, unit_id: int) -> Closure | None:
    query = select(Closure).where(Closure.measure_id == measure.id, Closure.unit_id == unit_id)
    return session.scalar(query)


def get_closure(session: Session, closure_id: int) -> Closure:
    closure = session.get(Closure, closure_id)
    if closure is None:
        raise NotFoundError(f"办结申请 {closure_id} 不存在")
    return closure


def _save(session: Session, closure: Closure, account: Account, action: str,
          before: dict[str, Any] | None) -> Closure:  # fmt: skip
    closure.updated_by = account.actor
    flush_versioned(session, HANDLED_BY_OTHERS)
    audit.record(session, actor=account.actor, action=action, entity_type="closure",
                 entity_id=closure.id, before=before, after=_snapshot(closure),
                 context={"measure_id": closure.measure_id, "unit_id": closure.unit_id})  # fmt: skip
    return closure


def request_closure(session: Session, account: Account, measure: Measure, note: str) -> Closure:
    allowed = access.report_role(account, measure) == "responsible"
    access.require(allowed, f"申请措施 {measure.doc_id} 办结")
    assert account.unit_id is not None
    if not note.strip():
        raise ValidationError("申请办结须说明完成情况")
    closure = closure_for(session, measure, account.unit_id)
    before = _snapshot(closure) if closure else None
    if closure is None:
        closure = Closure(measure_id=measure.id, unit_id=account.unit_id, state="open", version=1)
        session.add(closure)
    elif closure.state != "open":
        raise ConflictError("该事项已申请办结或已办结")
    closure.state, closure.request_note, closure.requested_at = "requested", note.strip(), utcnow()
    closure.decision_note = None
    return _save(session, closure, account, "closure.request", before)


def decide_closure(session: Session, account: Account, closure: Closure, *, approve: bool,
                   note: str = "", expected_version: int | None = None) -> Closure:  # fmt: skip
    access.require(access.is_coordinator(account), "审批办结销号")
    check_version(closure, expected_version, HANDLED_BY_OTHERS)
    if closure.state != "requested":
        raise ConflictError("只有已申请办结的事项可以审批")
    if not approve and not note.strip():
        raise ValidationError("驳回办结申请必须填写理由")
    before = _snapshot(closure)
    closure.state = "closed" if approve else "open"
    closure.decision_note = note.strip() or None
    closure.closed_at = utcnow() if approve else None
    return _save(session, closure, account, "closure.approve" if approve else "closure.reject",
                 before)  # fmt: skip


def reopen_closure(session: Session, account: Account, closure: Closure, reason: str) -> Closure:
    access.require(access.is_coordinator(account), "重新打开已办结事项")
    if closure.state != "closed":
        raise ConflictError("只有已办结的事项可以重新打开")
    if not reason.strip():
        raise ValidationError("重新打开必须填写理由")
    before = _snapshot(closure)
    closure.state, closure.decision_note, closure.closed_at = "open", reason.strip(), None
    return _save(session, closure, account, "closure.reopen", before)
