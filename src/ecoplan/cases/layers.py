"""Reference layers (生态保护红线, nature reserves and their zones, other 自然保护地, 生态涵养区,
townships): loaded from GeoJSON / Shapefile / GeoPackage, versioned, and used to check any
geometry (inside, overlap area, which zone).

Loading a layer under a (kind, name) that exists makes version n + 1 and retires version n;
the old features stay, so clues checked against them still point at what they were checked
against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.errors
import shapely.geometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.models import LAYER_KINDS, ZONES, RefFeature, RefLayer
from ecoplan.cases.spatial import Geoms, beijing, overlaps, prepare, project
from ecoplan.datafiles import file_record
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.regions import read_vector_wgs84

CODE_FIELDS = ("code", "编号", "代码", "id", "ID", "bh", "BH")
NAME_FIELDS = ("name", "名称", "mc", "MC", "NAME")
ZONE_FIELDS = ("zone", "功能区", "分区", "gnq", "GNQ")
ZONE_WORDS = {label: key for key, label in ZONES.items()} | {
    "核心保护区": "core",
    "一般控制区": "general",
    **{key: key for key in ZONES},
}


def _field(columns: list[str], wanted: str | None, candidates: tuple[str, ...]) -> str | None:
    if wanted:
        return wanted if wanted in columns else None
    return next((c for c in candidates if c in columns), None)


def _plain(value: Any) -> Any:
    """A JSON-safe copy of an attribute value (dates as text, NaN as None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float, str, bool)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def load_layer(
    session: Session,
    path: Path,
    *,
    kind: str,
    name: str,
    actor: str,
    crs: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    zone_field: str | None = None,
) -> RefLayer:
    """Read, check and store a reference layer as a new version; all or nothing."""
    if kind not in LAYER_KINDS:
        raise ValidationError(f"未知的图层类型“{kind}”(可选: {', '.join(LAYER_KINDS)})")
    frame, geoms = read_vector_wgs84(path, crs)
    if frame.empty:
        raise InputFileError(path, "文件中没有要素")
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = _field(columns, code_field, CODE_FIELDS)
    name_col = _field(columns, name_field, NAME_FIELDS)
    zone_col = _field(columns, zone_field, ZONE_FIELDS)
    for wanted, found, what in ((code_field, code_col, "代码"), (name_field, name_col, "名称"),
                                (zone_field, zone_col, "功能区")):  # fmt: skip
        if wanted and not found:
            raise InputFileError(
                path, f"没有名为“{wanted}”的{what}字段(现有: {', '.join(columns)})"
            )
    codes = [str(v) if code_col else str(i + 1) for i, v in
             enumerate(frame[code_col] if code_col else range(len(frame)))]  # fmt: skip
    names = [str(v) for v in frame[name_col]] if name_col else [name] * len(frame)
    zones = (
        [_zone(v, i, path) for i, v in enumerate(frame[zone_col])]
        if zone_col
        else [None] * len(frame)
    )
    polygonal = np.asarray([_polygonal(g) for g in geoms], dtype=object)
    prepared = prepare(codes, polygonal, beijing().city)
    areas = shapely.area(prepared.metric) / 1e6
    version = (session.scalar(select(func.max(RefLayer.version)).where(
        RefLayer.kind == kind, RefLayer.name == name)) or 0) + 1  # fmt: skip
    for old in session.scalars(
        select(RefLayer).where(RefLayer.kind == kind, RefLayer.name == name)
    ):
        old.active = False
    source: dict[str, Any] = {
        **file_record(path),
        "crs": crs or "declared",
        "repaired": prepared.repaired,
    }
    layer = RefLayer(
        kind=kind, name=name, version=version, active=True, source=source, created_by=actor
    )
    skip = {code_col, name_col, zone_col, frame.geometry.name}
    for i, geom in enumerate(prepared.geoms):
        props = {k: _plain(frame.iloc[i][k]) for k in columns if k not in skip}
        layer.features.append(RefFeature(
            code=codes[i], name=names[i], zone=zones[i], props=props, area_km2=float(areas[i]),
            geometry=shapely.geometry.mapping(geom),
        ))  # fmt: skip
    session.add(layer)
    session.flush()
    audit.record(session, actor=actor, action="ref_layer.load", entity_type="ref_layer", entity_id=layer.id,
                 after={"kind": kind, "name": name, "version": version, "features": len(codes),
                        "repaired": prepared.repaired}, context=source)  # fmt: skip
    return layer


def _zone(value: Any, row: int, path: Path) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text or text.lower() == "nan":
        return None
    if text not in ZONE_WORDS:
        raise InputFileError(
            path,
            f"第 {row + 1} 个要素的功能区“{text}”无法识别(可选: 核心区、缓冲区、实验区、一般控制区)",
        )
    return ZONE_WORDS[text]


def _polygonal(geom: Any) -> Any:
    if geom is None:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


@dataclass
class ActiveFeatures:
    """The features of every active layer, ready for vectorised overlap queries."""

    ids: list[int]
    kinds: list[str]
    layers: list[str]
    codes: list[str]
    names: list[str]
    zones: list[str | None]
    metric: Geoms

    def __len__(self) -> int:
        return len(self.ids)


def active_features(session: Session, kinds: tuple[str, ...] | None = None) -> ActiveFeatures:
    query = (
        select(RefFeature, RefLayer.kind, RefLayer.name)
        .join(RefLayer)
        .where(RefLayer.active.is_(True))
    )
    if kinds:
        query = query.where(RefLayer.kind.in_(kinds))
    rows = session.execute(query.order_by(RefFeature.id)).all()
    geoms = np.asarray([shapely.geometry.shape(f.geometry) for f, _, _ in rows], dtype=object)
    return ActiveFeatures(
        ids=[f.id for f, _, _ in rows], kinds=[k for _, k, _ in rows], layers=[n for _, _, n in rows],
        codes=[f.code for f, _, _ in rows], names=[f.name for f, _, _ in rows],
        zones=[f.zone for f, _, _ in rows], metric=project(geoms) if len(rows) else geoms,
    )  # fmt: skip


def touches(metric: Geoms, features: ActiveFeatures) -> list[list[dict[str, Any]]]:
    """For each geometry: the reference features it overlaps, with the overlap in m² and
    whether it lies wholly inside (a point inside counts as inside)."""
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(metric))]
    if not len(features) or not len(metric):
        return out
    left, right, area = overlaps(metric, features.metric)
    own = shapely.area(metric)
    for i, j, a in zip(left, right, area, strict=True):
        inside = bool(own[i] == 0 or a >= own[i] * 0.999)
        out[i].append({
            "feature_id": features.ids[j], "kind": features.kinds[j], "layer": features.layers[j],
            "code": features.codes[j], "name": features.names[j], "zone": features.zones[j],
            "overlap_m2": round(float(a), 1), "inside": inside,
        })  # fmt: skip
    return out


def check_geometry(session: Session, geometry: dict[str, Any]) -> list[dict[str, Any]]:
    """What one GeoJSON geometry (WGS84) touches among the active reference layers."""
    try:
        geom = shapely.geometry.shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise ValidationError("不是有效的 GeoJSON 几何") from exc
    prepared = prepare(["几何"], np.asarray([geom], dtype=object), beijing().city)
    return touches(prepared.metric, active_features(session))[0]


def list_layers(session: Session, *, include_retired: bool = False) -> list[RefLayer]:
    query = select(RefLayer).order_by(RefLayer.kind, RefLayer.name, RefLayer.version)
    if not include_retired:
        query = query.where(RefLayer.active.is_(True))
    return list(session.scalars(query))
