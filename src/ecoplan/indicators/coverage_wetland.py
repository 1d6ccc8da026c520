"""湿地保护率 (measure 8.5) per district and city.

    湿地保护率 = 受保护湿地面积 / 湿地总面积 × 100 %
    受保护湿地 = 湿地 ∩ ∪(counted protected areas)

Wetland comes from a polygon layer (optionally filtered by a class field through a
``vector_mappings`` entry) or from the wetland classes of a land-cover raster. Protected
areas are polygons whose kind (自然保护区, 湿地公园, 湿地保护小区, …) is in the parameter
list ``wetland.counted_kinds``; they are unioned per district first, so overlapping reserves
count once. Areas in the equal-area CRS (polygons) or as true pixel areas with exact
fractional coverage (raster). A district without wetland has no rate (NaN).
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from numpy.typing import NDArray

from ecoplan.errors import ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.rasters import DEFAULT_CHUNK, grid_of
from ecoplan.geo.regions import RegionLayer, build_layer
from ecoplan.geo.zonal import zonal_stats
from ecoplan.indicators.coverage_inputs import (
    Floats,
    Geoms,
    Record,
    area_km2,
    class_values,
    clip_union,
    district_layer,
    label,
    metric_districts,
    percent,
    result_attrs,
    to_metric,
    unmapped_text,
    with_city,
)
from ecoplan.indicators.coverage_params import CoverageParameters, load_parameters
from ecoplan.indicators.coverage_raster import (
    district_pixel_m2,
    prepared_raster,
    unknown_km2,
    unmapped_classes,
)

WETLAND_SUMS: Final = (
    "land_area_km2",
    "wetland_km2",
    "protected_wetland_km2",
    "protected_area_km2",
    "unknown_km2",
    "unmapped_km2",
    "unmapped_kinds_km2",
)


def wetland_protection_vector(
    wetlands: gpd.GeoDataFrame,
    protected: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | RegionLayer,
    *,
    kind_field: str | None,
    wetland_class_field: str | None = None,
    wetland_mapping: str = "gbt21010",
    parameters: CoverageParameters | None = None,
    allow_unmapped: bool = False,
    code_field: str | None = None,
    name_field: str | None = None,
) -> pd.DataFrame:
    """湿地保护率 per district and city from a wetland layer and a protected-area layer.

    ``kind_field``: the protected layer's field naming the protection form (``None``: every
    polygon counts, noted). ``wetland_class_field``: if given, only values listed as
    ``wetland`` in ``vector_mappings[wetland_mapping]`` are wetland; otherwise every polygon
    is. Unknown kinds or classes are refused with their area unless ``allow_unmapped`` (then
    not counted, reported). Areas in km², rate in %.
    """
    params = parameters or load_parameters()
    record = Record()
    layer = district_layer(districts, code_field=code_field, name_field=name_field, record=record)
    wname, pname = label(wetlands, "湿地图层"), label(protected, "保护地图层")
    wet_values = (
        np.asarray(class_values(wetlands, wetland_class_field, wname), dtype=object)
        if wetland_class_field
        else None
    )
    kinds = _kinds(protected, kind_field, pname)
    wet_metric, _ = to_metric(wetlands, wname, record)
    prot_metric, _ = to_metric(protected, pname, record)
    record.add_input("wetlands", wetlands)
    record.add_input("protected", protected)
    record.add_input("districts", layer)
    dist = metric_districts(layer)

    unmapped: dict[str, Floats] = {}
    wet_mask = np.ones(len(wet_metric), dtype=bool)
    if wet_values is not None:
        vmap = params.vector_mapping(wetland_mapping)
        unknown = np.asarray([v not in vmap.classes for v in wet_values])
        unmapped = _unknown_values(
            wet_values, unknown, wet_metric, dist, allow_unmapped,
            f"{wname}: 字段“{wetland_class_field}”中有类别映射“{vmap.name}”未定义的值",
            "湿地类别",
        )  # fmt: skip
        wet_mask = np.isin(wet_values, vmap.wetland)
    wet_pieces, wet_counts = clip_union(wet_metric[wet_mask], dist)
    if not _meets(wet_metric, dist):
        raise ValidationError(f"{wname}: 图层与区划没有任何重叠，请检查坐标系与范围")
    prot_mask, unmapped_kinds = _protected_mask(
        kinds, prot_metric, dist, params, pname, kind_field, allow_unmapped, record
    )
    prot_pieces, prot_counts = _protected_pieces(prot_metric, prot_mask, dist, pname)
    protected_wetland = area_km2(
        [shapely.intersection(w, p) for w, p in zip(wet_pieces, prot_pieces, strict=True)]
    )
    return _wetland_frame(
        layer,
        params,
        record,
        admin=area_km2(dist),
        wetland=area_km2(wet_pieces),
        protected_wetland=protected_wetland,
        protected_area=area_km2(prot_pieces),
        unknown=np.zeros(len(layer)),
        unmapped=unmapped,
        unmapped_kinds=unmapped_kinds,
        source=f"vector:{wetland_mapping}" if wet_values is not None else "vector",
        counts={
            "wetland_features": wet_counts.astype(np.float64),
            "protected_features": prot_counts.astype(np.float64),
        },
    )


def wetland_protection_raster(
    landcover: xr.DataArray,
    protected: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | RegionLayer,
    *,
    mapping: str,
    kind_field: str | None,
    parameters: CoverageParameters | None = None,
    allow_unmapped: bool = False,
    code_field: str | None = None,
    name_field: str | None = None,
    chunk: int = DEFAULT_CHUNK,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """湿地保护率 with wetland = the ``wetland`` classes of a land-cover raster mapping.

    Wetland area per district comes from the zonal engine over the districts; protected
    wetland from the same engine over (district ∩ union of counted protected areas), so the
    raster is read twice at most and never resampled.
    """
    params = parameters or load_parameters()
    cmap = params.raster_mapping(mapping)
    if not cmap.wetland:
        raise ValidationError(f"类别映射“{mapping}”没有定义湿地类别(wetland)")
    record = Record()
    layer = district_layer(districts, code_field=code_field, name_field=name_field, record=record)
    name, pname = label(landcover, "土地覆盖栅格"), label(protected, "保护地图层")
    raster = prepared_raster(landcover, cmap, name)
    kinds = _kinds(protected, kind_field, pname)
    prot_metric, _ = to_metric(protected, pname, record)
    record.add_input("landcover", landcover)
    record.add_input("protected", protected)
    record.add_input("districts", layer)
    dist = metric_districts(layer)
    prot_mask, unmapped_kinds = _protected_mask(
        kinds, prot_metric, dist, params, pname, kind_field, allow_unmapped, record
    )
    stats = zonal_stats(layer, classes=raster, chunk=chunk, scheduler=scheduler)
    unmapped = unmapped_classes(stats, cmap, name, allow_unmapped)
    admin = layer.areas_km2
    unknown = unknown_km2(stats, admin, params.wetland.max_unknown_share, name)
    wetland = _classes_km2(stats.class_area_m2, cmap.wetland, len(layer))
    prot_pieces, prot_counts = _protected_pieces(prot_metric, prot_mask, dist, pname)
    protected_wetland = np.zeros(len(layer))
    hit = [i for i, p in enumerate(prot_pieces) if shapely.area(p) > 0]
    if hit:
        pieces = gpd.GeoSeries([prot_pieces[i] for i in hit], crs=EQUAL_AREA).to_crs(WGS84)
        piece_layer = build_layer(
            "zone",
            [layer.codes[i] for i in hit],
            [layer.names[i] for i in hit],
            np.asarray(pieces.values, dtype=object),
            source="区划 ∩ 受保护范围",
        )
        piece_stats = zonal_stats(piece_layer, classes=raster, chunk=chunk, scheduler=scheduler)
        protected_wetland[hit] = _classes_km2(piece_stats.class_area_m2, cmap.wetland, len(hit))
    pixel_m2 = district_pixel_m2(grid_of(raster, name=name), layer)
    record.notes.append(
        "像元数按面积折算(边界像元按其落在区内的比例计)，栅格所在坐标系下每行像元的椭球面积各自计算"
    )
    if cmap.note:
        record.notes.append(f"类别映射 {mapping}: {cmap.note}")
    return _wetland_frame(
        layer,
        params,
        record,
        admin=admin,
        wetland=wetland,
        protected_wetland=protected_wetland,
        protected_area=area_km2(prot_pieces),
        unknown=unknown,
        unmapped=unmapped,
        unmapped_kinds=unmapped_kinds,
        source=f"raster:{mapping}",
        counts={
            "wetland_pixels": wetland * 1e6 / pixel_m2,
            "protected_features": prot_counts.astype(np.float64),
        },
    )


# --- helpers -------------------------------------------------------------------------------


def _classes_km2(areas: dict[int, Floats], classes: list[int], n: int) -> Floats:
    return sum((areas.get(c, np.zeros(n)) for c in classes), np.zeros(n)) / 1e6


def _kinds(
    frame: gpd.GeoDataFrame, kind_field: str | None, name: str
) -> NDArray[np.object_] | None:
    if kind_field is None:
        return None
    return np.asarray(class_values(frame, kind_field, name), dtype=object)


def _meets(geoms: Geoms, dist: Geoms) -> bool:
    d_idx, _ = shapely.STRtree(geoms).query(dist, predicate="intersects")
    return len(d_idx) > 0


def _protected_mask(
    kinds: NDArray[np.object_] | None,
    metric: Geoms,
    dist: Geoms,
    params: CoverageParameters,
    name: str,
    kind_field: str | None,
    allow: bool,
    record: Record,
) -> tuple[NDArray[np.bool_], dict[str, Floats]]:
    """Which protected polygons count, and the per-district area of unknown kinds."""
    if kinds is None:
        record.notes.append(f"{name} 未指定保护形式字段，全部要素计为受保护范围")
        return np.ones(len(metric), dtype=bool), {}
    known = set(params.wetland.counted_kinds) | set(params.wetland.not_counted_kinds)
    unknown = np.asarray([k not in known for k in kinds])
    unmapped = _unknown_values(
        kinds, unknown, metric, dist, allow,
        f"{name}: 字段“{kind_field}”中有参数 {params.key} 未列出的保护形式", "保护形式",
    )  # fmt: skip
    mask = np.isin(kinds, params.wetland.counted_kinds)
    if not mask.any():
        record.notes.append(
            f"{name} 中没有计入的保护形式({', '.join(params.wetland.counted_kinds)})"
        )
    return mask, unmapped


def _unknown_values(
    values: NDArray[np.object_],
    unknown: NDArray[np.bool_],
    metric: Geoms,
    dist: Geoms,
    allow: bool,
    message: str,
    what: str,
) -> dict[str, Floats]:
    """Refuse values outside a list (with their area in the layer), or, if allowed, return
    their area per district keyed ``"<what> <value>"``."""
    if not unknown.any():
        return {}
    totals = pd.Series(area_km2(metric[unknown]), index=values[unknown]).groupby(level=0).sum()
    if not allow:
        raise ValidationError(
            f"{message}(图层内面积): {unmapped_text(totals.to_dict())}",
            [f"{what} {k}" for k in totals.index],
        )
    out: dict[str, Floats] = {}
    for value in totals.index:
        pieces, _ = clip_union(metric[values == value], dist)
        out[f"{what} {value}"] = area_km2(pieces)
    return out


def _protected_pieces(
    metric: Geoms, mask: NDArray[np.bool_], dist: Geoms, name: str
) -> tuple[list[shapely.Geometry], NDArray[np.int_]]:
    if not _meets(metric, dist):
        raise ValidationError(f"{name}: 图层与区划没有任何重叠，请检查坐标系与范围")
    return clip_union(metric[mask], dist)


def _wetland_frame(
    layer: RegionLayer,
    params: CoverageParameters,
    record: Record,
    *,
    admin: Floats,
    wetland: Floats,
    protected_wetland: Floats,
    protected_area: Floats,
    unknown: Floats,
    unmapped: dict[str, Floats],
    unmapped_kinds: dict[str, Floats],
    source: str,
    counts: dict[str, Floats],
) -> pd.DataFrame:
    if not np.any(wetland > 0):
        raise ValidationError(
            "区划内没有湿地(湿地面积为 0)，无法计算湿地保护率，请检查湿地数据与类别"
        )
    n = len(layer)
    frame = pd.DataFrame(
        {
            "region_level": "district",
            "region_code": list(layer.codes),
            "region_name": list(layer.names),
            "land_area_km2": admin,
            "wetland_km2": wetland,
            "protected_wetland_km2": protected_wetland,
            "protected_area_km2": protected_area,
            "unknown_km2": unknown,
            "unmapped_km2": sum(unmapped.values(), np.zeros(n)),
            "unmapped_kinds_km2": sum(unmapped_kinds.values(), np.zeros(n)),
            **counts,
        }
    )
    frame = with_city(frame, params.city.code, params.city.name, [*WETLAND_SUMS, *counts])
    frame["protection_pct"] = percent(
        frame["protected_wetland_km2"].to_numpy(), frame["wetland_km2"].to_numpy()
    )
    everything = {**unmapped, **unmapped_kinds}
    frame["unmapped_classes"] = [
        unmapped_text({k: float(v[i]) for k, v in everything.items() if v[i] > 0}) for i in range(n)
    ] + [unmapped_text({k: float(v.sum()) for k, v in everything.items() if v.sum() > 0})]
    no_wetland = [layer.names[i] for i in np.flatnonzero(wetland <= 0)]
    if no_wetland:
        record.notes.append(f"这些区没有湿地，保护率为空: {', '.join(no_wetland)}")
    if everything:
        record.notes.append("未列入参数的类别/保护形式不计入，面积见 unmapped_classes")
    frame["source"] = source
    frame["method"] = params.wetland.method
    frame["parameters"] = params.key
    frame["parameters_sha256"] = params.sha256
    order = [
        "region_level", "region_code", "region_name", "land_area_km2", "wetland_km2",
        "protected_wetland_km2", "protection_pct", "protected_area_km2", "unknown_km2",
        "unmapped_km2", "unmapped_kinds_km2", "unmapped_classes", *counts, "source", "method",
        "parameters", "parameters_sha256",
    ]  # fmt: skip
    frame = frame[order]
    frame.attrs.update(result_attrs("湿地保护率", params.wetland.measure, params, record))
    frame.attrs["counted_kinds"] = list(params.wetland.counted_kinds)
    return frame
