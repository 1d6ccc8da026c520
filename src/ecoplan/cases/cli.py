"""``ecoplan cases …``: reference layers, clue batches, clue steps, reminders, statistics, 台账."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.cases.enforcement_cli import enforcement_app
from ecoplan.cases.templand_cli import templand_app
from ecoplan.clikit import cli_actor, cli_engine, cli_reader, console, parse_day, user_errors

cases_app = typer.Typer(
    help="问题线索: 参照图层、线索批次导入、核查整改销号、催办、台账", no_args_is_help=True
)
layer_app = typer.Typer(
    help="参照图层(生态保护红线、自然保护地及功能区、乡镇街道…)", no_args_is_help=True
)
cases_app.add_typer(layer_app, name="layer")
cases_app.add_typer(templand_app, name="templand")
cases_app.add_typer(enforcement_app, name="enforcement")

KindOption = Annotated[str, typer.Option("--kind", help="线索类型(见 clue_rules.toml 的 kinds)")]
CrsOption = Annotated[
    str | None, typer.Option("--crs", help="覆盖文件声明的坐标系: EPSG 代码或 gcj02")
]
TodayOption = Annotated[str | None, typer.Option("--today", help="按此日期计算时限(YYYY-MM-DD)")]


@layer_app.command("load")
@user_errors
def layer_load(
    file: Annotated[Path, typer.Argument(help="GeoJSON / Shapefile / GeoPackage")],
    kind: Annotated[
        str,
        typer.Option("--kind", help="redline | reserve | protected_area | conservation | township"),
    ],
    name: Annotated[str, typer.Option("--name", help="图层名称，如 北京市生态保护红线")],
    crs: CrsOption = None,
    code_field: Annotated[str | None, typer.Option("--code-field")] = None,
    name_field: Annotated[str | None, typer.Option("--name-field")] = None,
    zone_field: Annotated[
        str | None, typer.Option("--zone-field", help="功能区字段(核心区/缓冲区/实验区)")
    ] = None,
) -> None:
    """导入参照图层的新版本(同名旧版本停用，已有线索仍指向旧要素)。"""
    from ecoplan.cases.layers import load_layer
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        layer = load_layer(session, file, kind=kind, name=name, actor=cli_actor(), crs=crs,
                           code_field=code_field, name_field=name_field, zone_field=zone_field)  # fmt: skip
        area = sum(f.area_km2 for f in layer.features)
        console.print(
            f"已导入图层 {layer.name} 第 {layer.version} 版: {len(layer.features)} 个要素，{area:.2f} km²"
        )
        for code in layer.source.get("repaired", []):
            console.print(f"  已修复无效几何: {code}")


@layer_app.command("list")
@user_errors
def layer_list() -> None:
    """列出在用的参照图层。"""
    from ecoplan.cases.layers import list_layers
    from ecoplan.cases.models import LAYER_KINDS
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        for layer in list_layers(session):
            console.print(
                f"{layer.id}\t{LAYER_KINDS[layer.kind]}\t{layer.name}\tv{layer.version}\t{len(layer.features)} 个要素"
            )


@cases_app.command("check")
@user_errors
def cases_check(
    file: Annotated[
        Path, typer.Argument(help="GeoJSON / Shapefile / GeoPackage(每个要素分别叠加)")
    ],
    crs: CrsOption = None,
) -> None:
    """把任意几何与在用参照图层叠加: 是否在内、重叠面积、所在功能区。"""
    import shapely.geometry

    from ecoplan.cases.layers import check_geometry
    from ecoplan.cases.models import LAYER_KINDS, ZONES
    from ecoplan.db import session_scope
    from ecoplan.geo.regions import read_vector_wgs84

    _, geoms = read_vector_wgs84(file, crs)
    with session_scope(cli_engine()) as session:
        for i, geom in enumerate(geoms, start=1):
            touched = check_geometry(session, shapely.geometry.mapping(geom))
            console.print(f"第 {i} 个要素: {'不涉及任何参照图层' if not touched else ''}")
            for t in touched:
                zone = f" {ZONES.get(t['zone'], t['zone'])}" if t["zone"] else ""
                inside = "(全部在内)" if t["inside"] else ""
                console.print(
                    f"  {LAYER_KINDS[t['kind']]} {t['layer']} {t['name']}{zone}: {t['overlap_m2']:.0f} ㎡{inside}"
                )


@cases_app.command("import")
@user_errors
def cases_import(
    file: Annotated[
        Path, typer.Argument(help="GeoJSON / Shapefile / GeoPackage / XLSX(经度、纬度列)")
    ],
    kind: KindOption,
    title: Annotated[
        str, typer.Option("--title", help="批次名称，如 2024年第一季度红线人类活动线索")
    ],
    crs: CrsOption = None,
    today: TodayOption = None,
) -> None:
    """导入一批线索: 落区、叠加参照图层、查找同位置早期线索；全部通过才入库。"""
    from ecoplan.cases.batches import import_file
    from ecoplan.db import session_scope
    from ecoplan.units.service import sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())  # clues go to district governments
        result = import_file(
            session,
            file,
            kind=kind,
            title=title,
            actor=cli_actor(),
            crs=crs,
            today=parse_day(today),
        )
        console.print(f"已导入批次 {result.batch.id}: {result.count} 条线索，{result.in_redline} 条涉及生态保护红线，"
                      f"{result.duplicates} 条与早期线索同位置")  # fmt: skip
        for district, n in sorted(result.by_district.items(), key=lambda kv: -kv[1]):
            console.print(f"  {district}: {n}")
        if result.repaired:
            console.print(
                f"  已修复无效几何 {len(result.repaired)} 个: {'、'.join(result.repaired[:10])}"
            )


@cases_app.command("stats")
@user_errors
def cases_stats(today: TodayOption = None) -> None:
    """线索统计: 按类型、区、状态，及逾期数。"""
    from ecoplan.cases.models import CLUE_STATES
    from ecoplan.cases.queries import stats
    from ecoplan.cases.rules import load_rules
    from ecoplan.db import session_scope

    rules = load_rules()
    with session_scope(cli_engine()) as session:
        s = stats(session, cli_reader(), parse_day(today))
        console.print(f"共 {s.total} 条，逾期 {s.late} 条")
        for kind, states in s.by_kind.items():
            label = rules.kinds[kind].label if kind in rules.kinds else kind
            parts = "，".join(f"{CLUE_STATES[k]} {n}" for k, n in states.items())
            console.print(f"  {label}: {parts}")
        for district, states in sorted(s.by_district.items()):
            console.print(
                f"  {district}: {sum(states.values())} 条，逾期 {s.late_by_district.get(district, 0)}"
            )


@cases_app.command("ledger")
@user_errors
def cases_ledger(
    out: Annotated[Path, typer.Argument(help="输出 .xlsx")],
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    today: TodayOption = None,
) -> None:
    """导出线索台账(xlsx)。"""
    from ecoplan.cases.queries import ClueFilter, export_ledger
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        n = export_ledger(session, cli_reader(), out, parse_day(today), ClueFilter(kind=kind))
        console.print(f"已导出 {n} 条线索到 {out}")


@cases_app.command("remind")
@user_errors
def cases_remind(today: TodayOption = None) -> None:
    """按线索办理时限发出临近提醒、到期催办、逾期督办(同一天重复运行不重复发送)。"""
    from ecoplan.cases.reminders import run_clue_reminders
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        run = run_clue_reminders(session, parse_day(today), actor=cli_actor())
        console.print(
            f"通知 {len(run.notifications)} 条，督办单 {len(run.orders)} 张，解除 {run.resolved} 张"
        )
        for note in run.notifications:
            console.print(f"  {note.message}")


patrol_app = typer.Typer(
    help="自然保护地巡查: 导入 GPX 轨迹(航点记为巡查发现线索)、统计巡查频次", no_args_is_help=True
)
cases_app.add_typer(patrol_app, name="patrol")


@patrol_app.command("import")
@user_errors
def patrol_import(
    file: Annotated[Path, typer.Argument(help="GPX 轨迹文件")],
    area: Annotated[
        str, typer.Option("--area", help="保护地(功能区)要素代码，见 cases layer list")
    ],
    patroller: Annotated[str, typer.Option("--patroller", help="巡查人")],
    unit: Annotated[str | None, typer.Option("--unit", help="巡查单位代码")] = None,
) -> None:
    """导入一次巡查: 轨迹长度、在保护地内的比例；航点记为巡查发现线索。"""
    from ecoplan.cases.patrol_findings import import_patrol_with_findings
    from ecoplan.cases.patrols import area_feature_by_code
    from ecoplan.db import session_scope
    from ecoplan.units.service import find_unit, sync_builtin

    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        feature = area_feature_by_code(session, area)
        unit_id = find_unit(session, unit).id if unit else None
        result = import_patrol_with_findings(session, file.read_bytes(), file.name, area_feature_id=feature.id,
                                             patroller=patroller, unit_id=unit_id, actor=cli_actor())  # fmt: skip
        p = result.patrol
        console.print(
            f"已导入巡查 {p.id}: {p.area_name}，{p.length_km:.2f} km，保护地内 {p.inside_share:.0%}"
        )
        if result.findings:
            console.print(
                f"  航点记为巡查发现线索 {result.findings.count} 条(批次 {result.findings.batch.id})"
            )


@patrol_app.command("frequency")
@user_errors
def patrol_frequency_cmd(
    year: Annotated[int | None, typer.Option("--year")] = None, today: TodayOption = None
) -> None:
    """各保护地各月巡查次数与规定频次。"""
    from ecoplan.cases.patrols import patrol_frequency
    from ecoplan.db import session_scope

    day = parse_day(today)
    with session_scope(cli_engine()) as session:
        for m in patrol_frequency(session, year or day.year, today=day):
            verdict = {True: "达标", False: "未达标", None: "—"}[m.met]
            console.print(
                f"{m.name}\t{m.month} 月\t{m.patrols}/{m.required} 次\t{m.km:.1f} km\t{verdict}"
            )
