"""Ecological-land change clues (task 11.2): where forest, grass, water or wetland became
built-up land or cropland between two land-use maps.

Both rasters must share one grid. Changed pixels are coded by (before, after) class,
polygonised block by block (memory bounded), patches cut by block edges are merged again,
and patches smaller than the minimum mapping unit are dropped. Each patch gets its area
(ellipsoidal, m²), the district it mostly lies in, and its before / after classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rasterio import features

from ecoplan.accounting.ei.mapping import LAND_COLUMN_NAMES, ClassMapping
from ecoplan.datafiles import file_record
from ecoplan.errors import ValidationError
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.rasters import DEFAULT_CHUNK, grid_of, open_raster
from ecoplan.geo.regions import RegionLayer

CLUE_KIND = "eco_land_change"


@dataclass(frozen=True)
class ChangePatch:
    code: str
    geometry: shapely.Geometry  # WGS84
    area_m2: float
    before: int
    after: int
    before_name: str
    after_name: str
    district_code: str | None
    district_name: str | None


def find_changes(
    before: Path,
    after: Path,
    mapping: ClassMapping,
    districts: RegionLayer,
    *,
    min_area_m2: float = 3600.0,
    year: int | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> list[ChangePatch]:
    """Patches of ecological land turned to built-up land or cropland, largest first.

    Patches outside every district of ``districts`` are left out (the raster may extend
    beyond the administrative area)."""
    a = open_raster(before, chunk=None if chunk <= 0 else chunk)
    b = open_raster(after, chunk=None if chunk <= 0 else chunk)
    grid = grid_of(a, name=before.name)
    if not grid.same_as(grid_of(b, name=after.name)):
        raise ValidationError(
            "前后两期土地利用栅格的网格不一致(坐标系、分辨率、范围)，请先重采样到同一网格"
        )
    eco = np.asarray(sorted(mapping.groups["ecological"]))
    lost_to = np.asarray(sorted({*mapping.groups["built"], *mapping.groups["crop"]}))
    pieces: dict[int, list[shapely.Geometry]] = {}
    step = chunk if chunk > 0 else max(grid.height, grid.width)
    for r0 in range(0, grid.height, step):
        for c0 in range(0, grid.width, step):
            window = {"y": slice(r0, r0 + step), "x": slice(c0, c0 + step)}
            old = np.asarray(a.isel(window).values)
            new = np.asarray(b.isel(window).values)
            changed = np.isin(old, eco) & np.isin(new, lost_to)
            if not changed.any():
                continue
            code = (old.astype(np.int32) * 1000 + new.astype(np.int32)) * changed
            transform = grid.window_transform(r0, c0)
            for geom, value in features.shapes(
                code, mask=changed, transform=transform, connectivity=8
            ):
                pieces.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    patches: list[tuple[shapely.Geometry, int, int]] = []
    for value, geoms in pieces.items():
        merged = shapely.union_all(geoms)  # joins patches split by block edges
        for part in shapely.get_parts(merged):
            patches.append((part, value // 1000, value % 1000))
    if not patches:
        return []
    import geopandas as gpd

    native = gpd.GeoSeries([p for p, _, _ in patches], crs=grid.crs)
    areas = native.to_crs(EQUAL_AREA).area.to_numpy()
    wgs = np.asarray(native.to_crs(WGS84).values)
    keep = np.flatnonzero(areas >= min_area_m2)
    order = keep[np.argsort(-areas[keep], kind="stable")]
    district_of = _districts_of(wgs[order], districts)
    prefix = f"EL{year}-" if year else "EL-"
    result: list[ChangePatch] = []
    for i, d in zip(order, district_of, strict=True):
        if d < 0:
            continue  # outside every district: not this administration's land
        _, old_cls, new_cls = patches[i]
        n = len(result)
        result.append(
            ChangePatch(
                code=f"{prefix}{n + 1:05d}",
                geometry=wgs[i],
                area_m2=float(areas[i]),
                before=old_cls,
                after=new_cls,
                before_name=class_name(mapping, old_cls),
                after_name=class_name(mapping, new_cls),
                district_code=districts.codes[d],
                district_name=districts.names[d],
            )
        )
    return result


def _districts_of(geoms: np.ndarray[Any, Any], districts: RegionLayer) -> list[int]:
    """Index of the district holding most of each patch (−1 outside every district)."""
    tree = shapely.STRtree(districts.geometries)
    out = []
    for geom in geoms:
        candidates = tree.query(geom, predicate="intersects")
        if len(candidates) == 0:
            out.append(-1)
            continue
        overlap = shapely.area(shapely.intersection(geom, districts.geometries[candidates]))
        out.append(int(candidates[int(np.argmax(overlap))]))
    return out


def class_name(mapping: ClassMapping, value: int) -> str:
    column = mapping.classes.get(value)
    if column is None:
        return f"{value} 未知"
    return f"{value} {LAND_COLUMN_NAMES.get(column, column)}"


def to_geojson(patches: list[ChangePatch]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(p.geometry),
                "properties": {
                    "code": p.code,
                    "area_m2": round(p.area_m2, 1),
                    "district_code": p.district_code,
                    "district_name": p.district_name,
                    "before": p.before_name,
                    "after": p.after_name,
                },
            }
            for p in patches
        ],
    }


def write_xlsx(patches: list[ChangePatch], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "生态用地变化线索"
    sheet.append(["编号", "所在区", "面积(平方米)", "变化前", "变化后", "中心经度", "中心纬度"])
    for p in patches:
        centre = p.geometry.representative_point()
        sheet.append([p.code, p.district_name or "", round(p.area_m2, 1), p.before_name, p.after_name,
                      round(centre.x, 6), round(centre.y, 6)])  # fmt: skip
    book.save(path)


def store_batch(
    session: Any, patches: list[ChangePatch], *, title: str, source: dict[str, Any], actor: str
) -> Any:
    """File the patches as one clue batch (待核实) in the clue workflow: each gets its district
    government, the verifying unit of ecological-land clues, its reference-layer overlaps and
    its links to earlier clues at the same place; audited."""
    import numpy as np

    from ecoplan.cases.batches import file_batch
    from ecoplan.cases.importing import ClueRecords

    records = ClueRecords(
        codes=[p.code for p in patches],
        geoms=np.asarray([p.geometry for p in patches], dtype=object),
        attrs=[{"activity_type": "other", "source": "ei_change", "period": "", "legal_basis": "", "note": ""}
               for _ in patches],
        facts=[{"before": p.before_name, "after": p.after_name} for p in patches],
    )  # fmt: skip
    return file_batch(
        session, records, kind=CLUE_KIND, title=title, source=source, actor=actor
    ).batch


def provenance(
    before: Path, after: Path, mapping: ClassMapping, min_area_m2: float
) -> dict[str, Any]:
    return {
        "before": file_record(before),
        "after": file_record(after),
        "mapping": mapping.mapping.id,
        "min_area_m2": min_area_m2,
    }
