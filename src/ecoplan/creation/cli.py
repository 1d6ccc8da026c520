"""``ecoplan creation …``: a district's checklist with verdicts and gaps, the xlsx import of
checklist values, and the city overview (titles, completeness, gaps, tasks, post-evaluations)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecoplan.clikit import cli_actor, cli_engine, cli_reader, console, parse_day, user_errors

creation_app = typer.Typer(help="示范创建: 生态文明建设示范区和“两山”基地的创建指标、年度任务与后评估",
                           no_args_is_help=True)  # fmt: skip
YearOption = Annotated[int | None, typer.Option("--year", help="年度(默认督办时钟的年度)")]
TodayOption = Annotated[str | None, typer.Option("--today", help="督办时钟(YYYY-MM-DD)")]


@creation_app.command("checklist")
@user_errors
def creation_checklist(
    district: Annotated[str, typer.Argument(help="区名或区划代码(如 延庆区、110119)")],
    year: YearOption = None,
    program: Annotated[
        str | None, typer.Option("--program", help="示范区 或 两山基地(默认两者)")
    ] = None,
    today: TodayOption = None,
) -> None:
    """列出一个区的创建指标:要求、当前值(填报或系统计算)、判定及差距清单。"""
    from ecoplan.creation import access
    from ecoplan.creation.params import config
    from ecoplan.creation.status import district_status
    from ecoplan.creation.titles import program_of
    from ecoplan.db import session_scope

    day = parse_day(today)
    with session_scope(cli_engine()) as session:
        code, name = access.resolve_district(session, district)
        s = district_status(session, code, name, year or day.year, day)
        wanted = [program_of(program)] if program else list(s.checklists)
        for key in wanted:
            checklist = s.checklists[key]
            title = s.titles.get(key)
            held = f"{title.year_awarded} 年命名" if title else "未获称号"
            table = Table(title=f"{name} {config().program[key].name}({held})"
                          f" {checklist.year} 年 · 地形类别 {s.terrain} · 指标体系 {config().label}")  # fmt: skip
            for column in ("编号", "类别", "指标", "要求", "当前值", "来源", "判定", "依据"):
                table.add_column(column)
            for r in checklist.rows:
                table.add_row(r.spec.code, f"{r.spec.area}/{r.spec.binding_label}", r.spec.name,
                              r.required, r.value, r.origin or "—", r.verdict, r.reason)  # fmt: skip
            console.print(table)
            counts = checklist.counts
            console.print(f"已判定 {checklist.filled}/{len(checklist.rows)},达标 {counts['达标']},"
                          f"未达标 {counts['未达标']}(约束性 {checklist.binding_missed}),待填报 {counts['待填报']}")  # fmt: skip
            for r in checklist.gaps[:20]:
                console.print(f"  差距 {r.spec.code} {r.spec.name}({r.spec.binding_label}): {r.verdict},{r.reason}",
                              markup=False, highlight=False)  # fmt: skip


@creation_app.command("import")
@user_errors
def creation_import(
    file: Annotated[
        Path, typer.Argument(help="XLSX:指标编号、数值、来源[、日期、上年值、佐证说明、区]")
    ],
    district: Annotated[
        str | None, typer.Option("--district", help="文件无“区”列时,数值所属的区")
    ] = None,
    year: YearOption = None,
    today: TodayOption = None,
) -> None:
    """导入一个区的创建指标数值(任一行有误则全部不导入,逐行列出问题)。"""
    from ecoplan.creation.values import import_checklist
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        r = import_checklist(session, file, account=cli_reader(), district=district, year=year,
                             actor=cli_actor(), today=parse_day(today))  # fmt: skip
        console.print(f"已导入 {len(r.values)} 个指标数值({'、'.join(r.districts)})")


@creation_app.command("status")
@user_errors
def creation_status(year: YearOption = None, today: TodayOption = None) -> None:
    """全市概览:各区称号、创建指标填报与差距、年度任务、后评估。"""
    from ecoplan.creation.models import PROGRAM_SHORT
    from ecoplan.creation.posteval import STATES
    from ecoplan.creation.status import overview
    from ecoplan.db import session_scope

    day = parse_day(today)
    with session_scope(cli_engine()) as session:
        table = Table(title=f"{year or day.year} 年示范创建概览(截至 {day.isoformat()})")
        for column in ("区", "称号", "示范区指标", "两山基地指标", "年度任务", "后评估"):
            table.add_column(column)
        for s in overview(session, cli_reader(), year or day.year, day):
            held = "、".join(f"{PROGRAM_SHORT[p]}({t.year_awarded})" for p, t in s.titles.items())
            cells = []
            for key in ("demo_zone", "two_mountains"):
                c = s.checklists[key]
                cells.append(f"{c.filled}/{len(c.rows)} 判定\n达标 {c.counts['达标']}"
                             f"\n约束未达 {c.binding_missed}")  # fmt: skip
            tasks = (
                f"{s.done_tasks}/{len(s.tasks)} 完成" + (f",逾期 {s.late}" if s.late else "")
                if s.tasks
                else "—"
            )
            evals = "、".join(f"{p.year} {STATES[p.state]}" for p in s.post_evaluations) or "—"
            table.add_row(s.name, held or "—", *cells, tasks, evals)
        console.print(table)
