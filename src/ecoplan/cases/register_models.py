"""Registers beside the clues: temporary-land permits and what was observed on them, patrols
of protected areas, and enforcement cases with their inspections (tasks 5.3, 5.4, 6.1, 6.4).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class TempLandPermit(Base):
    """A 临时用地 approval: who may use which polygon, for what, from when to when."""

    __tablename__ = "temp_land_permit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_no: Mapped[str] = mapped_column(String(60), unique=True)
    applicant: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200))
    authority: Mapped[str] = mapped_column(String(200))  # approving authority
    approval_no: Mapped[str] = mapped_column(String(100))  # 批准文号
    long_cycle: Mapped[bool] = mapped_column(Boolean, default=False)  # energy/transport/water
    geometry: Mapped[Any] = mapped_column(JSONType)  # approved polygon, WGS84
    area_m2: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    redline_m2: Mapped[float] = mapped_column(Float, default=0.0)  # part inside the red line
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    restored_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # 复垦验收
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    observations: Mapped[list[TempLandObservation]] = relationship(
        back_populates="permit", cascade="all, delete-orphan", order_by="TempLandObservation.id"
    )


class TempLandObservation(Base):
    """A polygon seen in use on a permit's site (remote sensing or a field GPS survey)."""

    __tablename__ = "temp_land_observation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_id: Mapped[int] = mapped_column(
        ForeignKey("temp_land_permit.id", ondelete="CASCADE"), index=True
    )
    observed_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100))
    geometry: Mapped[Any] = mapped_column(JSONType)
    area_m2: Mapped[float] = mapped_column(Float)
    outside_m2: Mapped[float] = mapped_column(Float)  # observed area beyond the permitted one
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    permit: Mapped[TempLandPermit] = relationship(back_populates="observations")


class Patrol(Base):
    """One patrol of a protected area, from a GPX track."""

    __tablename__ = "patrol"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_feature_id: Mapped[int] = mapped_column(ForeignKey("ref_feature.id"), index=True)
    area_name: Mapped[str] = mapped_column(String(200))
    patroller: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    length_km: Mapped[float] = mapped_column(Float)
    inside_share: Mapped[float] = mapped_column(Float)  # share of the track inside the area
    geometry: Mapped[Any] = mapped_column(JSONType)  # the track, simplified, WGS84
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    findings: Mapped[Any] = mapped_column(JSONType, default=list)  # clue codes raised
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EnforcementCase(Base):
    """A wildlife / habitat / germplasm / alien-species offence, 立案 → 调查 → 处罚决定 → 结案."""

    __tablename__ = "enforcement_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(60), unique=True)
    domain: Mapped[str] = mapped_column(String(12), index=True)  # terrestrial | aquatic
    case_type: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    discovered_by: Mapped[str] = mapped_column(String(20))  # patrol | clue | report | inspection
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clue.id"), nullable=True)
    species: Mapped[Any] = mapped_column(JSONType, default=list)  # name, level, quantity
    stage: Mapped[str] = mapped_column(String(12), default="filed", index=True)
    filed_on: Mapped[dt.date] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    penalty_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    decision: Mapped[str] = mapped_column(Text, default="")
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)  # 移送公安
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Inspection(Base):
    """A market / online trade inspection (监督检查) of wildlife and its products."""

    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(12), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    venue: Mapped[str] = mapped_column(String(200))
    venue_type: Mapped[str] = mapped_column(String(20))  # market | online | restaurant | other
    inspected_on: Mapped[dt.date] = mapped_column(Date, index=True)
    items_checked: Mapped[int] = mapped_column(Integer)
    violations: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_case.id"), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
