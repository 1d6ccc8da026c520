"""EI by HJ 192-2015 on hand-computed cases (arithmetic in the comments)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoplan.accounting.ei.compute import (
    apply_restriction,
    change_grade,
    compute,
    compute_row,
    round_to,
    subindices,
)
from ecoplan.accounting.ei.method import Method, load_method
from ecoplan.accounting.ei.table import IndicatorRow
from ecoplan.errors import ValidationError

from .conftest import LAND, OTHER, make_row


def test_each_subindex_by_hand(hj192: Method) -> None:
    raw, hq = subindices(make_row(), hj192)
    # HQ: 0.35·(0.6·40 + 0.25·10) + 0.21·(0.6·10) + 0.28·(0.1·2 + 0.3·3) + 0.11·(0.4·15)
    #     + 0.04·(0.3·10 + 0.4·5 + 0.3·5) = 9.275 + 1.26 + 0.308 + 0.66 + 0.26 = 11.763
    #     × 511.2642131067 / 100 = 60.140009
    assert hq == pytest.approx(60.14000938774112)
    assert raw["biological_abundance"] == pytest.approx(hq)  # no BI column: HQ alone
    # 植被覆盖 = 121.165124 × 0.7 = 84.8155868
    assert raw["vegetation_cover"] == pytest.approx(84.8155868)
    # 水网密度 = (84.3704083981·50/100 + 591.7908642005·5/100 + 86.3869548281·20/100) / 3
    #         = (42.185204 + 29.589543 + 17.277391) / 3 = 29.684046
    assert raw["water_network"] == pytest.approx(29.68404612489833)
    # 土地胁迫 = 236.0435677948 × (0.4·2 + 0.2·5 + 0.2·(10+5+5) + 0.2·1) / 100 = × 0.06 = 14.162614
    assert raw["land_stress"] == pytest.approx(14.162614067688)
    # 污染负荷, P = 600 mm × 100 km² = 60000:
    #   0.2·4.3937397289·1000/60000 = 0.014646   0.2·40.1764754986·100/60000 = 0.013392
    #   0.2·0.0648660287·500/100  = 0.064866   0.1·4.0904459321·200/100    = 0.818089
    #   0.2·0.5103049278·2000/100 = 2.041220   0.1·0.0749894283·10/100     = 0.000750
    #   sum = 2.952963
    assert raw["pollution_load"] == pytest.approx(2.952962778198867)


def test_ei_and_grade_by_hand(hj192: Method) -> None:
    result = compute_row(make_row(), hj192)
    # rounded sub-indices 60.1, 84.8, 29.7, 14.2, 3.0
    assert result.subindices == {
        "biological_abundance": 60.1,
        "vegetation_cover": 84.8,
        "water_network": 29.7,
        "land_stress": 14.2,
        "pollution_load": 3.0,
    }
    # EI = 0.35·60.1 + 0.25·84.8 + 0.15·29.7 + 0.15·(100−14.2) + 0.10·(100−3.0)
    #    = 21.035 + 21.2 + 4.455 + 12.87 + 9.7 = 69.26 → 69.3 (1 decimal, half up) → 良
    assert result.ei == 69.3
    assert result.grade == "良"


def test_bi_is_averaged_with_hq(hj192: Method) -> None:
    # (BI + HQ) / 2 = (80 + 60.140009) / 2 = 70.070005 → 70.1
    assert compute_row(make_row(bi=80), hj192).subindices["biological_abundance"] == 70.1


def test_clipping_at_100(hj192: Method) -> None:
    # 121.165124 × 0.9 = 109.05 → capped at 100 when the method clips
    assert compute_row(make_row(ndvi_mean=0.9), hj192).subindices["vegetation_cover"] == 100.0
    unclipped = hj192.model_copy(
        update={"method": hj192.method.model_copy(update={"clip_subindices": False})}
    )
    # 109.0486116 → 109.0
    assert compute_row(make_row(ndvi_mean=0.9), unclipped).subindices["vegetation_cover"] == 109.0


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (14.0, 14.0),  # a = 14/10 = 1.4 ≤ 1.4: the year's value
        (20.0, 4.0),  # a = 2.0: mean × (2.4 − 2.0) = 10 × 0.4 = 4
        (24.0, 0.0),  # a = 2.4: 10 × (2.4 − 2.4) = 0
        (30.0, 0.0),  # a = 3.0 > 2.4: 0
    ],
)
def test_flood_year_rule(hj192: Method, current: float, expected: float) -> None:
    row = make_row(water_resources_1e6m3=current, water_resources_mean_1e6m3=10.0)
    raw, _ = subindices(row, hj192)
    # 水网 = (42.185204 + 29.589543 + 86.3869548281·Q/100) / 3
    assert raw["water_network"] == pytest.approx(
        (42.18520419904999 + 29.589543210025 + 0.863869548281 * expected) / 3
    )


@pytest.mark.parametrize(
    ("ei", "grade"),
    [(75.0, "优"), (74.95, "良"), (74.9, "良"), (55.0, "良"), (54.99, "一般"), (35.0, "一般"),
     (34.9, "较差"), (20.0, "较差"), (19.99, "差"), (0.0, "差"), (100.0, "优")],
)  # fmt: skip
def test_grade_boundaries(hj192: Method, ei: float, grade: str) -> None:
    assert hj192.grade(ei) == grade


def test_grade_follows_published_rounding(hj192: Method) -> None:
    # An EI of 74.95 is published as 75.0 (1 decimal, half up) and graded 优 as published;
    # without rounding the same value stays 74.95 and is 良.
    assert round_to(74.95, 1) == 75.0
    assert round_to(-1.05, 1) == -1.1  # half away from zero for ΔEI too
    raw_method = hj192.model_copy(
        update={"method": hj192.method.model_copy(update={"decimals": None})}
    )
    assert raw_method.grade(74.95) == "良"


@pytest.mark.parametrize(
    ("delta", "label"),
    [(0.0, "无明显变化"), (0.9, "无明显变化"), (-0.9, "无明显变化"), (1.0, "略微变好"), (-1.0, "略微变差"),
     (2.9, "略微变好"), (3.0, "明显变好"), (-3.0, "明显变差"), (7.9, "明显变好"), (8.0, "显著变好"),
     (-8.0, "显著变差"), (-12.5, "显著变差")],
)  # fmt: skip
def test_change_grades(hj192: Method, delta: float, label: str) -> None:
    assert change_grade(delta, hj192) == label


def test_verdict_and_delta_against_previous_year(hj192: Method) -> None:
    this_year = make_row()  # EI 69.3 (above)
    # last year with NDVI 0.75: 植被 = 121.165124 × 0.75 = 90.87 → 90.9; EI gains 0.25 × 6.1 = 1.525
    # 21.035 + 22.725 + 4.455 + 12.87 + 9.7 = 70.785 → 70.8, so ΔEI = 69.3 − 70.8 = −1.5
    last_year = make_row(year=2023, ndvi_mean=0.75)
    [result] = compute([this_year], hj192, previous=[last_year])
    assert result.previous_ei == 70.8
    assert result.delta == -1.5
    assert result.change_grade == "略微变差"
    assert result.verdict_met is False and result.verdict == "未实现稳中向好"
    # ΔEI = −1.0 exactly meets the default policy ΔEI ≥ −1
    [edge] = compute([this_year], hj192, previous={"110116": 70.3})
    assert edge.delta == -1.0 and edge.verdict == "稳中向好"


def _with_rules(method: Method) -> Method:
    rules = [{"level": 2, "drop": 1}, {"level": 3, "cap": "一般", "drop": 1}]
    data = method.model_dump()
    data["restriction"]["rules"] = rules
    return Method.model_validate(data)


@pytest.mark.parametrize(
    ("ei", "level", "expected"),
    [
        (80.0, 2, 74.9),  # 优 drops one grade to the top of 良: 75 − 0.1
        (60.0, 2, 54.9),  # 良 → top of 一般
        (10.0, 2, 10.0),  # 差 cannot drop further
        (80.0, 3, 34.9),  # capped at 一般 (54.9), then dropped one grade to 34.9
        (40.0, 3, 34.9),  # already 一般: no cap, drop → 34.9
        (80.0, 0, 80.0),  # no restriction
    ],
)
def test_restriction_rules(hj192: Method, ei: float, level: int, expected: float) -> None:
    value, _ = apply_restriction(ei, level, _with_rules(hj192))
    assert value == expected


def test_restriction_level_without_rule_is_refused(hj192: Method) -> None:
    # the shipped method has no rule table (the standard's was not available)
    with pytest.raises(ValidationError, match="未定义环境限制等级 2"):
        compute_row(make_row(restriction_level=2), hj192)


def test_zero_rain_with_water_pollutants_is_refused(hj192: Method) -> None:
    with pytest.raises(ValidationError, match="降水量为 0"):
        compute_row(make_row(precip_mm=0), hj192)


def test_city_from_own_totals_and_area_weighted_approximation(hj192: Method) -> None:
    a = make_row("110101", "甲区")  # EI 69.3, A = 100
    # 乙区: all land and water figures doubled over A = 200 gives the same densities, but NDVI 0.5:
    # 植被 = 60.58 → 60.6; EI = 21.035 + 15.15 + 4.455 + 12.87 + ... (pollution per area halves)
    b = make_row(
        "110102",
        "乙区",
        **{
            k: v * 2
            for k, v in {**LAND, **OTHER}.items()
            if k.endswith("km2") or k.endswith("_km") or k.endswith("_t") or k.endswith("1e6m3")
        },
        ndvi_mean=0.5,
    )
    city = IndicatorRow("110000", "北京市", 2024, "city", {**b.values, "ndvi_mean": 0.6})
    results = compute([a, b, city], hj192)
    by_code = {r.region_code: r for r in results}
    approx = by_code["110000~aw"]
    assert approx.approximation and "近似" in approx.region_name
    # area-weighted: (100 · EI_甲 + 200 · EI_乙) / 300
    expected = round_to((100 * by_code["110101"].ei + 200 * by_code["110102"].ei) / 300, 1)
    assert approx.ei == expected
    # the city's own figure comes from its own totals (NDVI 0.6 city-wide), not from the mean
    assert by_code["110000"].ei == compute_row(city, hj192).ei
    assert by_code["110000"].ei != approx.ei and not by_code["110000"].approximation


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [k for k in {**LAND, **OTHER} if k not in {"area_km2", "restriction_level"}]
        ),
        st.floats(min_value=0, max_value=1e7, allow_nan=False),
    ),
    st.floats(min_value=0.01, max_value=1e5),
)
def test_ei_stays_within_0_and_100_with_clipping(changes: dict[str, float], area: float) -> None:
    # zero rain with water pollutants is refused (tested elsewhere); keep P > 0 here
    changes["precip_mm"] = max(changes.get("precip_mm", 600.0), 1.0)
    row = make_row(area_km2=area, **changes)
    result = compute_row(row, load_method())
    assert 0.0 <= result.ei <= 100.0
    assert all(0.0 <= v <= 100.0 for v in result.subindices.values())
