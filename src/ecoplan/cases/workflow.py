"""The clue workflow: 待核实 → 核实中 → 属实 / 不属实 → 整改中 → 待验收 → 已销号.

Who acts (the matrix in ``docs/cases.md``; ``tests/cases/test_workflow.py`` checks every cell):
- the clue's **district** (a unit account of the district government it lies in) verifies it,
  files the rectification plan and reports the rectification done;
- the **verifying unit** of the clue's kind (``clue_rules.toml``: 市规划自然资源委 for red-line
  and mining clues, 市生态环境局 for reserve and ecological-land clues, …) accepts or returns
  the work, confirms a 不属实 finding, and alone closes (销号) a clue;
- a reopening (回头看, 复核不合格) is done by the verifying unit or the coordinator;
- the coordinator or the verifying unit may hand a clue to another district (wrong placement).
Everyone else reads: admin, coordinator and leaders all clues; a unit its own and those it
verifies.

Each step needs what a real file needs: a reason where a decision is taken, on-site photos with
their EXIF position where the district reports what it saw, a plan with a responsible party,
measures and a date before rectification starts. Each step sets the new state's deadline,
writes a ClueEvent and an audit entry, all in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.cases.models import CLUE_STATES, Clue, ClueEvent
from ecoplan.cases.rules import ClueRules, load_rules
from ecoplan.db import check_version, flush_versioned, utcnow
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError
from ecoplan.units.models import Unit

Who = Literal["district", "verifier", "verifier_or_coordinator"]
READ_ALL = frozenset({"admin", "coordinator", "leader"})
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Action:
    label: str
    targets: dict[str, str]  # from state -> to state
    who: Who
    needs_reason: bool = False
    needs_photo: bool = False
    needs_plan: bool = False


ACTIONS: dict[str, Action] = {
    "start": Action("开始核实", {"pending": "verifying"}, "district"),
    "confirm": Action("核实属实", {"verifying": "confirmed"}, "district", True, True),
    "reject": Action("核实不属实", {"verifying": "rejected"}, "district", True, True),
    "plan": Action("提交整改方案", {"confirmed": "rectifying"}, "district", needs_plan=True),
    "submit": Action("整改完成,申请验收", {"rectifying": "accepting"}, "district", True, True),
    "close": Action(
        "验收通过,销号", {"accepting": "closed", "rejected": "closed"}, "verifier", True
    ),
    "return": Action(
        "退回", {"accepting": "rectifying", "rejected": "verifying"}, "verifier", True
    ),
    "reopen": Action("重新核查(回头看)", {"closed": "verifying"}, "verifier_or_coordinator", True),
}


@dataclass
class PhotoUpload:
    data: bytes
    name: str


@dataclass
class RectificationPlan:
    responsible: str  # 责任主体
    measures: str  # 退出/拆除/生态修复/补办手续 …
    deadline: dt.date

    def as_json(self) -> dict[str, str]:
        return {"responsible": self.responsible, "measures": self.measures,
                "deadline": self.deadline.isoformat()}  # fmt: skip


@dataclass
class StepResult:
    clue: Clue
    event: ClueEvent
    flags: list[str] = field(default_factory=list)  # photo flags raised in this step


def can_view(account: Account, clue: Clue) -> bool:
    if account.role in READ_ALL:
        return True
    return (
        account.role == "unit"
        and account.unit_id is not None
        and (account.unit_id in (clue.unit_id, clue.verifier_unit_id))
    )


def visible(query: Q, account: Account) -> Q:
    """Restrict a query over Clue to what the account may read."""
    if account.role in READ_ALL:
        return query
    if account.role != "unit" or account.unit_id is None:
        return query.where(Clue.id.is_(None))
    return query.where(
        or_(Clue.unit_id == account.unit_id, Clue.verifier_unit_id == account.unit_id)
    )


def may_act(account: Account, clue: Clue, who: Who) -> bool:
    unit = account.unit_id if account.role == "unit" else None
    if who == "district":
        return unit is not None and unit == clue.unit_id
    if who == "verifier":
        return unit is not None and unit == clue.verifier_unit_id
    return account.role == "coordinator" or (unit is not None and unit == clue.verifier_unit_id)


def actions_for(account: Account, clue: Clue) -> list[str]:
    """The actions this account may take on the clue now (drives the buttons on the page)."""
    return [key for key, a in ACTIONS.items()
            if clue.state in a.targets and may_act(account, clue, a.who)]  # fmt: skip


def get_clue(session: Session, account: Account, clue_id: int) -> Clue:
    clue = session.get(Clue, clue_id)
    if clue is None or not can_view(account, clue):
        raise NotFoundError(f"线索 {clue_id} 不存在或无权查看")
    return clue


def deadline(
    rules: ClueRules, state: str, today: dt.date, plan: dict[str, Any] | None
) -> dt.date | None:
    """The date by which a clue in ``state`` must move on (None once closed)."""
    days = rules.deadline_days.get(state)
    if state == "closed" or days is None:
        return None
    if days == "plan":
        return dt.date.fromisoformat(plan["deadline"]) if plan and plan.get("deadline") else None
    return today + dt.timedelta(days=int(days))


def step(
    session: Session,
    account: Account,
    clue_id: int,
    action: str,
    *,
    reason: str = "",
    plan: RectificationPlan | None = None,
    photos: Sequence[PhotoUpload] = (),
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> StepResult:
    """Take one workflow step; raises (and changes nothing) when it is not allowed."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationError(f"未知的操作“{action}”")
    clue = get_clue(session, account, clue_id)
    check_version(clue, expected_version, "线索已被他人更新,请刷新后重试")
    if clue.state not in spec.targets:
        raise ValidationError(
            f"线索 {clue.code} 当前为“{CLUE_STATES[clue.state]}”,不能执行“{spec.label}”"
        )
    if not may_act(account, clue, spec.who):
        raise PermissionDenied(f"无权对线索 {clue.code} 执行“{spec.label}”")
    reason = reason.strip()
    if spec.needs_reason and not reason:
        raise ValidationError(f"“{spec.label}”须填写理由或情况说明")
    if spec.needs_photo and not photos:
        raise ValidationError(f"“{spec.label}”须上传带拍摄位置的现场照片")
    if spec.needs_plan:
        _check_plan(plan, today or utcnow().date())
    rules = load_rules()
    today = today or utcnow().date()
    before = {"state": clue.state, "due_on": clue.due_on.isoformat() if clue.due_on else None,
              "unit_id": clue.unit_id}  # fmt: skip
    from ecoplan.cases.fieldphotos import attach_photos  # the photo checks live there

    taken = attach_photos(session, clue, photos, actor=account.actor, rules=rules)
    target = spec.targets[clue.state]
    if plan is not None:
        clue.plan = plan.as_json()
    clue.state = target
    clue.state_since = utcnow()
    clue.due_on = deadline(rules, target, today, clue.plan)
    clue.closed_at = utcnow() if target == "closed" else None
    flags = sorted({f for p in taken for f in p.flags})
    event = ClueEvent(action=action, from_state=before["state"], to_state=target, actor=account.actor,
                      unit_id=account.unit_id, reason=reason,
                      data={"photos": [p.sha256 for p in taken], "flags": flags,
                            **({"plan": clue.plan} if plan else {})})  # fmt: skip
    clue.events.append(event)
    flush_versioned(session, "线索已被他人更新,请刷新后重试")
    audit.record(session, actor=account.actor, action=f"clue.{action}", entity_type="clue", entity_id=clue.id,
                 before=before, after={"state": target, "due_on": clue.due_on.isoformat() if clue.due_on else None,
                                       "reason": reason, "photos": len(taken), "flags": flags})  # fmt: skip
    return StepResult(clue, event, flags)


def _check_plan(plan: RectificationPlan | None, today: dt.date) -> None:
    if plan is None:
        raise ValidationError("须提交整改方案(责任主体、整改措施、完成时限)")
    missing = [
        n for n, v in (("责任主体", plan.responsible), ("整改措施", plan.measures)) if not v.strip()
    ]
    if missing:
        raise ValidationError(f"整改方案缺少{'、'.join(missing)}")
    if plan.deadline <= today:
        raise ValidationError("整改完成时限须晚于今天")


def reassign(
    session: Session, account: Account, clue_id: int, unit_code: str, *, reason: str
) -> Clue:
    """Hand the clue to another district government (its placement was wrong)."""
    clue = get_clue(session, account, clue_id)
    if not may_act(account, clue, "verifier_or_coordinator"):
        raise PermissionDenied(f"无权改派线索 {clue.code}")
    if not reason.strip():
        raise ValidationError("改派须填写理由")
    if clue.state == "closed":
        raise ValidationError("已销号的线索不能改派")
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or unit.kind not in ("district_gov", "econ_zone"):
        raise ValidationError(f"“{unit_code}”不是区政府或经开区管委会")
    before = {"unit_id": clue.unit_id}
    clue.unit_id = unit.id
    clue.events.append(ClueEvent(action="reassign", from_state=clue.state, to_state=clue.state,
                                 actor=account.actor, unit_id=account.unit_id, reason=reason.strip(),
                                 data={"from_unit_id": before["unit_id"], "to_unit_id": unit.id}))  # fmt: skip
    flush_versioned(session, "线索已被他人更新,请刷新后重试")
    audit.record(session, actor=account.actor, action="clue.reassign", entity_type="clue", entity_id=clue.id,
                 before=before, after={"unit_id": unit.id, "reason": reason.strip()})  # fmt: skip
    return clue
