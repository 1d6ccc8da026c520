"""``ecoplan cases templand …``: the temporary-land register (task 6.1): import permits, record
observations, check for 超期 / 超范围 / 期限 / 复垦 violations, mark restorations, list.

Registered by the maintainer as ``cases_app.add_typer(templand_app, name="templand")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ecoplan.clikit import cli_actor, cli_engine, console, parse_day, user_errors

templand_app = typer.Typer(
    help="临时用地: 批准台账导入、使用情况观测、超期/超范围/期限/复垦核查、复垦验收登记",
    no_args_is_help=True,
)

CrsOption = Annotated[
    str | None, typer.Option("--crs", help="覆盖文件声明的坐标系: EPSG 代码或 gcj02")
]
TodayOption = Annotated[str | None, typer.Option("--today", help="按此日期核查(YYYY-MM-DD)")]


def _say(text: str) -> None:
    """One line as written: no markup, no wrapping (permit numbers may hold brackets)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@templand_app.command("import")
@user_errors
def templand_import(
    file: Annotated[Path, typer.Argument(help="GeoJSON / Shapefile / GeoPackage(面,带批准信息)")],
    crs: CrsOption = None,
    today: TodayOption = None,
) -> None:
    """导入临时用地批准台账: 计算面积、所在区、红线内面积；任何一行有误则全部不导入。"""
    from ecoplan.cases.templand import import_permits
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        permits = import_permits(session, file, actor=cli_actor(), crs=crs, today=parse_day(today))
        in_red = sum(1 for p in permits if p.redline_m2 > 0)
        _say(f"已导入 {len(permits)} 项临时用地，{in_red} 项涉及生态保护红线")
        for p in permits:
            _say(
                f"  {p.permit_no}\t{p.district_name or '未落区'}\t{p.area_m2:.0f} ㎡"
                f"(红线内 {p.redline_m2:.0f} ㎡)\t{p.starts_on} 至 {p.ends_on}"
            )


@templand_app.command("observe")
@user_errors
def templand_observe(
    permit_no: Annotated[str, typer.Argument(help="临时用地批准文号")],
    file: Annotated[
        Path, typer.Argument(help="观测到的使用范围(GeoJSON / Shapefile / GeoPackage)")
    ],
    date: Annotated[str, typer.Option("--date", help="观测日期 YYYY-MM-DD")],
    source: Annotated[str, typer.Option("--source", help="观测来源，如 2024Q2遥感监测、外业GPS")],
    crs: CrsOption = None,
) -> None:
    """登记一次使用范围观测(遥感图斑或外业测量)。"""
    from ecoplan.cases.templand import add_observation
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        obs = add_observation(session, permit_no, file, observed_on=parse_day(date, "观测日期"),
                              source=source, actor=cli_actor(), crs=crs)  # fmt: skip
        _say(
            f"已登记 {permit_no} {obs.observed_on} 观测: 面积 {obs.area_m2:.0f} ㎡，"
            f"批准范围外 {obs.outside_m2:.0f} ㎡"
        )


@templand_app.command("check")
@user_errors
def templand_check(today: TodayOption = None) -> None:
    """核查全部临时用地；新发现的问题作为一批“临时用地超期、超范围”线索下发(不重复立线索)。"""
    from ecoplan.cases.templand import check_permits
    from ecoplan.db import session_scope
    from ecoplan.units.service import sync_builtin

    day = parse_day(today)
    with session_scope(cli_engine()) as session:
        sync_builtin(session, actor=cli_actor())  # clues go to district governments
        result = check_permits(session, day, actor=cli_actor())
        _say(
            f"{day} 核查 {result.permits} 项临时用地: 发现问题 {len(result.found)} 个，"
            f"新立线索 {len(result.filed)} 条，已有线索 {len(result.already)} 个"
        )
        for label, n in result.counts("found").items():
            _say(f"  {label}: {n}")
        for clue in result.clues:
            _say(f"  新线索 {clue.code}\t{clue.district_name or '未落区'}\t{clue.note}")


@templand_app.command("restored")
@user_errors
def templand_restored(
    permit_no: Annotated[str, typer.Argument(help="临时用地批准文号")],
    date: Annotated[str, typer.Option("--date", help="复垦验收日期 YYYY-MM-DD")],
) -> None:
    """登记复垦验收日期(此后不再核查复垦逾期)。"""
    from ecoplan.cases.templand import mark_restored
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        permit = mark_restored(
            session, permit_no, parse_day(date, "复垦验收日期"), actor=cli_actor()
        )
        _say(f"已登记 {permit.permit_no} 复垦验收日期 {permit.restored_on}")


@templand_app.command("list")
@user_errors
def templand_list(today: TodayOption = None) -> None:
    """临时用地台账: 状态、剩余或超期天数、最近观测、当前问题、未办结线索。"""
    from ecoplan.cases.templand import permit_status
    from ecoplan.db import session_scope

    with session_scope(cli_engine()) as session:
        rows = permit_status(session, parse_day(today))
        if not rows:
            _say("尚无临时用地")
        for r in rows:
            days = f"剩余 {r.days_left} 天" if r.days_left >= 0 else f"已过期 {-r.days_left} 天"
            seen = (
                f"最近观测 {r.latest_observed_on} {r.latest_area_m2:.0f} ㎡"
                f"(超出 {r.latest_excess:+.1%}，范围外 {r.latest_outside_m2:.0f} ㎡)"
                if r.latest_observed_on and r.latest_excess is not None
                else "无观测"
            )
            _say(
                f"{r.permit.permit_no}\t{r.permit.district_name or '未落区'}\t{r.state}\t{days}\t"
                f"{seen}\t问题: {'、'.join(r.violations) or '无'}\t"
                f"线索: {'、'.join(r.open_clues) or '无'}"
            )
