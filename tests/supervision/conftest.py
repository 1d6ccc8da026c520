"""A seeded world for supervision tests: the sample plan, a monthly cycle and one account per
role, on SQLite and PostgreSQL (via the ``engine`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ecoplan import db
from ecoplan.accounts.service import create_account
from ecoplan.config import get_settings
from ecoplan.demo import sample_plan_path
from ecoplan.plans.parsers import PARSER_VERSION, parse_file
from ecoplan.plans.store import import_document
from ecoplan.supervision.periods import configure_cycle
from ecoplan.units import service

PASSWORD = "correct-horse-9"
# username -> (role, unit code)
ACCOUNTS = {
    "admin": ("admin", None),
    "coord": ("coordinator", None),
    "leader": ("leader", None),
    "ylljj": ("unit", "ylljj"),  # 市园林绿化局: leads 8.3, 8.4
    "sthjj": ("unit", "sthjj"),  # 市生态环境局: leads 1.1, 5.1
    "chaoyang": ("unit", "110105"),  # 朝阳区政府: responsible for 8.4 among 17
    "haidian": ("unit", "110108"),  # 海淀区政府
    "swj": ("unit", "swj"),  # 市水务局: not named in 8.4
}


@dataclass
class World:
    engine: Engine
    plan_id: int


def build_world(engine: Engine) -> World:
    """Load the sample plan, a monthly cycle and the ACCOUNTS into a migrated database."""
    with db.session_scope(engine) as session:
        service.sync_builtin(session, actor="test")
        result = import_document(session, parse_file(sample_plan_path()), actor="test",
                                 directory=service.directory(session),
                                 parser_version=PARSER_VERSION)  # fmt: skip
        configure_cycle(session, result.plan, actor="test")
        for username, (role, unit) in ACCOUNTS.items():
            create_account(session, username=username, password=PASSWORD, role=role,
                           unit_code=unit, actor="test")  # fmt: skip
        return World(engine, result.plan.id)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private ECOPLAN_DATA_DIR (evidence files land here)."""
    monkeypatch.setenv("ECOPLAN_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


@pytest.fixture
def world(engine: Engine, data_dir: Path) -> World:
    return build_world(engine)
