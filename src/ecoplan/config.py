"""Settings: one typed class, every field has an ``ECOPLAN_*`` environment variable.

``ECOPLAN_DATABASE_URL`` selects the database (an SQLite file under ``ECOPLAN_DATA_DIR`` by
default; ``postgresql+psycopg://...`` for PostgreSQL). A plain ``postgresql://`` URL is
rewritten to use the psycopg 3 driver, the only PostgreSQL driver we install.
"""

from __future__ import annotations

import getpass
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli:unknown"


class Settings(BaseSettings):
    """Runtime configuration read from the environment (or a ``.env`` file)."""

    model_config = SettingsConfigDict(env_prefix="ECOPLAN_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    """Where the SQLite database and stored files live (created on first use)."""

    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/ecoplan.db``."""

    actor: str = _default_actor()
    """Name written to the audit log for changes made from the command line."""

    auto_migrate: bool = True
    """Bring the database schema up to date before a command uses it."""

    review_threshold: float = 0.8
    """Measures parsed with a confidence below this go to the review queue."""

    @field_validator("database_url")
    @classmethod
    def _use_psycopg_driver(cls, value: str | None) -> str | None:
        if value and value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ecoplan.db').as_posix()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
