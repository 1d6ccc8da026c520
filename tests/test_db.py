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
    assert db.current_revision(bare_engine) == db.head_revision() == "0010"
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


def test_0005_gives_earlier_clues_their_kind_and_centroid(bare_engine: Engine) -> None:
    """A clue filed by revision 0004 (an EI change batch) gets its batch's kind, its centroid
    and its bounding box when 0005 adds those columns."""
    db.upgrade(bare_engine, "0004")
    square = '{"type": "Polygon", "coordinates": [[[116.0, 40.0], [116.2, 40.0], [116.2, 40.2], [116.0, 40.2], [116.0, 40.0]]]}'
    with bare_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO clue_batch (id, kind, title, source, created_by, created_at) "
            "VALUES (1, 'eco_land_change', 't', '{}', 'test', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO clue (id, batch_id, code, area_km2, geometry, facts, state, note) "
            "VALUES (1, 1, 'C1', 1.0, :g, '{}', 'pending', '')"
        ), {"g": square})  # fmt: skip
    db.upgrade(bare_engine)
    with db.session_scope(bare_engine) as session:
        clue = session.get(models.Clue, 1)
        assert clue is not None
        # the representative point of a square lies on its horizontal mid-line: lat = 40.1
        assert (clue.kind, round(clue.lat, 6), clue.bbox) == (
            "eco_land_change", 40.1, [116.0, 40.0, 116.2, 40.2],
        )  # fmt: skip
        assert (clue.activity_type, clue.refs, clue.version) == ("other", [], 1)
