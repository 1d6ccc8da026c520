"""Patrols of protected areas (task 6.4: 各相关区做好自然保护区日常管理和例行巡查).

A patrol is a GPX track walked or driven by a ranger, imported against one feature of an active
nature-reserve (``reserve``) or other protected-area (``protected_area``) layer. For each
track we keep:

- ``length_km``: geodesic length on the WGS-84 ellipsoid (pyproj ``Geod``), of the full track;
- ``inside_share``: the share of that length inside the area polygon: the track is clipped
  to the polygon in the equal-area CRS (shapely is planar) and the clipped parts are measured
  geodesically too, so the ratio is of two ellipsoidal lengths;
- ``geometry``: the track as a LineString simplified by Douglas–Peucker with a
  :data:`SIMPLIFY_TOLERANCE_M` tolerance, for maps only (the numbers above use every point);
- the file's SHA-256; the original file is stored with the evidence files under that digest.

``patrol_frequency`` counts patrols per area and month (Beijing time) against the required
number: the feature's ``props["patrols_per_month"]``, else the caller's number, else
``[patrols] patrols_per_month`` in ``clue_rules.toml`` (an unverified working default).
Patrols are matched to areas by (layer kind, layer name, feature code), so loading a new
version of a reserve layer keeps the patrols recorded against the old version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gpxpy
import gpxpy.gpx
import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.models import RefFeature, RefLayer
from ecoplan.cases.register_models import Patrol
from ecoplan.cases.rules import load_rules
from ecoplan.cases.spatial import BEIJING_BBOX, in_bbox
from ecoplan.config import BEIJING_TZ, get_settings
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.supervision.evidence import clean_name, store
from ecoplan.units.models import Unit

# Layer kinds whose features are patrolled areas.
PATROL_KINDS = ("reserve", "protected_area")
# Beijing's bounding box, degrees (WGS-84): a track point outside it is a wrong file or datum.
# Map geometry only: consumer GPS is good to ~5 m, so vertices closer than that to the
# simplified line carry noise, not information.
SIMPLIFY_TOLERANCE_M = 5.0
# Months and days are counted on Beijing time.
BEIJING = BEIJING_TZ

_GEOD = Geod(ellps="WGS84")
_TO_METRIC = Transformer.from_crs(WGS84, EQUAL_AREA, always_xy=True)
_TO_WGS84 = Transformer.from_crs(EQUAL_AREA, WGS84, always_xy=True)
_GPX_ROOT = re.compile(r"<(?:[\w.-]+:)?gpx[\s>/]")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


@dataclass(frozen=True)
class TrackPoint:
    lon: float  # degrees, WGS-84
    lat: float
    time: dt.datetime  # aware, UTC


@dataclass(frozen=True)
class Waypoint:
    """A point the patroller marked (GPX ``wpt``): a finding on the way, e.g. a new shed."""

    lon: float
    lat: float
    name: str
    description: str
    time: dt.datetime | None  # aware, UTC


@dataclass(frozen=True)
class Track:
    """A GPX file's track points, all segments of all tracks joined in time order, and the
    waypoints marked on the way."""

    points: tuple[TrackPoint, ...]
    segments: int
    waypoints: tuple[Waypoint, ...] = ()

    @property
    def started_at(self) -> dt.datetime:
        return min(p.time for p in self.points)

    @property
    def ended_at(self) -> dt.datetime:
        return max(p.time for p in self.points)

    def length_km(self) -> float:
        """Geodesic length of the polyline through every point, km."""
        lons = [p.lon for p in self.points]
        lats = [p.lat for p in self.points]
        return float(_GEOD.line_length(lons, lats)) / 1000.0

    def line(self) -> shapely.LineString:
        return shapely.LineString([(p.lon, p.lat) for p in self.points])


def _decode(data: bytes, name: str) -> str:
    """GPX text: the encoding the XML declaration names (UTF-8 by default), BOM removed."""
    declared = _XML_ENCODING.search(data.lstrip(b"\xef\xbb\xbf")[:200])
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = data.decode("utf-8-sig" if encoding.lower() in ("utf-8", "utf8") else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{name}: 不是有效的 GPX 轨迹文件(无法按 {encoding} 解码)") from exc
    # gpxpy parses text; a declaration naming another encoding would now be a lie
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


def read_gpx(data: bytes, name: str) -> Track:
    """Read a GPX file's track points (``trk``/``trkseg``/``trkpt``) with their times.

    Refused with a ValidationError naming the file: not GPX; no track points (routes and
    waypoints are plans, not patrols); fewer than two points; any point without a time;
    any point outside Beijing's bounding box. Times without a zone are UTC, as GPX specifies.
    """
    shown = clean_name(name)
    limit = get_settings().evidence_max_bytes
    if not data:
        raise ValidationError(f"{shown}: 文件为空")
    if len(data) > limit:
        raise ValidationError(f"{shown}: 文件超过大小上限 {limit // (1024 * 1024)} MB")
    text = _decode(data, shown)
    if not _GPX_ROOT.search(text):
        raise ValidationError(f"{shown}: 不是 GPX 轨迹文件(找不到 <gpx> 根元素)")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        # GPX never needs a DTD; refusing one rules out entity-expansion tricks
        raise ValidationError(f"{shown}: GPX 文件含有 DOCTYPE/ENTITY 声明,已拒收")
    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise ValidationError(f"{shown}: 不是有效的 GPX 轨迹文件({exc})") from exc
    segments = [seg.points for trk in gpx.tracks for seg in trk.segments if seg.points]
    if not segments:
        extra = "(只有航线或航点,没有实际行走的轨迹)" if gpx.routes or gpx.waypoints else ""
        raise ValidationError(f"{shown}: GPX 文件中没有轨迹点{extra}")
    untimed = sum(1 for seg in segments for p in seg if p.time is None)
    if untimed:
        total = sum(len(seg) for seg in segments)
        raise ValidationError(
            f"{shown}: {untimed}/{total} 个轨迹点没有时间(或时间无法识别),无法确认巡查时间;"
            "请从记录软件导出带时间的轨迹"
        )
    # segments in order of their first point: exports list tracks in any order
    segments.sort(key=lambda seg: _utc(seg[0].time))
    points = tuple(
        TrackPoint(float(p.longitude), float(p.latitude), _utc(p.time))
        for seg in segments
        for p in seg
    )
    _check_points(points, shown)
    marks = tuple(
        Waypoint(float(w.longitude), float(w.latitude), (w.name or "").strip(),
                 (w.description or w.comment or "").strip(), _utc(w.time) if w.time else None)
        for w in gpx.waypoints
    )  # fmt: skip
    stray = [w.name or f"{w.lon:.5f},{w.lat:.5f}" for w in marks if not in_bbox(w.lon, w.lat)]
    if stray:
        raise ValidationError(f"{shown}: 航点不在北京范围内: {'、'.join(stray[:5])}")
    return Track(points=points, segments=len(segments), waypoints=marks)


def _utc(moment: dt.datetime | None) -> dt.datetime:
    assert moment is not None  # read_gpx refused untimed points before this is called
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _check_points(points: Sequence[TrackPoint], shown: str) -> None:
    if len(points) < 2:
        raise ValidationError(f"{shown}: 轨迹只有 {len(points)} 个点,不能构成巡查路线")
    min_lon, min_lat, max_lon, max_lat = BEIJING_BBOX
    outside = [(i, p) for i, p in enumerate(points, start=1) if not in_bbox(p.lon, p.lat)]
    if outside:
        i, p = outside[0]
        raise ValidationError(
            f"{shown}: {len(outside)} 个轨迹点不在北京范围内"
            f"(东经 {min_lon}–{max_lon}°、北纬 {min_lat}–{max_lat}°),"
            f"如第 {i} 个点 ({p.lon:.6f}, {p.lat:.6f});请检查文件和坐标系(应为 WGS-84)"
        )


def _metric(geom: Any) -> Any:
    def forward(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = _TO_METRIC.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, forward)


def _wgs84(geom: Any) -> Any:
    def back(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = _TO_WGS84.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, back)


def _simplified(metric_line: shapely.LineString) -> dict[str, Any]:
    """GeoJSON LineString (WGS-84, 6 decimals ≈ 0.1 m) of the simplified track."""
    simple = shapely.simplify(metric_line, SIMPLIFY_TOLERANCE_M, preserve_topology=False)
    coords = np.asarray(_wgs84(simple).coords)
    return {
        "type": "LineString",
        "coordinates": [[round(float(x), 6), round(float(y), 6)] for x, y in coords],
    }


def area_feature_by_code(session: Session, code: str) -> RefFeature:
    """The active reserve / protected-area feature with this code (for the command line)."""
    found = session.scalars(
        select(RefFeature).join(RefLayer).where(
            RefFeature.code == code, RefLayer.active.is_(True), RefLayer.kind.in_(PATROL_KINDS))
    ).all()  # fmt: skip
    if len(found) != 1:
        raise ValidationError(
            f"在用的保护地图层中{'没有' if not found else '有多个'}代码为“{code}”的要素"
        )
    return found[0]


def _area_feature(session: Session, feature_id: int) -> RefFeature:
    feature = session.get(RefFeature, feature_id)
    if feature is None:
        raise NotFoundError(f"保护地要素 {feature_id} 不存在")
    if feature.layer.kind not in PATROL_KINDS:
        raise ValidationError(
            f"“{feature.name}”属于图层“{feature.layer.name}”,不是自然保护区或自然保护地图层,"
            "不能登记巡查"
        )
    if not feature.layer.active:
        raise ValidationError(
            f"“{feature.name}”属于已停用的图层版本(“{feature.layer.name}”第 "
            f"{feature.layer.version} 版),请选择现行版本中的保护地"
        )
    return feature


def _refuse_duplicate(session: Session, digest: str, track: Track, patroller: str) -> None:
    same_file = session.scalar(select(Patrol).where(Patrol.sha256 == digest))
    # the same walk exported again (another app, another file) must not count twice
    same_walk = same_file or session.scalar(
        select(Patrol).where(
            Patrol.patroller == patroller,
            Patrol.started_at == track.started_at,
            Patrol.ended_at == track.ended_at,
        )
    )
    if same_walk is not None:
        day = same_walk.started_at.astimezone(BEIJING).date().isoformat()
        why = "同一文件" if same_file else "同一巡查人、相同起止时间"
        raise ValidationError(
            f"该轨迹已导入({why}:巡查记录 #{same_walk.id},{same_walk.area_name},"
            f"{same_walk.patroller},{day})"
        )


def import_patrol(
    session: Session,
    data: bytes,
    name: str,
    *,
    area_feature_id: int,
    patroller: str,
    unit_id: int | None,
    actor: str,
    findings: Sequence[str] = (),
) -> Patrol:
    """Record one patrol from a GPX file, in the caller's transaction, audited.

    Raises ValidationError for a bad file (see :func:`read_gpx`), an area that is not an
    active reserve / protected-area feature, a file or walk imported before, or a track that
    never enters the area; NotFoundError for an unknown feature or unit.
    """
    shown = clean_name(name)
    patroller = patroller.strip()
    if not patroller:
        raise ValidationError("请填写巡查人")
    feature = _area_feature(session, area_feature_id)
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise NotFoundError(f"单位 {unit_id} 不存在")
    track = read_gpx(data, shown)
    digest = hashlib.sha256(data).hexdigest()
    _refuse_duplicate(session, digest, track, patroller)

    area = shapely.geometry.shape(feature.geometry)
    if not area.is_valid:
        area = shapely.make_valid(area)
    metric_line = _metric(track.line())
    length_m = track.length_km() * 1000.0
    if length_m == 0:
        raise ValidationError(f"{shown}: 轨迹所有点位置相同,长度为 0")
    # clip in the projection (shapely is planar), measure the clipped parts on the ellipsoid:
    # the equal-area CRS stretches lengths by up to ±1.7 % at 40° N depending on direction
    inside = _wgs84(shapely.intersection(metric_line, _metric(area)))
    inside_m = float(_GEOD.geometry_length(inside)) if not inside.is_empty else 0.0
    if inside_m == 0:
        raise ValidationError(f"{shown}: 轨迹没有进入“{feature.name}”范围,不能作为该保护地的巡查")

    store(data)  # the original track is the evidence; kept under its digest
    patrol = Patrol(
        area_feature_id=feature.id,
        area_name=feature.name,
        patroller=patroller,
        unit_id=unit_id,
        started_at=track.started_at,
        ended_at=track.ended_at,
        length_km=round(length_m / 1000.0, 3),
        inside_share=round(min(inside_m / length_m, 1.0), 4),
        geometry=_simplified(metric_line),
        sha256=digest,
        findings=list(findings),
        created_by=actor,
    )
    session.add(patrol)
    session.flush()
    audit.record(
        session, actor=actor, action="patrol.import", entity_type="patrol", entity_id=patrol.id,
        after={
            "file": shown, "sha256": digest, "area_feature_id": feature.id,
            "area_name": feature.name, "layer": feature.layer.name, "patroller": patroller,
            "unit_id": unit_id, "started_at": patrol.started_at.isoformat(),
            "ended_at": patrol.ended_at.isoformat(), "points": len(track.points),
            "segments": track.segments, "length_km": patrol.length_km,
            "inside_share": patrol.inside_share, "findings": patrol.findings,
        },
    )  # fmt: skip
    return patrol


@dataclass(frozen=True)
class AreaMonth:
    """Patrols of one protected area in one month (Beijing time).

    ``met`` is None for a month that begins after ``today`` (not judged); otherwise True once
    ``patrols >= required``, False for a month that ended short, None for the running month
    while it is still short (it can yet be met).
    """

    feature_id: int  # the feature in the active layer version
    layer: str
    code: str
    name: str
    month: int  # 1–12
    patrols: int
    km: float
    required: int
    required_from: str  # "props" | "argument" | "default"
    met: bool | None


def _required(feature: RefFeature, argument: int | None, default: int) -> tuple[int, str]:
    props = feature.props if isinstance(feature.props, dict) else {}
    value = props.get("patrols_per_month")
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or number < 0:
            raise ValidationError(
                f"保护地“{feature.name}”({feature.code})的属性 patrols_per_month "
                f"应为非负整数,实际为 {value!r}"
            )
        return number, "props"
    if argument is not None:
        return argument, "argument"
    return default, "default"


def patrol_frequency(
    session: Session,
    year: int,
    *,
    required_per_month: int | None = None,
    today: dt.date | None = None,
) -> list[AreaMonth]:
    """Patrol counts and km per protected area (active reserve / protected-area layers) and
    month of ``year``, against the required number of patrols per month.

    A patrol belongs to the month in which it started, Beijing time. ``today`` (default: the
    current date in Beijing) decides which months are over and can be judged.
    """
    if required_per_month is not None and required_per_month < 0:
        raise ValidationError("每月应巡查次数不能为负数")
    today = today or dt.datetime.now(BEIJING).date()
    default = load_rules().patrols.patrols_per_month
    features = list(
        session.scalars(
            select(RefFeature)
            .join(RefLayer)
            .where(RefLayer.active.is_(True), RefLayer.kind.in_(PATROL_KINDS))
            .order_by(RefLayer.kind, RefLayer.name, RefFeature.code, RefFeature.id)
        )
    )
    start = dt.datetime(year, 1, 1, tzinfo=BEIJING)
    end = dt.datetime(year + 1, 1, 1, tzinfo=BEIJING)
    rows = session.execute(
        select(Patrol.started_at, Patrol.length_km, RefLayer.kind, RefLayer.name, RefFeature.code)
        .join(RefFeature, RefFeature.id == Patrol.area_feature_id)
        .join(RefLayer, RefLayer.id == RefFeature.layer_id)
        .where(Patrol.started_at >= start, Patrol.started_at < end)
    ).all()
    counts: dict[tuple[str, str, str, int], tuple[int, float]] = {}
    for started_at, km, kind, layer, code in rows:
        key = (kind, layer, code, started_at.astimezone(BEIJING).month)
        n, total = counts.get(key, (0, 0.0))
        counts[key] = (n + 1, total + km)

    out: list[AreaMonth] = []
    for feature in features:
        required, source = _required(feature, required_per_month, default)
        for month in range(1, 13):
            n, km = counts.get(
                (feature.layer.kind, feature.layer.name, feature.code, month), (0, 0.0)
            )
            met: bool | None = None  # months not begun by ``today`` are not judged
            if dt.date(year, month, 1) <= today:
                # a running month is met as soon as the count is reached, failed only at its end
                met = True if n >= required else (False if _last_day(year, month) < today else None)
            out.append(AreaMonth(
                feature_id=feature.id, layer=feature.layer.name, code=feature.code,
                name=feature.name, month=month, patrols=n, km=round(km, 3), required=required,
                required_from=source, met=met,
            ))  # fmt: skip
    return out


def _last_day(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)
