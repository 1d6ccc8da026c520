"""Roll-ups of the project ledger (and of the germplasm register) into indicator values.

For each indicator of a plan year whose parameter entry names a ``rollup``:

- ``ledger_area`` (新增城市绿地): the **union** of the polygons of the projects of the listed
  types that reached the counted stage (验收) in the year, in 公顷, so that land two projects
  share is counted once; a project given as a point adds its declared area (it cannot be
  deduplicated, and the value's details say so);
- ``ledger_count`` (生态保育小区, 休闲公园+城市森林 …): how many such projects (处);
- ``germplasm`` (收集林草种质资源): accessions of category 林草 collected in the year.

Values are written per district (the district each project was placed in) and for the city,
with origin ``ledger`` (``computed`` for germplasm) and the contributing projects in
``details``. A value equal to the current one of the same origin, from the same projects, is
not written again, so rerunning changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.cases.spatial import project
from ecoplan.config import today as clock
from ecoplan.indicators.ledger import STAGE_DATES
from ecoplan.indicators.models import CITY_CODE, Indicator, IndicatorValue, Project
from ecoplan.indicators.params import IndicatorSpec, config
from ecoplan.indicators.registry import indicators, latest, record_value, values


@dataclass
class RollupResult:
    year: int
    written: list[str] = field(default_factory=list)  # "2024-new_green_space 110105 = 1.5"
    unchanged: int = 0


def counted(session: Session, year: int, types: list[str], today: dt.date) -> list[Project]:
    """Projects of ``types`` that reached the counted stage in ``year`` (by ``today``)."""
    cfg = config()
    attr = getattr(Project, STAGE_DATES[cfg.counted_stage])
    reached = cfg.stages[cfg.stages.index(cfg.counted_stage) :]
    last = min(dt.date(year, 12, 31), today)
    query = (select(Project).where(Project.type.in_(types), Project.stage.in_(reached),
                                   attr >= dt.date(year, 1, 1), attr <= last)
             .order_by(Project.code))  # fmt: skip
    return list(session.scalars(query))


def area_figures(projects: list[Project]) -> dict[str, Any]:
    """Union area, plain sum and the overlap between them (公顷) of projects' polygons, plus
    the declared areas of point projects."""
    polygons = [p for p in projects if p.geometry.get("type") != "Point"]
    points = [p for p in projects if p.geometry.get("type") == "Point"]
    union_ha = sum_ha = 0.0
    if polygons:
        metric = project(np.asarray([shapely.geometry.shape(p.geometry) for p in polygons],
                                    dtype=object))  # fmt: skip
        union_ha = float(shapely.area(shapely.union_all(metric))) / 1e4
        sum_ha = float(np.sum(shapely.area(metric))) / 1e4
    point_ha = sum(p.declared_area_ha or 0.0 for p in points)
    return {"union_ha": round(union_ha, 6), "sum_ha": round(sum_ha, 6),
            # `or 0.0`: a union a hair larger than the sum rounds to -0.0, printed "-0.0000"
            "overlap_ha": round(sum_ha - union_ha, 6) or 0.0, "point_ha": round(point_ha, 6),
            "points_without_area": [p.code for p in points if p.declared_area_ha is None]}  # fmt: skip


def _contributors(projects: list[Project]) -> list[dict[str, Any]]:
    return [{"code": p.code, "name": p.name, "type": p.type, "district": p.district_name,
             "area_ha": round(p.area_ha, 6) if p.area_ha is not None else None,
             "declared_area_ha": p.declared_area_ha,
             "accepted_on": p.accepted_on.isoformat() if p.accepted_on else None}
            for p in projects]  # fmt: skip


def _write(session: Session, indicator: Indicator, region: tuple[str, str], value: float,
           details: dict[str, Any], source: str, origin: str, actor: str, today: dt.date,
           result: RollupResult) -> None:  # fmt: skip
    code, _name = region
    current = latest(session, indicator, region=code, origin=origin)
    same_projects = current is not None and [p["code"] for p in current.details.get("projects", [])] == [
        p["code"] for p in details.get("projects", [])]  # fmt: skip
    if current is None and not value and not details.get("projects"):
        return  # nothing counted and nothing said before: 无数据 stays 无数据, not a 0
    if current is not None and abs(current.value - value) < 1e-9 and same_projects:
        result.unchanged += 1
        return
    record_value(session, indicator, value=value, unit=indicator.unit, origin=origin, source=source,
                 actor=actor, region=code, as_of=min(today, dt.date(indicator.plan_year, 12, 31)),
                 details=details, today=today)  # fmt: skip
    result.written.append(f"{indicator.key} {code} = {value:.6g}")


def _ledger(session: Session, indicator: Indicator, spec: IndicatorSpec, actor: str,
            today: dt.date, result: RollupResult) -> None:  # fmt: skip
    cfg = config()
    projects = counted(session, indicator.plan_year, spec.types, today)
    groups: dict[tuple[str, str], list[Project]] = {(CITY_CODE, "全市"): projects}
    for p in projects:
        if p.district_code and indicator.by_district:
            groups.setdefault((p.district_code, p.district_name or p.district_code), []).append(p)
    # a district that had projects and has none now (acceptance withdrawn) goes back to 0
    for v in values(session, indicator, year=indicator.plan_year):
        if v.origin == "ledger" and v.region_code != CITY_CODE:
            groups.setdefault((v.region_code, v.region_name), [])
    what = "、".join(spec.types)
    for region, members in sorted(groups.items()):
        details: dict[str, Any] = {"projects": _contributors(members), "types": spec.types,
                                   "stage": cfg.counted_stage, "params": f"{cfg.id} {cfg.version}",
                                   "params_sha256": cfg.sha256}  # fmt: skip
        if spec.rollup == "ledger_area":
            figures = area_figures(members)
            details.update(figures)
            value = figures["union_ha"] + figures["point_ha"]
            source = (f"{indicator.plan_year} 年{cfg.counted_stage}的{what}项目 {len(members)} 个,"
                      f"图形并集 {figures['union_ha']:.4f} 公顷(各项目面积合计 {figures['sum_ha']:.4f},"
                      f"重叠 {figures['overlap_ha']:.4f})" + (f",点状项目申报面积 {figures['point_ha']:.4f}"
                                                              if figures["point_ha"] else ""))  # fmt: skip
        else:
            value = float(len(members))
            source = f"{indicator.plan_year} 年{cfg.counted_stage}的{what}项目 {len(members)} 处"
        _write(session, indicator, region, value, details, source, "ledger", actor, today, result)


def _germplasm(session: Session, indicator: Indicator, actor: str, today: dt.date,
               result: RollupResult) -> None:  # fmt: skip
    from ecoplan.monitoring.germplasm import progress

    found = progress(session, indicator.plan_year, category="林草", today=today)
    if not found.collected and latest(session, indicator, origin="computed") is None:
        return
    source = (f"种质资源登记: {indicator.plan_year} 年采集的林草种质 {found.collected} 份"
              f"(截至 {found.as_of.isoformat()})")  # fmt: skip
    details = {"by_unit": [{"unit": u, "count": n} for u, n in found.by_unit]}
    _write(session, indicator, (CITY_CODE, "全市"), float(found.collected), details, source,
           "computed", actor, today, result)  # fmt: skip


def rollup(
    session: Session, year: int, *, actor: str, today: dt.date | None = None
) -> RollupResult:
    """Roll the ledger (and the germplasm register) up into the indicators of ``year``."""
    today = today or clock()
    result = RollupResult(year)
    if today < dt.date(year, 1, 1):
        return result  # nothing can have been counted in a year that has not begun
    cfg = config()
    for indicator in indicators(session, year):
        spec = cfg.spec(indicator.kind)
        if spec is None or spec.rollup is None:
            continue
        if spec.rollup == "germplasm":
            _germplasm(session, indicator, actor, today, result)
        else:
            _ledger(session, indicator, spec, actor, today, result)
    return result


def ledger_projects(session: Session, value: IndicatorValue) -> list[Project]:
    """The projects a ledger value was rolled up from, as stored now (missing ones dropped)."""
    codes = [p["code"] for p in (value.details or {}).get("projects", [])]
    if not codes:
        return []
    found = {p.code: p for p in session.scalars(select(Project).where(Project.code.in_(codes)))}
    return [found[c] for c in codes if c in found]
