"""The Treepedia classifier on synthetic images with known green shares, the Otsu clamp, the
alternatives and the backend registry."""

from __future__ import annotations

import numpy as np
import pytest

from ecoplan.errors import ValidationError
from ecoplan.greenview.classify import (
    ColourClassifier,
    classify_array,
    exg_exr_mask,
    exg_levels,
    exg_otsu_mask,
    get_backend,
    green_fraction,
    hsv_mask,
    hue_saturation_value,
    otsu_threshold,
    register_backend,
    treepedia_threshold,
    unregister_backend,
)
from ecoplan.greenview.method import ExgExrSpec, ExgOtsuSpec, HsvBandSpec, load_method
from tests.greenview.synth import GREY, LEAF, SHADOW, SKY, banded, solid

METHOD = load_method()
_SPEC = METHOD.classifiers["treepedia"]
assert isinstance(_SPEC, ExgOtsuSpec)
TREEPEDIA: ExgOtsuSpec = _SPEC


def share(rgb: np.ndarray) -> float:
    return green_fraction(exg_otsu_mask(rgb, TREEPEDIA))


def test_known_fractions() -> None:
    # one colour only: every pixel on one ExG level, Otsu undefined → fallback 0.1;
    # LEAF's ExG 170/255 = 0.667 > 0.1 → 100 %
    assert share(solid(LEAF)) == 1.0
    assert treepedia_threshold(exg_levels(solid(LEAF)), TREEPEDIA) == (0.1, None)
    assert share(solid(GREY)) == 0.0  # ExG 0
    assert share(solid(SKY)) == 0.0  # ExG 0.165 but B = 235/255 = 0.92 ≥ 0.6
    # half LEAF, half GREY: 20 of 40 rows → 0.5 exactly
    assert share(banded(20)) == 0.5
    # 640 × 640 with a 160-row band of LEAF: 160 × 640 / (640 × 640) = 0.25
    assert share(banded(160, 640, 640)) == 0.25
    # a sky band above a road: 0 %; a leaf band in it: its share
    street = solid(GREY, 100, 50)
    street[:40] = SKY
    street[40:70] = LEAF  # 30 of 100 rows
    assert share(street) == pytest.approx(0.30)


def test_saturated_green_is_capped() -> None:
    """Treepedia caps G < 0.9: a pure (0, 255, 0) pixel is not vegetation (paint, screens)."""
    assert share(solid((0, 255, 0))) == 0.0
    assert share(solid((0, 229, 0))) == 1.0  # 229/255 = 0.898 < 0.9


def test_dark_shadow_green_is_counted() -> None:
    # thirds: GREY (level 0), LEAF (level 170), SHADOW (30, 45, 40): level 2·45 − 30 − 40 = 20.
    # Otsu splits between 20 and 170 (raw t ≈ 0.39) → clamped to 0.10 = level 25.5;
    # SHADOW's ExG 20/255 = 0.078 fails the bright rule (≤ 0.10) but passes the shadow rule
    # (R, G, B < 0.3 = 76.5 and ExG > 0.05) → green share 2/3
    rgb = solid(GREY, 30, 10)
    rgb[10:20] = LEAF
    rgb[20:30] = SHADOW
    threshold, raw = treepedia_threshold(exg_levels(rgb), TREEPEDIA)
    assert raw is not None and raw > 0.10 and threshold == 0.10
    assert share(rgb) == pytest.approx(2 / 3)
    # the same ExG on a brighter pixel (100, 115, 110: R 0.39 ≥ 0.3) is not counted
    rgb[20:30] = (100, 115, 110)
    assert share(rgb) == pytest.approx(1 / 3)


def test_otsu_clamp_from_below() -> None:
    # half GREY (level 0), a quarter (100, 105, 100) at level 10, a quarter (100, 110, 100) at 20.
    # Between-class variance ω0ω1(m1 − m0)²: split {0}|{10, 20} = 0.5·0.5·15² = 56.25 beats
    # {0, 10}|{20} = 0.75·0.25·(20 − 3.33)² = 52.08; the tie over bins 0…9 averages to 4.5, so
    # raw t = (4.5 − 1)/255 = 0.0137 < 0.05 → clamped to 0.05 (level 12.75): level 10 is not
    # green, level 20 is → 25 % (the raw threshold would give 50 %)
    rgb = solid(GREY, 40, 10)
    rgb[20:30] = (100, 105, 100)
    rgb[30:40] = (100, 110, 100)
    threshold, raw = treepedia_threshold(exg_levels(rgb), TREEPEDIA)
    assert raw == pytest.approx(3.5 / 255)
    assert threshold == 0.05
    assert share(rgb) == 0.25


def test_otsu_clamp_from_above() -> None:
    # half GREY (level 0), a quarter LEAF (170), a quarter (100, 115, 100) at level 30.
    # {0}|{30, 170}: 0.25·100² = 2500; {0, 30}|{170}: 0.75·0.25·(170 − 10)² = 4800 → split after
    # 30; tie over bins 30…169 averages 99.5 → raw t = 98.5/255 = 0.386 > 0.10 → clamped to 0.10
    # (level 25.5): level 30 is green → 50 % (the raw threshold would give 25 %)
    rgb = solid(GREY, 40, 10)
    rgb[20:30] = LEAF
    rgb[30:40] = (100, 115, 100)
    threshold, raw = treepedia_threshold(exg_levels(rgb), TREEPEDIA)
    assert raw == pytest.approx(98.5 / 255)
    assert threshold == 0.10
    assert share(rgb) == 0.5


def _brute_force_otsu(levels: np.ndarray) -> float:
    """Otsu from its definition: maximise ω0 ω1 (m1 − m0)² over cuts 'level ≤ k'."""
    values = np.clip(levels, 0, 255).ravel()
    scores = []
    for k in range(256):
        low, high = values[values <= k], values[values > k]
        if low.size == 0 or high.size == 0:
            scores.append(-1.0)
            continue
        w0, w1 = low.size / values.size, high.size / values.size
        scores.append(w0 * w1 * (high.mean() - low.mean()) ** 2)
    scores_arr = np.asarray(scores)
    best = np.flatnonzero(np.isclose(scores_arr, scores_arr.max(), rtol=1e-12, atol=0))
    return float(best.mean()) / 255


def test_otsu_matches_its_definition() -> None:
    rng = np.random.default_rng(7)
    for _ in range(5):
        rgb = rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)
        rgb[:15, :, 1] = rng.integers(90, 200, (15, 30))
        levels = exg_levels(rgb)
        # offset 0 = MATLAB graythresh, the cut index / 255; Treepedia's offset 1 is 1/255 lower
        assert otsu_threshold(levels, 0) == pytest.approx(_brute_force_otsu(levels))
        assert otsu_threshold(levels, 1) == pytest.approx(_brute_force_otsu(levels) - 1 / 255)


def test_otsu_undefined_uses_fallback() -> None:
    assert otsu_threshold(exg_levels(solid(GREY))) is None
    spec = TREEPEDIA.model_copy(update={"threshold_fallback": 0.3})
    # the fallback is clamped like any threshold (as in the source)
    assert treepedia_threshold(exg_levels(solid(GREY)), spec) == (0.10, None)


def test_thresholds_come_from_the_method() -> None:
    # raising the G cap below LEAF's G (140/255 = 0.549) removes every LEAF pixel
    spec = TREEPEDIA.model_copy(update={"rgb_max": (0.6, 0.5, 0.6)})
    assert green_fraction(exg_otsu_mask(banded(20), spec)) == 0.0


def test_exg_exr() -> None:
    spec = METHOD.classifiers["exg_exr"]
    assert isinstance(spec, ExgExrSpec)
    # LEAF chromatic: r, g, b = 60/250, 140/250, 50/250 = 0.24, 0.56, 0.20;
    # ExG − ExR = 3g − 2.4r − b = 1.68 − 0.576 − 0.20 = 0.904 > 0 → green
    # GREY: 3/3 − 2.4/3 − 1/3 = −0.133 → not; black: 0 → not (0 > 0 is false)
    rgb = banded(10, 40, 10)
    rgb[30:] = 0
    assert green_fraction(exg_exr_mask(rgb, spec)) == 0.25
    plain = spec.model_copy(update={"chromatic": False})
    # plain [0, 1]: 3·0.549 − 2.4·0.235 − 0.196 = 0.88 > 0
    assert green_fraction(exg_exr_mask(banded(20), plain)) == 0.5


def test_hsv_band() -> None:
    spec = METHOD.classifiers["hsv"]
    assert isinstance(spec, HsvBandSpec)
    # LEAF: max G 140, min B 50, Δ 90 → hue 60·((50 − 60)/90 + 2) = 113.3°, S 0.64, V 0.55
    hue, sat, val = hue_saturation_value(solid(LEAF, 1, 1))
    assert (float(hue[0, 0]), float(sat[0, 0]), float(val[0, 0])) == pytest.approx(
        (113.33, 90 / 140, 140 / 255), abs=0.01
    )
    assert green_fraction(hsv_mask(banded(20), spec)) == 0.5
    assert green_fraction(hsv_mask(solid((200, 40, 40)), spec)) == 0.0  # red, hue 0°
    dark = spec.model_copy(update={"val_min": 0.6})  # LEAF's V 0.55 is now too dark
    assert green_fraction(hsv_mask(banded(20), dark)) == 0.0


def test_backends_by_name() -> None:
    backend = get_backend(METHOD)
    assert isinstance(backend, ColourClassifier) and backend.name == "treepedia"
    assert green_fraction(classify_array(banded(10), get_backend(METHOD, "hsv"))) == 0.25

    def greener_than_red(method: object) -> object:
        return lambda rgb: rgb[..., 1] > rgb[..., 0]

    register_backend("test-red-green", greener_than_red)  # type: ignore[arg-type]
    try:
        mask = classify_array(banded(10), get_backend(METHOD, "test-red-green"))
        assert green_fraction(mask) == 0.25
    finally:
        unregister_backend("test-red-green")
    with pytest.raises(ValidationError, match="未知的分类器“nope”.*treepedia"):
        get_backend(METHOD, "nope")


def test_backend_mistakes_are_reported() -> None:
    with pytest.raises(ValidationError, match="尺寸"):
        classify_array(banded(10), lambda rgb: np.zeros((3, 3), dtype=bool))
    with pytest.raises(ValidationError, match="布尔"):
        classify_array(banded(10), lambda rgb: rgb[..., 1])
    with pytest.raises(ValidationError, match="H×W×3"):
        exg_otsu_mask(np.zeros((4, 4), dtype=np.uint8), TREEPEDIA)
