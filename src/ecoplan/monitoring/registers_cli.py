"""``ecoplan germplasm …`` (task 4) and ``ecoplan station …`` (task 9): thin adapters over
``ecoplan.monitoring.germplasm`` and ``ecoplan.monitoring.stations``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_actor, cli_engine, console, parse_day, user_errors

germplasm_app = typer.Typer(
    help="种质资源: 种质库名录、种质登记导入、收集进度、年度报告", no_args_is_help=True
)
station_app = typer.Typer(
    help="生态监测站: 站点、时间序列导入、自动质控、导出", no_args_is_help=True
)
TodayOption = Annotated[
    str | None, typer.Option("--today", help="按此日期计算(YYYY-MM-DD,默认今天)")
]


@germplasm_app.command("repos")
@user_errors
def germplasm_repos(
    load: Annotated[
        Path | None, typer.Option("--load", help="种质库名录 CSV/XLSX(编码、名称、类型、类别…)")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="名录中没有的种质库改为停用")] = False,
    seed: Annotated[
        bool, typer.Option("--seed", help="补齐内置的占位种质库(3个国家库、2个良种基地)")
    ] = False,
) -> None:
    """列出种质库;--seed 补齐内置占位记录,--load 按编码新增或更新(任何一行有误则全部不导入)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.germplasm import (
        is_placeholder,
        load_repositories,
        repositories,
        seed_repositories,
    )
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        if seed:
            r = seed_repositories(session, actor=cli_actor())
            console.print(f"新增占位种质库 {r.added} 个")
        if load:
            r = load_repositories(session, load, actor=cli_actor(), replace=replace)
            console.print(f"新增 {r.added} 个、更新 {r.updated} 个、停用 {r.deactivated} 个种质库")
        for repo in repositories(session):
            mark = "(占位)" if is_placeholder(repo) else ""
            state = "" if repo.active else "[停用]"
            console.print(f"{repo.code}\t{repo.category}\t{repo.kind}\t{repo.name}{mark}{state}",
                          markup=False, highlight=False)  # fmt: skip


@germplasm_app.command("import")
@user_errors
def germplasm_import(
    file: Annotated[Path, typer.Argument(help="种质登记表 CSV/XLSX")],
    unit: Annotated[str | None, typer.Option("--unit", help="未填单位的行归属的单位代码")] = None,
    today: TodayOption = None,
) -> None:
    """导入种质登记表(任何一行有误则全部不导入);未匹配名录的物种照常登记并列出。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.germplasm import import_accessions
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        r = import_accessions(
            session, file, actor=cli_actor(), unit_code=unit, today=parse_day(today)
        )
        console.print(f"已登记 {r.added} 份种质: "
                      + "、".join(f"{c} {n} 份" for c, n in r.by_category.items()))  # fmt: skip
        for name, n in list(r.unmatched.items())[:20]:
            console.print(f"  未匹配物种名录 {name}: {n} 份", markup=False)
        for name, matched in list(r.fuzzy.items())[:20]:
            console.print(f"  近似匹配 {name} → {matched}", markup=False)


@germplasm_app.command("progress")
@user_errors
def germplasm_progress(
    year: Annotated[int, typer.Option("--year")],
    category: Annotated[
        str, typer.Option("--category", help="林草 | 农作物 | 畜禽 | 水产")
    ] = "林草",
    today: TodayOption = None,
) -> None:
    """某年某类种质资源收集量与目标(计划措施文本中的目标,否则用内置参数)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.germplasm import progress

    with session_scope(cli_engine()) as session:
        p = progress(session, year, category=category, today=parse_day(today))
    if p.target is None:
        console.print(f"{year} 年{category}: 已收集 {p.collected} 份,无量化目标")
    else:
        console.print(f"{year} 年{category}: 已收集 {p.collected} / {p.target:g} 份"
                      f"({100 * (p.share or 0):.1f}%),截至 {p.as_of} 应完成 {p.expected or 0:.0f} 份,"
                      f"{p.verdict}", markup=False)  # fmt: skip
        console.print(f"  目标来源: {p.target_source}", markup=False)
    console.print("  各月: " + " ".join(f"{m + 1}月 {n}" for m, n in enumerate(p.by_month)))
    for unit, n in p.by_unit:
        console.print(f"  {unit}: {n}", markup=False)


@germplasm_app.command("report")
@user_errors
def germplasm_report(
    out: Annotated[Path, typer.Argument(help="输出 .docx")],
    year: Annotated[int, typer.Option("--year")],
    today: TodayOption = None,
) -> None:
    """生成种质资源保护年度报告(Word)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.germplasm import annual_report_docx

    with session_scope(cli_engine()) as session:
        data = annual_report_docx(session, year, today=parse_day(today))
    out.write_bytes(data)
    console.print(f"已写出 {out}")


@station_app.command("add")
@user_errors
def station_add(
    code: Annotated[str, typer.Argument(help="站点编码")],
    name: Annotated[str, typer.Argument(help="站点名称")],
    kind: Annotated[str, typer.Option("--kind", help="综合监测站 | 水质自动站 | …")] = "",
    lon: Annotated[float | None, typer.Option("--lon")] = None,
    lat: Annotated[float | None, typer.Option("--lat")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="运维单位代码")] = None,
) -> None:
    """登记一个监测站。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.stations import add_station
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        station = add_station(session, code=code, name=name, kind=kind, lon=lon, lat=lat,
                              unit_code=unit, actor=cli_actor())  # fmt: skip
        console.print(f"已登记监测站 {station.code} {station.name}", markup=False)


@station_app.command("import")
@user_errors
def station_import(
    file: Annotated[Path, typer.Argument(help="时间序列 CSV(长表或宽表)")],
    station: Annotated[str, typer.Option("--station", help="站点编码")],
) -> None:
    """导入监测数据(任何一行有误则全部不导入),并对涉及参数的整个序列重新质控。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.stations import import_series

    with session_scope(cli_engine()) as session:
        r = import_series(session, file, station_code=station, actor=cli_actor())
    console.print(f"读入 {r.rows} 个值: 新增 {r.added}、更新 {r.updated}、未变 {r.unchanged},"
                  f"缺测 {r.missing}")  # fmt: skip
    for line in r.conversions + r.notes:
        console.print(f"  {line}", markup=False)
    for parameter, flags in r.flags.items():
        if flags:
            console.print(f"  {parameter}: " + "、".join(f"{k} {v}" for k, v in flags.items()))


@station_app.command("qc")
@user_errors
def station_qc(
    station: Annotated[str, typer.Option("--station", help="站点编码")],
    recompute: Annotated[
        bool, typer.Option("--recompute", help="按当前阈值重新质控全部序列")
    ] = False,
    parameter: Annotated[
        str | None, typer.Option("--parameter", help="列出该参数的数据缺口")
    ] = None,
) -> None:
    """各参数的质控标记、人工判定和缺口统计。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.stations import gaps, qc_summary, recompute_qc

    with session_scope(cli_engine()) as session:
        if recompute:
            recompute_qc(session, station, actor=cli_actor())
        table = qc_summary(session, station)
        found = gaps(session, station, parameter) if parameter else []
    console.print(table.to_string(index=False) if not table.empty else "该站尚无数据")
    for g in found:
        console.print(f"  缺口 {g.after:%Y-%m-%d %H:%M} → {g.before:%Y-%m-%d %H:%M}"
                      f"({g.hours:g} 小时,约缺 {g.missing} 个值)")  # fmt: skip


@station_app.command("export")
@user_errors
def station_export(
    out: Annotated[Path, typer.Argument(help="输出 CSV")],
    station: Annotated[str, typer.Option("--station", help="站点编码")],
    parameter: Annotated[str | None, typer.Option("--parameter")] = None,
    start: Annotated[str | None, typer.Option("--start", help="起始日期 YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--end", help="截止日期 YYYY-MM-DD(含当日)")] = None,
) -> None:
    """导出监测值及质控标记(CSV,可再导入)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.stations import export_csv

    first = _day(start, "起始日期")
    last = _day(end, "截止日期")
    with session_scope(cli_engine()) as session:
        data = export_csv(session, station, parameter=parameter, start=first, end=last)
    out.write_bytes(data)
    console.print(f"已写出 {out}")


def _day(text: str | None, what: str) -> dt.date | None:
    return parse_day(text, what) if text else None
