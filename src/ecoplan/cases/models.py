"""Reference layers, clue batches, clues, their steps and their photos.

A reference layer is one version of a protected-space map (生态保护红线, a nature reserve with
its zones, …); a clue batch is one delivery of clues (a remote-sensing comparison, a ministry
spreadsheet, a patrol); a clue is a place on the map where something may be wrong, carried from
待核实 to 已销号 by the workflow in ``workflow.py``. Geometries are GeoJSON in WGS84; each clue
also keeps its centroid and bounding box as plain columns so that map and duplicate queries
can use ordinary indexes on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow

CLUE_STATES = {
    "pending": "待核实",
    "verifying": "核实中",
    "confirmed": "属实",
    "rejected": "不属实",
    "rectifying": "整改中",
    "accepting": "待验收",
    "closed": "已销号",
}

# kinds of reference layer: what a clue is checked against
LAYER_KINDS = {
    "redline": "生态保护红线",
    "reserve": "自然保护区",
    "protected_area": "其他自然保护地",
    "conservation": "生态涵养区",
    "township": "乡镇街道",
    "econ_zone": "北京经济技术开发区",  # its clues go to the 经开区管委会, not to 大兴/通州
}
ZONES = {"core": "核心区", "buffer": "缓冲区", "experimental": "实验区", "general": "一般控制区"}


class RefLayer(Base):
    """One version of a reference map. Loading the same (kind, name) again makes a new version
    and retires the old one; clues keep the ids of the features they were checked against."""

    __tablename__ = "ref_layer"
    __table_args__ = (UniqueConstraint("kind", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[Any] = mapped_column(JSONType)  # file name, SHA-256, CRS, repairs
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    features: Mapped[list[RefFeature]] = relationship(
        back_populates="layer", cascade="all, delete-orphan", order_by="RefFeature.id"
    )


class RefFeature(Base):
    __tablename__ = "ref_feature"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(
        ForeignKey("ref_layer.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    zone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # ZONES key
    props: Mapped[Any] = mapped_column(JSONType)
    area_km2: Mapped[float] = mapped_column(Float)
    geometry: Mapped[Any] = mapped_column(JSONType)
    layer: Mapped[RefLayer] = relationship(back_populates="features")


class ClueBatch(Base):
    __tablename__ = "clue_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # a key of clue_kinds.toml
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[Any] = mapped_column(JSONType)  # provenance: inputs, hashes, parameters
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    clues: Mapped[list[Clue]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="Clue.code"
    )


class Clue(Base):
    __tablename__ = "clue"
    __table_args__ = (
        UniqueConstraint("batch_id", "code"),
        Index("ix_clue_lon_lat", "lon", "lat"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("clue_batch.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40), default="", index=True)
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    township: Mapped[str | None] = mapped_column(String(100), nullable=True)
    area_km2: Mapped[float] = mapped_column(Float)
    geometry: Mapped[Any] = mapped_column(JSONType)  # GeoJSON geometry, WGS84
    lon: Mapped[float] = mapped_column(Float, default=0.0)  # centroid
    lat: Mapped[float] = mapped_column(Float, default=0.0)
    bbox: Mapped[Any] = mapped_column(JSONType, default=list)  # [minx, miny, maxx, maxy]
    facts: Mapped[Any] = mapped_column(JSONType)  # kind-specific: before/after class, permit …
    activity_type: Mapped[str] = mapped_column(String(20), default="other")
    source: Mapped[str] = mapped_column(String(20), default="")
    period: Mapped[str] = mapped_column(String(20), default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    refs: Mapped[Any] = mapped_column(JSONType, default=list)  # reference features touched
    related: Mapped[Any] = mapped_column(JSONType, default=list)  # earlier clues, same place
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("clue.id", ondelete="SET NULL"), nullable=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True, index=True)
    verifier_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    state_since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    plan: Mapped[Any] = mapped_column(JSONType, default=dict)  # 整改方案: who, what, by when
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    batch: Mapped[ClueBatch] = relationship(back_populates="clues")
    events: Mapped[list[ClueEvent]] = relationship(
        back_populates="clue", cascade="all, delete-orphan", order_by="ClueEvent.id"
    )
    photos: Mapped[list[CluePhoto]] = relationship(
        back_populates="clue", cascade="all, delete-orphan", order_by="CluePhoto.id"
    )

    __mapper_args__ = {"version_id_col": version}


class ClueEvent(Base):
    """One step of a clue's workflow: who moved it from which state to which, and why."""

    __tablename__ = "clue_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(12))
    to_state: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[Any] = mapped_column(JSONType, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    clue: Mapped[Clue] = relationship(back_populates="events")


class CluePhoto(Base):
    """A field photo: the stored file plus what its EXIF says about where and when it was
    taken, and the flags raised by comparing that with the clue."""

    __tablename__ = "clue_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clue.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    flags: Mapped[Any] = mapped_column(JSONType, default=list)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    clue: Mapped[Clue] = relationship(back_populates="photos")
