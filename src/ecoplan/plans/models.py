"""Stored plans: a plan has numbered revisions (each a full document snapshot) and measures
whose ``uid`` stays the same across revisions while the measure is the same.

Measures are also materialised as rows (with their unit assignments) so that supervision can
join on them; the revision snapshots keep the history and make ``plan diff`` exact.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class Plan(Base):
    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revisions: Mapped[list[PlanRevision]] = relationship(
        back_populates="plan", order_by="PlanRevision.number"
    )
    measures: Mapped[list[Measure]] = relationship(
        back_populates="plan", order_by="Measure.position"
    )


class PlanRevision(Base):
    __tablename__ = "plan_revision"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))  # import | edit | xlsx
    source_file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    format: Mapped[str | None] = mapped_column(String(10), nullable=True)
    parser_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[Any] = mapped_column(JSONType)
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    plan: Mapped[Plan] = relationship(back_populates="revisions")


class Measure(Base):
    __tablename__ = "measure"
    __table_args__ = (UniqueConstraint("plan_id", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    uid: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    doc_id: Mapped[str] = mapped_column(String(30))
    section_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    section_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    task_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    task_title: Mapped[str | None] = mapped_column(String(300), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    deadline_raw: Mapped[str | None] = mapped_column(String(200), nullable=True)
    deadline_kind: Mapped[str] = mapped_column(String(10))
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    warnings: Mapped[Any] = mapped_column(JSONType)
    targets: Mapped[Any] = mapped_column(JSONType)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    manual_fields: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    plan: Mapped[Plan] = relationship(back_populates="measures")
    assignments: Mapped[list[MeasureUnit]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", order_by="MeasureUnit.id"
    )


class MeasureUnit(Base):
    """One unit's role in one measure; a group expression expands to one row per member."""

    __tablename__ = "measure_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(
        ForeignKey("measure.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(12))  # lead | responsible | assisting
    written: Mapped[str] = mapped_column(String(200))  # as in the document
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    placeholder: Mapped[bool] = mapped_column(Boolean, default=False)  # 相关区政府, undesignated
    measure: Mapped[Measure] = relationship(back_populates="assignments")
