"""The species list and survey data in Darwin Core's sampling-event shape.

- ``Taxon`` / ``TaxonName``: the admin's species list (scientific and Chinese names, rank and
  parent, protection status, IUCN category, invasive flag) and every other name it answers to
  (synonyms, old Chinese names), used to match imported names;
- ``Survey`` → ``SurveyEvent`` → ``Occurrence``: a dataset (one unit's survey of a year with its
  protocol), its sampling events (a visit to a transect, point or plot, with effort) and the
  records of each event (taxon, count, presence/absence, quality flags). Field names follow the
  Darwin Core terms they hold (docs/monitoring.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class Taxon(Base):
    __tablename__ = "taxon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scientific_name: Mapped[str] = mapped_column(String(200), unique=True)
    name_cn: Mapped[str] = mapped_column(String(100), index=True)
    rank: Mapped[str] = mapped_column(String(20))  # species | subspecies | genus | family | …
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("taxon.id"), nullable=True)
    kingdom: Mapped[str] = mapped_column(String(20))
    group: Mapped[str] = mapped_column(String(20), index=True)  # 鸟类 | 鱼类 | 大型真菌 | …
    national_level: Mapped[str | None] = mapped_column(String(4), nullable=True)  # I | II
    beijing_level: Mapped[str | None] = mapped_column(String(4), nullable=True)  # I | II
    sanyou: Mapped[bool] = mapped_column(Boolean, default=False)  # 三有
    iucn: Mapped[str | None] = mapped_column(String(4), nullable=True)  # LC NT VU EN CR …
    invasive: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    names: Mapped[list[TaxonName]] = relationship(
        back_populates="taxon", cascade="all, delete-orphan"
    )


class TaxonName(Base):
    """Another name of a taxon: a synonym, a former Chinese name; unique across the list so
    that a name matches one taxon only."""

    __tablename__ = "taxon_name"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    taxon_id: Mapped[int] = mapped_column(ForeignKey("taxon.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    lang: Mapped[str] = mapped_column(String(4))  # la | zh
    taxon: Mapped[Taxon] = relationship(back_populates="names")


class Survey(Base):
    """One dataset: a unit's survey under one protocol (e.g. 2024 年鸟类样线调查, 门头沟区)."""

    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    protocol: Mapped[str] = mapped_column(String(40))  # key of the protocol templates
    year: Mapped[int] = mapped_column(Integer, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    source: Mapped[Any] = mapped_column(JSONType, default=dict)  # file, hash, origin
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set when the city publishes the dataset: only published surveys reach the public species
    # page, and then with protected species' places generalised (docs/monitoring.md).
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SurveyEvent(Base):
    __tablename__ = "survey_event"
    __table_args__ = (UniqueConstraint("survey_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(100))  # dwc:eventID
    parent_event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    event_date: Mapped[str] = mapped_column(String(40))  # ISO 8601 date or interval, as given
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    protocol: Mapped[str] = mapped_column(String(100))  # dwc:samplingProtocol
    sample_size_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    sample_size_unit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    effort_value: Mapped[float | None] = mapped_column(
        Float, nullable=True
    )  # eco:samplingEffortValue
    effort_unit: Mapped[str | None] = mapped_column(String(40), nullable=True)
    location_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    locality: Mapped[str] = mapped_column(Text, default="")
    habitat: Mapped[str] = mapped_column(String(100), default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[Any] = mapped_column(JSONType, default=list)


class Occurrence(Base):
    __tablename__ = "occurrence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_pk: Mapped[int] = mapped_column(
        ForeignKey("survey_event.id", ondelete="CASCADE"), index=True
    )
    occurrence_id: Mapped[str] = mapped_column(String(120), unique=True)  # dwc:occurrenceID
    taxon_id: Mapped[int | None] = mapped_column(ForeignKey("taxon.id"), nullable=True, index=True)
    verbatim_name: Mapped[str] = mapped_column(String(200))
    match: Mapped[str] = mapped_column(String(12))  # exact | synonym | fuzzy | none
    basis_of_record: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(8))  # present | absent
    individual_count: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[Any] = mapped_column(JSONType, default=list)
