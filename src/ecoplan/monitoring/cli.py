"""``ecoplan bio …``: species list, survey sheets and Darwin Core Archives, diversity indices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_actor, cli_engine, console, parse_day, user_errors
from ecoplan.monitoring.invasive_cli import invasive_app
from ecoplan.monitoring.registers_cli import germplasm_app, station_app

bio_app = typer.Typer(
    help="生物多样性: 物种名录、调查数据(达尔文核心标准)、多样性指数", no_args_is_help=True
)
bio_app.add_typer(invasive_app, name="invasive")
bio_app.add_typer(germplasm_app, name="germplasm")
bio_app.add_typer(station_app, name="station")
TodayOption = Annotated[
    str | None, typer.Option("--today", help="按此日期检查记录日期(YYYY-MM-DD)")
]


@bio_app.command("taxa")
@user_errors
def bio_taxa(
    file: Annotated[Path, typer.Argument(help="物种名录 CSV(学名、中文名、保护级别、异名…)")],
) -> None:
    """导入或更新物种名录(任何一行有误则全部不导入)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.taxa import load_taxa_csv

    with session_scope(cli_engine()) as session:
        r = load_taxa_csv(session, file, actor=cli_actor())
        console.print(f"新增 {r.added} 个、更新 {r.updated} 个物种，异名 {r.names} 个")


@bio_app.command("import")
@user_errors
def bio_import(
    file: Annotated[Path, typer.Argument(help="调查表 CSV/XLSX，或达尔文核心存档 .zip")],
    protocol: Annotated[
        str,
        typer.Option(
            "--protocol", help="bird_transect | bird_point | fish_gear | fungi_plot | incidental"
        ),
    ],
    title: Annotated[str, typer.Option("--title")],
    year: Annotated[int, typer.Option("--year")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="提交单位代码(如区政府 110108)")
    ] = None,
    today: TodayOption = None,
) -> None:
    """导入一份调查数据: 按规程检查、匹配物种、逐条标注质量问题。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.exchange import import_archive
    from ecoplan.monitoring.surveys import import_survey
    from ecoplan.units.service import sync_builtin

    reader = import_archive if file.suffix.lower() == ".zip" else import_survey
    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())
        r = reader(session, file, protocol=protocol, title=title, year=year, actor=cli_actor(), unit_code=unit,
                   today=parse_day(today))  # fmt: skip
        console.print(f"已导入调查 {r.survey.id}: {r.events} 个采样事件，{r.occurrences} 条记录")
        for code, n in sorted(r.flags.items(), key=lambda kv: -kv[1]):
            console.print(f"  {code}: {n}")
        for name, n in list(r.unmatched.items())[:20]:
            console.print(f"  未匹配物种 {name}: {n} 条")


@bio_app.command("export")
@user_errors
def bio_export(
    survey: Annotated[int, typer.Argument(help="调查编号")],
    out: Annotated[Path, typer.Argument(help="输出 .zip(达尔文核心存档)")],
    publisher: Annotated[str, typer.Option("--publisher", help="发布机构")],
    contact: Annotated[str, typer.Option("--contact", help="联系人姓名")],
    email: Annotated[str | None, typer.Option("--email")] = None,
) -> None:
    """导出为达尔文核心存档(GBIF IPT 可发布);重点保护物种的位置概化到 0.1°。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.dwca import Party
    from ecoplan.monitoring.exchange import export_survey

    with session_scope(cli_engine()) as session:
        path = export_survey(session, survey, out, publisher=publisher,
                             contact=Party(sur_name=contact, organisation=publisher, email=email))  # fmt: skip
        console.print(f"已导出 {path}")


@bio_app.command("indices")
@user_errors
def bio_indices(
    year: Annotated[int | None, typer.Option("--year")] = None,
    by: Annotated[str, typer.Option("--by", help="location | district")] = "district",
    out: Annotated[Path | None, typer.Option("--out", help="输出 CSV")] = None,
) -> None:
    """按样线/样点或区、年计算多样性指数(物种数、Shannon、Simpson、Pielou、Margalef、Chao1)。"""
    from ecoplan.db import session_scope
    from ecoplan.monitoring.summaries import diversity_table

    with session_scope(cli_engine()) as session:
        table = diversity_table(session, year=year, by=by)
    if out:
        table.to_csv(out, index=False, encoding="utf-8-sig")
        console.print(f"已写出 {len(table)} 行到 {out}")
    else:
        console.print(table.to_string(index=False))
