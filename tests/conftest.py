"""Database fixtures: every data-layer test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (trust auth, database ``test``). Each test gets
its own schema (dropped afterwards) so tests can run in parallel. When the server is not
reachable the PostgreSQL half is skipped with a message saying so.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from ecoplan import db

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PRODUCTION_HASHER: Any = None  # the product's own, kept while the tests use a cheap one


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


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """Argon2id with the smallest cost for the test run.

    The product hashes with argon2-cffi's RFC 9106 low-memory profile (64 MiB, 3 passes), about
    0.1 s a hash by design; the test worlds create eight accounts and log in again and again,
    which cost minutes of the suite. The same algorithm with 1 pass over 64 KiB keeps every
    code path (hash, verify, rehash check); test_production_password_hashing_cost checks the
    product's own parameters."""
    from argon2 import PasswordHasher

    from ecoplan.accounts import service

    global PRODUCTION_HASHER
    PRODUCTION_HASHER = production = service._hasher
    service._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    service._hasher = production


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head per test process, copied for each test that needs a
    migrated database: the copy is byte for byte what the migrations made, and saves the
    ~0.3 s of running them again. (PostgreSQL schemas are migrated each time: there is no
    cheap way to clone a schema, and its migrations are the ones that differ most.)"""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    template = db.make_engine(f"sqlite:///{path}")
    db.upgrade(template)
    template.dispose()
    return path


@pytest.fixture
def engine(bare_engine: Engine, migrated_sqlite: Path) -> Engine:
    """A database migrated to the latest schema."""
    if bare_engine.dialect.name == "sqlite" and bare_engine.url.database:
        shutil.copyfile(migrated_sqlite, bare_engine.url.database)
    else:
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
