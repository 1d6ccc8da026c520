"""Temporary land use (临时用地) register and its checks (task 6.1: 对生态保护红线内临时用地严格
审批,加强对临时用地超期、超范围使用的查处).

- ``import_permits``: approved permits from GeoJSON / Shapefile / GeoPackage, all or nothing;
  each gets its area (m², equal-area CRS), district (largest overlap) and the part of it inside
  the active 生态保护红线 layers (m²);
- ``add_observation``: a polygon seen in use on a permit's site (remote sensing or a field GPS
  survey), with its area and the part outside the approved polygon (m²);
- ``check_permits``: the violations of every permit on a date (``find_violations``, a pure
  function of the permit, its observations, the date and the rule); each violation not filed
  before becomes one ``temp_land`` clue, all of one run in one clue batch;
- ``mark_restored``: the 复垦验收 date, which ends the restoration check;
- ``permit_status``: one row per permit for the register page.

The rule values (``[temp_land]`` in ``data/clue_rules.toml``) follow 自然资规〔2021〕2号 as far
as the research notes could verify it; see docs/cases-templand.md for what is unverified.

Dates: ``starts_on`` and ``ends_on`` are the first and the last day of the approved term (both
inclusive, as a permit writes "自 2024年1月1日 至 2025年12月31日").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ecoplan import audit
from ecoplan.cases.batches import file_batch
from ecoplan.cases.importing import ClueRecords, find_column
from ecoplan.cases.layers import active_features, touches
from ecoplan.cases.models import Clue, ClueBatch
from ecoplan.cases.register_models import TempLandObservation, TempLandPermit
from ecoplan.cases.rules import ClueRules, TempLandRule, load_rules
from ecoplan.cases.spatial import Districts, Geoms, assign, beijing, project
from ecoplan.datafiles import file_record
from ecoplan.db import utcnow
from ecoplan.errors import ConflictError, InputFileError, NotFoundError, ValidationError
from ecoplan.geo.regions import read_vector_wgs84

KIND = "temp_land"  # the clue kind (clue_rules.toml [kinds.temp_land])

# violation kind -> label; short code used in clue codes (Clue.code holds 40 characters)
VIOLATIONS: dict[str, str] = {
    "overdue": "超期使用",
    "over_extent": "超范围使用",
    "term": "批准期限超过规定",
    "restoration_overdue": "复垦逾期",
}
SHORT = {"overdue": "OD", "over_extent": "OX", "term": "TM", "restoration_overdue": "RO"}
CODE_MAX = 40

# our field -> names accepted in a file (first match wins, case-insensitive)
FIELDS: dict[str, tuple[str, ...]] = {
    "permit_no": ("批准文号", "临时用地批准文号", "permit_no"),
    "applicant": ("申请人", "用地单位", "applicant"),
    "purpose": ("用途", "用地用途", "purpose"),
    "authority": ("批准机关", "authority"),
    "approval_no": ("批准文件", "approval_no"),
    "starts_on": ("开始日期", "起始日期", "starts_on", "start_date"),
    "ends_on": ("结束日期", "截止日期", "ends_on", "end_date"),
    "long_cycle": ("长周期", "long_cycle"),
    "restored_on": ("复垦验收日期", "restored_on"),
}
LABELS = {
    "permit_no": "批准文号",
    "applicant": "申请人",
    "purpose": "用途",
    "authority": "批准机关",
    "approval_no": "批准文件",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "long_cycle": "长周期",
    "restored_on": "复垦验收日期",
}
REQUIRED = ("permit_no", "applicant", "purpose", "authority", "approval_no", "starts_on", "ends_on")
MAX_LEN = {"permit_no": 60, "applicant": 200, "purpose": 200, "authority": 200, "approval_no": 100}
VECTOR_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg", ".zip"}
YES = {"是", "y", "yes", "true", "1", "长周期"}
NO = {"否", "n", "no", "false", "0", ""}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")

# the facts key naming the permit on every temp_land clue (used to find a permit's clues)
PERMIT_FACT = "临时用地批准文号"
VIOLATION_FACT = "违规类型"


# --------------------------------------------------------------------------------- reading


def _read_vector(path: Path, crs: str | None) -> tuple[gpd.GeoDataFrame, Geoms]:
    """Like ``read_vector_wgs84``, but a GeoJSON's date-like text stays text: GDAL otherwise
    types such a column as Date and refuses the whole file over one impossible date
    (2024-02-30), where we want to name the row."""
    if path.suffix.lower() not in VECTOR_SUFFIXES:
        raise InputFileError(path, "只接受 GeoJSON、Shapefile(.shp/.zip)或 GeoPackage 文件")
    if path.suffix.lower() not in (".geojson", ".json"):
        return read_vector_wgs84(path, crs)
    return read_vector_wgs84(path, crs, DATE_AS_STRING="YES")


def _match(columns: Sequence[str], ours: str) -> str | None:
    found: str | None = find_column(columns, FIELDS[ours])
    return found


def _missing(value: Any) -> bool:
    """None, NaN, NaT or pandas NA (an empty attribute as read by pyogrio)."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def _text(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 编号 12 read from a numeric field as 12.0
    return str(value).strip()


def parse_date(value: Any) -> dt.date | None:
    """A date from a file: date / datetime / numpy datetime64 / text such as 2024-01-31,
    2024/1/31, 2024.1.31, 2024年1月31日 or 20240131. None when empty; ValueError when not a
    date."""
    if _missing(value):
        return None
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[D]").item()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    found = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not found:
        raise ValueError(text)
    year, month, day = (int(g) for g in found.groups())
    return dt.date(year, month, day)  # ValueError for 2024-02-30


def _polygonal(geom: Any) -> Any:
    """The polygonal part of a geometry (None when it has none)."""
    if geom is None or shapely.is_empty(geom):
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _check_place(geom: Any, city: Any) -> tuple[Any, str | None, bool]:
    """(valid polygonal geometry, problem, repaired) for one WGS84 geometry."""
    poly = _polygonal(geom)
    if poly is None:
        kind = "没有几何" if geom is None or shapely.is_empty(geom) else f"几何为 {geom.geom_type}"
        return None, f"{kind},应为面(Polygon/MultiPolygon)", False
    repaired = not shapely.is_valid(poly)
    if repaired:
        poly = _polygonal(shapely.make_valid(poly))
        if poly is None:
            return None, "几何无效且无法修复为面", True
    minx, miny, maxx, maxy = shapely.bounds(poly)
    lon_lat = max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90
    if not lon_lat or not shapely.intersects(poly, city):
        return None, "位置不在北京市范围内(坐标系是否正确?经纬度是否颠倒?)", repaired
    return poly, None, repaired


def _add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 Feb → 28 Feb in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --------------------------------------------------------------------------------- permits


def import_permits(
    session: Session,
    path: Path,
    *,
    actor: str,
    crs: str | None = None,
    today: dt.date | None = None,
    districts: Districts | None = None,
) -> list[TempLandPermit]:
    """Read, check and store the permits of a vector file; all or nothing.

    Every problem of the file (a missing field, an unreadable date, an end before the start, a
    复垦验收 date before the start or after ``today``, a permit number repeated in the file or
    already stored, a geometry that is not a polygon or not in Beijing) is collected and raised
    as one :class:`ValidationError` naming the rows. Areas are in m² (equal-area CRS).
    """
    today = today or utcnow().date()
    districts = districts or beijing()
    frame, geoms = _read_vector(path, crs)
    if frame.empty:
        raise InputFileError(path, "文件中没有临时用地要素")
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    mapped = {ours: _match(columns, ours) for ours in FIELDS}
    problems = [
        f"缺少字段“{LABELS[ours]}”(可用列名: {'/'.join(FIELDS[ours])})"
        for ours in REQUIRED
        if mapped[ours] is None
    ]
    stored = set(session.scalars(select(TempLandPermit.permit_no)))
    seen: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    polys: list[Any] = []
    repaired: list[str] = []
    for i in range(len(frame)):
        raw = frame.iloc[i]
        values = {ours: raw[col] for ours, col in mapped.items() if col is not None}
        permit_no = _text(values.get("permit_no"))
        where = f"第 {i + 1} 个要素" + (f"({permit_no})" if permit_no else "")
        row: dict[str, Any] = {}
        for ours in ("permit_no", "applicant", "purpose", "authority", "approval_no"):
            text = _text(values.get(ours))
            if not text and mapped[ours] is not None:
                problems.append(f"{where}: 缺少{LABELS[ours]}")
            elif len(text) > MAX_LEN[ours]:
                problems.append(f"{where}: {LABELS[ours]}超过 {MAX_LEN[ours]} 个字")
            row[ours] = text
        if permit_no and permit_no in stored:
            problems.append(f"{where}: 批准文号 {permit_no} 已登记")
        elif permit_no in seen:
            problems.append(f"{where}: 批准文号 {permit_no} 与第 {seen[permit_no] + 1} 个要素重复")
        elif permit_no:
            seen[permit_no] = i
        for ours in ("starts_on", "ends_on", "restored_on"):
            try:
                row[ours] = parse_date(values.get(ours))
            except ValueError:
                problems.append(f"{where}: {LABELS[ours]}“{_text(values.get(ours))}”不是有效日期")
                row[ours] = None
                continue
            if row[ours] is None and ours != "restored_on" and mapped[ours] is not None:
                problems.append(f"{where}: 缺少{LABELS[ours]}")
        start, end, restored = row["starts_on"], row["ends_on"], row["restored_on"]
        if start and end and end < start:
            problems.append(f"{where}: 结束日期 {end} 早于开始日期 {start}")
        if start and restored and restored < start:
            problems.append(f"{where}: 复垦验收日期 {restored} 早于开始日期 {start}")
        if restored and restored > today:
            problems.append(f"{where}: 复垦验收日期 {restored} 晚于今天 {today}")
        flag = _text(values.get("long_cycle")).lower()
        if flag not in YES | NO:
            problems.append(f"{where}: 长周期“{_text(values.get('long_cycle'))}”应为 是 或 否")
        row["long_cycle"] = flag in YES
        poly, problem, fixed = _check_place(geoms[i], districts.city)
        if problem:
            problems.append(f"{where}: {problem}")
        if fixed:
            repaired.append(permit_no or str(i + 1))
        rows.append(row)
        polys.append(poly)
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未导入任何临时用地: " + "; ".join(problems[:8]),
            problems,
        )
    metric = project(np.asarray(polys, dtype=object))
    region = assign(metric, districts.metric)
    redline = _redline_m2(session, metric)
    source = file_record(path) | {"crs": crs or "declared", "repaired": repaired}
    permits: list[TempLandPermit] = []
    for i, row in enumerate(rows):
        d = int(region[i])
        permit = TempLandPermit(
            **row,
            geometry=shapely.geometry.mapping(polys[i]),
            area_m2=round(float(shapely.area(metric[i])), 1),
            district_code=districts.codes[d] if d >= 0 else None,
            district_name=districts.names[d] if d >= 0 else None,
            redline_m2=redline[i],
            created_by=actor,
        )
        session.add(permit)
        permits.append(permit)
    session.flush()
    for permit in permits:
        audit.record(session, actor=actor, action="temp_land.permit.create",
                     entity_type="temp_land_permit", entity_id=permit.id,
                     after=_permit_summary(permit), context=source)  # fmt: skip
    return permits


def _redline_m2(session: Session, metric: Geoms) -> list[float]:
    """Area (m²) of each metric geometry inside the active red-line layers; overlapping
    red-line features are counted once."""
    features = active_features(session, kinds=("redline",))
    index = {fid: k for k, fid in enumerate(features.ids)}
    out: list[float] = []
    for geom, hits in zip(metric, touches(metric, features), strict=True):
        if len(hits) <= 1:
            out.append(float(hits[0]["overlap_m2"]) if hits else 0.0)
            continue
        red = shapely.union_all([features.metric[index[h["feature_id"]]] for h in hits])
        out.append(round(float(shapely.area(shapely.intersection(geom, red))), 1))
    return out


def _permit_summary(permit: TempLandPermit) -> dict[str, Any]:
    return {
        "permit_no": permit.permit_no,
        "applicant": permit.applicant,
        "starts_on": permit.starts_on.isoformat(),
        "ends_on": permit.ends_on.isoformat(),
        "long_cycle": permit.long_cycle,
        "area_m2": permit.area_m2,
        "redline_m2": permit.redline_m2,
        "district": permit.district_name,
        "restored_on": permit.restored_on.isoformat() if permit.restored_on else None,
    }


def _permit(session: Session, permit_no: str) -> TempLandPermit:
    permit = session.scalar(select(TempLandPermit).where(TempLandPermit.permit_no == permit_no))
    if permit is None:
        raise NotFoundError(f"没有批准文号为“{permit_no}”的临时用地")
    return permit


def add_observation(
    session: Session,
    permit_no: str,
    geometry_or_path: dict[str, Any] | shapely.Geometry | Path | str,
    *,
    observed_on: dt.date,
    source: str,
    actor: str,
    crs: str | None = None,
    districts: Districts | None = None,
) -> TempLandObservation:
    """Store a polygon seen in use on the permit's site on ``observed_on``.

    ``geometry_or_path``: a GeoJSON geometry / Feature / FeatureCollection (WGS84), a shapely
    geometry (WGS84), or the path of a vector file (all its polygons together, ``crs``
    overriding the declared one). Stores ``area_m2`` (the observed polygon) and ``outside_m2``
    (the observed polygon minus the approved one), both in the equal-area CRS. The same permit
    observed twice on one day by one source is refused (a repeated entry)."""
    permit = _permit(session, permit_no)
    source = source.strip()
    if not source:
        raise ValidationError("缺少观测来源(如 2024Q2遥感监测、外业GPS测量)")
    if len(source) > 100:
        raise ValidationError("观测来源超过 100 个字")
    geom, origin = _observed_geometry(geometry_or_path, crs)
    poly, problem, repaired = _check_place(geom, (districts or beijing()).city)
    if problem:
        raise ValidationError(f"{origin}: {problem}")
    same = session.scalar(select(TempLandObservation.id).where(
        TempLandObservation.permit_id == permit.id, TempLandObservation.observed_on == observed_on,
        TempLandObservation.source == source))  # fmt: skip
    if same is not None:
        raise ConflictError(f"临时用地 {permit_no} 已有 {observed_on} “{source}”的观测记录")
    observed_m, approved_m = project(
        np.asarray([poly, shapely.geometry.shape(permit.geometry)], dtype=object)
    )
    observation = TempLandObservation(
        permit_id=permit.id, observed_on=observed_on, source=source,
        geometry=shapely.geometry.mapping(poly),
        area_m2=round(float(shapely.area(observed_m)), 1),
        outside_m2=round(float(shapely.area(shapely.difference(observed_m, approved_m))), 1),
        created_by=actor,
    )  # fmt: skip
    session.add(observation)
    session.flush()
    audit.record(session, actor=actor, action="temp_land.observation.create",
                 entity_type="temp_land_observation", entity_id=observation.id,
                 after={"permit_no": permit_no, "observed_on": observed_on.isoformat(),
                        "source": source, "area_m2": observation.area_m2,
                        "outside_m2": observation.outside_m2, "repaired": repaired},
                 context={"input": origin})  # fmt: skip
    return observation


def _observed_geometry(value: Any, crs: str | None) -> tuple[Any, str]:
    """(WGS84 geometry, how to name its origin in a message)."""
    if isinstance(value, (str, Path)):
        path = Path(value)
        _, geoms = _read_vector(path, crs)
        parts = [p for p in (_polygonal(g) for g in geoms) if p is not None]
        return (shapely.union_all(parts) if parts else None), path.name
    if isinstance(value, dict):
        try:
            if value.get("type") == "FeatureCollection":
                shapes = [shapely.geometry.shape(f["geometry"]) for f in value["features"]]
                return shapely.union_all(shapes) if shapes else None, "观测几何"
            if value.get("type") == "Feature":
                value = value["geometry"]
            return shapely.geometry.shape(value), "观测几何"
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException):
            raise ValidationError("观测几何不是有效的 GeoJSON") from None
    if isinstance(value, shapely.Geometry):
        return value, "观测几何"
    raise ValidationError("观测几何应为 GeoJSON、shapely 几何或矢量文件路径")


def mark_restored(session: Session, permit_no: str, on: dt.date, *, actor: str) -> TempLandPermit:
    """Record the 复垦验收 (restoration accepted) date; a correction replaces the earlier date
    (both are kept in the audit log). Stops the ``restoration_overdue`` check."""
    permit = _permit(session, permit_no)
    if on < permit.starts_on:
        raise ValidationError(
            f"复垦验收日期 {on} 早于临时用地 {permit_no} 的开始日期 {permit.starts_on}"
        )
    before = permit.restored_on
    permit.restored_on = on
    session.flush()
    audit.record(session, actor=actor, action="temp_land.permit.restored",
                 entity_type="temp_land_permit", entity_id=permit.id,
                 before={"restored_on": before.isoformat() if before else None},
                 after={"restored_on": on.isoformat()})  # fmt: skip
    return permit


# --------------------------------------------------------------------------------- checks


@dataclass
class Violation:
    """One violation of one permit, as found on a date."""

    permit_no: str
    kind: str  # a key of VIOLATIONS
    key_date: dt.date  # the observation date, or the date the rule was broken
    geometry: dict[str, Any]  # where the clue goes (GeoJSON, WGS84)
    figures: dict[str, Any]  # Chinese label -> value, shown in the clue's facts
    note: str
    observation_id: int | None = None

    @property
    def label(self) -> str:
        return VIOLATIONS[self.kind]

    @property
    def code(self) -> str:
        return clue_code(self.permit_no, self.kind, self.key_date)


def clue_code(permit_no: str, kind: str, key_date: dt.date) -> str:
    """``TL-<permit_no>-<OD|OX|TM|RO>-<YYYYMMDD>``; a permit number too long for the 40
    characters of a clue code is replaced by ``#`` and 10 hex digits of its SHA-1."""
    tail = f"-{SHORT[kind]}-{key_date:%Y%m%d}"
    code = f"TL-{permit_no}{tail}"
    if len(code) <= CODE_MAX:
        return code
    digest = hashlib.sha1(permit_no.encode("utf-8")).hexdigest()[:10]
    return f"TL-#{digest}{tail}"


def restoration_due(permit: TempLandPermit, rule: TempLandRule) -> dt.date:
    """The last day for the 复垦验收: ``restoration_years`` after the term's last day."""
    return _add_years(permit.ends_on, rule.restoration_years)


def term_limit(permit: TempLandPermit, rule: TempLandRule) -> dt.date:
    """The latest ``ends_on`` the rule allows: ``starts_on`` + 2 (long cycle: 4) years. The day
    after the term's last day is accepted too, so both "至 2025-12-31" and "至 2026-01-01" pass
    for a term starting 2024-01-01 (permits count the term either way)."""
    years = rule.long_cycle_term_years if permit.long_cycle else rule.term_years
    return _add_years(permit.starts_on, years)


def find_violations(permit: TempLandPermit, today: dt.date, rule: TempLandRule) -> list[Violation]:
    """The violations of one permit on ``today`` (pure: reads the permit and its loaded
    observations; observations dated after ``today`` are ignored).

    - ``term``: ``ends_on`` > ``term_limit`` (``starts_on`` + 2 years, 4 if long cycle);
    - ``overdue``: an observation dated after ``ends_on`` (and after ``restored_on`` when
      restored) shows the land still in use; the latest such observation is the evidence;
    - ``over_extent``: the latest observation's area > approved × (1 + ``area_tolerance``),
      or its area outside the approved polygon > ``outside_tolerance_m2``;
    - ``restoration_overdue``: ``today`` > ``ends_on`` + ``restoration_years`` and no 复垦验收.
    """
    where = shapely.geometry.mapping(shapely.geometry.shape(permit.geometry))
    found: list[Violation] = []
    no = permit.permit_no
    term = f"{permit.starts_on} 至 {permit.ends_on}"
    limit = term_limit(permit, rule)
    if permit.ends_on > limit:
        years = rule.long_cycle_term_years if permit.long_cycle else rule.term_years
        over = (permit.ends_on - limit).days
        found.append(Violation(no, "term", permit.ends_on, where, {
            "批准期限": term, "长周期项目": "是" if permit.long_cycle else "否",
            "规定期限(年)": years, "最迟结束日期": limit.isoformat(), "超出天数": over,
        }, f"批准期限 {term} 超过规定的 {years} 年(最迟至 {limit}),超出 {over} 天"))  # fmt: skip
    seen = sorted((o for o in permit.observations if o.observed_on <= today),
                  key=lambda o: (o.observed_on, o.id))  # fmt: skip
    after = [o for o in seen if o.observed_on > permit.ends_on
             and (permit.restored_on is None or o.observed_on > permit.restored_on)]  # fmt: skip
    if after:
        obs = after[-1]
        days = (obs.observed_on - permit.ends_on).days
        found.append(Violation(no, "overdue", obs.observed_on, obs.geometry, {
            "批准期限": term, "观测日期": obs.observed_on.isoformat(), "观测来源": obs.source,
            "观测面积(㎡)": obs.area_m2, "超期天数": days,
        }, f"批准期限至 {permit.ends_on},{obs.observed_on}({obs.source})仍见使用 {obs.area_m2:.0f} ㎡,"
           f"超期 {days} 天", obs.id))  # fmt: skip
    if seen:
        obs = seen[-1]
        allowed = permit.area_m2 * (1 + rule.area_tolerance)
        if obs.area_m2 > allowed or obs.outside_m2 > rule.outside_tolerance_m2:
            excess = obs.area_m2 / permit.area_m2 - 1 if permit.area_m2 else math.inf
            found.append(Violation(no, "over_extent", obs.observed_on, obs.geometry, {
                "观测日期": obs.observed_on.isoformat(), "观测来源": obs.source,
                "批准面积(㎡)": permit.area_m2, "观测面积(㎡)": obs.area_m2,
                "超出批准面积比例": f"{excess:.1%}", "批准范围外面积(㎡)": obs.outside_m2,
                "面积容差": f"{rule.area_tolerance:.0%}",
                "范围外容差(㎡)": rule.outside_tolerance_m2,
            }, f"{obs.observed_on}({obs.source})观测使用 {obs.area_m2:.0f} ㎡,批准 {permit.area_m2:.0f} ㎡"
               f"(超出 {excess:.1%},容差 {rule.area_tolerance:.0%});批准范围外 {obs.outside_m2:.0f} ㎡"
               f"(容差 {rule.outside_tolerance_m2:.0f} ㎡)", obs.id))  # fmt: skip
    due = restoration_due(permit, rule)
    if permit.restored_on is None and today > due:
        days = (today - due).days
        found.append(Violation(no, "restoration_overdue", due, where, {
            "批准期限": term, "复垦期限": due.isoformat(), "逾期天数": days,
        }, f"批准期限至 {permit.ends_on},应于 {due} 前完成复垦验收,已逾期 {days} 天"))  # fmt: skip
    return found


@dataclass
class CheckResult:
    """One check run: every violation found, the ones filed now as clues, and the ones already
    covered by an earlier clue (same code, or an open clue of the same permit and kind)."""

    today: dt.date
    permits: int
    found: list[Violation] = field(default_factory=list)
    filed: list[Violation] = field(default_factory=list)
    already: list[Violation] = field(default_factory=list)
    clues: list[Clue] = field(default_factory=list)
    batch: ClueBatch | None = None

    def counts(self, which: str = "found") -> dict[str, int]:
        """Violations per kind label in ``found``, ``filed`` or ``already``."""
        out: dict[str, int] = {}
        for v in getattr(self, which):
            out[v.label] = out.get(v.label, 0) + 1
        return out


def _existing_clues(session: Session) -> list[tuple[str, str, dict[str, Any]]]:
    """(code, state, facts) of every temp_land clue."""
    rows = session.execute(select(Clue.code, Clue.state, Clue.facts).where(Clue.kind == KIND))
    return [(code, state, facts or {}) for code, state, facts in rows]


def check_permits(
    session: Session,
    today: dt.date,
    *,
    actor: str,
    districts: Districts | None = None,
    rules: ClueRules | None = None,
) -> CheckResult:
    """Check every permit on ``today`` and file each new violation as a ``temp_land`` clue, all
    in one batch titled "临时用地核查 <today>". A violation is not filed again when a clue
    with its code exists (any state) or an open clue of the same permit and kind does (a new
    observation of a violation already being handled adds no second clue). Running twice on
    the same data files nothing the second time."""
    rules = rules or load_rules()
    rule = rules.temp_land
    permits = list(session.scalars(select(TempLandPermit).options(
        selectinload(TempLandPermit.observations)).order_by(TempLandPermit.permit_no)))  # fmt: skip
    existing = _existing_clues(session)
    codes = {code for code, _, _ in existing}
    by_label = {label: kind for kind, label in VIOLATIONS.items()}
    open_pairs = {
        (facts.get(PERMIT_FACT), by_label.get(facts.get(VIOLATION_FACT, "")))
        for _, state, facts in existing
        if state != "closed"
    }
    result = CheckResult(today, len(permits))
    by_no = {p.permit_no: p for p in permits}
    for permit in permits:
        for violation in find_violations(permit, today, rule):
            result.found.append(violation)
            if violation.code in codes or (permit.permit_no, violation.kind) in open_pairs:
                result.already.append(violation)
            else:
                result.filed.append(violation)
    if not result.filed:
        return result
    records = ClueRecords(
        codes=[v.code for v in result.filed],
        geoms=np.asarray([shapely.geometry.shape(v.geometry) for v in result.filed], dtype=object),
        attrs=[{"activity_type": KIND, "source": KIND, "period": today.isoformat(),
                "legal_basis": _legal_basis(by_no[v.permit_no]), "note": f"{v.label}: {v.note}"}
               for v in result.filed],
        facts=[_facts(by_no[v.permit_no], v) for v in result.filed],
    )  # fmt: skip
    source = {"check": KIND, "today": today.isoformat(), "permits": len(permits),
              "temp_land_rule": rule.model_dump()}  # fmt: skip
    filed = file_batch(session, records, kind=KIND, title=f"临时用地核查 {today.isoformat()}",
                       actor=actor, source=source, today=today, districts=districts, rules=rules)  # fmt: skip
    result.batch = filed.batch
    result.clues = list(session.scalars(
        select(Clue).where(Clue.batch_id == filed.batch.id).order_by(Clue.code)))  # fmt: skip
    audit.record(session, actor=actor, action="temp_land.check", entity_type="clue_batch",
                 entity_id=filed.batch.id, after={"today": today.isoformat(), "found": len(result.found),
                 "filed": [v.code for v in result.filed], "already": len(result.already)})  # fmt: skip
    return result


def _legal_basis(permit: TempLandPermit) -> str:
    return f"临时用地批准文号 {permit.permit_no};批准文件 {permit.approval_no}({permit.authority})"


def _facts(permit: TempLandPermit, violation: Violation) -> dict[str, Any]:
    return {
        PERMIT_FACT: permit.permit_no,
        "申请人": permit.applicant,
        "用途": permit.purpose,
        "批准机关": permit.authority,
        "批准文件": permit.approval_no,
        VIOLATION_FACT: violation.label,
        **violation.figures,
        "红线内面积(㎡)": permit.redline_m2,
    }


# --------------------------------------------------------------------------------- register


@dataclass
class PermitStatus:
    """One row of the temporary-land register on a date."""

    permit: TempLandPermit
    state: str  # 未开始 | 使用中 | 到期待复垦 | 复垦逾期 | 已复垦
    days_left: int  # ends_on − today in days; negative once the term is over
    days_overdue: int  # days past ends_on while not restored (0 otherwise)
    restoration_due: dt.date
    latest_observed_on: dt.date | None = None
    latest_area_m2: float | None = None
    latest_excess: float | None = None  # observed / approved − 1
    latest_outside_m2: float | None = None
    violations: list[str] = field(default_factory=list)  # labels of what is wrong today
    open_clues: list[str] = field(default_factory=list)  # codes of its clues not yet closed


def permit_status(
    session: Session, today: dt.date, *, rules: ClueRules | None = None
) -> list[PermitStatus]:
    """Every permit on ``today``, by permit number: state, days left or overdue, the latest
    observation (up to ``today``) and its excess over the approved area, today's violations
    and the permit's open clues."""
    rule = (rules or load_rules()).temp_land
    open_by: dict[str, list[str]] = {}
    for code, state, facts in _existing_clues(session):
        if state != "closed" and facts.get(PERMIT_FACT):
            open_by.setdefault(str(facts[PERMIT_FACT]), []).append(code)
    out: list[PermitStatus] = []
    permits = session.scalars(select(TempLandPermit).options(
        selectinload(TempLandPermit.observations)).order_by(TempLandPermit.permit_no))  # fmt: skip
    for permit in permits:
        due = restoration_due(permit, rule)
        if permit.restored_on is not None and permit.restored_on <= today:
            state = "已复垦"
        elif today < permit.starts_on:
            state = "未开始"
        elif today <= permit.ends_on:
            state = "使用中"
        else:
            state = "到期待复垦" if today <= due else "复垦逾期"
        left = (permit.ends_on - today).days
        row = PermitStatus(
            permit, state, left, max(0, -left) if state in ("到期待复垦", "复垦逾期") else 0, due,
            violations=[v.label for v in find_violations(permit, today, rule)],
            open_clues=sorted(open_by.get(permit.permit_no, [])),
        )  # fmt: skip
        seen = [o for o in permit.observations if o.observed_on <= today]
        if seen:
            obs = max(seen, key=lambda o: (o.observed_on, o.id))
            row.latest_observed_on, row.latest_area_m2 = obs.observed_on, obs.area_m2
            row.latest_outside_m2 = obs.outside_m2
            row.latest_excess = obs.area_m2 / permit.area_m2 - 1 if permit.area_m2 else None
        out.append(row)
    return out
