"""``ecoplan bio invasive …``: species, sites, monitoring records, alerts, control actions, the
Beijing–Tianjin–Hebei exchange and the yearly summary (thin over ``monitoring.invasive*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_actor, cli_engine, console, parse_day, user_errors

invasive_app = typer.Typer(
    help="外来入侵物种: 监测点、监测记录、预警、防治与京津冀数据交换", no_args_is_help=True
)
TodayOption = Annotated[
    str | None, typer.Option("--today", help="按此日期检查记录日期并记为预警日期(YYYY-MM-DD)")
]


@invasive_app.command("sync")
@user_errors
def invasive_sync() -> None:
    """写入或更新规则文件中的物种(计划列明的 6 种;重复运行不产生变化)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive import sync_species
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        r = sync_species(session, actor=cli_actor())
        console.print(f"新增 {len(r.added)} 个、更新 {len(r.updated)} 个外来入侵物种")


@invasive_app.command("sites")
@user_errors
def invasive_sites(
    file: Annotated[
        Path, typer.Argument(help="监测点表 CSV/XLSX(监测点编号、名称、物种、类型、经度、纬度…)")
    ],
) -> None:
    """登记监测点(任何一行有误则全部不导入)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive import import_sites

    with session_scope(cli_engine()) as session:
        sites = import_sites(session, file, actor=cli_actor())
        console.print(f"已登记 {len(sites)} 个监测点")


@invasive_app.command("import")
@user_errors
def invasive_import(
    file: Annotated[Path, typer.Argument(help="监测记录表 CSV/XLSX")],
    today: TodayOption = None,
) -> None:
    """导入监测记录(全部无误才导入),随后运行预警规则。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive import import_records

    with session_scope(cli_engine()) as session:
        r = import_records(session, file, actor=cli_actor(), today=parse_day(today))
        alerts = r.alerts.alerts if r.alerts else []
        console.print(
            f"已导入 {len(r.records)} 条记录(阳性 {r.positives} 条),新预警 {len(alerts)} 条"
        )
        for alert in alerts:
            console.print(f"  {alert.message}", markup=False, soft_wrap=True)


@invasive_app.command("alerts")
@user_errors
def invasive_alerts(
    year: Annotated[int | None, typer.Option("--year", help="只检查该年的记录")] = None,
    today: TodayOption = None,
) -> None:
    """对已存记录重新运行预警规则(已发出的预警不会重复)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive_alerts import run_alerts

    with session_scope(cli_engine()) as session:
        run = run_alerts(session, today=parse_day(today), actor=cli_actor(), year=year)
        console.print(f"新预警 {len(run.alerts)} 条,通知 {len(run.notifications)} 条")
        for alert in run.alerts:
            console.print(f"  {alert.message}", markup=False, soft_wrap=True)


@invasive_app.command("control")
@user_errors
def invasive_control(
    species: Annotated[str, typer.Option("--species", help="物种代码,如 hyphantria_cunea")],
    day: Annotated[str, typer.Option("--date", help="防治日期 YYYY-MM-DD")],
    method: Annotated[str, typer.Option("--method", help="物理 | 化学 | 生物 | 生态 | 综合")],
    area: Annotated[float, typer.Option("--area", help="防治面积")],
    area_unit: Annotated[
        str, typer.Option("--area-unit", help="公顷 | 亩(1 亩 = 1/15 公顷)")
    ] = "公顷",
    site: Annotated[str | None, typer.Option("--site", help="监测点编号")] = None,
    lon: Annotated[float | None, typer.Option("--lon")] = None,
    lat: Annotated[float | None, typer.Option("--lat")] = None,
    detail: Annotated[str, typer.Option("--detail", help="措施说明")] = "",
    before: Annotated[float | None, typer.Option("--before", help="防治前监测值")] = None,
    after: Annotated[float | None, typer.Option("--after", help="防治后监测值")] = None,
    result: Annotated[str, typer.Option("--result", help="防治效果")] = "",
    unit: Annotated[str | None, typer.Option("--unit", help="实施单位代码")] = None,
) -> None:
    """登记一次防治行动。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive_control import add_control

    with session_scope(cli_engine()) as session:
        action = add_control(session, species_key=species, done_on=parse_day(day, "防治日期"), method=method,
                             area=area, area_unit=area_unit, site_code=site, lon=lon, lat=lat, detail=detail,
                             before_value=before, after_value=after, result=result, unit_code=unit,
                             actor=cli_actor())  # fmt: skip
        console.print(
            f"已登记防治行动 {action.id}: {action.area_ha:.4g} 公顷({action.district_name})"
        )


@invasive_app.command("export")
@user_errors
def invasive_export(
    out: Annotated[Path, typer.Argument(help="输出 CSV(UTF-8 带 BOM)")],
    species: Annotated[list[str], typer.Option("--species", help="物种代码,可多次给出")],
    year: Annotated[int, typer.Option("--year")],
) -> None:
    """导出北京市的监测记录,供京津冀联防联控交换。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive_exchange import export_records_csv

    with session_scope(cli_engine()) as session:
        data = export_records_csv(session, species, year)
    out.write_bytes(data)
    rows = data.count(b"\n") - 1  # one line per record after the header
    console.print(f"已写出 {rows} 条记录到 {out}")


@invasive_app.command("exchange-import")
@user_errors
def invasive_exchange_import(
    file: Annotated[Path, typer.Argument(help="天津、河北(或北京)发来的交换 CSV")],
    province: Annotated[str, typer.Option("--province", help="来源省份: 天津 | 河北 | 北京")],
    today: TodayOption = None,
) -> None:
    """导入京津冀交换记录(全部无误才导入)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive_exchange import import_exchange_csv

    with session_scope(cli_engine()) as session:
        r = import_exchange_csv(
            session, file, actor=cli_actor(), province=province, today=parse_day(today)
        )
        console.print(f"已导入 {len(r.records)} 条交换记录(阳性 {r.positives} 条)")


@invasive_app.command("summary")
@user_errors
def invasive_summary(
    year: Annotated[int, typer.Option("--year")],
    out: Annotated[Path | None, typer.Option("--out", help="输出 CSV")] = None,
) -> None:
    """按物种汇总: 监测点、记录、阳性记录、预警、防治行动与防治面积。"""
    import pandas as pd

    from ecoplan.db import session_scope
    from ecoplan.monitoring.invasive_control import species_summary

    with session_scope(cli_engine()) as session:
        rows = species_summary(session, year)
    table = pd.DataFrame([{"物种": r.name_cn, "监测点": r.sites, "记录": r.records, "阳性": r.positives,
                           "预警": r.alerts, "未处理预警": r.open_alerts, "防治行动": r.controls,
                           "防治面积(公顷)": round(r.area_ha, 4), "发生区": "、".join(r.districts)}
                          for r in rows])  # fmt: skip
    if out:
        table.to_csv(out, index=False, encoding="utf-8-sig")
        console.print(f"已写出 {len(table)} 行到 {out}")
    else:
        console.print(table.to_string(index=False))
