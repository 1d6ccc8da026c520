"""``ecoplan ei …``: compute EI from a table, derive the table from geodata, change clues."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecoplan.clikit import console, user_errors
from ecoplan.errors import ValidationError

if TYPE_CHECKING:  # the domain modules import pandas; keep `ecoplan --help` fast
    from ecoplan.accounting.ei.compute import EIResult
    from ecoplan.accounting.ei.method import Method

ei_app = typer.Typer(
    help="生态环境质量指数 EI: 计算、由地理数据派生指标、生态用地变化线索", no_args_is_help=True
)

MethodOption = Annotated[
    str, typer.Option("--method", help="内置方法 id(hj192-2015)或方法文件 .toml")
]
FormatOption = Annotated[str, typer.Option("--format", help="json | csv | xlsx")]
OutOption = Annotated[Path | None, typer.Option("--out", help="输出文件(xlsx 必须给出)")]


@ei_app.command("compute")
@user_errors
def ei_compute(
    indicators: Annotated[Path, typer.Option("--indicators", help="指标表 CSV/xlsx")],
    method: MethodOption = "hj192-2015",
    previous: Annotated[Path | None, typer.Option("--previous", help="上一年的指标表")] = None,
    fmt: FormatOption = "json",
    out: OutOption = None,
) -> None:
    """由指标表计算各区域的五项分指数、EI、等级，以及与上年相比的变化和稳中向好判断。"""
    from ecoplan.accounting.ei.compute import compute
    from ecoplan.accounting.ei.method import load_method
    from ecoplan.accounting.ei.table import read_table

    chosen = load_method(method)
    rows = read_table(indicators, chosen)
    prior = read_table(previous, chosen) if previous else None
    results = compute(rows, chosen, previous=prior)
    emit(results, chosen, fmt, out)


def emit(results: Sequence[EIResult], method: Method, fmt: str, out: Path | None) -> None:
    from ecoplan.accounting.ei.output import to_csv, to_json, write_xlsx

    if fmt == "xlsx":
        if out is None:
            raise ValidationError("xlsx 格式需要 --out 指定输出文件")
        write_xlsx(results, method, out)
        console.print(f"已写出 {out}")
        return
    if fmt not in {"json", "csv"}:
        raise ValidationError(f"不支持的输出格式“{fmt}”(json | csv | xlsx)")
    text = to_json(results, method) if fmt == "json" else to_csv(results, method)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"已写出 {out}")
