"""End-to-end GEP-R runs on a tiny world: aggregation, parity, COGs, bad input, storage."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from sqlalchemy import Engine, select

from ecoplan.accounting.gep.compensation import CompensationConfig, store
from ecoplan.accounting.gep.pipeline import Accounting, account
from ecoplan.accounting.gep.runs import compare, get_run, store_run
from ecoplan.audit import AuditEntry
from ecoplan.db import session_scope
from ecoplan.errors import ValidationError
from tests.gep.conftest import N, config, layers, write_world


@pytest.fixture(scope="module")
def accounting(world: tuple[Path, dict[str, Path]]) -> Accounting:
    folder, paths = world
    return account(config(folder, paths), layers=layers())


def by(acc: Accounting) -> dict[tuple[str, str], float]:
    return {(r.region_code, r.service): r.value_yuan for r in acc.rows}


def test_districts_sum_to_the_city(accounting: Accounting) -> None:
    sums: dict[str, float] = defaultdict(float)
    city: dict[str, float] = {}
    for r in accounting.rows:
        if r.level == "district":
            sums[r.service] += r.value_yuan
        else:
            city[r.service] = r.value_yuan
    assert set(city) == set(accounting.services)
    for service, value in city.items():
        assert value > 0, service
        assert sums[service] == pytest.approx(value, rel=1e-9), service


def test_water_conservation_total_by_hand(accounting: Accounting) -> None:
    west = next(
        r
        for r in accounting.rows
        if r.region_code == "100001" and r.service == "water_conservation"
    )
    # the west district is forest on 148 × 300 pixels of 30 m (columns 2–149, all rows):
    # 148 × 300 × 900 m² = 39,960,000 m²; (600 − 0.0133 × 600 − 400) mm = 192.02 mm
    # → 39,960,000 m² × 0.19202 m = 7,673,119 m³
    assert west.quantity == pytest.approx(39_960_000 * 0.19202, rel=1e-6)
    assert west.unit == "m³" and not west.verified


def test_purification_spreads_to_the_city_as_a_sum(accounting: Accounting) -> None:
    rows = [r for r in accounting.rows if r.service == "air_purification"]
    city = next(r for r in rows if r.level == "city")
    assert city.quantity == pytest.approx(sum(r.quantity for r in rows if r.level == "district"))


def test_rasters_are_cogs_with_units(accounting: Accounting) -> None:
    path = accounting.rasters["soil_retention"]
    with rasterio.open(path) as src:
        assert src.tags()["unit"] == "t/hm²"
        assert src.profile["tiled"] and src.shape == (N, N)
        assert src.overviews(1) or src.shape[0] < 512  # small rasters need no overviews
    assert Path(accounting.rasters["ecosystem_type"]).is_file()


def test_chunking_does_not_change_results(
    world: tuple[Path, dict[str, Path]], tmp_path: Path, accounting: Accounting
) -> None:
    folder, paths = world
    other = account(config(folder, paths, chunk=512, output=tmp_path / "o2"), layers=layers())
    a, b = by(accounting), by(other)
    assert a.keys() == b.keys()
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-6), key


def test_precipitation_in_metres_is_refused(tmp_path: Path) -> None:
    paths = write_world(tmp_path, precipitation=np.full((N, N), 0.6, np.float32))
    with pytest.raises(ValidationError, match="可能以米为单位"):
        account(config(tmp_path, paths), layers=layers())
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_negative_npp_is_refused(tmp_path: Path) -> None:
    paths = write_world(tmp_path, npp=np.full((N, N), -5.0, np.float32))
    with pytest.raises(ValidationError, match="NPP"):
        account(config(tmp_path, paths), layers=layers())


def test_rasters_on_another_grid_are_refused(tmp_path: Path) -> None:
    paths = write_world(tmp_path, et=np.full((N // 2, N // 2), 400.0, np.float32))
    with pytest.raises(ValidationError, match="网格不一致"):
        account(config(tmp_path, paths), layers=layers())


def test_unknown_land_class_is_refused(tmp_path: Path) -> None:
    lc = np.full((N, N), 21, np.uint8)
    lc[5, 5] = 99
    paths = write_world(tmp_path, landcover=lc)
    with pytest.raises(ValidationError, match="未定义的类别: 99"):
        account(config(tmp_path, paths), layers=layers())


def test_missing_price_year_is_refused(world: tuple[Path, dict[str, Path]], tmp_path: Path) -> None:
    folder, paths = world
    with pytest.raises(ValidationError, match="缺少 2031"):
        account(config(folder, paths, year=2031, output=tmp_path / "o"), layers=layers())


def test_nodata_hole_lands_in_the_report(tmp_path: Path) -> None:
    et = np.full((N, N), 400.0, np.float32)
    et[:, :60] = np.nan  # a hole over 40 % of the west district
    paths = write_world(tmp_path, et=et)
    acc = account(config(tmp_path, paths, services=["water_conservation"]), layers=layers())
    assert any("西区" in w and "无数据空洞" in w for w in acc.warnings)


def test_store_compare_and_compensate(engine: Engine, accounting: Accounting) -> None:
    with session_scope(engine) as session:
        first = store_run(session, accounting, title="2024 测试", actor="tester")
        ids = first.id
    with session_scope(engine) as session:
        run = get_run(session, ids)
        assert len(run.results) == len(accounting.rows)
        assert run.provenance["parameters"]["key"] == "gep-parameters@2026.1"
        changes = compare(run, run)
        assert all(c.delta == 0 and c.quantity_part == 0 and c.price_part == 0 for c in changes)
        cfg = CompensationConfig(
            year=2024, title="测试补偿", budget_yuan=1e6, run=ids, districts=["100001", "100002"],
            weights={"gep_level": 1.0}, floor_yuan=100_000,
        )  # fmt: skip
        record = store(session, cfg, actor="tester")
        shares = {r["code"]: r["allocation_yuan"] for r in record.allocation}
        assert sum(shares.values()) == pytest.approx(1e6)
        actions = session.scalars(select(AuditEntry.action)).all()
        assert {"gep.run.create", "gep.compensation.create"} <= set(actions)


def test_townships_and_zones_get_pixel_sums_and_spread_shares(
    world: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    import shapely

    from ecoplan.geo.regions import build_layer

    folder, paths = world
    city, districts = layers()
    west = districts.geometries[0]
    minx, miny, maxx, maxy = west.bounds
    north = shapely.clip_by_rect(west, minx, (miny + maxy) / 2, maxx, maxy)
    south = shapely.clip_by_rect(west, minx, miny, maxx, (miny + maxy) / 2)
    towns = build_layer(
        "township", ["t1", "t2"], ["北镇", "南镇"], np.asarray([north, south], dtype=object)
    )
    acc = account(config(folder, paths, output=tmp_path / "o"), layers=[city, districts, towns])
    value = {(r.region_code, r.service): r.quantity for r in acc.rows}
    for service in ("water_conservation", "soil_retention", "carbon_fixation"):
        # pixel services: the two halves of the west district add up to it (to 1e-4: the cut
        # adds a vertex on the district's sides in WGS84, which lands a few cm off the
        # straight Albers edge after reprojection)
        assert value[("t1", service)] + value[("t2", service)] == pytest.approx(
            value[("100001", service)], rel=1e-4
        )
    # air purification: the west district's quantity (from its emission row) is shared by
    # capacity; both towns are all forest of equal area, so each gets half
    assert value[("t1", "air_purification")] == pytest.approx(
        value[("100001", "air_purification")] / 2, rel=1e-3
    )


def test_distributed_cluster_gives_the_same_totals(
    world: tuple[Path, dict[str, Path]], tmp_path: Path, accounting: Accounting
) -> None:
    from distributed import LocalCluster

    folder, paths = world
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        other = account(
            config(folder, paths, output=tmp_path / "d"),
            layers=layers(),
            scheduler=cluster.scheduler_address,
        )
    a, b = by(accounting), by(other)
    for key in a:
        assert b[key] == pytest.approx(a[key], rel=1e-9), key


def test_negative_emission_is_refused(tmp_path: Path) -> None:
    paths = write_world(tmp_path)
    table = tmp_path / "emissions.csv"
    table.write_text(
        table.read_text(encoding="utf-8").replace("100001,50,", "100001,-50,"), encoding="utf-8"
    )
    with pytest.raises(ValidationError, match="so2_t 出现负值"):
        account(config(tmp_path, paths), layers=layers())
    assert not (tmp_path / "out").exists()  # refused before any raster was computed


def test_pipeline_rasters_equal_the_numpy_functions(
    world: tuple[Path, dict[str, Path]], accounting: Accounting
) -> None:
    """The dask block run writes exactly what the per-pixel function gives on whole arrays."""
    from ecoplan.accounting.gep.ecosystems import load_mapping, type_codes
    from ecoplan.accounting.gep.services.water_conservation import water_balance_mm
    from ecoplan.accounting.gep.terrain import ls_factor

    _, paths = world
    read = {n: rasterio.open(p).read(1) for n, p in paths.items()}
    types = type_codes(read["landcover"], load_mapping("cas25").lookup())
    c = accounting_context()
    expected = water_balance_mm(
        types, read, {"alpha": c.type_table("water_conservation.runoff_coefficient")}
    )
    with rasterio.open(accounting.rasters["water_conservation"]) as src:
        np.testing.assert_array_equal(src.read(1), expected)
    # LS on the whole DEM in numpy equals the LS inside the soil-retention raster: with the
    # other factors constant per class, retention / (R·K·(1 − C·P)) recovers it
    ls = ls_factor(read["dem"], dx=30.0, dy=-30.0, cap_m=300.0)
    with rasterio.open(accounting.rasters["soil_retention"]) as src:
        retention = src.read(1)
    forest = read["landcover"] == 21
    fc = (0.7 - 0.05) / 0.8 * 100  # NDVI 0.7 → 81.25 % ≥ 78.3 % → C = 0 → retention = R·K·LS
    assert fc > 78.3
    np.testing.assert_allclose(
        retention[forest], (2500.0 * np.float32(0.03) * ls)[forest], rtol=1e-5
    )


def accounting_context() -> Any:
    from ecoplan.accounting.gep.spec import Context
    from ecoplan.accounting.gep.tables import load_parameters, load_price_index, load_prices

    return Context(2024, "default", load_parameters(), load_prices(), load_price_index())
