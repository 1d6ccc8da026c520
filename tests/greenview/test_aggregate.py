"""Point and district GVI with the arithmetic written out."""

from __future__ import annotations

import pandas as pd
import pytest

from ecoplan.greenview.aggregate import CITY_NAME, district_summary, point_gvi
from ecoplan.greenview.method import load_method

SPEC = load_method().point  # 6 headings at pitch 0, min 6 images, mean of images, include


def images(point: str, percents: list[float], headings: list[int] | None = None,
           pixels: list[int] | None = None, year: int = 2024) -> pd.DataFrame:  # fmt: skip
    n = len(percents)
    px = pixels or [100] * n
    return pd.DataFrame({
        "point_id": point, "year": year, "lon": 116.4, "lat": 39.9,
        "heading": headings or [0, 60, 120, 180, 240, 300][:n], "pitch": 0.0,
        "green_pixels": [round(p / 100 * q) for p, q in zip(percents, px, strict=True)], "pixels": px,
    })  # fmt: skip


def test_point_gvi_is_the_mean_of_its_images() -> None:
    frame = pd.concat([images("P1", [10, 20, 30, 40, 50, 60]), images("P2", [0, 30, 60])])
    points = point_gvi(frame, SPEC).set_index("point_id")
    # P1: (10 + 20 + 30 + 40 + 50 + 60) / 6 = 210 / 6 = 35; six headings → complete
    assert points.loc["P1", "gvi"] == pytest.approx(35)
    assert bool(points.loc["P1", "complete"]) and points.loc["P1", "missing_headings"] == ""
    # P2: (0 + 30 + 60) / 3 = 30; 3 images < 6 and headings 180/240/300 missing → incomplete
    assert points.loc["P2", "gvi"] == pytest.approx(30)
    assert (
        not points.loc["P2", "complete"] and points.loc["P2", "missing_headings"] == "180;240;300"
    )


def test_pixel_weighting_differs_only_for_unequal_sizes() -> None:
    # image 1: 50 of 100 pixels green (50 %), image 2: 0 of 300 (0 %)
    frame = images("P1", [50, 0], pixels=[100, 300])
    # mean of images: (50 + 0) / 2 = 25; pooled pixels: 50 / 400 = 12.5
    assert point_gvi(frame, SPEC)["gvi"].item() == pytest.approx(25)
    pooled = SPEC.model_copy(update={"aggregate": "pixels"})
    assert point_gvi(frame, pooled)["gvi"].item() == pytest.approx(12.5)


def test_years_are_kept_apart() -> None:
    frame = pd.concat([images("P1", [10] * 6, year=2023), images("P1", [20] * 6, year=2024)])
    points = point_gvi(frame, SPEC)
    assert list(zip(points["year"], points["gvi"], strict=True)) == [(2023, 10.0), (2024, 20.0)]


def _points() -> pd.DataFrame:
    return pd.DataFrame({
        "point_id": ["a", "b", "c", "d", "e", "f", "g"], "year": 2024,
        "gvi": [10.0, 20.0, 60.0, 40.0, 50.0, 99.0, 70.0],
        "complete": [True, True, True, True, True, True, False],
        "district_code": ["110101", "110101", "110101", "110108", "110108", None, "110108"],
        "district": ["东城区", "东城区", "东城区", "海淀区", "海淀区", None, "海淀区"],
    })  # fmt: skip


def test_district_summary() -> None:
    table = district_summary(_points(), SPEC).set_index("district")
    # 东城区: 10, 20, 60 → mean 90/3 = 30, median 20
    assert tuple(table.loc["东城区", ["n_points", "mean_gvi", "median_gvi"]]) == (3, 30, 20)
    # 海淀区 (incomplete g included, the method's default): 40, 50, 70 → mean 160/3, median 50
    assert tuple(table.loc["海淀区", ["n_points", "median_gvi", "n_incomplete"]]) == (3, 50, 1)
    assert table.loc["海淀区", "mean_gvi"] == pytest.approx(160 / 3)
    # 全市: a–e and g (f is outside every district): 10, 20, 60, 40, 50, 70 → mean 250/6, median 45
    assert table.loc[CITY_NAME, "n_points"] == 6
    assert table.loc[CITY_NAME, "mean_gvi"] == pytest.approx(250 / 6)
    assert table.loc[CITY_NAME, "median_gvi"] == 45


def test_incomplete_points_can_be_left_out() -> None:
    spec = SPEC.model_copy(update={"incomplete": "exclude"})
    table = district_summary(_points(), spec).set_index("district")
    # 海淀区 without g: 40, 50 → mean 45, median 45; g still counted as incomplete
    assert tuple(table.loc["海淀区", ["n_points", "mean_gvi", "median_gvi", "n_incomplete"]]) == (
        2,
        45,
        45,
        1,
    )
    # 全市: 10, 20, 60, 40, 50 → mean 36, median 40
    assert tuple(table.loc[CITY_NAME, ["n_points", "mean_gvi", "median_gvi"]]) == (5, 36, 40)
