"""Tables of the indicator registry and the project ledger (migration 0008).

- ``Indicator``: one quantitative (or direction-only) target of a plan: what it means, how it is
  measured, its target and comparator, the measures it belongs to;
- ``IndicatorValue``: one value of an indicator for a region (a district code, or the city
  ``110000``) and a year, with where it came from. Values are never updated: a newer value
  (later ``as_of``, then later ``id``) supersedes an older one and the history stays;
- ``Project``: one project of the ledger (park, pocket park, conservation plot, wetland
  restoration …) with its polygon (GeoJSON, WGS84), area, district, stage dates and photos.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow
from ecoplan.units.models import Unit

CITY_CODE = "110000"  # the region code of city-wide values (Beijing's administrative code)
ORIGINS = {"computed": "计算", "report": "填报", "ledger": "项目台账"}


class Indicator(Base):
    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("plan_id", "measure_uid", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)  # "2024-forest_coverage"
    kind: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(200))  # the plan's words ("休闲公园、城市森林")
    definition: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(Text, default="")  # formula / how it is measured
    unit: Mapped[str] = mapped_column(String(20))
    pace: Mapped[str] = mapped_column(String(12))  # level | cumulative | direction
    baseline: Mapped[float | None] = mapped_column(Float, nullable=True)
    baseline_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: direction only
    comparator: Mapped[str] = mapped_column(String(12))  # >= | <= | = | 稳中有升
    target_text: Mapped[str] = mapped_column(Text, default="")  # the clause of the plan
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"), nullable=True, index=True)
    plan_year: Mapped[int] = mapped_column(Integer, index=True)
    measure_uid: Mapped[str] = mapped_column(String(20))  # the measure whose text names it
    measure_uids: Mapped[Any] = mapped_column(JSONType, default=list)  # all measures it serves
    source: Mapped[str] = mapped_column(String(12))  # plan (plan target) | parameter
    by_district: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)  # definition from a standard
    params: Mapped[str] = mapped_column(String(100), default="")  # parameter file id, version
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class IndicatorValue(Base):
    __tablename__ = "indicator_value"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicator.id", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(20))  # district code or CITY_CODE
    region_name: Mapped[str] = mapped_column(String(60))
    year: Mapped[int] = mapped_column(Integer, index=True)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20))  # always the indicator's unit (converted)
    as_of: Mapped[dt.date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(12))  # computed | report | ledger
    source: Mapped[str] = mapped_column(Text)  # which data / report / run, in words
    source_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[Any] = mapped_column(JSONType, default=dict)  # e.g. contributing projects
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    indicator: Mapped[Indicator] = relationship()


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(30), index=True)
    stage: Mapped[str] = mapped_column(String(8), index=True)  # 规划 | 在建 | 建成 | 验收
    planned_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    started_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    built_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    geometry: Mapped[Any] = mapped_column(JSONType)  # GeoJSON geometry, WGS84
    lon: Mapped[float] = mapped_column(Float)  # a point inside the geometry, for maps
    lat: Mapped[float] = mapped_column(Float)
    area_ha: Mapped[float | None] = mapped_column(Float, nullable=True)  # None for a point
    declared_area: Mapped[float | None] = mapped_column(Float, nullable=True)
    declared_unit: Mapped[str | None] = mapped_column(String(20), nullable=True)
    declared_area_ha: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    notes: Mapped[Any] = mapped_column(JSONType, default=list)  # conversions, CRS, overlaps
    photos: Mapped[Any] = mapped_column(JSONType, default=list)  # [{sha256, name, mime, …}]
    source: Mapped[Any] = mapped_column(JSONType, default=dict)  # file, sha256, feature
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    unit: Mapped[Unit | None] = relationship()

    __mapper_args__ = {"version_id_col": version}
