"""The year-on-year verdict on the same point set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecoplan.errors import ValidationError
from ecoplan.greenview.compare import (
    DROP,
    RISE,
    STEADY,
    TOO_FEW,
    bootstrap_ci,
    classify_change,
    compare_points,
    read_points_csv,
)
from ecoplan.greenview.method import load_method

SPEC = load_method().verdict  # tolerance 0.5 pp, min 30 points, every district, 2000 resamples
SMALL = SPEC.model_copy(update={"min_points": 2})


def frame(
    year: int, values: dict[str, float], district: dict[str, str] | None = None
) -> pd.DataFrame:
    names = {"110101": "东城区", "110108": "海淀区"}
    codes = [(district or {}).get(p, "110101") for p in values]
    return pd.DataFrame({"point_id": list(values), "year": year, "gvi": list(values.values()),
                         "district_code": codes, "district": [names[c] for c in codes]})  # fmt: skip


def test_tolerance_rule() -> None:
    assert classify_change(0.6, 40, SPEC) == RISE  # > 0.5
    assert classify_change(0.5, 40, SPEC) == STEADY  # within ±0.5 (edges included)
    assert classify_change(-0.5, 40, SPEC) == STEADY
    assert classify_change(-0.51, 40, SPEC) == DROP
    assert classify_change(5.0, 29, SPEC) == TOO_FEW  # fewer than 30 pairs


def test_paired_points_only() -> None:
    # A 2023: p1 20, p2 30, p3 40, p4 50; B 2024: p1 21, p2 31, p3 40.5, p5 90 (new point).
    # Pairs p1–p3: changes +1, +1, +0.5 → mean 2.5 / 3 = 0.833 > 0.5 → 升
    # (unpaired means would be 35 → 45.4: p4 and p5 do not count)
    a = frame(2023, {"p1": 20, "p2": 30, "p3": 40, "p4": 50})
    b = frame(2024, {"p1": 21, "p2": 31, "p3": 40.5, "p5": 90})
    result = compare_points(a, b, SMALL)
    assert (result.year_a, result.year_b, result.city.n_pairs) == (2023, 2024, 3)
    assert result.city.mean_change == pytest.approx(2.5 / 3)
    assert result.city.mean_a == pytest.approx(30) and result.city.mean_b == pytest.approx(92.5 / 3)
    assert result.city.median_change == 1.0
    assert result.city.label == RISE and result.steady_rise
    assert (result.only_a, result.only_b) == (["p4"], ["p5"])
    records = result.to_records()
    assert records["steady_rise"] is True and records["areas"][0]["district"] == "全市"


def test_steady_and_drop() -> None:
    a = frame(2023, {"p1": 20, "p2": 30})
    # changes +0.4 and −0.2 → mean +0.1: within ±0.5 → 稳 → 稳中有升 holds
    steady = compare_points(a, frame(2024, {"p1": 20.4, "p2": 29.8}), SMALL)
    assert steady.city.label == STEADY and steady.steady_rise
    # changes −1 and −2 → mean −1.5 < −0.5 → 降
    drop = compare_points(a, frame(2024, {"p1": 19, "p2": 28}), SMALL)
    assert drop.city.label == DROP and not drop.steady_rise
    assert drop.reasons == [
        "全市: 降(平均变化 -1.50 个百分点)",
        "东城区: 降(平均变化 -1.50 个百分点)",
    ]


def test_every_district_counts() -> None:
    # 东城 p1, p2: +3, +3 (升); 海淀 p3, p4: −1, −1 (降). City mean (3 + 3 − 1 − 1) / 4 = +1 → 升,
    # but 全市各区 fails on 海淀区
    where = {"p3": "110108", "p4": "110108"}
    a = frame(2023, {"p1": 10, "p2": 10, "p3": 10, "p4": 10}, where)
    b = frame(2024, {"p1": 13, "p2": 13, "p3": 9, "p4": 9}, where)
    result = compare_points(a, b, SMALL)
    assert result.city.label == RISE
    assert [(d.district, d.label, d.mean_change) for d in result.districts] == [
        ("东城区", RISE, 3.0), ("海淀区", DROP, -1.0)
    ]  # fmt: skip
    assert not result.steady_rise and result.reasons == ["海淀区: 降(平均变化 -1.00 个百分点)"]
    lenient = compare_points(a, b, SMALL.model_copy(update={"require_every_district": False}))
    assert lenient.steady_rise
    # districts below min_points are not judged (and do not block the verdict)
    few = compare_points(a, b, SMALL.model_copy(update={"min_points": 3}))
    assert [d.label for d in few.districts] == [TOO_FEW, TOO_FEW] and few.city.label == RISE
    assert few.steady_rise


def test_bootstrap_interval() -> None:
    # every change +1: every resample has mean 1 → interval [1, 1]
    assert bootstrap_ci(np.ones(50), SPEC) == (1.0, 1.0)
    changes = np.random.default_rng(3).normal(0.8, 2.0, 400)
    low, high = bootstrap_ci(changes, SPEC)
    assert low < changes.mean() < high
    assert (low, high) == bootstrap_ci(changes, SPEC)  # seeded: the same every run
    # 95 % interval of a mean with sd 2 over 400 points: about ±1.96 · 2 / 20 = ±0.196
    assert high - low == pytest.approx(0.392, abs=0.06)


def test_refused_inputs(tmp_path: Path) -> None:
    a = frame(2023, {"p1": 20})
    with pytest.raises(ValidationError, match="应晚于"):
        compare_points(a, frame(2023, {"p1": 21}), SMALL)
    with pytest.raises(ValidationError, match="没有共同的样点"):
        compare_points(a, frame(2024, {"q1": 21}), SMALL)
    two_years = pd.concat([a, frame(2024, {"p1": 22})])
    with pytest.raises(ValidationError, match="应只含一个年份的样点,实际含 2023、2024"):
        compare_points(two_years, frame(2025, {"p1": 21}), SMALL)
    (tmp_path / "x.csv").write_text("point_id,year\np1,2023\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="x.csv: 缺少列 gvi"):
        read_points_csv(tmp_path / "x.csv")
    (tmp_path / "y.csv").write_text(
        "point_id,year,gvi\np1,2023,abc\np2,2023,120\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError) as info:
        read_points_csv(tmp_path / "y.csv")
    assert info.value.rows == [
        "第 2 行: 样点编号、年份或绿视率(0–100)有误",
        "第 3 行: 样点编号、年份或绿视率(0–100)有误",
    ]
