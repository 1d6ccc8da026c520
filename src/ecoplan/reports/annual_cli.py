"""``ecoplan report …``: documents generated from the data (the year-end summary report)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_engine, console, parse_day, user_errors

report_app = typer.Typer(help="报告：年度总结报告（docx / pdf）", no_args_is_help=True)


@report_app.command("annual")
@user_errors
def report_annual(
    out: Annotated[Path, typer.Option("--out", help="输出文件，.docx 或 .pdf（按后缀决定格式）")],
    year: Annotated[int | None, typer.Option("--year", help="年度，默认为计划的年度")] = None,
    plan: Annotated[
        str | None,
        typer.Option("--plan", help="计划 id、key 或标题的一部分；默认为该年度最新的计划"),
    ] = None,
    today: Annotated[
        str | None, typer.Option("--today", help="数据截止日期 YYYY-MM-DD，默认今天（督办时钟）")
    ] = None,
) -> None:
    """生成计划的年度总结报告（执行情况报告）：完成情况、量化目标、滞后事项、EI 与 GEP-R、线索与执法、生物多样性。"""
    from sqlalchemy import select

    from ecoplan.db import session_scope
    from ecoplan.errors import NotFoundError, ValidationError
    from ecoplan.plans.models import Plan
    from ecoplan.plans.store import plan_by_ref
    from ecoplan.reports.annual import render, report_for

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("docx", "pdf"):
        raise ValidationError(f"{out.name}: 输出文件的后缀须为 .docx 或 .pdf")
    day = parse_day(today, "--today")
    with session_scope(cli_engine()) as session:
        if plan is None and year is not None:
            # several years' plans may be stored: --year alone picks that year's newest plan
            chosen = session.scalars(
                select(Plan).where(Plan.year == year).order_by(Plan.id.desc()).limit(1)
            ).first()
            if chosen is None:
                raise NotFoundError(f"数据库中没有 {year} 年的计划")
        else:
            chosen = plan_by_ref(session, plan)
        report = report_for(session, chosen, year=year, today=day)
        data = render(report, fmt)
    out.write_bytes(data)
    facts = report.facts
    console.print(
        f"已写出 {out}：措施 {facts['measures']} 项，已办结 {facts['closed']} 项，"
        f"按期推进 {facts['on_track']} 项，滞后 {facts['late']} 项（办结率 {facts['completion']}）"
    )
    for warning in report.warnings:
        console.print(f"提示：{warning}")
