"""Shared pieces of the command line: consoles and the user-error wrapper.

Kept apart from ``cli.py`` so that domain sub-apps (``ecoplan.accounting.ei.cli`` …) can use
them without importing the whole command tree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine

if TYPE_CHECKING:
    from ecoplan.accounts.models import Account

from ecoplan.errors import EcoplanError

console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn an :class:`EcoplanError` into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except EcoplanError as exc:
            err_console.print(f"错误: {exc}", markup=False, highlight=False, soft_wrap=True)
            for row in getattr(exc, "rows", [])[:50]:
                err_console.print(f"  {row}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def cli_engine(raw: bool = False) -> Engine:
    """The configured database, migrated to head unless ``raw`` (restore migrates itself)."""
    from ecoplan import db
    from ecoplan.config import get_settings

    engine = db.make_engine()
    if get_settings().auto_migrate and not raw:
        db.ensure_schema(engine)
    return engine


def cli_actor() -> str:
    from ecoplan.config import get_settings

    return get_settings().actor


def parse_day(text: str | None, what: str = "日期") -> dt.date:
    """A YYYY-MM-DD option, or today (the demo clock when ``ECOPLAN_TODAY`` is set)."""
    from ecoplan.config import today
    from ecoplan.errors import ValidationError

    if not text:
        return today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{what}“{text}”格式应为 YYYY-MM-DD") from None


def cli_reader() -> Account:
    """A read-everything account for the command line (the operator of the machine); never
    stored, so it cannot log in or act on anything."""
    from ecoplan.accounts.models import Account

    return Account(username="cli", display_name="命令行", role="admin", password_hash="")
