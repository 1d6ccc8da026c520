"""Stored EI assessment runs: one run = one year, one method, its inputs and its results.

A run names the method key (id@version) and SHA-256 of the method file, and keeps the
provenance of every input (file hashes, class mapping, notes). Results keep the indicator
row they were computed from, so every published number can be traced to its inputs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow

RUN_STATES = {"draft": "草稿", "published": "已发布"}


class EIRun(Base):
    __tablename__ = "ei_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    method_key: Mapped[str] = mapped_column(String(80), index=True)
    method_standard: Mapped[str] = mapped_column(String(80))
    method_name: Mapped[str] = mapped_column(String(200))
    method_sha256: Mapped[str] = mapped_column(String(64))
    # the whole method as computed with (weights, grades …), so pages never assume the default
    method_definition: Mapped[Any] = mapped_column(JSONType)
    unverified: Mapped[Any] = mapped_column(JSONType)  # list of method parts not verified
    provenance: Mapped[Any] = mapped_column(JSONType)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    results: Mapped[list[EIResultRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="EIResultRow.position"
    )


class EIResultRow(Base):
    __tablename__ = "ei_result"
    __table_args__ = (UniqueConstraint("run_id", "region_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ei_run.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str] = mapped_column(String(40))
    region_name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12))
    area_km2: Mapped[float] = mapped_column(Float)
    biological_abundance: Mapped[float] = mapped_column(Float)
    vegetation_cover: Mapped[float] = mapped_column(Float)
    water_network: Mapped[float] = mapped_column(Float)
    land_stress: Mapped[float] = mapped_column(Float)
    pollution_load: Mapped[float] = mapped_column(Float)
    habitat_quality: Mapped[float | None] = mapped_column(Float, nullable=True)
    ei_unrestricted: Mapped[float] = mapped_column(Float)
    ei: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(10))
    restriction_level: Mapped[int] = mapped_column(Integer, default=0)
    restriction_note: Mapped[str] = mapped_column(Text, default="")
    approximation: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_ei: Mapped[float | None] = mapped_column(Float, nullable=True)
    delta: Mapped[float | None] = mapped_column(Float, nullable=True)
    change_grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verdict_met: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    inputs: Mapped[Any] = mapped_column(
        JSONType
    )  # the indicator-table row (None for approximations)
    run: Mapped[EIRun] = relationship(back_populates="results")
