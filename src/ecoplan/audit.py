"""Append-only change log used by every write path.

Each entry records who did what to which object, when, with the object's state before and
after as JSON. The table is append-only at the database level: migrations install triggers
on SQLite and PostgreSQL that refuse UPDATE and DELETE, so not even a bug can rewrite
history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ecoplan.db import Base, JSONType, UTCDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[Any] = mapped_column(JSONType, nullable=True)
    after: Mapped[Any] = mapped_column(JSONType, nullable=True)
    context: Mapped[Any] = mapped_column(JSONType, nullable=True)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: Any = None,
    after: Any = None,
    context: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit entry to the session's transaction (it commits with the change)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
        context=context,
    )
    session.add(entry)
    return entry


def entries(
    session: Session, *, entity_type: str | None = None, entity_id: str | None = None
) -> list[AuditEntry]:
    """Entries in the order they were written, optionally for one object."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(query))
