"""Build the EI indicator table from geodata.

- land-use areas per class (fractional coverage, km²) from a land-use raster and a class
  mapping; 水域面积 from the mapping's ``water_area`` group;
- 植被覆盖 input: the area-weighted regional mean of a growing-season NDVI raster;
- 河流长度: geodesic length of a river-network vector inside each region;
- everything else (水资源量, 侵蚀, 排放, 降水, 环境限制, BI) from per-region tables.

Every region layer (city, districts, 经开区, townships) is computed from its own geometry,
so the city row comes from the city's own totals. Each input file is recorded with its
SHA-256 in the provenance returned beside the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecoplan.accounting.ei.mapping import ClassMapping
from ecoplan.accounting.ei.method import Method
from ecoplan.accounting.ei.table import OPTIONAL, required_columns
from ecoplan.datafiles import file_record
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.regions import RegionLayer
from ecoplan.geo.zonal import ZonalStats, zonal_stats

MIN_COVERAGE = 0.95
"""A raster must cover this share of every region; less is a wrong file or wrong CRS."""


@dataclass
class Provenance:
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_file(self, role: str, path: Path) -> None:
        self.inputs[role] = file_record(path)


def land_use_columns(stats: ZonalStats, mapping: ClassMapping, method: Method) -> pd.DataFrame:
    """Area (km²) of each indicator column per region; refuses classes missing from the mapping."""
    layer = stats.layer
    unmapped = {
        cls: arr
        for cls, arr in stats.class_area_m2.items()
        if cls not in mapping.classes and arr.max() > 0
    }
    if unmapped:
        where = []
        for cls, arr in sorted(unmapped.items()):
            region = layer.names[int(np.argmax(arr))]
            where.append(f"{cls}(如{region} {arr.max() / 1e6:.3f} km²)")
        raise ValidationError(
            f"土地利用栅格中有类别映射 {mapping.mapping.id} 未定义的类别: {', '.join(where)}"
        )
    valid = stats.class_valid_m2()
    covered = valid + stats.class_nodata_m2
    for i, name in enumerate(layer.names):
        share = covered[i] / (layer.areas_km2[i] * 1e6)
        if valid[i] <= 0:
            raise ValidationError(f"{name}: 区域内土地利用栅格全部为无数据(或不在栅格范围内)")
        if share < MIN_COVERAGE:
            raise ValidationError(
                f"{name}: 土地利用栅格只覆盖了区域的 {share:.0%}，请检查栅格范围和坐标系"
            )
    frame = pd.DataFrame(0.0, index=range(len(layer)), columns=method.land_columns())
    for cls, arr in stats.class_area_m2.items():
        column = mapping.classes[cls]
        if column not in frame.columns:
            raise ValidationError(f"类别 {cls} 映射到的列 {column} 不在方法 {method.key} 的地类中")
        frame[column] += arr / 1e6
    frame["water_area_km2"] = (
        sum(
            (
                stats.class_area_m2.get(cls, np.zeros(len(layer)))
                for cls in mapping.groups["water_area"]
            ),
            start=np.zeros(len(layer)),
        )
        / 1e6
    )
    return frame


def ndvi_mean(stats: ZonalStats, scale: float) -> np.ndarray[Any, Any]:
    means = stats.mean("ndvi") * scale
    layer = stats.layer
    for i, value in enumerate(means):
        if not np.isfinite(value):
            raise ValidationError(f"{layer.names[i]}: 区域内 NDVI 栅格全部为无数据")
        if not -1.0 <= value <= 1.0:
            raise ValidationError(
                f"{layer.names[i]}: NDVI 均值 {value:.3f} 超出 [-1, 1]，请检查 --ndvi-scale(如 0.0001)"
            )
    return np.asarray(means)


def read_river_network(rivers: Path, crs: str | None = None) -> Any:
    """The river lines of a vector file as one WGS84 geometry (read once per derivation)."""
    import shapely

    from ecoplan.geo.regions import read_vector_wgs84

    _, lines = read_vector_wgs84(rivers, crs, crs_option="--rivers-crs")
    kinds = set(shapely.get_type_id(lines).tolist()) - {1, 5}  # LineString, MultiLineString
    if kinds:
        raise InputFileError(rivers, "河网文件应只含线要素")
    return shapely.union_all(lines)


def river_lengths(layer: RegionLayer, network: Any) -> np.ndarray[Any, Any]:
    """Geodesic length (km) of the river network inside each region."""
    import shapely
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    return np.asarray(
        [geod.geometry_length(shapely.intersection(network, g)) / 1000.0 for g in layer.geometries]
    )


def read_region_tables(paths: Sequence[Path]) -> pd.DataFrame:
    """Per-region tables (CSV/xlsx) keyed by region_code, merged column-wise."""
    merged: pd.DataFrame | None = None
    for path in paths:
        if not path.is_file():
            raise InputFileError(path, "文件不存在")
        try:
            frame = (
                pd.read_excel(path, dtype={"region_code": str})
                if path.suffix.lower() == ".xlsx"
                else pd.read_csv(path, dtype={"region_code": str}, encoding="utf-8-sig")
            )
        except Exception as exc:  # pandas raises many types for broken files
            raise InputFileError(path, f"无法读取区域表: {exc}") from exc
        if "region_code" not in frame.columns:
            raise InputFileError(path, "缺少 region_code 列")
        frame = frame.drop(columns=[c for c in ("region_name", "year") if c in frame.columns])
        frame = frame.set_index("region_code")
        merged = frame if merged is None else merged.combine_first(frame)
    return merged if merged is not None else pd.DataFrame()


def derive_rows(
    layer: RegionLayer,
    *,
    year: int,
    method: Method,
    mapping: ClassMapping,
    landuse: Any,
    ndvi: Any,
    ndvi_scale: float,
    tables: pd.DataFrame,
    rivers: Any = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """One layer's rows of the indicator table (``rivers``: the network from
    :func:`read_river_network`, or None to take river length from the tables)."""
    from ecoplan.geo.rasters import grid_of

    if not grid_of(landuse, name="土地利用").same_as(grid_of(ndvi, name="NDVI")):
        lu_stats = zonal_stats(layer, classes=landuse, scheduler=scheduler)
        nd_stats = zonal_stats(layer, values={"ndvi": ndvi}, scheduler=scheduler)
    else:
        lu_stats = nd_stats = zonal_stats(
            layer, classes=landuse, values={"ndvi": ndvi}, scheduler=scheduler
        )
    frame = land_use_columns(lu_stats, mapping, method)
    frame.insert(0, "region_code", list(layer.codes))
    frame.insert(1, "region_name", list(layer.names))
    frame.insert(2, "year", year)
    frame.insert(3, "region_level", layer.level)
    frame["area_km2"] = layer.areas_km2
    frame["ndvi_mean"] = ndvi_mean(nd_stats, ndvi_scale)
    if rivers is not None:
        frame["river_length_km"] = river_lengths(layer, rivers)
    missing_regions = [c for c in layer.codes if c not in tables.index]
    if missing_regions:
        raise ValidationError(f"区域表中缺少这些区域: {', '.join(missing_regions[:10])}")
    wanted = [*required_columns(method), *OPTIONAL]
    for column in tables.columns:
        # geodata wins over a table, except river length when no network was given
        if column in wanted and (
            column not in frame.columns or column == "river_length_km" and rivers is None
        ):
            frame[column] = [tables.at[c, column] for c in layer.codes]
    needed = [c for c in required_columns(method) if c not in frame.columns]
    if needed:
        raise ValidationError(f"派生指标表还缺少这些列(请在区域表中提供): {', '.join(needed)}")
    return frame


def default_ndvi_scale(data: Any) -> tuple[float, str]:
    """The scale to NDVI units: the file's own scale tag, else 1e-4 for integer rasters."""
    scale = data.attrs.get("scale_factor")
    if scale not in (None, 1, 1.0):
        return float(scale), f"NDVI 缩放系数 {scale} 取自栅格元数据"
    if np.issubdtype(data.dtype, np.integer):
        return 1e-4, "NDVI 为整数栅格，按 ×10⁴ 存储处理(缩放系数 0.0001)"
    return 1.0, "NDVI 为浮点栅格，不缩放"


def load_layers(
    regions: Sequence[Path], levels: Sequence[str], crs: str | None
) -> list[RegionLayer]:
    from ecoplan.geo.regions import beijing_layers, read_layer

    if not regions:
        return list(beijing_layers())
    if len(levels) != len(regions):
        raise ValidationError("每个 --regions 需要一个对应的 --level(city|district|zone|township)")
    # read_layer checks the level names
    return [read_layer(p, level=lv, crs=crs) for p, lv in zip(regions, levels, strict=True)]  # type: ignore[arg-type]


def derive_table(
    *,
    landuse: Path,
    ndvi: Path,
    tables: Sequence[Path],
    year: int,
    mapping: str | Path = "cas25",
    rivers: Path | None = None,
    rivers_crs: str | None = None,
    regions: Sequence[Path] = (),
    levels: Sequence[str] = (),
    regions_crs: str | None = None,
    ndvi_scale: float | None = None,
    method: str | Path = "hj192-2015",
    scheduler: str | None = None,
    layers: Sequence[RegionLayer] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The whole indicator table (all layers) and a provenance record of every input."""
    from ecoplan.accounting.ei.mapping import load_mapping
    from ecoplan.accounting.ei.method import load_method
    from ecoplan.geo.rasters import open_raster

    chosen = load_method(method)
    class_map = load_mapping(mapping)
    provenance = Provenance()
    provenance.add_file("landuse", landuse)
    provenance.add_file("ndvi", ndvi)
    for i, table in enumerate(tables):
        provenance.add_file(f"table_{i + 1}", table)
    if rivers is not None:
        provenance.add_file("rivers", rivers)
    layers = list(layers) if layers is not None else load_layers(regions, levels, regions_crs)
    lu = open_raster(landuse)
    nd = open_raster(ndvi)
    if ndvi_scale is None:
        ndvi_scale, note = default_ndvi_scale(nd)
        provenance.notes.append(note)
    region_tables = read_region_tables(tables)
    network = read_river_network(rivers, rivers_crs) if rivers is not None else None
    frames = [
        derive_rows(
            layer,
            year=year,
            method=chosen,
            mapping=class_map,
            landuse=lu,
            ndvi=nd,
            ndvi_scale=ndvi_scale,
            tables=region_tables,
            rivers=network,
            scheduler=scheduler,
        )  # fmt: skip
        for layer in layers
    ]
    frame = pd.concat(frames, ignore_index=True)
    record = {
        "year": year,
        "method": chosen.key,
        "mapping": {"id": class_map.mapping.id, "sha256": class_map.sha256},
        "layers": [
            {
                "level": layer.level,
                "source": layer.source,
                "sha256": layer.sha256,
                "regions": len(layer),
            }
            for layer in layers
        ],  # fmt: skip
        "inputs": provenance.inputs,
        "ndvi_scale": ndvi_scale,
        "notes": provenance.notes,
    }
    return frame, record
