"""Alembic environment: the engine comes from ``ecoplan.db`` (never from an ini file)."""

from __future__ import annotations

from alembic import context

from ecoplan import models

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    context.run_migrations()
