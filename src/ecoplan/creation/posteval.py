"""Post-evaluation after creation (示范创建后评估, measure 13.3) as a small state machine.

    draft ─submit→ submitted ─review→ reviewed ─close (rectification 已整改)→ closed
      ↑                 │
      └───── returned ←─return (with a reason); returned ─submit→ submitted

Who acts: the **district** (a district government's account, its own district) creates the
record for a year and programme, edits it while it is a draft or returned, submits it, and
after the review keeps the rectification state (整改情况) current; the **lead unit** of task 13
(市生态环境局, ``lead_unit`` in ``creation.toml``) reviews, returns and closes. Admin,
coordinator and leaders read every record and act on none (as with other lead-unit reviews).

Every step checks the expected version, writes an audit entry (the page shows the record's
history from the audit log) and runs in the caller's transaction; a refused step changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.config import today as clock
from ecoplan.creation import access
from ecoplan.creation.models import PostEvaluation
from ecoplan.creation.titles import program_of
from ecoplan.db import check_version, flush_versioned
from ecoplan.errors import NotFoundError, PermissionDenied, ValidationError

STATES = {"draft": "草稿", "submitted": "已提交", "returned": "退回修改", "reviewed": "已审核",
          "closed": "已办结"}  # fmt: skip
RECTIFICATION = ("未整改", "整改中", "已整改")
EDITABLE = frozenset({"draft", "returned"})
STALE = "后评估记录已被他人更新,请刷新后重试"
FIELDS = {"problems": "发现的问题", "measures": "对策措施", "cases": "典型案例"}


@dataclass(frozen=True)
class Action:
    label: str
    targets: dict[str, str]
    by_lead: bool  # else by the district
    needs_note: bool = False


ACTIONS: dict[str, Action] = {
    "submit": Action("提交审核", {"draft": "submitted", "returned": "submitted"}, False),
    "return": Action("退回修改", {"submitted": "returned"}, True, needs_note=True),
    "review": Action("审核通过", {"submitted": "reviewed"}, True),
    "close": Action("办结", {"reviewed": "closed"}, True),
}


def _snapshot(p: PostEvaluation) -> dict[str, Any]:
    return {"district": p.district_code, "year": p.year, "program": p.program,
            "problems": p.problems, "measures": p.measures, "cases": p.cases,
            "rectification": p.rectification, "state": p.state, "review_note": p.review_note}  # fmt: skip


def get(session: Session, account: Account, record_id: int) -> PostEvaluation:
    row = session.get(PostEvaluation, record_id)
    if row is None or not access.may_view(session, account, row.district_code):
        raise NotFoundError(f"后评估记录 {record_id} 不存在")
    return row


def _texts(problems: str, measures: str, cases: str) -> dict[str, str]:
    out = {"problems": problems.strip(), "measures": measures.strip(), "cases": cases.strip()}
    for key, text in out.items():
        if len(text) > 20_000:
            raise ValidationError(f"{FIELDS[key]}超过 20000 字")
    return out


def _rectification(text: str) -> str:
    if text not in RECTIFICATION:
        raise ValidationError(f"整改情况“{text}”无效(可选: {'、'.join(RECTIFICATION)})")
    return text


def create(session: Session, account: Account, *, district: str, year: int, program: str,
           problems: str = "", measures: str = "", cases: str = "",
           rectification: str = "未整改", actor: str | None = None,
           is_demo: bool = False) -> PostEvaluation:  # fmt: skip
    code, name = access.resolve_district(session, district)
    if access.own_district(session, account) != code:
        raise PermissionDenied(f"后评估记录由{name}政府填写")
    today = clock()
    if not 2000 <= year <= today.year:
        raise ValidationError(f"评估年度 {year} 无效(2000–{today.year})")
    row = PostEvaluation(district_code=code, district_name=name, year=year,
                         program=program_of(program), rectification=_rectification(rectification),
                         state="draft", review_note="", is_demo=is_demo,
                         created_by=actor or account.actor,
                         **_texts(problems, measures, cases))  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=actor or account.actor, action="creation.posteval.create",
                 entity_type="creation_post_eval", entity_id=row.id, after=_snapshot(row))  # fmt: skip
    return row


def update(session: Session, account: Account, record_id: int, *, problems: str | None = None,
           measures: str | None = None, cases: str | None = None,
           rectification: str | None = None, expected_version: int | None = None,
           actor: str | None = None) -> PostEvaluation:  # fmt: skip
    """The district edits its record: every field while draft or returned; after the review
    only the rectification state (整改进展), until the record is closed."""
    row = get(session, account, record_id)
    if access.own_district(session, account) != row.district_code:
        raise PermissionDenied(f"后评估记录由{row.district_name}政府修改")
    check_version(row, expected_version, STALE)
    texts = (problems, measures, cases)
    before = _snapshot(row)
    if row.state in EDITABLE:
        current = _texts(*(t if t is not None else getattr(row, k)
                           for t, k in zip(texts, FIELDS, strict=True)))  # fmt: skip
        row.problems, row.measures, row.cases = (
            current["problems"],
            current["measures"],
            current["cases"],
        )
    elif row.state == "reviewed":
        if any(t is not None and t.strip() != getattr(row, k).strip()
               for t, k in zip(texts, FIELDS, strict=True)):  # fmt: skip
            raise ValidationError("已审核的记录只能更新整改情况")
    else:
        raise ValidationError(f"{STATES[row.state]}的记录不能修改")
    if rectification is not None:
        row.rectification = _rectification(rectification)
    if _snapshot(row) == before:
        return row
    flush_versioned(session, STALE)
    audit.record(session, actor=actor or account.actor, action="creation.posteval.update",
                 entity_type="creation_post_eval", entity_id=row.id, before=before,
                 after=_snapshot(row))  # fmt: skip
    return row


def allowed_actions(session: Session, account: Account, row: PostEvaluation) -> list[str]:
    """The actions this account may take on the record now (for the page's buttons)."""
    lead = access.is_lead(session, account)
    own = access.own_district(session, account) == row.district_code
    return [name for name, a in ACTIONS.items()
            if row.state in a.targets and (lead if a.by_lead else own)]  # fmt: skip


def act(session: Session, account: Account, record_id: int, action: str, *, note: str = "",
        expected_version: int | None = None, actor: str | None = None) -> PostEvaluation:  # fmt: skip
    step = ACTIONS.get(action)
    if step is None:
        raise ValidationError(f"操作“{action}”无效")
    row = get(session, account, record_id)
    if step.by_lead and not access.is_lead(session, account):
        raise PermissionDenied(f"“{step.label}”由牵头单位市生态环境局办理")
    if not step.by_lead and access.own_district(session, account) != row.district_code:
        raise PermissionDenied(f"“{step.label}”由{row.district_name}政府办理")
    check_version(row, expected_version, STALE)
    if row.state not in step.targets:
        raise ValidationError(f"{STATES[row.state]}的记录不能“{step.label}”")
    if step.needs_note and not note.strip():
        raise ValidationError(f"“{step.label}”须说明理由")
    if action == "submit" and not (row.problems and row.measures):
        raise ValidationError("提交前须填写发现的问题和对策措施")
    if action == "close" and row.rectification != "已整改":
        raise ValidationError(f"整改情况为“{row.rectification}”,整改完成后才能办结")
    before = _snapshot(row)
    row.state = step.targets[row.state]
    if step.by_lead and note.strip():
        row.review_note = note.strip()
    flush_versioned(session, STALE)
    audit.record(session, actor=actor or account.actor, action=f"creation.posteval.{action}",
                 entity_type="creation_post_eval", entity_id=row.id, before=before,
                 after=_snapshot(row), context={"note": note.strip()} if note.strip() else None)  # fmt: skip
    return row


def history(session: Session, row: PostEvaluation) -> list[audit.AuditEntry]:
    return audit.entries(session, entity_type="creation_post_eval", entity_id=str(row.id))
