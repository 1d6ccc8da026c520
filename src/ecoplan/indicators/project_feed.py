"""What the project ledger tells the supervision of the restoration measures, which have no
number to reach: 8.2 ("严格实施京西山水工程修复项目,定期报告实施进展") and 8.1 (the trial
implementation check of the 国土空间生态修复规划, whose evidence base is the restoration
projects under way). Which measure gets which evidence is data
(``accounting/data/measure_links.toml``).

"定期报告" is read as: a project in progress whose ledger entry has not changed for
``STALE_DAYS`` is named, so the supervisor can ask for its report. ``met`` stays with a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.config import BEIJING_TZ, today
from ecoplan.indicators.models import Project

JINGXI = ("京西山水修复",)
RESTORATION = ("京西山水修复", "湿地恢复", "生态保育小区")
STAGES = ("规划", "在建", "建成", "验收")
STALE_DAYS = 90  # a quarter without news: the plan asks for regular reports, not their rhythm


def _last_change(p: Project) -> dt.date:
    dates = [d for d in (p.planned_on, p.started_on, p.built_on, p.accepted_on) if d]
    updated = p.updated_at.astimezone(BEIJING_TZ).date() if p.updated_at else None
    return max([*dates, *([updated] if updated else [])] or [dt.date.min])


def _projects(session: Session, types: tuple[str, ...]) -> list[Project]:
    return list(
        session.scalars(select(Project).where(Project.type.in_(types)).order_by(Project.code))
    )


def _jingxi(session: Session) -> Evidence | None:
    projects = _projects(session, JINGXI)
    if not projects:
        return None
    day = today()
    table: list[dict[str, Any]] = []
    stale = []
    for p in projects:
        last = _last_change(p)
        quiet = p.stage in ("规划", "在建", "建成") and (day - last).days > STALE_DAYS
        if quiet:
            stale.append(p.name)
        table.append({"code": p.code, "name": p.name, "district": p.district_name or "—",
                      "stage": p.stage, "area": round(p.area_ha or p.declared_area_ha or 0.0, 2),
                      "last": last.isoformat(), "note": f"超过 {STALE_DAYS} 天无进展" if quiet else ""})  # fmt: skip
    counts = {s: sum(1 for p in projects if p.stage == s) for s in STAGES}
    lines = ["京西山水修复项目 " + "、".join(f"{s} {n} 个" for s, n in counts.items() if n)
             + f",共 {sum(r['area'] for r in table):.2f} 公顷",
             f"超过 {STALE_DAYS} 天未更新进展的在实施项目 {len(stale)} 个"
             + (": " + "、".join(stale[:5]) + ("等" if len(stale) > 5 else "") if stale else "")]  # fmt: skip
    return Evidence("projects:jingxi", "系统记录:京西山水工程修复项目进展(项目台账)", lines, met=None,
                    link="/projects?type=京西山水修复", table=table,
                    columns=[("code", "编号"), ("name", "项目"), ("district", "区"), ("stage", "阶段"),
                             ("area", "面积(公顷)"), ("last", "最近进展"), ("note", "提示")])  # fmt: skip


def _restoration(session: Session) -> Evidence | None:
    projects = _projects(session, RESTORATION)
    if not projects:
        return None
    table = []
    for kind in RESTORATION:
        mine = [p for p in projects if p.type == kind]
        if mine:
            table.append({"type": kind, **{s: sum(1 for p in mine if p.stage == s) for s in STAGES},
                          "area": round(sum(p.area_ha or p.declared_area_ha or 0.0 for p in mine), 2)})  # fmt: skip
    lines = [f"项目台账中的生态修复项目 {len(projects)} 个(京西山水修复、湿地恢复、生态保育小区),"
             "可作为规划实施体检评估的项目底数;试评估报告本身由牵头部门填报"]  # fmt: skip
    return Evidence(
        "projects:restoration",
        "系统记录:生态修复项目底数(项目台账)",
        lines,
        met=None,
        link="/projects",
        table=table,
        columns=[("type", "类型"), *[(s, s) for s in STAGES], ("area", "面积(公顷)")],
    )


def providers() -> dict[str, Provider]:
    return {"projects:jingxi": _jingxi, "projects:restoration": _restoration}
