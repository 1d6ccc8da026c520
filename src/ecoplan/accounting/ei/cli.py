"""``ecoplan ei …``: compute EI from a table, derive the table from geodata, change clues."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecoplan.clikit import cli_actor, cli_engine, console, err_console, user_errors
from ecoplan.errors import ValidationError

if TYPE_CHECKING:  # the domain modules import pandas; keep `ecoplan --help` fast
    from ecoplan.accounting.ei.compute import EIResult
    from ecoplan.accounting.ei.method import Method
    from ecoplan.accounting.ei.table import IndicatorRow

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
    stored_previous: Annotated[
        bool, typer.Option("--stored-previous", help="与数据库中上一年同一方法的核算结果比较")
    ] = False,
    fmt: FormatOption = "json",
    out: OutOption = None,
) -> None:
    """由指标表计算各区域的五项分指数、EI、等级，以及与上年相比的变化和稳中向好判断。"""
    from ecoplan.accounting.ei.compute import compute
    from ecoplan.accounting.ei.method import load_method
    from ecoplan.accounting.ei.table import read_table

    chosen = load_method(method)
    rows = read_table(indicators, chosen)
    prior: list[IndicatorRow] | dict[str, float] | None = (
        read_table(previous, chosen) if previous else None
    )
    if prior is None and stored_previous:
        prior = _stored_previous(rows, chosen)
    results = compute(rows, chosen, previous=prior)
    emit(results, chosen, fmt, out)


def _stored_previous(rows: Sequence[IndicatorRow], method: Method) -> dict[str, float] | None:
    from ecoplan.accounting.ei.runs import previous_year_ei
    from ecoplan.db import session_scope

    years = {r.year for r in rows}
    if len(years) != 1:
        raise ValidationError("--stored-previous 要求指标表只含一个年份")
    with session_scope(cli_engine()) as session:
        found, note = previous_year_ei(session, years.pop(), method)
    if note:
        err_console.print(note)
    return found or None


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


@ei_app.command("derive")
@user_errors
def ei_derive(
    landuse: Annotated[Path, typer.Option("--landuse", help="土地利用栅格 GeoTIFF")],
    ndvi: Annotated[Path, typer.Option("--ndvi", help="生长季最大 NDVI 栅格 GeoTIFF")],
    tables: Annotated[
        list[Path], typer.Option("--table", help="区域表 CSV/xlsx(水资源、侵蚀、排放、降水等)")
    ],
    year: Annotated[int, typer.Option("--year", help="评价年份")],
    out: Annotated[Path, typer.Option("--out", help="输出的指标表 CSV")],
    mapping: Annotated[
        str, typer.Option("--mapping", help="类别映射: cas25 | esa-worldcover | modis-igbp | 文件")
    ] = "cas25",
    rivers: Annotated[Path | None, typer.Option("--rivers", help="河网矢量(线)")] = None,
    rivers_crs: Annotated[
        str | None, typer.Option("--rivers-crs", help="河网坐标系(如 gcj02)")
    ] = None,
    regions: Annotated[
        list[Path] | None, typer.Option("--regions", help="区划层文件，可多次给出")
    ] = None,
    levels: Annotated[
        list[str] | None,
        typer.Option("--level", help="与 --regions 一一对应: city|district|zone|township"),
    ] = None,
    regions_crs: Annotated[
        str | None, typer.Option("--regions-crs", help="区划坐标系(如 gcj02)")
    ] = None,
    ndvi_scale: Annotated[
        float | None, typer.Option("--ndvi-scale", help="NDVI 缩放系数(整数栅格默认 0.0001)")
    ] = None,
    method: MethodOption = "hj192-2015",
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="dask 集群地址 tcp://host:8786")
    ] = None,
) -> None:
    """由土地利用、NDVI、河网栅格/矢量和区域表派生 EI 指标表(不给 --regions 时用北京市及 16 区边界)。"""
    import json

    from ecoplan.accounting.ei.derive import derive_table

    frame, provenance = derive_table(
        landuse=landuse, ndvi=ndvi, tables=tables, year=year, mapping=mapping, rivers=rivers,
        rivers_crs=rivers_crs, regions=regions or [], levels=levels or [], regions_crs=regions_crs,
        ndvi_scale=ndvi_scale, method=method, scheduler=scheduler,
    )  # fmt: skip
    frame.to_csv(out, index=False, encoding="utf-8")
    sidecar = out.with_suffix(".provenance.json")
    sidecar.write_text(json.dumps(provenance, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"已写出 {out}({len(frame)} 个区域)及来源记录 {sidecar.name}")


@ei_app.command("run")
@user_errors
def ei_run(
    config: Annotated[Path, typer.Argument(help="核算配置文件 .toml")],
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="dask 集群地址 tcp://host:8786")
    ] = None,
) -> None:
    """按配置派生指标、计算 EI 并保存一次核算(含输入文件哈希和方法版本)。"""
    from ecoplan.accounting.ei.pipeline import load_config, run_assessment
    from ecoplan.db import session_scope

    parsed = load_config(config)
    with session_scope(cli_engine()) as session:
        outcome = run_assessment(session, parsed, actor=cli_actor(), scheduler=scheduler)
        run = outcome.run
        console.print(
            f"已保存第 {run.id} 次核算: {run.title}({run.method_key}，{len(run.results)} 个区域)"
        )
        for note in outcome.notes:
            console.print(f"  {note}")
        for row in run.results:
            change = (
                "" if row.delta is None else f"  Δ{row.delta:+.1f} {row.change_grade} {row.verdict}"
            )
            console.print(f"  {row.region_name}: EI {row.ei:.1f} {row.grade}{change}")


@ei_app.command("runs")
@user_errors
def ei_runs() -> None:
    """列出已保存的 EI 核算。"""
    from ecoplan.accounting.ei.models import RUN_STATES
    from ecoplan.accounting.ei.runs import list_runs
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        for run in list_runs(session):
            demo = "(演示)" if run.is_demo else ""
            console.print(
                f"{run.id}\t{run.year}\t{RUN_STATES[run.state]}\t{run.method_key}\t{run.title}{demo}"
            )


@ei_app.command("publish")
@user_errors
def ei_publish(run_id: Annotated[int, typer.Argument(help="核算编号")]) -> None:
    """发布一次核算(公开页面和公报使用已发布的结果)。"""
    from ecoplan.accounting.ei.runs import publish_run
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        run = publish_run(session, run_id, cli_actor())
        console.print(f"已发布第 {run.id} 次核算: {run.title}")


@ei_app.command("changes")
@user_errors
def ei_changes(
    before: Annotated[Path, typer.Option("--before", help="前一期土地利用栅格")],
    after: Annotated[Path, typer.Option("--after", help="后一期土地利用栅格")],
    out: Annotated[Path, typer.Option("--out", help="输出 GeoJSON")],
    mapping: Annotated[str, typer.Option("--mapping", help="类别映射")] = "cas25",
    min_area: Annotated[float, typer.Option("--min-area", help="最小图斑面积(平方米)")] = 3600.0,
    year: Annotated[int | None, typer.Option("--year", help="后一期年份(用于线索编号)")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="同时输出线索清单 xlsx")] = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="作为线索批次保存，供核查流程使用")
    ] = False,
) -> None:
    """比较两期土地利用，找出生态用地(林草水湿)变为建设用地或耕地的图斑，生成核查线索。"""
    import json

    from ecoplan.accounting.ei import changes
    from ecoplan.accounting.ei.mapping import load_mapping
    from ecoplan.geo.regions import beijing_layers

    class_map = load_mapping(mapping)
    _, districts = beijing_layers()
    patches = changes.find_changes(
        before, after, class_map, districts, min_area_m2=min_area, year=year
    )
    out.write_text(json.dumps(changes.to_geojson(patches), ensure_ascii=False), encoding="utf-8")
    if xlsx is not None:
        changes.write_xlsx(patches, xlsx)
    total = sum(p.area_m2 for p in patches) / 1e6
    console.print(f"找到 {len(patches)} 个变化图斑，共 {total:.3f} 平方千米，已写出 {out}")
    if store:
        from ecoplan.db import session_scope
        from ecoplan.units.service import sync_builtin

        title = f"{year or ''}年生态用地变化线索".lstrip("年")
        with session_scope(cli_engine()) as session:
            sync_builtin(session, actor=cli_actor())  # clues go to district governments
            batch = changes.store_batch(
                session, patches, title=title, source=changes.provenance(before, after, class_map, min_area),
                actor=cli_actor(),
            )  # fmt: skip
            console.print(f"已保存为线索批次 {batch.id}(待核实 {len(patches)} 条)")
