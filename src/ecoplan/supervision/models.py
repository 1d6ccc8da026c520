"""Supervision records: the reporting cycle of a plan, reports and their evidence, closure of
each unit's share of a measure, notifications, 督办单 and what the coordinator published.

A measure's *share* is one (measure, unit) pair where the unit is responsible for the measure
(or leads it when nobody else is named responsible). Reports, closure and traffic lights are
all per share, so a measure with 17 responsible districts has 17 of each and a roll-up.

Rows that two people may change at once carry a ``version`` column used by SQLAlchemy's
optimistic locking: the second writer gets a conflict instead of silently overwriting.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow
from ecoplan.plans.models import Measure
from ecoplan.units.models import Unit

REPORT_STATUSES = {
    "not_started": "未启动",
    "in_progress": "推进中",
    "done": "已完成",
    "late": "滞后",
}
REVIEW_STATES = {"draft": "草稿", "submitted": "待审核", "returned": "已退回", "accepted": "已通过"}
# A report counts as filed (for deadlines, roll-ups, orders) once it is submitted; drafts and
# returned reports do not.
FILED_STATES = ("submitted", "accepted")
CLOSURE_STATES = {"open": "办理中", "requested": "申请办结", "closed": "已办结销号"}


class ReportingCycle(Base):
    """How often a plan is reported on and how the deadlines fall."""

    __tablename__ = "reporting_cycle"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(10))  # monthly | quarterly
    due_days: Mapped[int] = mapped_column(Integer)  # report due this many days after period end
    remind_days: Mapped[int] = mapped_column(Integer)  # 临近提醒 this many days before a report
    close_remind_days: Mapped[int] = mapped_column(Integer)  # ... before a completion deadline


class Period(Base):
    __tablename__ = "period"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    key: Mapped[str] = mapped_column(String(10))  # 2024-03 | 2024Q1
    label: Mapped[str] = mapped_column(String(20))  # 2024年3月 | 2024年第一季度
    starts: Mapped[dt.date] = mapped_column(Date)
    ends: Mapped[dt.date] = mapped_column(Date)
    report_due: Mapped[dt.date] = mapped_column(Date)


class Report(Base):
    """One unit's report on one measure for one period (responsible) or its part (assisting)."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("measure_id", "unit_id", "period_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("period.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))  # responsible | assisting | lead (汇总)
    status: Mapped[str] = mapped_column(String(12))
    narrative: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[str] = mapped_column(Text, default="")
    remedy: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[Any] = mapped_column(JSONType)  # {"<target index>": cumulative value}
    state: Mapped[str] = mapped_column(String(12), index=True)
    return_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    times_returned: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    measure: Mapped[Measure] = relationship()
    unit: Mapped[Unit] = relationship()
    period: Mapped[Period] = relationship()
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Evidence.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def filed(self) -> bool:
        return self.state in FILED_STATES


class Evidence(Base):
    """An evidence file; the bytes live content-addressed under ``<data_dir>/evidence``."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    report: Mapped[Report] = relationship(back_populates="evidence")


class Closure(Base):
    """办结销号 of one unit's share of a measure."""

    __tablename__ = "closure"
    __table_args__ = (UniqueConstraint("measure_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    request_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    unit: Mapped[Unit] = relationship()

    __mapper_args__ = {"version_id_col": version}


class Notification(Base):
    """A message to a unit (and, when set, one account); ``key`` makes reminders idempotent."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("measure.id"), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SupervisionOrder(Base):
    """督办单: issued when a share is overdue; resolved when the report or closure arrives."""

    __tablename__ = "supervision_order"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    number: Mapped[str] = mapped_column(String(40))
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    period_id: Mapped[int | None] = mapped_column(ForeignKey("period.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    respond_by: Mapped[dt.date] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    measure: Mapped[Measure] = relationship()
    unit: Mapped[Unit] = relationship()


class Publication(Base):
    """A snapshot of one measure as the coordinator published it; the public sees only these."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure.id"), index=True)
    content: Mapped[Any] = mapped_column(JSONType)
    published_by: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
