"""Filing and reviewing reports.

States: 草稿 draft → 待审核 submitted → 已通过 accepted, or → 已退回 returned (reason
required) → edited and submitted again. An accepted report is final. Every change is audited
with the report's state before and after; concurrent writers are caught by the ``version``
column (optimistic locking) and the loser gets a ConflictError instead of overwriting.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.db import check_version, flush_versioned, utcnow
from ecoplan.errors import ConflictError, NotFoundError, ValidationError
from ecoplan.plans.models import Measure
from ecoplan.supervision import access, evidence
from ecoplan.supervision.models import REPORT_STATUSES, Evidence, Report
from ecoplan.supervision.models import Period as PeriodRow

MAX_TEXT = 5000


class ReportInput(BaseModel):
    """What a unit fills in; ``progress`` maps a target's index to the cumulative value."""

    status: str
    narrative: str = Field(default="", max_length=MAX_TEXT)
    reasons: str = Field(default="", max_length=MAX_TEXT)
    remedy: str = Field(default="", max_length=MAX_TEXT)
    progress: dict[str, float] = Field(default_factory=dict)


def snapshot(report: Report) -> dict[str, Any]:
    return {
        "measure": report.measure.uid,
        "unit_id": report.unit_id,
        "period": report.period.key,
        "role": report.role,
        "status": report.status,
        "narrative": report.narrative,
        "reasons": report.reasons,
        "remedy": report.remedy,
        "progress": report.progress,
        "state": report.state,
        "return_reason": report.return_reason,
        "evidence": [e.sha256 for e in report.evidence],
    }


def validate_input(data: ReportInput, measure: Measure) -> None:
    problems = []
    if data.status not in REPORT_STATUSES:
        problems.append(f"状态须为 {'/'.join(REPORT_STATUSES.values())}")
    if data.status == "late" and (not data.reasons.strip() or not data.remedy.strip()):
        problems.append("状态为滞后时必须填写滞后原因和整改措施")
    targets = measure.targets or []
    for key, value in data.progress.items():
        if not key.isdigit() or int(key) >= len(targets):
            problems.append(f"进度指标 {key} 不是本措施的量化目标")
        elif not math.isfinite(value) or value < 0:
            problems.append(f"{targets[int(key)]['indicator']} 的完成值须为非负数")
    if problems:
        raise ValidationError(";".join(problems), problems)


def find_report(
    session: Session, measure: Measure, unit_id: int, period: PeriodRow
) -> Report | None:
    query = select(Report).where(
        Report.measure_id == measure.id, Report.unit_id == unit_id, Report.period_id == period.id
    )
    return session.scalar(query)


def get_report(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFoundError(f"报告 {report_id} 不存在")
    return report


CHANGED_BY_OTHERS = "该报告已被他人修改,请刷新页面后重试"


def save_report(
    session: Session,
    account: Account,
    measure: Measure,
    period: PeriodRow,
    data: ReportInput,
    *,
    submit: bool,
    expected_version: int | None = None,
) -> Report:
    """Create or update the account's unit's report; ``submit`` sends it for review."""
    role = access.report_role(account, measure)
    access.require(role is not None, f"填报措施 {measure.doc_id}")
    assert account.unit_id is not None and role is not None
    validate_input(data, measure)
    report = find_report(session, measure, account.unit_id, period)
    before = None
    if report is None:
        report = Report(measure=measure, unit_id=account.unit_id, period=period, role=role,
                        state="draft", version=1)  # fmt: skip
        session.add(report)
    else:
        check_version(report, expected_version, CHANGED_BY_OTHERS)
        if report.state == "accepted":
            raise ConflictError("报告已审核通过,不能再修改")
        before = snapshot(report)
    report.status, report.narrative = data.status, data.narrative.strip()
    report.reasons, report.remedy = data.reasons.strip(), data.remedy.strip()
    report.progress = {k: data.progress[k] for k in sorted(data.progress)}
    report.updated_by, report.updated_at = account.actor, utcnow()
    if submit:
        report.state = "submitted"
        report.submitted_at = report.submitted_at or utcnow()  # first filing counts for 考评
    flush_versioned(session, CHANGED_BY_OTHERS)
    session.refresh(report, ["evidence"])
    audit.record(session, actor=account.actor, action="report.submit" if submit else "report.save",
                 entity_type="report", entity_id=report.id, before=before,
                 after=snapshot(report))  # fmt: skip
    return report


def review_report(
    session: Session,
    account: Account,
    report: Report,
    *,
    accept: bool,
    reason: str = "",
    expected_version: int | None = None,
) -> Report:
    """Accept or return (退回, with a reason) a submitted report."""
    access.require(access.can_review(account, report), "审核该报告")
    check_version(report, expected_version, CHANGED_BY_OTHERS)
    if report.state != "submitted":
        raise ConflictError(f"报告当前为“{report.state}”状态,只有待审核的报告可以审核")
    if not accept and not reason.strip():
        raise ValidationError("退回必须填写理由")
    before = snapshot(report)
    report.state = "accepted" if accept else "returned"
    report.return_reason = None if accept else reason.strip()[:MAX_TEXT]
    report.times_returned += 0 if accept else 1
    report.reviewed_at, report.reviewed_by = utcnow(), account.actor
    flush_versioned(session, CHANGED_BY_OTHERS)
    audit.record(session, actor=account.actor,
                 action="report.accept" if accept else "report.return", entity_type="report",
                 entity_id=report.id, before=before, after=snapshot(report))  # fmt: skip
    return report


def attach_evidence(
    session: Session, account: Account, report: Report, original_name: str, data: bytes
) -> Evidence:
    """Check and store one evidence file on a report of the account's own unit."""
    access.require(
        account.role == "unit" and account.unit_id == report.unit_id, "为该报告上传佐证材料"
    )
    if report.state == "accepted":
        raise ConflictError("报告已审核通过,不能再添加佐证材料")
    name, content_type = evidence.sniff(data, original_name)
    digest = evidence.store(data)
    item = Evidence(report=report, sha256=digest, original_name=name, content_type=content_type,
                    size=len(data), uploaded_by=account.actor)  # fmt: skip
    session.add(item)
    session.flush()
    audit.record(session, actor=account.actor, action="evidence.add", entity_type="report",
                 entity_id=report.id,
                 after={"sha256": digest, "name": name, "type": content_type,
                        "size": len(data)})  # fmt: skip
    return item


def get_evidence(session: Session, account: Account, evidence_id: int) -> Evidence:
    item = session.get(Evidence, evidence_id)
    if item is None:
        raise NotFoundError(f"佐证材料 {evidence_id} 不存在")
    access.require(access.can_view_report(account, item.report), "查看该佐证材料")
    return item
