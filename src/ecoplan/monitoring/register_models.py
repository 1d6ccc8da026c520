"""Germplasm accessions (task 4) and monitoring-station time series (task 9).

- ``GermplasmRepository`` / ``Accession``: where collected material is kept (the national forest
  germplasm repositories and improved-variety bases of 4.2, municipal units) and each accession
  (taxon, variety, origin, collection date, collector, material, quantity, status);
- ``Station`` / ``StationValue``: a monitoring station (e.g. 密云水库国家生态质量综合监测站) and
  its observations (parameter, unit, time, value) with automatic QC flags and a person's
  override (docs/monitoring-registers.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class GermplasmRepository(Base):
    __tablename__ = "germplasm_repository"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # 国家林木种质资源库 | 国家重点林木良种基地 | …
    category: Mapped[str] = mapped_column(String(12))  # 林草 | 农作物 | 畜禽 | 水产
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    district_name: Mapped[str] = mapped_column(String(60), default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(default=True)


class Accession(Base):
    __tablename__ = "germplasm_accession"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accession_no: Mapped[str] = mapped_column(String(60), unique=True)
    category: Mapped[str] = mapped_column(String(12), index=True)  # 林草 | 农作物 | 畜禽 | 水产
    taxon_id: Mapped[int | None] = mapped_column(ForeignKey("taxon.id"), nullable=True)
    scientific_name: Mapped[str] = mapped_column(String(200), default="")
    name_cn: Mapped[str] = mapped_column(String(100))
    variety: Mapped[str] = mapped_column(String(100), default="")
    material: Mapped[str] = mapped_column(String(20))  # 种子 | 穗条 | 苗木 | 花粉 | DNA | 活体 …
    origin: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    altitude_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    district_name: Mapped[str] = mapped_column(String(60), default="")
    collected_on: Mapped[dt.date] = mapped_column(Date, index=True)
    collector: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    repository_id: Mapped[int | None] = mapped_column(
        ForeignKey("germplasm_repository.id"), nullable=True, index=True
    )
    quantity: Mapped[float] = mapped_column(Float)
    quantity_unit: Mapped[str] = mapped_column(String(12))  # 粒 | g | 株 | 条 | 份 …
    status: Mapped[str] = mapped_column(String(12))  # collected | stored | tested | lost | …
    viability_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    remarks: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[Any] = mapped_column(JSONType, default=dict)  # file, row
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    repository: Mapped[GermplasmRepository | None] = relationship()


class Station(Base):
    __tablename__ = "station"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="")  # 综合监测站 | 水质自动站 | …
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StationValue(Base):
    """One observation. ``qc`` holds the automatic flags (range, spike, flat, …); ``override``
    a person's verdict (good | bad) with who and why, which wins over the automatic flags."""

    __tablename__ = "station_value"
    __table_args__ = (UniqueConstraint("station_id", "parameter", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id", ondelete="CASCADE"))
    parameter: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(20))
    qc: Mapped[Any] = mapped_column(JSONType, default=list)
    override: Mapped[str | None] = mapped_column(String(8), nullable=True)
    override_note: Mapped[str] = mapped_column(Text, default="")
    override_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    batch: Mapped[str] = mapped_column(String(80), default="")  # file hash of the import
