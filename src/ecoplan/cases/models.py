"""Clue batches and clues: a place on the map where something may be wrong, to be verified.

A batch is one delivery (a remote-sensing comparison, a spreadsheet from a ministry); each
clue has its geometry (GeoJSON, WGS84), area, district and the facts that raised it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
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


class ClueBatch(Base):
    __tablename__ = "clue_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # e.g. eco_land_change
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[Any] = mapped_column(JSONType)  # provenance: inputs, hashes, parameters
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    clues: Mapped[list[Clue]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="Clue.code"
    )


class Clue(Base):
    __tablename__ = "clue"
    __table_args__ = (UniqueConstraint("batch_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("clue_batch.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    district_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    district_name: Mapped[str | None] = mapped_column(String(60), nullable=True)
    area_km2: Mapped[float] = mapped_column(Float)
    geometry: Mapped[Any] = mapped_column(JSONType)  # GeoJSON geometry, WGS84
    facts: Mapped[Any] = mapped_column(JSONType)  # e.g. before/after class
    state: Mapped[str] = mapped_column(String(12), default="pending")
    note: Mapped[str] = mapped_column(Text, default="")
    batch: Mapped[ClueBatch] = relationship(back_populates="clues")
