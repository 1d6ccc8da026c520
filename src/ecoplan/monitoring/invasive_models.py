"""Invasive species (task 3, joint control 10.2): the species watched, their monitoring sites,
records per protocol, alerts, control actions and the 外来物种引入审批 applications.

Records follow the NAISMA mapping standard's fields as far as the plan needs them (species,
place, date, method, quantity with its unit, effort), so that a record maps onto Darwin Core
and onto the CSV exchanged with Tianjin and Hebei (docs/monitoring-invasive.md).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow
from ecoplan.monitoring.models import Taxon


class InvasiveSpecies(Base):
    """A species under invasive monitoring: the six of the plan and any the admin adds. The
    alert threshold and the responsible unit are per species (``data/invasive.toml``)."""

    __tablename__ = "invasive_species"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)  # cydia_pomonella …
    taxon_id: Mapped[int | None] = mapped_column(ForeignKey("taxon.id"), nullable=True)
    scientific_name: Mapped[str] = mapped_column(String(200), unique=True)
    name_cn: Mapped[str] = mapped_column(String(100))
    methods: Mapped[Any] = mapped_column(JSONType, default=list)  # record methods allowed
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)  # per method's unit
    threshold_method: Mapped[str | None] = mapped_column(String(30), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    quarantine: Mapped[bool] = mapped_column(default=False)  # any record is an alert
    active: Mapped[bool] = mapped_column(default=True)
    taxon: Mapped[Taxon | None] = relationship()


class InvasiveSite(Base):
    """A monitoring site (trap, plot, transect, water body) of one species."""

    __tablename__ = "invasive_site"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    species_id: Mapped[int] = mapped_column(ForeignKey("invasive_species.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # trap | light_trap | plot | transect | water
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    township: Mapped[str] = mapped_column(String(100), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InvasiveRecord(Base):
    """One check or observation: a trap check (catch over the days since the last check), an
    egg-mass or nest count, infested trees, a sighting; negative results are records too."""

    __tablename__ = "invasive_record"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(120), unique=True)  # exchange key
    species_id: Mapped[int] = mapped_column(ForeignKey("invasive_species.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("invasive_site.id"), nullable=True)
    observed_on: Mapped[dt.date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(30))  # trap_catch | egg_masses | …
    value: Mapped[float] = mapped_column(Float)
    value_unit: Mapped[str] = mapped_column(String(30))
    effort_days: Mapped[float | None] = mapped_column(Float, nullable=True)  # trap-days
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    province: Mapped[str] = mapped_column(String(20), default="北京")
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    township: Mapped[str] = mapped_column(String(100), default="")
    host: Mapped[str] = mapped_column(String(100), default="")
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(200), default="")  # local | exchange file name
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InvasiveAlert(Base):
    """An alert raised by a rule on a record; ``key`` makes the rules idempotent."""

    __tablename__ = "invasive_alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    rule: Mapped[str] = mapped_column(String(30), index=True)  # new_township | threshold | …
    species_id: Mapped[int] = mapped_column(ForeignKey("invasive_species.id"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("invasive_record.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    message: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[dt.date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(12), default="open")  # open | handled
    handled_note: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ControlAction(Base):
    """A control measure: where, when, how, how much area, with what result."""

    __tablename__ = "invasive_control"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    species_id: Mapped[int] = mapped_column(ForeignKey("invasive_species.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("invasive_site.id"), nullable=True)
    done_on: Mapped[dt.date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(30))  # physical | chemical | biological | …
    detail: Mapped[str] = mapped_column(Text, default="")
    area_ha: Mapped[float] = mapped_column(Float, default=0.0)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    before_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    after_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IntroductionApplication(Base):
    """外来物种引入审批: an application to introduce an alien species, its risk assessment, the
    department's decision and the follow-up monitoring after an approved introduction."""

    __tablename__ = "introduction_application"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    applicant: Mapped[str] = mapped_column(String(200))  # organisation
    applicant_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    reviewer_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    scientific_name: Mapped[str] = mapped_column(String(200))
    name_cn: Mapped[str] = mapped_column(String(100), default="")
    taxon_id: Mapped[int | None] = mapped_column(ForeignKey("taxon.id"), nullable=True)
    category: Mapped[str] = mapped_column(String(20))  # 农业 | 林草 | 水产 | 其他
    purpose: Mapped[str] = mapped_column(Text)
    origin_country: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[str] = mapped_column(String(100))
    destination: Mapped[str] = mapped_column(Text)  # place of introduction
    containment: Mapped[str] = mapped_column(Text, default="")  # 隔离/防逃逸措施
    risk_level: Mapped[str | None] = mapped_column(String(8), nullable=True)  # 低 | 中 | 高
    risk_summary: Mapped[str] = mapped_column(Text, default="")
    risk_report: Mapped[str | None] = mapped_column(String(80), nullable=True)  # evidence digest
    state: Mapped[str] = mapped_column(String(16), index=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    monitor_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    submitted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    events: Mapped[list[IntroductionEvent]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="IntroductionEvent.id",
    )

    __mapper_args__ = {"version_id_col": version}


class IntroductionEvent(Base):
    """One step of an application (submitted, accepted, assessed, decided, follow-up report)."""

    __tablename__ = "introduction_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("introduction_application.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    application: Mapped[IntroductionApplication] = relationship(back_populates="events")
