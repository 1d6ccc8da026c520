"""森林覆盖率 (measure 8.3) per district and city, from a land-cover raster or a forest layer.

    森林覆盖率 = (乔木林 + 竹林 + 特灌林) / 土地总面积 × 100 %

土地总面积 is the district's ellipsoidal (administrative) area, inland water included; the
parameter ``forest.land_area = "excluding_water"`` takes the mapping's water classes out
instead. Which raster classes or layer values are 乔木林 / 竹林 / 特灌林 is a class mapping
in ``indicators/data/coverage.toml`` (see ``docs/indicators-coverage.md``). Coarse products
have no 特灌林 class: a per-district 特灌林 table (km²) can be added.

The engines are pure: they take a DataArray (numpy- or dask-backed) or GeoDataFrames and
return a DataFrame, one row per district and a city row (the districts' sums). Raster areas
come from :func:`ecoplan.geo.zonal.zonal_stats` (exact fractional pixel coverage, true
ellipsoidal pixel areas in any CRS, block by block so memory stays bounded); polygon areas
are measured in :data:`ecoplan.geo.crs.EQUAL_AREA`. Bad input raises an
:class:`~ecoplan.errors.EcoplanError` naming the layer and field; there are no partial results.

湿地保护率 lives in :mod:`ecoplan.indicators.coverage_wetland` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr

from ecoplan.errors import ValidationError
from ecoplan.geo.rasters import DEFAULT_CHUNK, grid_of
from ecoplan.geo.regions import RegionLayer
from ecoplan.geo.zonal import zonal_stats
from ecoplan.indicators.coverage_inputs import (
    Floats,
    Record,
    area_km2,
    class_values,
    clip_union,
    count_in,
    district_layer,
    district_table,
    label,
    metric_districts,
    percent,
    read_landcover,
    read_polygons,
    result_attrs,
    to_metric,
    unmapped_text,
    with_city,
)
from ecoplan.indicators.coverage_params import (
    COMPONENT_NAMES,
    COMPONENTS,
    CoverageParameters,
    LandArea,
    load_parameters,
)
from ecoplan.indicators.coverage_raster import (
    district_pixel_m2,
    prepared_raster,
    unknown_km2,
    unmapped_classes,
)
from ecoplan.indicators.coverage_wetland import (
    wetland_protection_raster,
    wetland_protection_vector,
)

__all__ = [
    "forest_coverage_raster",
    "forest_coverage_vector",
    "load_parameters",
    "read_landcover",
    "read_polygons",
    "wetland_protection_raster",
    "wetland_protection_vector",
]

FOREST_SUMS: Final = (
    "land_area_km2",
    "water_km2",
    "basis_area_km2",
    "arbor_km2",
    "bamboo_km2",
    "special_shrub_km2",
    "forest_km2",
    "unknown_km2",
    "unmapped_km2",
)


# --- raster route --------------------------------------------------------------------------


def forest_coverage_raster(
    landcover: xr.DataArray,
    districts: gpd.GeoDataFrame | RegionLayer,
    *,
    mapping: str,
    parameters: CoverageParameters | None = None,
    special_shrub_km2: Mapping[str, float] | pd.Series | None = None,
    land_area: LandArea | None = None,
    allow_unmapped: bool = False,
    code_field: str | None = None,
    name_field: str | None = None,
    chunk: int = DEFAULT_CHUNK,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """森林覆盖率 per district and city from a categorical land-cover raster.

    ``landcover``: 2-D integer DataArray with a CRS (any: districts are reprojected to it;
    pixel areas are true ellipsoidal areas, so a lon/lat grid is measured correctly);
    numpy-backed, dask-backed or opened lazily with :func:`read_landcover` (then each block
    is read by its own task). ``mapping``: a ``raster_mappings`` key of the parameters
    (``esa-worldcover``, ``clcd``, ``globeland30``, ``cas25``, ``modis-igbp``).
    ``special_shrub_km2``: 特灌林 area per district code (km²), for products without a
    特灌林 class. Classes absent from the mapping are refused with their area unless
    ``allow_unmapped`` (then they count as non-forest and are reported). Areas in km²,
    coverage in %.
    """
    params = parameters or load_parameters()
    cmap = params.raster_mapping(mapping)
    record = Record()
    layer = district_layer(districts, code_field=code_field, name_field=name_field, record=record)
    shrub = _shrub_table(special_shrub_km2, layer, bool(cmap.special_shrub))
    basis = _basis_choice(land_area, params)
    name = label(landcover, "土地覆盖栅格")
    raster = prepared_raster(landcover, cmap, name)
    record.add_input("landcover", landcover)
    record.add_input("districts", layer)
    stats = zonal_stats(layer, classes=raster, chunk=chunk, scheduler=scheduler)
    unmapped = unmapped_classes(stats, cmap, name, allow_unmapped)
    admin = layer.areas_km2
    unknown = unknown_km2(stats, admin, params.forest.max_unknown_share, name)
    classes = {cls: arr / 1e6 for cls, arr in stats.class_area_m2.items()}

    def total(values: list[int]) -> Floats:
        return sum((classes.get(v, np.zeros(len(layer))) for v in values), np.zeros(len(layer)))

    components = {c: total(getattr(cmap, c)) for c in COMPONENTS}
    pixel_m2 = district_pixel_m2(grid_of(raster, name=name), layer)
    covered_km2 = stats.covered_m2 / 1e6
    forest_raster = sum(components.values(), np.zeros(len(layer)))
    record.notes.append(
        "像元数按面积折算(边界像元按其落在区内的比例计)，栅格所在坐标系下每行像元的椭球面积各自计算"
    )
    if cmap.note:
        record.notes.append(f"类别映射 {mapping}: {cmap.note}")
    return _forest_frame(
        layer,
        params,
        record,
        admin=admin,
        water=total(cmap.water),
        components=components,
        shrub_table=shrub,
        shrub_mapped=bool(cmap.special_shrub),
        unknown=unknown,
        unmapped=unmapped,
        land_area=basis,
        source=f"raster:{mapping}",
        counts={
            "pixels": covered_km2 * 1e6 / pixel_m2,
            "forest_pixels": forest_raster * 1e6 / pixel_m2,
        },
    )


# --- vector route --------------------------------------------------------------------------


def forest_coverage_vector(
    forest: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | RegionLayer,
    *,
    class_field: str,
    mapping: str = "forestry",
    parameters: CoverageParameters | None = None,
    special_shrub_km2: Mapping[str, float] | pd.Series | None = None,
    land_area: LandArea | None = None,
    allow_unmapped: bool = False,
    code_field: str | None = None,
    name_field: str | None = None,
) -> pd.DataFrame:
    """森林覆盖率 per district and city from a polygon layer with a class field.

    Each layer value is looked up in the ``vector_mappings`` entry ``mapping`` (``forestry``:
    林草 class names, ``gbt21010``: 三调 codes). Polygons are intersected with the districts
    in the equal-area CRS; overlapping polygons are unioned before measuring, and where
    parts overlap 乔木林 wins over 竹林 over 特灌林, so no area counts twice. A layer without
    a CRS is accepted only if its coordinates are lon/lat (taken as WGS84, noted).
    """
    params = parameters or load_parameters()
    vmap = params.vector_mapping(mapping)
    record = Record()
    layer = district_layer(districts, code_field=code_field, name_field=name_field, record=record)
    shrub = _shrub_table(special_shrub_km2, layer, bool(vmap.special_shrub))
    basis = _basis_choice(land_area, params)
    name = label(forest, "森林图层")
    values = np.asarray(class_values(forest, class_field, name), dtype=object)
    metric, _ = to_metric(forest, name, record)
    record.add_input("forest", forest)
    record.add_input("districts", layer)
    dist = metric_districts(layer)
    features = count_in(metric, dist)
    if features.sum() == 0:
        raise ValidationError(f"{name}: 图层与区划没有任何重叠，请检查坐标系与范围")

    unknown_mask = np.asarray([v not in vmap.classes for v in values])
    unmapped: dict[str, Floats] = {}
    if unknown_mask.any():
        totals = (
            pd.Series(area_km2(metric[unknown_mask]), index=values[unknown_mask])
            .groupby(level=0)
            .sum()
        )
        if not allow_unmapped:
            raise ValidationError(
                f"{name}: 字段“{class_field}”中有类别映射“{vmap.name}”未定义的值(图层内面积): "
                f"{unmapped_text(totals.to_dict())}",
                [f"类别 {k}" for k in totals.index],
            )
        for value in totals.index:
            pieces, _ = clip_union(metric[values == value], dist)
            unmapped[str(value)] = area_km2(pieces)

    taken = [shapely.Polygon()] * len(layer)  # what earlier components already claimed
    components: dict[str, Floats] = {}
    forest_features = np.zeros(len(layer), dtype=np.int_)
    for component in COMPONENTS:
        mask = np.isin(values, getattr(vmap, component))
        pieces, counts = clip_union(metric[mask], dist)
        pieces = [shapely.difference(p, t) for p, t in zip(pieces, taken, strict=True)]
        components[component] = area_km2(pieces)
        taken = [shapely.union(p, t) for p, t in zip(pieces, taken, strict=True)]
        forest_features += counts
    water_pieces, _ = clip_union(metric[np.isin(values, vmap.water)], dist)
    water = area_km2([shapely.difference(w, t) for w, t in zip(water_pieces, taken, strict=True)])
    return _forest_frame(
        layer,
        params,
        record,
        admin=area_km2(dist),
        water=water,
        components=components,
        shrub_table=shrub,
        shrub_mapped=bool(vmap.special_shrub),
        unknown=np.zeros(len(layer)),
        unmapped=unmapped,
        land_area=basis,
        source=f"vector:{mapping}",
        counts={
            "features": features.astype(np.float64),
            "forest_features": forest_features.astype(np.float64),
        },
    )


# --- shared --------------------------------------------------------------------------------


def _basis_choice(land_area: LandArea | None, params: CoverageParameters) -> LandArea:
    choice = land_area or params.forest.land_area
    if choice not in ("administrative", "excluding_water"):
        raise ValidationError(
            f"未知的土地面积口径“{choice}”(可选: administrative, excluding_water)"
        )
    return choice


def _shrub_table(
    table: Mapping[str, float] | pd.Series | None, layer: RegionLayer, mapped: bool
) -> Floats | None:
    values = district_table(table, layer, "特灌林面积表")
    if values is not None and mapped:
        raise ValidationError(
            "特灌林面积表: 所选类别映射已有特灌林类别，再加面积表会重复计算，请只用其一"
        )
    return values


def _forest_frame(
    layer: RegionLayer,
    params: CoverageParameters,
    record: Record,
    *,
    admin: Floats,
    water: Floats,
    components: dict[str, Floats],
    shrub_table: Floats | None,
    shrub_mapped: bool,
    unknown: Floats,
    unmapped: Mapping[str, Floats],
    land_area: LandArea,
    source: str,
    counts: Mapping[str, Floats],
) -> pd.DataFrame:
    basis = admin - water if land_area == "excluding_water" else admin
    components = dict(components)
    shrub_source = "mapping" if shrub_mapped else "none"
    if shrub_table is not None:
        components["special_shrub"] = components["special_shrub"] + shrub_table
        shrub_source = "table"
        record.notes.append("特灌林面积取自按区提供的面积表")
    elif not shrub_mapped:
        record.notes.append("特灌林未计入: 类别映射没有特灌林类别，也未提供特灌林面积表")
    forest = sum((components[c] for c in COMPONENTS), np.zeros(len(layer)))
    over = [
        f"{layer.names[i]}(森林 {forest[i]:.3f} km² > 土地 {basis[i]:.3f} km²)"
        for i in np.flatnonzero(forest > basis * (1 + 1e-9) + 1e-9)
    ]
    if over:
        raise ValidationError(
            f"森林面积超过土地面积，请检查特灌林面积表或类别映射: {', '.join(over)}", over
        )
    unmapped_total = sum(unmapped.values(), np.zeros(len(layer)))
    frame = pd.DataFrame(
        {
            "region_level": "district",
            "region_code": list(layer.codes),
            "region_name": list(layer.names),
            "land_area_km2": admin,
            "water_km2": water,
            "basis_area_km2": basis,
            **{f"{c}_km2": components[c] for c in COMPONENTS},
            "forest_km2": forest,
            "unknown_km2": unknown,
            "unmapped_km2": unmapped_total,
            **{k: np.asarray(v, dtype=np.float64) for k, v in counts.items()},
        }
    )
    frame = with_city(frame, params.city.code, params.city.name, [*FOREST_SUMS, *counts])
    frame["coverage_pct"] = percent(
        frame["forest_km2"].to_numpy(), frame["basis_area_km2"].to_numpy()
    )
    city_unmapped = {k: float(v.sum()) for k, v in unmapped.items() if v.sum() > 0}
    frame["unmapped_classes"] = [
        unmapped_text({k: float(v[i]) for k, v in unmapped.items() if v[i] > 0})
        for i in range(len(layer))
    ] + [unmapped_text(city_unmapped)]
    if city_unmapped:
        record.notes.append(f"未在类别映射中的类别按非森林计: {unmapped_text(city_unmapped)}")
    frame["special_shrub_source"] = shrub_source
    frame["land_area_basis"] = land_area
    frame["source"] = source
    frame["method"] = params.forest.method
    frame["parameters"] = params.key
    frame["parameters_sha256"] = params.sha256
    order = [
        "region_level", "region_code", "region_name", "land_area_km2", "water_km2",
        "basis_area_km2", *(f"{c}_km2" for c in COMPONENTS), "forest_km2", "coverage_pct",
        "unknown_km2", "unmapped_km2", "unmapped_classes", *counts, "special_shrub_source",
        "land_area_basis", "source", "method", "parameters", "parameters_sha256",
    ]  # fmt: skip
    frame = frame[order]
    frame.attrs.update(result_attrs("森林覆盖率", params.forest.measure, params, record))
    frame.attrs["components"] = dict(COMPONENT_NAMES)
    return frame
