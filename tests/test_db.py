"""Migrations and the append-only audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from ecoplan import audit, db, models


def test_upgrade_downgrade_upgrade(bare_engine: Engine) -> None:
    db.upgrade(bare_engine)
    assert db.current_revision(bare_engine) == db.head_revision() == "0004"
    tables = set(inspect(bare_engine).get_table_names())
    assert {
        "audit_log",
        "plan",
        "plan_revision",
        "measure",
        "measure_unit",
        "unit",
        "unit_alias",
        "account",
        "report",
        "evidence",
        "closure",
        "supervision_order",
        "ei_run",
        "ei_result",
        "clue_batch",
        "clue",
    } <= tables
    db.downgrade(bare_engine, "base")
    assert "measure" not in inspect(bare_engine).get_table_names()
    db.upgrade(bare_engine)
    assert db.current_revision(bare_engine) == db.head_revision()


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    assert diff == []


def test_audit_log_is_append_only(engine: Engine) -> None:
    with db.session_scope(engine) as session:
        audit.record(
            session, actor="test", action="x.create", entity_type="x", entity_id=1, after={"a": 1}
        )
    for statement in ("UPDATE audit_log SET actor = 'evil'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with db.session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(models.AuditEntry)) == 1
        (entry,) = audit.entries(session, entity_type="x")
        assert (entry.actor, entry.after, entry.at.tzinfo is not None) == ("test", {"a": 1}, True)
