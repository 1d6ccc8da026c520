"""Settings: one typed class, every field has an ``ECOPLAN_*`` environment variable.

``ECOPLAN_DATABASE_URL`` selects the database (an SQLite file under ``ECOPLAN_DATA_DIR`` by
default; ``postgresql+psycopg://...`` for PostgreSQL). A plain ``postgresql://`` URL is
rewritten to use the psycopg 3 driver, the only PostgreSQL driver we install.
"""

from __future__ import annotations

import datetime as dt
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

    evidence_max_bytes: int = 20 * 1024 * 1024
    """Largest evidence file accepted (bytes)."""

    import_max_bytes: int = 200 * 1024 * 1024
    """Largest clue-batch file accepted through the web (bytes)."""

    today: dt.date | None = None
    """Freeze "today" for reminders and traffic lights (the demo runs on its plan's year)."""

    remind_interval_minutes: int = 60
    """How often the web server runs the reminder job (0 turns it off)."""

    web_threads: int = 4
    """Worker threads per server process for request handlers."""

    smtp_host: str | None = None
    """SMTP server for e-mail notifications; none means notifications stay in the app."""

    smtp_port: int = 25
    smtp_sender: str = "ecoplan@localhost"

    secure_cookies: bool = False
    """Mark session cookies Secure (set when served over HTTPS)."""

    dask_scheduler: str | None = None
    """Address of a dask.distributed scheduler (``tcp://host:8786``) for raster work;
    none runs it on local threads."""

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


# Beijing time: China has had no daylight saving since 1991, so a fixed offset is exact. Dates
# users see (photo times, patrol months, 台账 times) are on it.
BEIJING_TZ = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")


def today() -> dt.date:
    """The supervision clock: ``ECOPLAN_TODAY`` when set, else the local date."""
    return get_settings().today or dt.date.today()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
