"""Tables of stored 绿视率 surveys (migration 0009).

- ``GreenViewSurvey``: one computed survey of one year (the manifest's name and SHA-256, the
  method id@version and its hash, counts, the per-image results file's hash);
- ``GreenViewPoint``: one sample point of a survey with its GVI (%) and district.

Per-image results are not rows: they are written as a CSV (``images.csv``) into the
content-addressed file store (``<data_dir>/evidence/<sha[:2]>/<sha>``) and the survey keeps
its SHA-256 (``images_sha256``) so that the page can offer it for download.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class GreenViewSurvey(Base):
    __tablename__ = "greenview_survey"
    __table_args__ = (UniqueConstraint("year", "manifest_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(100))  # id@version of the method file
    method_sha256: Mapped[str] = mapped_column(String(64))
    classifier: Mapped[str] = mapped_column(String(100))
    manifest_name: Mapped[str] = mapped_column(String(255))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    images_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # images.csv
    images: Mapped[int] = mapped_column(Integer)  # images used (in the green season)
    points: Mapped[int] = mapped_column(Integer)
    incomplete: Mapped[int] = mapped_column(Integer, default=0)  # points flagged incomplete
    outside: Mapped[int] = mapped_column(Integer, default=0)  # points outside every district
    details: Mapped[Any] = mapped_column(JSONType, default=dict)  # provenance, district table
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    point_rows: Mapped[list[GreenViewPoint]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", passive_deletes=True
    )


class GreenViewPoint(Base):
    __tablename__ = "greenview_point"
    __table_args__ = (UniqueConstraint("survey_id", "point_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("greenview_survey.id", ondelete="CASCADE"), index=True
    )
    point_id: Mapped[str] = mapped_column(String(120))  # the engine's stable id
    lon: Mapped[float] = mapped_column(Float)  # WGS-84 degrees
    lat: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    images: Mapped[int] = mapped_column(Integer)
    gvi: Mapped[float] = mapped_column(Float)  # %, 0–100
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    flags: Mapped[Any] = mapped_column(JSONType, default=list)  # e.g. "图片少于 6 张"
    survey: Mapped[GreenViewSurvey] = relationship(back_populates="point_rows")
