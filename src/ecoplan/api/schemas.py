"""Pydantic models of the API's request and response bodies (they drive /openapi.json)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from ecoplan.supervision.models import Report
from ecoplan.supervision.reports import MAX_TEXT


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    token: str
    csrf_token: str
    username: str
    role: str


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    unit: str | None


class ReportIn(BaseModel):
    status: str = Field(description="not_started | in_progress | done | late", max_length=20)
    narrative: str = Field(default="", max_length=MAX_TEXT)
    reasons: str = Field(default="", max_length=MAX_TEXT)
    remedy: str = Field(default="", max_length=MAX_TEXT)
    progress: dict[str, float] = Field(default_factory=dict, description="目标序号 → 累计完成值")
    submit: bool = False
    version: int | None = Field(
        default=None, ge=1, le=2_147_483_647, description="乐观锁:读取时的版本号"
    )


class ReviewIn(BaseModel):
    accept: bool
    reason: str = Field(default="", max_length=MAX_TEXT)
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)


class NoteIn(BaseModel):
    note: str = Field(min_length=1, max_length=MAX_TEXT)


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=MAX_TEXT)
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)


class EvidenceOut(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str


class ReportOut(BaseModel):
    id: int
    measure_uid: str
    unit: str
    period: str
    role: str
    status: str
    narrative: str
    reasons: str
    remedy: str
    progress: dict[str, float]
    state: str
    return_reason: str | None
    version: int
    submitted_at: dt.datetime | None
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        return cls(
            id=report.id, measure_uid=report.measure.uid, unit=report.unit.name,
            period=report.period.key, role=report.role, status=report.status,
            narrative=report.narrative, reasons=report.reasons, remedy=report.remedy,
            progress=report.progress or {}, state=report.state, return_reason=report.return_reason,
            version=report.version, submitted_at=report.submitted_at,
            evidence=[EvidenceOut(id=e.id, name=e.original_name, content_type=e.content_type,
                                  size=e.size, sha256=e.sha256) for e in report.evidence],
        )  # fmt: skip


class ShareOut(BaseModel):
    unit: str
    unit_code: str
    light: str
    reasons: list[str]
    report_state: str | None
    report_status: str | None
    closure: str


class MeasureOut(BaseModel):
    id: int
    uid: str
    doc_id: str
    section: str | None
    task: str | None
    text: str
    deadline: str | None
    due: dt.date | None
    light: str
    units: dict[str, list[str]]
    targets: list[dict[str, Any]]
    shares: list[ShareOut]


class ClosureOut(BaseModel):
    id: int
    measure_id: int
    unit_id: int
    state: str
    version: int


class ReminderOut(BaseModel):
    notifications: int
    orders: list[str]
    resolved: int
    emailed: int


class NotificationOut(BaseModel):
    id: int
    kind: str
    message: str
    created_at: dt.datetime


class DesignateIn(BaseModel):
    role: str = Field(description="lead | responsible | assisting", max_length=12)
    units: list[str] = Field(min_length=1, max_length=40)


class PublishIn(BaseModel):
    summary: str = Field(default="", max_length=2000)


class LedgerRowOut(BaseModel):
    row: int
    uid: str
    outcome: str
