"""Database fixtures: every data-layer test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (trust auth, database ``test``). Each test gets
its own schema (dropped afterwards) so tests can run in parallel. When the server is not
reachable the PostgreSQL half is skipped with a message saying so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ecoplan import db

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_reason() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "not reachable" for the test run
        return (
            f"PostgreSQL 127.0.0.1:5432 unreachable, PostgreSQL half skipped: {type(exc).__name__}"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (no schema yet)."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
        yield engine
        engine.dispose()
        return
    with pg_schema_engine() as engine:
        yield engine


@contextmanager
def pg_schema_engine(prefix: str = "t") -> Iterator[Engine]:
    """An engine on a fresh PostgreSQL schema, dropped afterwards; skips when unreachable."""
    reason = _pg_reason()
    if reason:
        pytest.skip(reason)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A database migrated to the latest schema."""
    db.upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private ECOPLAN_DATA_DIR with its own SQLite file, for commands run in-process."""
    from ecoplan.config import get_settings

    monkeypatch.setenv("ECOPLAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("ECOPLAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


def run_cli(*args: str) -> str:
    """Run ``ecoplan ARGS`` in-process; fail the test with its output unless it exits 0."""
    from typer.testing import CliRunner

    from ecoplan.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output
