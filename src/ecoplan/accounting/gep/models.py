"""Stored GEP-R accounting runs and their rows: one row per (region, service).

A run keeps the parameter, price and price-index versions, the variant of every service,
the input files with SHA-256, the COG paths and the warnings of the run report; a row keeps
its priced components, so a value can be traced to a quantity, a price and its source.
Compensation allocations computed from runs are stored with their formula and explanation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class GepRun(Base):
    __tablename__ = "gep_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    parameters_key: Mapped[str] = mapped_column(String(120))
    prices_key: Mapped[str] = mapped_column(String(120))
    services: Mapped[Any] = mapped_column(JSONType)
    provenance: Mapped[Any] = mapped_column(JSONType)
    rasters: Mapped[Any] = mapped_column(JSONType)
    warnings: Mapped[Any] = mapped_column(JSONType)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    results: Mapped[list[GepResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="GepResult.position"
    )


class GepResult(Base):
    __tablename__ = "gep_result"
    __table_args__ = (UniqueConstraint("run_id", "level", "region_code", "service"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("gep_run.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(String(40))
    region_name: Mapped[str] = mapped_column(String(100))
    service: Mapped[str] = mapped_column(String(40))
    service_name: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))
    value_yuan: Mapped[float] = mapped_column(Float)
    variant: Mapped[str] = mapped_column(String(20))
    verified: Mapped[bool] = mapped_column(Boolean)
    components: Mapped[Any] = mapped_column(JSONType)
    run: Mapped[GepRun] = relationship(back_populates="results")


class Compensation(Base):
    __tablename__ = "gep_compensation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(ForeignKey("gep_run.id", ondelete="CASCADE"), index=True)
    previous_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("gep_run.id", ondelete="SET NULL"), nullable=True
    )
    budget_yuan: Mapped[float] = mapped_column(Float)
    formula: Mapped[Any] = mapped_column(JSONType)
    allocation: Mapped[Any] = mapped_column(JSONType)  # one dict per district, with the why
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
