"""Hand-computed cases for each GEP-R service's quantity and value steps (tiny arrays)."""

from __future__ import annotations

import numpy as np
import pytest

from ecoplan.accounting.gep.ecosystems import TYPES, per_type
from ecoplan.accounting.gep.runs import compare
from ecoplan.accounting.gep.services.air_purification import AirPurification
from ecoplan.accounting.gep.services.carbon import gas_t_per_hm2
from ecoplan.accounting.gep.services.climate_regulation import energy_kwh_per_m2
from ecoplan.accounting.gep.services.flood_regulation import vegetation_retention_mm
from ecoplan.accounting.gep.services.sand_fixation import rweq_loss
from ecoplan.accounting.gep.services.soil_retention import c_factor, retention_t_per_hm2
from ecoplan.accounting.gep.services.water_conservation import water_balance_mm
from ecoplan.accounting.gep.spec import Context, RegionData
from ecoplan.accounting.gep.tables import load_parameters, load_price_index, load_prices
from ecoplan.errors import ValidationError

FOREST, GRASS, URBAN, WATER = (TYPES.index(t) for t in ("forest", "grass", "urban", "water"))


def types(*names: int) -> np.ndarray:
    return np.asarray([names], dtype=np.uint8)


def ctx(year: int = 2024, variant: str = "default") -> Context:
    return Context(year, variant, load_parameters(), load_prices(), load_price_index())


def test_water_balance_counts_ecosystems_and_clamps_at_zero() -> None:
    alpha = per_type({"forest": 0.0133}, default=np.nan)
    out = water_balance_mm(
        types(FOREST, URBAN, FOREST),
        {
            "precipitation": np.asarray([[600.0, 600.0, 300.0]]),
            "et": np.asarray([[400.0, 100.0, 400.0]]),
        },
        {"alpha": alpha},
    )
    # forest: 600 − 0.0133 × 600 − 400 = 600 − 7.98 − 400 = 192.02 mm
    # urban: no runoff coefficient → not an ecosystem that counts → 0
    # forest, dry year: 300 − 3.99 − 400 < 0 → 0 (clamped)
    assert out[0].tolist() == pytest.approx([192.02, 0.0, 0.0], rel=1e-6)


def test_c_factor_cai_chongfa() -> None:
    fc = np.asarray([0.0, 50.0, 80.0])
    # fc = 0 → 1; fc = 50 % → 0.6508 − 0.3436 × lg 50 = 0.6508 − 0.3436 × 1.69897 = 0.067033;
    # fc ≥ 78.3 % → 0
    assert c_factor(fc, 0.6508, 0.3436, 78.3).tolist() == pytest.approx(
        [1.0, 0.067033, 0.0], abs=1e-6
    )


def test_soil_retention_is_potential_minus_actual() -> None:
    p = per_type({"forest": 1.0, "grass": 0.5}, default=np.nan)
    params = {
        "p": p,
        "ndvi_soil": 0.05,
        "ndvi_veg": 0.85,
        "c_a": 0.6508,
        "c_b": 0.3436,
        "c_full": 78.3,
    }
    arrays = {
        "erosivity": np.full((1, 3), 2000.0),
        "erodibility": np.full((1, 3), 0.03),
        "ls": np.full((1, 3), 2.0),
        "ndvi": np.asarray([[0.45, 0.45, 0.45]]),
    }
    out = retention_t_per_hm2(types(FOREST, GRASS, URBAN), arrays, params)
    # R·K·LS = 2000 × 0.03 × 2 = 120 t/hm²; fc = (0.45 − 0.05) / 0.8 = 50 % → C = 0.067033
    # forest P = 1: 120 × (1 − 0.067033) = 111.956; grass P = 0.5: 120 × (1 − 0.033517) = 115.978
    # urban: no P → not counted
    assert out[0].tolist() == pytest.approx([111.956, 115.978, 0.0], rel=1e-4)


def test_soil_retention_value_components() -> None:
    from ecoplan.accounting.gep.services.soil_retention import SoilRetention

    c = ctx(2005)  # prices are 2005 prices: no inflation
    parts = SoilRetention().value(c, {"soil_retention": np.asarray([1000.0])})
    # sediment: λ 0.24 / ρ 1.35 t/m³ × 12.6 元/m³ = 2.24 元/t → 1000 t × 2.24 = 2240 元
    # N: 1000 t × 0.001 = 1 t × 17143 元/t; P: 1000 × 0.0005 = 0.5 t × 15990 = 7995 元
    assert [float(p.value[0]) for p in parts] == pytest.approx([2240.0, 17143.0, 7995.0])
    assert not any(p.verified for p in parts)


def test_flood_vegetation_retention() -> None:
    runoff = per_type({"forest": 0.15}, default=np.nan)
    out = vegetation_retention_mm(
        types(FOREST, URBAN), {"storm_rain": np.full((1, 2), 120.0)}, {"runoff": runoff}
    )
    # forest: 120 × (1 − 0.15) = 102 mm; urban: not counted
    assert out[0].tolist() == pytest.approx([102.0, 0.0])


def test_carbon_and_oxygen_npp_method() -> None:
    rate = per_type({"forest": 1.2}, default=np.nan)
    base = {"rate": rate, "carbon_fraction": 0.45, "variant": "npp"}
    npp = {"npp": np.asarray([[450.0, 450.0]])}
    co2 = gas_t_per_hm2(
        types(FOREST, URBAN), npp, {**base, "per_dry_matter": 1.63, "per_c": 44 / 12}
    )
    o2 = gas_t_per_hm2(
        types(FOREST, URBAN), npp, {**base, "per_dry_matter": 1.19, "per_c": 32 / 12}
    )
    # dry matter = 450 gC / 0.45 = 1000 g/m²; CO₂ = 1.63 × 1000 = 1630 g/m² = 16.3 t/hm²;
    # O₂ = 1.19 × 1000 = 1190 g/m² = 11.9 t/hm²; urban: not counted
    assert co2[0].tolist() == pytest.approx([16.3, 0.0])
    assert o2[0].tolist() == pytest.approx([11.9, 0.0])


def test_carbon_nep_method() -> None:
    rate = per_type({"forest": 1.2}, default=np.nan)
    out = gas_t_per_hm2(
        types(FOREST),
        {"npp": np.asarray([[450.0]]), "rh": np.asarray([[150.0]])},
        {"rate": rate, "variant": "nep", "per_c": 44 / 12},
    )
    # NEP = 450 − 150 = 300 gC/m² → CO₂ = 300 × 44/12 = 1100 g/m² = 11 t/hm²
    assert out[0, 0] == pytest.approx(11.0)


def test_climate_regulation_plants_and_water() -> None:
    epp = per_type({"forest": 2000.0}, default=np.nan)
    out = energy_kwh_per_m2(
        types(FOREST, WATER, URBAN),
        {},
        {"epp": epp, "plant_factor": 90 / (3600 * 3.0), "water_kwh_per_m2": 5.0},
    )
    # forest: 2000 kJ/m²/d × 90 d / (3600 kJ/kWh × 3.0) = 16.667 kWh/m²; water: 5; urban: 0
    assert out[0].tolist() == pytest.approx([16.6667, 5.0, 0.0], rel=1e-4)


def test_rweq_loss_shape() -> None:
    # F = 0.1, z = 50: Q_max = 10.98; s = 150.71 × 0.1^−0.3711 = 150.71 × 2.34952 = 354.10;
    # SL = 2·50/354.10² × 10.98 × e^−(50/354.10)² = 7.9753e-4 × 10.98 × 0.98026 = 8.584e-3
    assert rweq_loss(np.asarray([0.1]), 50.0)[0] == pytest.approx(8.584e-3, rel=1e-3)
    assert rweq_loss(np.asarray([0.0]), 50.0)[0] == 0.0


def test_air_purification_is_min_of_emission_and_capacity() -> None:
    c = ctx(2005)
    data = RegionData(
        codes=("a", "b"),
        type_area_km2={"forest": np.asarray([2.0, 2.0])},
        pixel_total=None,
        tables={
            "so2_t": np.asarray([10.0, 30.0]),
            "nox_t": np.asarray([0.5, 0.5]),
            "dust_t": np.asarray([1.0, 1.0]),
        },
        points={},
    )
    q = AirPurification().quantities(c, data)
    assert q is not None
    # capacity SO₂ = 2 km² × 8.865 t/km² = 17.73 t: a emits 10 → 10; b emits 30 → 17.73
    assert q["so2"].tolist() == pytest.approx([10.0, 17.73])
    # NOx capacity 2 × 0.6 = 1.2 > 0.5 emitted → 0.5
    assert q["nox"].tolist() == pytest.approx([0.5, 0.5])
    values = AirPurification().value(c, q)
    # 2005 prices: SO₂ 1200 元/t → a: 10 × 1200 = 12000 元
    assert values[0].value[0] == pytest.approx(12000.0)


def test_regional_service_without_tables_defers() -> None:
    data = RegionData(codes=("a",), type_area_km2={}, pixel_total=None, tables={}, points={})
    assert AirPurification().quantities(ctx(), data) is None


def test_price_inflation_and_missing_year() -> None:
    prices, index = load_prices(), load_price_index()
    use = prices.price("reservoir_cost", 2024, index)
    # 6.1107 元/m³ (2005) × CPI 152.91 / 100 = 9.3439 元/m³
    assert use.value == pytest.approx(6.1107 * 152.91 / 100)
    assert use.base_year == 2005 and use.factor == pytest.approx(1.5291)
    with pytest.raises(ValidationError, match="价格指数 cn-cpi 缺少 2030"):
        prices.price("reservoir_cost", 2030, index)
    with pytest.raises(ValidationError, match="没有 carbon 在 2020 年或更早的价格"):
        prices.price("carbon", 2020, index)  # only a 2023 carbon price: never deflated


def test_compare_splits_quantity_and_price() -> None:
    from ecoplan.accounting.gep.models import GepResult, GepRun

    def run(q: float, p: float) -> GepRun:
        comp = {"name": "x", "quantity": q, "unit": "t", "price": p, "price_unit": "元/t",
                "price_note": "", "verified": False, "value": q * p}  # fmt: skip
        r = GepResult(level="city", region_code="1", region_name="市", service="s",
                      service_name="服务", value_yuan=q * p, components=[comp])  # fmt: skip
        return GepRun(id=1, results=[r])

    (change,) = compare(run(10, 2), run(12, 3))
    # V: 20 → 36, ΔV = 16; quantity part ΔQ·(P₀+P₁)/2 = 2 × 2.5 = 5; price part ΔP·(Q₀+Q₁)/2 =
    # 1 × 11 = 11; 5 + 11 = 16
    assert (change.delta, change.quantity_part, change.price_part) == (16, 5, 11)


def _allocate(
    values: list[float], budget: float, floor: float = 0.0, cap: float | None = None
) -> list[float]:
    from ecoplan.accounting.gep.compensation import CompensationConfig, allocate

    codes = [f"d{i}" for i in range(len(values))]
    cfg = CompensationConfig(year=2024, title="t", budget_yuan=budget, run=1, districts=codes,
                             weights={"gep_level": 1.0}, floor_yuan=floor, cap_yuan=cap)  # fmt: skip
    rows = allocate(cfg, {"gep_level": dict(zip(codes, values, strict=True))}, {})
    return [r["allocation_yuan"] for r in rows]


def test_compensation_floor_and_cap() -> None:
    # shares 1:1:2 of 100 → 25, 25, 50; a floor of 30 lifts the first two, 100 − 60 = 40 left
    assert _allocate([1, 1, 2], 100, floor=30) == pytest.approx([30, 30, 40])
    # shares 1:1:8 → 10, 10, 80; a cap of 45 holds the third, 55 shared 1:1 → 27.5 each
    assert _allocate([1, 1, 8], 100, cap=45) == pytest.approx([27.5, 27.5, 45])


def test_compensation_config_refuses_impossible_limits() -> None:
    from pydantic import ValidationError as PydanticError

    with pytest.raises(PydanticError, match="保底额"):
        _allocate([1, 1], 100, floor=60)
    with pytest.raises(PydanticError, match="封顶额"):
        _allocate([1, 1], 100, cap=40)


def test_compensation_names_missing_indicators() -> None:
    from ecoplan.accounting.gep.compensation import CompensationConfig, allocate

    cfg = CompensationConfig(year=2024, title="t", budget_yuan=1, run=1, districts=["a", "b"],
                             weights={"gep_level": 0.5, "ei": 0.5})  # fmt: skip
    with pytest.raises(ValidationError, match="生态环境质量指数 EI: 乙区"):
        allocate(cfg, {"gep_level": {"a": 1, "b": 1}, "ei": {"a": 60}}, {"b": "乙区"})


def test_flood_reservoirs_and_lakes() -> None:
    from ecoplan.accounting.gep.services.flood_regulation import FloodRegulation
    from ecoplan.accounting.gep.spec import PointSet

    reservoirs = PointSet(
        np.asarray([0, 0, 1, -1]),
        {"capacity_m3": np.asarray([1e8, 2e7, 5e6, 9e9]),
         "flood_capacity_m3": np.asarray([np.nan, 1e7, np.nan, np.nan])},
    )  # fmt: skip
    lakes = PointSet(np.asarray([1]), {"area_km2": np.asarray([2.0])})
    data = RegionData(
        ("a", "b"), {}, np.asarray([100.0, 0.0]), {}, {"reservoirs": reservoirs, "lakes": lakes}
    )
    q = FloodRegulation().quantities(ctx(), data)
    # region a: 0.35 × 1e8 (no flood capacity given) + 1e7 (given) = 4.5e7 m³; b: 0.35 × 5e6
    # = 1.75e6; the fourth reservoir lies outside every region
    assert q["reservoir"].tolist() == pytest.approx([4.5e7, 1.75e6])
    # lake in b: e^4.924 × 2^1.128 × 3.19 × 10⁴ m³ = 137.54 × 2.1857 × 3.19 × 10⁴ = 9.5897e6 m³
    assert q["lake"].tolist() == pytest.approx([0.0, 9.5897e6], rel=1e-4)
    assert q["vegetation"].tolist() == [100.0, 0.0]


def test_values_at_table_prices() -> None:
    from ecoplan.accounting.gep.services import REGISTRY

    c = ctx(2005)  # 2005 prices need no inflation: value = quantity × the table price
    one = np.asarray([1.0])
    cases = {
        "water_conservation": ({"water_conservation": one}, 6.1107),  # 元/m³ reservoir cost
        "flood_regulation": ({"vegetation": one, "reservoir": one, "lake": one}, 3 * 6.1107),
        "oxygen_release": ({"oxygen_release": one}, 1000.0),  # 元/t O₂
        "water_purification": ({"cod": one, "nh3n": one, "tn": one, "tp": one}, None),
    }
    for sid, (q, expected) in cases.items():
        if expected is None:
            with pytest.raises(ValidationError, match="2005 年或更早"):  # 2015 prices only
                REGISTRY[sid].value(c, q)
            continue
        total = sum(float(p.value[0]) for p in REGISTRY[sid].value(c, q))
        assert total == pytest.approx(expected), sid
    c24 = ctx(2024)
    carbon = REGISTRY["carbon_fixation"].value(c24, {"carbon_fixation": one})[0]
    # 80 元/tCO₂ in 2023 money × CPI 152.91 / 152.60 = 80.1625 元
    assert carbon.price == pytest.approx(80 * 152.91 / 152.60)
    power = REGISTRY["climate_regulation"].value(c24, {"climate_regulation": one})[0]
    assert power.price == pytest.approx(0.4883)  # a 2024 price row: no inflation
    sand = REGISTRY["sand_fixation"].value(ctx(2015), {"sand_fixation": one})[0]
    # 20 元/m² ÷ (1.35 t/m³ × 0.01 m) = 1481.48 元/t
    assert sand.price == pytest.approx(20 / (1.35 * 0.01))
    noise = REGISTRY["noise_reduction"]
    assert (
        noise.quantities(
            ctx(2015), RegionData(("a",), {}, None, {"green_belt_km": np.asarray([3.0])}, {})
        )
        is not None
    )
    # 3 km × 1.0 × 1.5e6 元/km = 4.5e6 元
    assert noise.value(ctx(2015), {"noise_reduction": np.asarray([3.0])})[0].value[
        0
    ] == pytest.approx(4.5e6)
