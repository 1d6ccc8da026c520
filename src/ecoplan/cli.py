"""The ``ecoplan`` command: one Typer app with a sub-app per domain.

Commands are thin: they parse arguments, call domain functions inside one database
transaction, and print. Errors meant for users (:class:`~ecoplan.errors.EcoplanError`)
are printed as one line on stderr with a non-zero exit code, never as a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from ecoplan.errors import EcoplanError

app = typer.Typer(help="EcoPlan:生态保护行动计划的督办与核算", no_args_is_help=True)
plan_app = typer.Typer(help="计划:解析、导入、修订、导出、核对", no_args_is_help=True)
units_app = typer.Typer(help="单位名录", no_args_is_help=True)
db_app = typer.Typer(help="数据库迁移", no_args_is_help=True)
app.add_typer(plan_app, name="plan")
app.add_typer(units_app, name="units")
app.add_typer(db_app, name="db")

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


@plan_app.command("parse")
@user_errors
def plan_parse(
    file: Annotated[Path, typer.Argument(help="计划文件:PDF / DOCX / XLSX / CSV / TXT")],
    fmt: Annotated[str, typer.Option("--format", help="输出格式:json 或 table")] = "json",
) -> None:
    """解析计划文件并输出(不写数据库)。"""
    from ecoplan.plans.parsers import parse_file

    document = parse_file(file)
    if fmt == "json":
        sys.stdout.write(json.dumps(document.to_json_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    _print_document_table(document)


def _print_document_table(document: Any) -> None:
    table = Table(title=f"{document.title}({document.year or '年份未知'})")
    for column in ("编号", "工作措施", "完成时限", "牵头部门", "主责单位", "协办单位", "可信度"):
        table.add_column(column)
    for measure in document.measures():
        table.add_row(
            measure.id,
            measure.text[:24] + ("…" if len(measure.text) > 24 else ""),
            measure.deadline.raw or "",
            "、".join(measure.lead),
            "、".join(measure.responsible),
            "、".join(measure.assisting),
            f"{measure.confidence:.2f}",
        )
    console.print(table)


def main() -> None:
    app()
