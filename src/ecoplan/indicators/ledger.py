"""The project ledger (项目台账): parks, pocket parks, city forests, conservation plots, plain-forest
demonstration areas, wetland restoration and 京西山水 projects, with their polygons, areas,
districts, stages and photos.

- :func:`read_projects` reads GeoJSON, a zipped (or plain) shapefile, a GeoPackage or an xlsx
  sheet with a WKT column or longitude/latitude columns, and moves every geometry to WGS84:
  a declared CRS is reprojected; an undeclared one is accepted only when the coordinates are
  longitude/latitude; a file that declares lon/lat but holds metres is refused. GCJ-02 (web
  maps) cannot be told from WGS84 by the numbers: the user says ``crs="gcj02"``.
- :func:`import_projects` checks every feature (fields, type, stage and dates, geometry
  validity with ``shapely.explain_validity``, inside Beijing, declared area and its unit,
  overlap with accepted green space) and stores all of them or none, naming each bad feature.
- :func:`change_stage` moves a project 规划 → 在建 → 建成 → 验收 (units their own projects,
  the coordinator and the admin any; backwards only the latter, with a reason), audited.
- :func:`add_photo` stores a site photo with the evidence store (content-addressed).

Areas are measured in :data:`ecoplan.geo.crs.EQUAL_AREA` (Albers, WGS84 ellipsoid) and kept in
公顷. After every import or stage change the ledger roll-ups of the affected years are rerun
(:mod:`ecoplan.indicators.rollup`), so the targets page shows the ledger as it is.
"""

from __future__ import annotations

import datetime as dt
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
from pyproj import CRS
from pyproj.exceptions import CRSError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import Account
from ecoplan.cases.importing import find_column
from ecoplan.cases.spatial import assign, beijing, project
from ecoplan.config import today as clock
from ecoplan.datafiles import file_sha256, xlsx_rows
from ecoplan.db import check_version, flush_versioned, utcnow
from ecoplan.errors import InputFileError, NotFoundError, PermissionDenied, ValidationError
from ecoplan.geo.crs import WGS84, geometry_gcj02_to_wgs84, is_gcj02
from ecoplan.indicators.models import Project
from ecoplan.indicators.params import config
from ecoplan.supervision import evidence
from ecoplan.units.models import Unit
from ecoplan.units.service import unit_index

# our field -> names accepted in a file (first match wins, case-insensitive)
FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("项目编号", "编号", "项目代码", "code", "id"),
    "name": ("项目名称", "名称", "name"),
    "type": ("项目类型", "类型", "type"),
    "stage": ("阶段", "项目阶段", "stage"),
    "planned_on": ("规划日期", "立项日期", "planned_on", "planned"),
    "started_on": ("开工日期", "started_on", "started"),
    "built_on": ("建成日期", "完工日期", "built_on", "built"),
    "accepted_on": ("验收日期", "accepted_on", "accepted"),
    "unit": ("责任单位", "实施单位", "单位", "unit"),
    "declared_area": ("申报面积", "面积", "declared_area", "area"),
    "area_unit": ("面积单位", "area_unit"),
    "wkt": ("WKT", "几何", "图形", "geometry", "geom"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
}
VECTOR_SUFFIXES = (".geojson", ".json", ".zip", ".shp", ".gpkg")
SUFFIXES = (*VECTOR_SUFFIXES, ".xlsx")
STAGE_DATES = {
    "规划": "planned_on",
    "在建": "started_on",
    "建成": "built_on",
    "验收": "accepted_on",
}
DATE_LABELS = {"planned_on": "规划日期", "started_on": "开工日期", "built_on": "建成日期",
               "accepted_on": "验收日期"}  # fmt: skip
MAX_FEATURES = 20_000
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
_AREA_TEXT = re.compile(r"^\s*(?P<value>[\d.,]+)\s*(?P<unit>\D*)\s*$")
GCJ_HINT = ("若图形取自高德、腾讯等网络地图(GCJ-02 坐标),请指定坐标系 gcj02 重新导入,"
            "否则位置会偏移数百米")  # fmt: skip


# --------------------------------------------------------------------------- reading


@dataclass
class RawFeature:
    """One feature or row as read: where it is in the file, its cells, its WGS84 geometry."""

    where: str
    cells: dict[str, str]
    geom: Any  # shapely geometry (WGS84) or None
    problem: str = ""  # what made the geometry unreadable


@dataclass
class ProjectFile:
    name: str
    sha256: str
    features: list[RawFeature]
    notes: list[str] = field(default_factory=list)  # CRS conversions and assumptions


def _text(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""  # GDAL reads an empty date field as NaT
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 编号 12 read from a numeric cell as 12.0
    return str(value).strip()


def _lon_lat(geom: Any) -> bool:
    """Coordinates that can be longitude/latitude at all (metres are in the hundred-thousands)."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return bool(-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90)


def _cells(columns: Sequence[str], row: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ours, names in FIELDS.items():
        col = find_column(list(columns), names)
        out[ours] = _text(row.get(col)) if col is not None else ""
    return out


def read_projects(path: Path, *, crs: str | None = None) -> ProjectFile:
    """Read a project file and move its geometries to WGS84 (see the module docstring)."""
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputFileError(
            path, "只接受 GeoJSON、压缩的 Shapefile(.zip)、GeoPackage 或 XLSX 文件"
        )
    notes: list[str] = []
    if suffix == ".xlsx":
        features, declared = _read_xlsx(path), None
    else:
        try:
            frame = gpd.read_file(path)
        except UnicodeDecodeError as exc:
            # a DBF holds 10 bytes per field name: 验收日期 (12 bytes of UTF-8) is cut mid-character
            raise InputFileError(path, "字段名或属性无法按 UTF-8 读取(Shapefile 字段名最多 10 字节,"
                                 "中文字段名会被截断);请用英文字段名(code、name、type、stage、"
                                 "accepted …)或改用 GeoJSON / GeoPackage") from exc  # fmt: skip
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise InputFileError(path, f"无法读取为矢量数据({type(exc).__name__})") from exc
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        records = frame[columns].to_dict("records")
        features = [RawFeature(f"第 {i + 1} 个要素", _cells(columns, row), geom)
                    for i, (row, geom) in enumerate(zip(records, frame.geometry.values, strict=True))]  # fmt: skip
        declared = frame.crs
    if not features:
        raise InputFileError(path, "文件中没有项目")
    if len(features) > MAX_FEATURES:
        raise InputFileError(path, f"项目数超过上限 {MAX_FEATURES}")
    _to_wgs84(path, features, declared, crs, notes)
    return ProjectFile(path.name, file_sha256(path), features, notes)


def _to_wgs84(path: Path, features: list[RawFeature], declared: CRS | None, crs: str | None,
              notes: list[str]) -> None:  # fmt: skip
    """Reproject in place. The CRS named by the user wins over the file's; a geographic CRS
    whose numbers are metres is refused rather than guessed at."""
    present = [f for f in features if f.geom is not None and not shapely.is_empty(f.geom)]
    if not present:
        return
    geoms = np.asarray([f.geom for f in present], dtype=object)
    if is_gcj02(crs):
        bad = [f.where for f, g in zip(present, geoms, strict=True) if not _lon_lat(g)]
        if bad:
            raise ValidationError(f"{path.name}: 指定为 GCJ-02 经纬度,但以下要素坐标不是经纬度: "
                                  + "、".join(bad[:8]), bad)  # fmt: skip
        moved = geometry_gcj02_to_wgs84(geoms)
        notes.append("坐标按 GCJ-02 转换为 WGS84")
    else:
        try:
            source = CRS.from_user_input(crs) if crs else declared
        except CRSError as exc:
            raise InputFileError(path, f"无法识别坐标系“{crs}”") from exc
        plausible = np.asarray([_lon_lat(g) for g in geoms])
        if source is None:
            if not plausible.all():
                raise InputFileError(path, "文件未声明坐标系且坐标不是经纬度(像是投影坐标,单位米),"
                                     "请指定坐标系(如 EPSG:4547 CGCS2000 / 3 度带 117°E)")  # fmt: skip
            source = WGS84
            notes.append(f"文件未声明坐标系,坐标为经纬度,按 WGS84 处理;{GCJ_HINT}")
        elif source.is_geographic and not plausible.all():
            bad = [f.where for f, ok in zip(present, plausible, strict=True) if not ok]
            raise ValidationError(
                f"{path.name}: 坐标系为经纬度({source.name}),但 {len(bad)} 个要素的坐标像投影坐标"
                f"(单位米): {'、'.join(bad[:8])};请确认实际坐标系并指定(如 EPSG:4547)", bad)  # fmt: skip
        if source != WGS84:
            notes.append(f"坐标已从 {source.name}(EPSG:{source.to_epsg() or '无'})转换为 WGS84")
        elif crs is None and declared is not None:
            notes.append(GCJ_HINT)
        moved = np.asarray(gpd.GeoSeries(geoms, crs=source).to_crs(WGS84).values)
    for f, g in zip(present, moved, strict=True):
        f.geom = g


def _read_xlsx(path: Path) -> list[RawFeature]:
    """Rows of the first sheet; geometry from a WKT column, else the point at (经度, 纬度)."""
    with xlsx_rows(path, _text, MAX_FEATURES) as (columns, rows):
        has_wkt = find_column(columns, FIELDS["wkt"]) is not None
        has_xy = all(find_column(columns, FIELDS[k]) is not None for k in ("lon", "lat"))
        if not has_wkt and not has_xy:
            raise InputFileError(
                path, f"缺少 WKT 列或经度、纬度列; 现有列: {', '.join(c for c in columns if c)}"
            )
        out: list[RawFeature] = []
        for n, raw in rows:
            cells = _cells(columns, dict(zip(columns, raw, strict=False)))
            geom, problem = None, ""
            if cells["wkt"]:
                try:
                    geom = shapely.from_wkt(cells["wkt"])
                except shapely.errors.GEOSException:
                    problem = "WKT 无法解析"
            elif cells["lon"] or cells["lat"]:
                try:
                    geom = shapely.Point(float(cells["lon"]), float(cells["lat"]))
                except ValueError:
                    problem = "经纬度不是数字"
            out.append(RawFeature(f"第 {n} 行", cells, geom, problem))
        return out


# --------------------------------------------------------------------------- checking


@dataclass
class ImportResult:
    projects: list[Project]
    notes: list[str]  # file-level: CRS, conversions
    warnings: list[str]  # per project: overlaps that were allowed, area differences
    sha256: str
    rollups: list[str] = field(default_factory=list)  # indicator values written


def _date(text: str) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text.strip()).date()
    except ValueError:
        return None


def declared_hectares(area: str, unit: str) -> tuple[float, str, float, str]:
    """(value, unit, 公顷, note) of a declared area written as "22.5" + "亩" or "22.5亩";
    a bare number is taken as 公顷 and the note says so. ValueError for what is not an area."""
    match = _AREA_TEXT.match(area)
    if match is None:
        raise ValueError(f"申报面积“{area}”不是数字")
    value = float(match.group("value").replace(",", ""))
    written = (unit or match.group("unit")).strip()
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"申报面积“{area}”应为非负数")
    if not written:
        return value, "公顷", value, f"申报面积 {value:g} 未注明单位,按公顷计"
    factor = config().factor(written, "公顷")
    if factor is None:
        raise ValueError(f"面积单位“{written}”无法换算为公顷(可用: 公顷、亩、平方米、平方公里)")
    if written == "公顷":
        return value, written, value, ""
    return (
        value,
        written,
        value * factor,
        f"申报面积 {value:g} {written} = {value * factor:.4f} 公顷",
    )


@dataclass
class _Checked:
    raw: RawFeature
    code: str
    row: dict[str, Any]  # column values of the Project
    geom: Any  # WGS84, valid
    notes: list[str]


def _check_feature(f: RawFeature, units: dict[str, Unit], account: Account | None, today: dt.date,
                   problems: list[str]) -> _Checked | None:  # fmt: skip
    cfg = config()
    c = f.cells
    at = f"{f.where}" + (f"({c['code']})" if c["code"] else "")
    mine: list[str] = []
    if not c["code"]:
        mine.append("缺少项目编号")
    if not c["name"]:
        mine.append("缺少项目名称")
    if c["type"] not in cfg.project_types:
        mine.append(f"项目类型“{c['type']}”无法识别(可选: {'、'.join(cfg.project_types)})")
    stage = c["stage"] or cfg.stages[0]
    if stage not in cfg.stages:
        mine.append(f"阶段“{stage}”无法识别(可选: {'、'.join(cfg.stages)})")
    dates: dict[str, dt.date | None] = {}
    for attr, label in DATE_LABELS.items():
        day = dates[attr] = _date(c[attr]) if c[attr] else None
        if c[attr] and day is None:
            mine.append(f"{label}“{c[attr]}”格式应为 YYYY-MM-DD")
        elif day is not None and day > today:
            mine.append(f"{label} {day.isoformat()} 晚于今天")
    if stage in cfg.stages:
        reached = cfg.stages[: cfg.stages.index(stage) + 1]
        if stage != cfg.stages[0] and dates[STAGE_DATES[stage]] is None:
            mine.append(f"阶段为{stage}的项目须填写{DATE_LABELS[STAGE_DATES[stage]]}")
        later = [DATE_LABELS[STAGE_DATES[s]] for s in cfg.stages
                 if s not in reached and dates[STAGE_DATES[s]] is not None]  # fmt: skip
        if later:
            mine.append(f"阶段为{stage},却填写了{'、'.join(later)}")
        filled = [(DATE_LABELS[STAGE_DATES[s]], dates[STAGE_DATES[s]]) for s in reached]
        known = [(label, d) for label, d in filled if d is not None]
        for (l1, d1), (l2, d2) in zip(known, known[1:], strict=False):
            if d2 < d1:
                mine.append(f"{l2} {d2.isoformat()} 早于{l1} {d1.isoformat()}")
    unit: Unit | None = None
    if c["unit"]:
        unit = units.get(c["unit"])
        if unit is None:
            mine.append(f"责任单位“{c['unit']}”不在单位名录中")
    if account is not None and account.role == "unit":
        if unit is None:
            unit = account.unit
        elif unit.id != account.unit_id:
            mine.append(f"单位用户只能导入本单位的项目(此行为“{unit.name}”)")
    notes: list[str] = []
    declared: tuple[float, str, float, str] | None = None
    if c["declared_area"]:
        try:
            declared = declared_hectares(c["declared_area"], c["area_unit"])
        except ValueError as exc:
            mine.append(str(exc))
        else:
            if declared[3]:
                notes.append(declared[3])
    geom = f.geom
    if f.problem:
        mine.append(f.problem)
    elif geom is None or shapely.is_empty(geom):
        mine.append("没有几何图形")
    else:
        geom = shapely.force_2d(geom)
        if geom.geom_type not in ("Polygon", "MultiPolygon", "Point"):
            mine.append(f"几何类型 {geom.geom_type} 不可用(只接受面或点)")
        elif not shapely.is_valid(geom):
            # a surveyed boundary that crosses itself is a drawing error whose "repair" would
            # change the area that is counted: the unit fixes it, we do not guess
            mine.append(f"几何图形无效: {shapely.is_valid_reason(geom)}")
        elif not _lon_lat(geom) or not shapely.intersects(beijing().city, geom):
            mine.append("位置不在北京市范围内(坐标系是否正确?经纬度是否颠倒?)")
        elif geom.geom_type == "Point" and declared is None:
            notes.append("点状项目无图形面积,也未填写申报面积")
    if mine:
        problems.extend(f"{at}: {m}" for m in mine)
        return None
    row = {"code": c["code"][:60], "name": c["name"][:200], "type": c["type"], "stage": stage,
           **dates, "unit_id": unit.id if unit else None,
           "declared_area": declared[0] if declared else None,
           "declared_unit": declared[1] if declared else None,
           "declared_area_ha": declared[2] if declared else None}  # fmt: skip
    return _Checked(f, c["code"], row, geom, notes)


def overlap_counts(area_m2: float, smaller_m2: float) -> bool:
    """An overlap that is more than digitising noise: above both tolerances of the file."""
    tol = config().overlap
    return area_m2 > tol.min_m2 and (smaller_m2 <= 0 or area_m2 / smaller_m2 > tol.min_share)


def _green(type_: str) -> bool:
    return type_ in config().green_space_types


def _metric_of(projects: Sequence[Project]) -> Any:
    shapes = [shapely.geometry.shape(p.geometry) for p in projects]
    return project(np.asarray(shapes, dtype=object)) if shapes else np.asarray([], dtype=object)


def _accepted_green(session: Session, exclude: int | None = None) -> list[Project]:
    query = select(Project).where(Project.type.in_(config().green_space_types),
                                  Project.stage == config().stages[-1])  # fmt: skip
    if exclude is not None:
        query = query.where(Project.id != exclude)
    return [p for p in session.scalars(query) if p.geometry.get("type") != "Point"]


def _pairs(left: Any, right: Any) -> list[tuple[int, int, float, float]]:
    """(i, j, overlap m², smaller area m²) of intersecting polygons."""
    if len(left) == 0 or len(right) == 0:
        return []
    tree = shapely.STRtree(right)
    li, ri = tree.query(left, predicate="intersects")
    if li.size == 0:
        return []
    inter = shapely.area(shapely.intersection(left[li], right[ri]))
    smaller = np.minimum(shapely.area(left[li]), shapely.area(right[ri]))
    return [(int(i), int(j), float(a), float(s))
            for i, j, a, s in zip(li, ri, inter, smaller, strict=True)]  # fmt: skip


def import_projects(session: Session, path: Path, *, actor: str, account: Account | None = None,
                    crs: str | None = None, today: dt.date | None = None) -> ImportResult:  # fmt: skip
    """Check and store every project of a file, or none (ValidationError naming each bad
    feature). ``account``: a unit account may only import its own unit's projects (a blank
    unit cell means its own); None (the command line) or the coordinator/admin import any."""
    today = today or clock()
    if account is not None and account.role not in ("unit", "coordinator", "admin"):
        raise PermissionDenied("无权导入项目台账")
    data = read_projects(path, crs=crs)
    units = unit_index(session)
    problems: list[str] = []
    checked = [c for f in data.features
               if (c := _check_feature(f, units, account, today, problems)) is not None]  # fmt: skip
    seen: dict[str, str] = {}
    for c in checked:
        if c.code in seen:
            problems.append(f"{c.raw.where}: 项目编号 {c.code} 与{seen[c.code]}重复")
        seen.setdefault(c.code, c.raw.where)
    stored = set(session.scalars(select(Project.code).where(Project.code.in_(list(seen)))))
    problems.extend(f"{c.raw.where}: 项目编号 {c.code} 已在台账中(阶段变化请用阶段变更)"
                    for c in checked if c.code in stored)  # fmt: skip
    metric = (
        project(np.asarray([c.geom for c in checked], dtype=object)) if checked else np.asarray([])
    )
    warnings: list[str] = []
    polygonal = [i for i, c in enumerate(checked) if c.geom.geom_type != "Point"]
    green_new = [i for i in polygonal if _green(checked[i].row["type"])]
    # against accepted green space already in the ledger: refused above the tolerance, because
    # that land has been counted as new green space once already
    accepted = _accepted_green(session)
    for i, j, area, smaller in _pairs(metric[green_new], _metric_of(accepted)):
        c, other = checked[green_new[i]], accepted[j]
        if overlap_counts(area, smaller):
            problems.append(f"{c.raw.where}({c.code}): 与已验收项目 {other.code}“{other.name}”重叠 "
                            f"{area:.0f} 平方米({area / 1e4:.4f} 公顷),超过容差;同一地块不能再次计入新增绿地")  # fmt: skip
    # within the file and against projects not yet accepted: allowed, said, and counted once
    # by the union in the roll-up
    for i, j, area, smaller in _pairs(metric[green_new], metric[green_new]):
        if i < j and overlap_counts(area, smaller):
            a, b = checked[green_new[i]], checked[green_new[j]]
            text = f"{a.code} 与 {b.code} 重叠 {area:.0f} 平方米,汇总新增绿地时按并集只计一次"
            warnings.append(text)
            a.notes.append(text)
            b.notes.append(text)
    if problems:
        raise ValidationError(f"{data.name}: {len(problems)} 处错误,未导入任何项目: "
                              + "; ".join(problems[:8]), problems)  # fmt: skip
    pending = [p for p in session.scalars(select(Project).where(
        Project.type.in_(config().green_space_types), Project.stage != config().stages[-1]))
        if p.geometry.get("type") != "Point"]  # fmt: skip
    for i, j, area, smaller in _pairs(metric[green_new], _metric_of(pending)):
        if overlap_counts(area, smaller):
            c = checked[green_new[i]]
            text = f"{c.code} 与未验收项目 {pending[j].code} 重叠 {area:.0f} 平方米"
            warnings.append(text)
            c.notes.append(text)
    d = beijing()
    district = assign(metric, d.metric) if checked else np.asarray([], dtype=np.intp)
    areas = shapely.area(metric) if checked else np.asarray([])
    inside = shapely.point_on_surface(np.asarray([c.geom for c in checked], dtype=object))
    out: list[Project] = []
    for k, c in enumerate(checked):
        area_ha = float(areas[k]) / 1e4 if c.geom.geom_type != "Point" else None
        if area_ha and c.row["declared_area_ha"]:
            gap = (c.row["declared_area_ha"] - area_ha) / area_ha
            if abs(gap) > 0.1:
                c.notes.append(f"申报面积 {c.row['declared_area_ha']:.4f} 公顷与图形面积 "
                               f"{area_ha:.4f} 公顷相差 {100 * gap:+.1f}%")  # fmt: skip
        i = int(district[k])
        item = Project(**c.row, district_code=d.codes[i] if i >= 0 else None,
                       district_name=d.names[i] if i >= 0 else None,
                       geometry=shapely.geometry.mapping(c.geom), lon=float(shapely.get_x(inside[k])),
                       lat=float(shapely.get_y(inside[k])), area_ha=area_ha, notes=c.notes + [n for n in data.notes if n != GCJ_HINT],
                       photos=[], source={"file": data.name, "sha256": data.sha256, "feature": c.raw.where},
                       created_by=actor)  # fmt: skip
        session.add(item)
        out.append(item)
    session.flush()
    for item in out:
        audit.record(session, actor=actor, action="project.create", entity_type="project",
                     entity_id=item.code, after=snapshot(item), context={"file": data.name,
                                                                        "sha256": data.sha256})  # fmt: skip
    audit.record(session, actor=actor, action="project.import", entity_type="project_file",
                 entity_id=data.sha256, after={"file": data.name, "projects": [p.code for p in out],
                                                "notes": data.notes})  # fmt: skip
    result = ImportResult(out, data.notes, warnings, data.sha256)
    result.rollups = _rerun(
        session, {p.accepted_on.year for p in out if p.accepted_on}, actor, today
    )
    return result


def snapshot(p: Project) -> dict[str, Any]:
    """What the audit log keeps of a project (the geometry is in the row and the file)."""
    return {"code": p.code, "name": p.name, "type": p.type, "stage": p.stage,
            **{attr: (getattr(p, attr).isoformat() if getattr(p, attr) else None)
               for attr in STAGE_DATES.values()},
            "district": p.district_code, "area_ha": p.area_ha,
            "declared_area_ha": p.declared_area_ha, "unit_id": p.unit_id}  # fmt: skip


def _rerun(session: Session, years: set[int], actor: str, today: dt.date) -> list[str]:
    from ecoplan.indicators.rollup import rollup

    written: list[str] = []
    for year in sorted(years):
        written += rollup(session, year, actor=actor, today=today).written
    return written


# --------------------------------------------------------------------------- stages & photos


def get_project(session: Session, code: str) -> Project:
    found = session.scalar(select(Project).where(Project.code == code))
    if found is None:
        raise NotFoundError(f"项目“{code}”不存在")
    return found


def may_edit(account: Account, project_: Project) -> bool:
    """Units move their own projects; the coordinator and the admin any."""
    if account.role in ("admin", "coordinator"):
        return True
    return (
        account.role == "unit"
        and account.unit_id is not None
        and account.unit_id == project_.unit_id
    )


def change_stage(session: Session, code: str, stage: str, *, account: Account,
                 on: dt.date | None = None, note: str = "", actor: str | None = None,
                 expected_version: int | None = None, today: dt.date | None = None) -> Project:  # fmt: skip
    """Move a project to ``stage`` on date ``on`` (today by default). Forward moves may skip
    stages; a move back (an acceptance withdrawn, a mistake) is for the coordinator or the
    admin, needs ``note`` and clears the dates of the stages undone. Audited; the roll-ups of
    the years touched are rerun."""
    today = today or clock()
    actor = actor or account.actor
    item = get_project(session, code)
    if not may_edit(account, item):
        raise PermissionDenied(f"无权变更项目 {code} 的阶段(单位只能变更本单位的项目)")
    check_version(item, expected_version, f"项目 {code} 已被他人修改,请刷新后重试")
    stages = config().stages
    if stage not in stages:
        raise ValidationError(f"阶段“{stage}”无法识别(可选: {'、'.join(stages)})")
    if stage == item.stage:
        raise ValidationError(f"项目 {code} 已处于{stage}阶段")
    old, new = stages.index(item.stage), stages.index(stage)
    on = on or today
    before = snapshot(item)
    years = {item.accepted_on.year} if item.accepted_on else set()
    if new < old:
        if account.role not in ("admin", "coordinator"):
            raise PermissionDenied("阶段回退(如撤销验收)须由督办协调员或管理员操作")
        if not note.strip():
            raise ValidationError("阶段回退须说明原因")
        for undone in stages[new + 1 : old + 1]:
            setattr(item, STAGE_DATES[undone], None)
    else:
        if on > today:
            raise ValidationError(f"{DATE_LABELS[STAGE_DATES[stage]]} {on.isoformat()} 晚于今天")
        earlier = [(s, getattr(item, STAGE_DATES[s])) for s in stages[:new]]
        for s, d in earlier:
            if d is not None and on < d:
                raise ValidationError(f"{DATE_LABELS[STAGE_DATES[stage]]} {on.isoformat()} 早于"
                                      f"{DATE_LABELS[STAGE_DATES[s]]} {d.isoformat()}")  # fmt: skip
        if stage == stages[-1] and _green(item.type):
            _check_acceptance_overlap(session, item, on.year)
        setattr(item, STAGE_DATES[stage], on)
    item.stage = stage
    flush_versioned(session, f"项目 {code} 已被他人修改,请刷新后重试")
    audit.record(session, actor=actor, action="project.stage", entity_type="project", entity_id=code,
                 before=before, after=snapshot(item), context={"note": note.strip()} if note.strip() else None)  # fmt: skip
    if item.accepted_on:
        years.add(item.accepted_on.year)
    _rerun(session, years, actor, today)
    return item


def _check_acceptance_overlap(session: Session, item: Project, year: int) -> None:
    """Accepting green space over land accepted in another year would count that land twice
    (each year's union cannot see the other year); the same year's union counts it once."""
    if item.geometry.get("type") == "Point":
        return
    others = [p for p in _accepted_green(session, exclude=item.id)
              if p.accepted_on is not None and p.accepted_on.year != year]  # fmt: skip
    mine = _metric_of([item])
    for _i, j, area, smaller in _pairs(mine, _metric_of(others)):
        if overlap_counts(area, smaller):
            other = others[j]
            raise ValidationError(
                f"项目 {item.code} 与 {other.accepted_on.year if other.accepted_on else ''} 年已验收项目 "
                f"{other.code}“{other.name}”重叠 {area:.0f} 平方米({area / 1e4:.4f} 公顷),超过容差,"
                "不能验收为新增绿地;请核实图形或改为其他类型")  # fmt: skip


def add_photo(session: Session, code: str, data: bytes, name: str, *, account: Account,
              actor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Store a site photo (JPG/PNG/WebP, checked by its bytes) with the project; audited."""
    item = get_project(session, code)
    if not may_edit(account, item):
        raise PermissionDenied(f"无权为项目 {code} 上传照片")
    clean, mime = evidence.sniff(data, name)
    if mime not in PHOTO_TYPES:
        raise ValidationError(f"{clean}: 项目照片只接受 JPG、PNG、WebP 图片")
    digest = evidence.store(data)
    photo = {"sha256": digest, "name": clean, "mime": mime, "size": len(data),
             "uploaded_by": actor or account.actor, "uploaded_at": utcnow().isoformat()}  # fmt: skip
    if any(p["sha256"] == digest for p in item.photos):
        raise ValidationError(f"{clean}: 这张照片已上传过")
    item.photos = [*item.photos, photo]  # a new list: JSON columns track assignment, not append
    flush_versioned(session, f"项目 {code} 已被他人修改,请刷新后重试")
    audit.record(session, actor=actor or account.actor, action="project.photo", entity_type="project",
                 entity_id=code, after=photo)  # fmt: skip
    return photo


def photo_path(item: Project, digest: str) -> tuple[Path, dict[str, Any]]:
    """Where a photo of the project is stored (only digests the project lists)."""
    photo = next((p for p in item.photos if p["sha256"] == digest), None)
    if photo is None:
        raise NotFoundError("照片不存在")
    return evidence.path_of(digest), photo


# --------------------------------------------------------------------------- queries


@dataclass
class ProjectFilter:
    type: str | None = None
    stage: str | None = None
    district: str | None = None
    year: int | None = None  # accepted in


def list_projects(session: Session, flt: ProjectFilter | None = None) -> list[Project]:
    flt = flt or ProjectFilter()
    query = select(Project).order_by(Project.code)
    if flt.type:
        query = query.where(Project.type == flt.type)
    if flt.stage:
        query = query.where(Project.stage == flt.stage)
    if flt.district:
        query = query.where(Project.district_code == flt.district)
    if flt.year:
        query = query.where(Project.accepted_on.between(dt.date(flt.year, 1, 1),
                                                        dt.date(flt.year, 12, 31)))  # fmt: skip
    return list(session.scalars(query))
