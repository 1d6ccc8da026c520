"""Control actions (综合治理) and the figures of task 3: per species and year, the sites,
records, positive records, alerts, control actions and area treated; the daily catch series of
each trap with its first catch (始见期) and peak; and the occurrence map as GeoJSON.

Areas are stored in hectares. A 亩 is 1/15 ha (666.67 m², the statutory 市亩), so an area given
in 亩 is divided by 15 (30 亩 = 2 ha).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.spatial import place_points
from ecoplan.config import today as clock_today
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.monitoring.invasive import get_species, list_species, position_problem
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_models import (
    ControlAction,
    InvasiveAlert,
    InvasiveRecord,
    InvasiveSite,
)
from ecoplan.monitoring.invasive_rates import check_days, is_positive
from ecoplan.units.models import Unit

MU_PER_HECTARE = 15.0  # 1 公顷 = 15 亩 (1 亩 = 10000/15 = 666.67 m²)
AREA_UNITS = {"公顷": 1.0, "ha": 1.0, "hm2": 1.0, "hm²": 1.0, "亩": 1.0 / MU_PER_HECTARE,
              "mu": 1.0 / MU_PER_HECTARE}  # fmt: skip


def hectares(area: float, unit: str) -> float:
    """``area`` in ``unit`` (公顷/ha or 亩) as hectares: 30 亩 → 30 / 15 = 2.0 ha."""
    factor = AREA_UNITS.get(unit.strip().lower())
    if factor is None:
        raise ValidationError(f"面积单位“{unit}”无法识别(可选: 公顷、亩)")
    if not math.isfinite(area) or area < 0:
        raise ValidationError("防治面积须为非负数")
    return area * factor


def control_method(text: str) -> str:
    """The stored key of a control method given as key or label (物理/化学/生物/生态/综合)."""
    methods = load_config().control.methods
    by_label = {label: key for key, label in methods.items()}
    key = by_label.get(text.strip(), text.strip())
    if key not in methods:
        raise ValidationError(f"防治方式“{text}”无法识别(可选: {'、'.join(methods.values())})")
    return key


def add_control(
    session: Session,
    *,
    species_key: str,
    done_on: dt.date,
    method: str,
    area: float,
    actor: str,
    area_unit: str = "公顷",
    site_code: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    detail: str = "",
    before_value: float | None = None,
    after_value: float | None = None,
    result: str = "",
    unit_code: str | None = None,
    today: dt.date | None = None,
) -> ControlAction:
    """Record one control action at a site or a position (WGS84, inside Beijing). ``area`` is
    in ``area_unit`` (公顷 or 亩, converted to hectares); ``before_value`` / ``after_value`` are
    the monitoring value before and after (e.g. snails/m²) that show the effect."""
    species = get_species(session, species_key)
    key = control_method(method)
    area_ha = hectares(area, area_unit)
    if done_on > (today or clock_today()):
        raise ValidationError(f"防治日期 {done_on} 晚于今天")
    for name, value in (("防治前数值", before_value), ("防治后数值", after_value)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValidationError(f"{name}须为非负数")
    site = None
    if site_code:
        site = session.scalar(select(InvasiveSite).where(InvasiveSite.code == site_code))
        if site is None:
            raise NotFoundError(f"监测点 {site_code} 不存在")
        if site.species_id != species.id:
            raise ValidationError(f"监测点 {site_code} 不是{species.name_cn}的监测点")
        district = (site.district_code, site.district_name)
    elif lon is not None and lat is not None:
        problem = position_problem(lon, lat)
        if problem:  # checked first: a swapped pair does not project
            raise ValidationError(problem)
        district = place_points(np.asarray([lon]), np.asarray([lat]))[0]
        if district[0] is None:
            raise ValidationError(f"位置({lon:g}, {lat:g})不在北京市任何一个区内")
    else:
        raise ValidationError("须注明防治地点: 监测点编号或经纬度")
    unit_id = species.unit_id
    if unit_code:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit_code))
        if unit_id is None:
            raise ValidationError(f"单位代码 {unit_code} 不在单位名录中")
    action = ControlAction(species_id=species.id, site_id=site.id if site else None, done_on=done_on, method=key,
                           detail=detail.strip(), area_ha=area_ha, district_code=district[0],
                           district_name=district[1], unit_id=unit_id, before_value=before_value,
                           after_value=after_value, result=result.strip(), created_by=actor)  # fmt: skip
    session.add(action)
    session.flush()
    audit.record(session, actor=actor, action="invasive_control.add", entity_type="invasive_control",
                 entity_id=action.id, after={"species": species.key, "done_on": done_on.isoformat(),
                                             "method": key, "area_ha": area_ha, "area_given": [area, area_unit],
                                             "site": site_code, "district": district[0],
                                             "before": before_value, "after": after_value})  # fmt: skip
    return action


# ------------------------------------------------------------------------------ summaries


@dataclass
class SpeciesYear:
    """One species' figures for a year (Beijing records only)."""

    key: str
    name_cn: str
    year: int
    sites: int = 0  # active monitoring sites
    records: int = 0
    positives: int = 0
    alerts: int = 0  # raised on the year's records
    open_alerts: int = 0
    controls: int = 0
    area_ha: float = 0.0
    districts: list[str] = field(default_factory=list)  # with a positive record


def _year(column: Any, year: int) -> Any:
    return column.between(dt.date(year, 1, 1), dt.date(year, 12, 31))


def species_summary(session: Session, year: int) -> list[SpeciesYear]:
    """Per species: sites, records, positive records, alerts, control actions, area treated."""
    config = load_config()
    out = {s.id: SpeciesYear(s.key, s.name_cn, year) for s in list_species(session)}
    for species_id, n in session.execute(select(InvasiveSite.species_id, func.count()).where(
            InvasiveSite.active.is_(True)).group_by(InvasiveSite.species_id)):  # fmt: skip
        if species_id in out:
            out[species_id].sites = n
    districts: dict[int, set[str]] = defaultdict(set)
    query = select(InvasiveRecord.species_id, InvasiveRecord.method, InvasiveRecord.value,
                   InvasiveRecord.district_name).where(
        InvasiveRecord.province == "北京", _year(InvasiveRecord.observed_on, year))  # fmt: skip
    for species_id, method, value, district in session.execute(query):
        if species_id not in out:
            continue
        out[species_id].records += 1
        if is_positive(config, method, value):
            out[species_id].positives += 1
            if district:
                districts[species_id].add(district)
    query_alerts = (
        select(InvasiveAlert.species_id, InvasiveAlert.state, func.count())
        .join(InvasiveRecord, InvasiveRecord.id == InvasiveAlert.record_id)
        .where(_year(InvasiveRecord.observed_on, year))
        .group_by(InvasiveAlert.species_id, InvasiveAlert.state)
    )
    for species_id, state, n in session.execute(query_alerts):
        if species_id in out:
            out[species_id].alerts += n
            out[species_id].open_alerts += n if state == "open" else 0
    query_controls = select(ControlAction.species_id, func.count(), func.sum(ControlAction.area_ha)).where(
        _year(ControlAction.done_on, year)).group_by(ControlAction.species_id)  # fmt: skip
    for species_id, n, area in session.execute(query_controls):
        if species_id in out:
            out[species_id].controls = n
            out[species_id].area_ha = float(area or 0.0)
    for species_id, names in districts.items():
        out[species_id].districts = sorted(names)
    return list(out.values())


@dataclass
class CatchPoint:
    day: dt.date
    catch: float
    days: float | None  # effort (trap-days) or days since the previous check; None: unknown
    daily: float | None  # catch ÷ days


@dataclass
class SitePhenology:
    """A trap's season: its checks, 始见期 (first date with a catch) and peak (highest daily
    catch; the earliest such date on a tie)."""

    site_code: str
    method: str
    year: int
    points: list[CatchPoint]
    first_catch: dt.date | None
    peak_day: dt.date | None
    peak_daily: float | None
    total: float


def site_phenology(
    session: Session, site_code: str, year: int, method: str | None = None
) -> SitePhenology:
    """The daily catch series of one site's trap method (trap_catch or light_trap) in a year."""
    config = load_config()
    site = session.scalar(select(InvasiveSite).where(InvasiveSite.code == site_code))
    if site is None:
        raise NotFoundError(f"监测点 {site_code} 不存在")
    daily_methods = [k for k, m in config.methods.items() if m.daily]
    query = select(InvasiveRecord).where(InvasiveRecord.site_id == site.id,
                                         InvasiveRecord.method.in_([method] if method else daily_methods),
                                         _year(InvasiveRecord.observed_on, year))  # fmt: skip
    records = list(session.scalars(query.order_by(InvasiveRecord.observed_on, InvasiveRecord.id)))
    chosen = method or (records[0].method if records else daily_methods[0])
    records = [r for r in records if r.method == chosen]
    days = check_days(session, config, records)
    points = []
    for r in records:
        n = days.get(r.id)
        points.append(CatchPoint(r.observed_on, r.value, n, r.value / n if n else None))
    first = next((p.day for p in points if p.catch > 0), None)
    rated = [p for p in points if p.daily is not None and p.daily > 0]
    peak = max(rated, key=lambda p: (p.daily, -p.day.toordinal())) if rated else None
    return SitePhenology(site.code, chosen, year, points, first, peak.day if peak else None,
                         peak.daily if peak else None, sum(p.catch for p in points))  # fmt: skip


def species_phenology(session: Session, species_key: str, year: int) -> list[SitePhenology]:
    """:func:`site_phenology` for every trap site of a species that has checks in the year."""
    species = get_species(session, species_key)
    config = load_config()
    daily_methods = [k for k, m in config.methods.items() if m.daily]
    query = (
        select(InvasiveSite.code, InvasiveRecord.method)
        .join(InvasiveRecord, InvasiveRecord.site_id == InvasiveSite.id)
        .where(InvasiveSite.species_id == species.id, InvasiveRecord.method.in_(daily_methods),
               _year(InvasiveRecord.observed_on, year))
        .distinct().order_by(InvasiveSite.code, InvasiveRecord.method)
    )  # fmt: skip
    return [site_phenology(session, code, year, method) for code, method in session.execute(query)]


def occurrence_geojson(session: Session, species_key: str, year: int) -> dict[str, Any]:
    """A FeatureCollection of the species' records of the year (WGS84 points): positive ones
    and negative ones with ``positive: false``, partner provinces' records included (the joint
    map of task 10.2)."""
    config = load_config()
    species = get_species(session, species_key)
    query = (
        select(InvasiveRecord, InvasiveSite.code)
        .outerjoin(InvasiveSite, InvasiveSite.id == InvasiveRecord.site_id)
        .where(InvasiveRecord.species_id == species.id, _year(InvasiveRecord.observed_on, year))
        .order_by(InvasiveRecord.observed_on, InvasiveRecord.id)
    )
    features = []
    for r, site in session.execute(query):
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
            "properties": {
                "record_id": r.record_id, "species": species.name_cn, "date": r.observed_on.isoformat(),
                "method": r.method, "method_label": config.methods[r.method].label if r.method in config.methods
                else r.method, "value": r.value, "unit": r.value_unit,
                "positive": is_positive(config, r.method, r.value), "province": r.province,
                "district": r.district_name, "township": r.township, "site": site, "origin": r.origin,
            },
        })  # fmt: skip
    return {"type": "FeatureCollection", "name": f"{species.name_cn} {year}", "features": features}
