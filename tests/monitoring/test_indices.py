"""Diversity indices on the test vectors of field.md §1.4 and on worked examples.

Every expected number comes with the arithmetic that produced it. Vectors:
A = [10, 10, 10, 10]   (S 4, N 40)
B = [1, 0, 3, 2, 6]    (S 4, N 12; the 0 is an absent species)
C = [5, 3, 1, 1, 1, 2, 7]  (S 7, N 20)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ecoplan.errors import ValidationError
from ecoplan.monitoring import indices as ix
from ecoplan.monitoring.indices import (
    DOMINANCE_LABELS_ZH,
    EFFORT_UNITS,
    GROUP_INDEX_COLUMNS,
    chao1,
    chao1_detail,
    chao2,
    chao2_detail,
    dominance_classes,
    effort_standardised,
    gini_simpson,
    indices_by_group,
    inverse_simpson,
    margalef,
    pielou,
    rarefy,
    richness,
    shannon,
    simpson_dominance,
    simpson_unbiased,
    transect_density,
)

A = [10, 10, 10, 10]
B = [1, 0, 3, 2, 6]
C = [5, 3, 1, 1, 1, 2, 7]
TOL = 1e-6  # field.md prints six decimals


# --------------------------------------------------------------------------- field.md vectors


def test_richness() -> None:
    assert richness(A) == 4
    assert richness(B) == 4  # the 0 is not a species
    assert richness(C) == 7


def test_shannon() -> None:
    # A: −4 × 0.25 ln 0.25 = ln 4 = 1.386294
    assert shannon(A) == pytest.approx(math.log(4), abs=1e-15)
    assert shannon(A) == pytest.approx(1.386294, abs=TOL)
    # B: p = 1/12, 3/12, 2/12, 6/12
    #    ln 12/12 + ln 4/4 + ln 6/6 + ln 2/2 = 0.207076 + 0.346574 + 0.298627 + 0.346574
    #    = 1.198849 (exact sum 1.1988493129)
    assert shannon(B) == pytest.approx(1.198849, abs=TOL)
    # C: H' = ln N − Σ n ln n / N = ln 20 − (5 ln 5 + 3 ln 3 + 2 ln 2 + 7 ln 7)/20
    #    = 2.995732 − (8.047190 + 3.295837 + 1.386294 + 13.621371)/20
    #    = 2.995732 − 26.350692/20 = 2.995732 − 1.317535 = 1.678198
    assert shannon(C) == pytest.approx(1.678198, abs=TOL)


def test_simpson_forms() -> None:
    # A: D = 4 × 0.25² = 0.25, 1 − D = 0.75, 1/D = 4
    assert simpson_dominance(A) == pytest.approx(0.25)
    assert gini_simpson(A) == pytest.approx(0.75)
    assert inverse_simpson(A) == pytest.approx(4.0)
    # B: D = (1 + 9 + 4 + 36)/144 = 50/144 = 0.347222; 1 − D = 94/144 = 0.652778; 1/D = 2.88
    assert simpson_dominance(B) == pytest.approx(50 / 144)
    assert simpson_dominance(B) == pytest.approx(0.347222, abs=TOL)
    assert gini_simpson(B) == pytest.approx(0.652778, abs=TOL)
    assert inverse_simpson(B) == pytest.approx(2.88)
    # C: D = (25 + 9 + 1 + 1 + 1 + 4 + 49)/400 = 90/400 = 0.225; 1/D = 400/90 = 4.444444
    assert simpson_dominance(C) == pytest.approx(0.225)
    assert gini_simpson(C) == pytest.approx(0.775)
    assert inverse_simpson(C) == pytest.approx(400 / 90)


def test_simpson_unbiased() -> None:
    # A: 1 − 4·10·9/(40·39) = 1 − 360/1560 = 0.769231
    assert simpson_unbiased(A) == pytest.approx(0.769231, abs=TOL)
    # B: 1 − (0 + 6 + 2 + 30)/(12·11) = 1 − 38/132 = 94/132 = 0.712121
    assert simpson_unbiased(B) == pytest.approx(94 / 132)
    assert simpson_unbiased(B) == pytest.approx(0.712121, abs=TOL)
    # C: 1 − (20 + 6 + 0 + 0 + 0 + 2 + 42)/(20·19) = 1 − 70/380 = 0.815789
    assert simpson_unbiased(C) == pytest.approx(0.815789, abs=TOL)
    # Identity with Hurlbert's (1971) PIE = N/(N − 1) · (1 − Σp²): A gives 40/39 · 0.75
    for v in (A, B, C):
        n = sum(v)
        assert simpson_unbiased(v) == pytest.approx(n / (n - 1) * gini_simpson(v))  # type: ignore[operator]


def test_pielou() -> None:
    # A: ln 4 / ln 4 = 1 (perfectly even)
    assert pielou(A) == pytest.approx(1.0)
    # B: 1.198849 / ln 4 = 1.198849 / 1.386294 = 0.864787
    assert pielou(B) == pytest.approx(0.864787, abs=TOL)
    # C: 1.678198 / ln 7 = 1.678198 / 1.945910 = 0.862423
    assert pielou(C) == pytest.approx(0.862423, abs=TOL)


def test_margalef() -> None:
    # A: (4 − 1)/ln 40 = 3/3.688879 = 0.813255
    assert margalef(A) == pytest.approx(0.813255, abs=TOL)
    # B: 3/ln 12 = 3/2.484907 = 1.207289
    assert margalef(B) == pytest.approx(1.207289, abs=TOL)
    # C: 6/ln 20 = 6/2.995732 = 2.002849
    assert margalef(C) == pytest.approx(2.002849, abs=TOL)


def test_chao1() -> None:
    # A: F1 = F2 = 0 → 4 + 0·(−1)/(2·1) = 4
    assert chao1(A) == 4.0
    # B: F1 = 1 (the 1), F2 = 1 (the 2) → bias-corrected 4 + 1·0/(2·2) = 4.0;
    #    classic 4 + 1²/(2·1) = 4.5 (field.md: matches the R ecodive docs example)
    assert chao1(B) == 4.0
    assert chao1(B, classic=True) == 4.5
    # C: F1 = 3, F2 = 1 → 7 + 3·2/(2·2) = 8.5; classic 7 + 9/2 = 11.5
    d = chao1_detail(C)
    assert (d.estimate, d.s_obs, d.f1, d.f2, d.sample_size, d.form) == (
        8.5,
        7,
        3,
        1,
        20,
        "bias-corrected",
    )
    assert chao1(C, classic=True) == 11.5
    assert chao1_detail(C, classic=True).form == "classic"
    # (N − 1)/N factor as in SpadeR: 7 + 19/20 · 1.5 = 8.425; classic 7 + 19/20 · 4.5 = 11.275
    assert chao1(C, small_sample=True) == pytest.approx(8.425)
    assert chao1(C, classic=True, small_sample=True) == pytest.approx(11.275)


def test_rarefy() -> None:
    # A: 4 · (1 − C(30,5)/C(40,5)) = 4 · (1 − 142506/658008) = 4 · 0.783427 = 3.133713
    assert rarefy(A, 5) == pytest.approx(3.133713, abs=TOL)
    assert rarefy(A, 5) == pytest.approx(4 * (1 - 142506 / 658008))
    # B: C(12,5) = 792; n_i = 1, 3, 2, 6 leave C(11,5) = 462, C(9,5) = 126, C(10,5) = 252,
    #    C(6,5) = 6 subsamples without the species:
    #    (330 + 666 + 540 + 786)/792 = 2322/792 = 2.931818
    assert rarefy(B, 5) == pytest.approx(2322 / 792)
    # C: C(20,5) = 15504; C(15,5) = 3003, C(17,5) = 6188, C(19,5) = 11628 (×3),
    #    C(18,5) = 8568, C(13,5) = 1287: 7 − (3003 + 6188 + 34884 + 8568 + 1287)/15504
    #    = 7 − 53930/15504 = 3.521543
    assert rarefy(C, 5) == pytest.approx(7 - 53930 / 15504)
    assert rarefy(C, 5) == pytest.approx(3.521543, abs=TOL)
    # One individual is always one species; all N individuals give back S; n = 0 gives 0.
    assert rarefy(C, 1) == pytest.approx(1.0)
    assert rarefy(C, 20) == pytest.approx(7.0)
    assert rarefy(C, 0) == 0.0


def test_rarefy_large_n_uses_product_form_and_agrees_with_exact() -> None:
    rng = np.random.default_rng(7)
    k = rng.integers(1, 400, 30).astype(np.int64)
    n_total = int(k.sum())
    for n in (1, 13, n_total // 3, n_total - int(k.max()), n_total - 1, n_total):
        exact = ix._rarefy_exact(k, n_total, n)
        assert ix._rarefy_product(k, n_total, n) == pytest.approx(exact, rel=1e-12)
    # Beyond the exact limit: 10 species × 1000 = N 10000 > 5000, product form.
    # Symmetric case by hand: 10 · (1 − C(9000, 1)/C(10000, 1)) = 10 · 0.1 = 1.0 at n = 1
    assert rarefy([1000] * 10, 1) == pytest.approx(1.0)
    # And at n = 9001 every species must appear (only 9000 individuals lie outside each).
    assert rarefy([1000] * 10, 9001) == pytest.approx(10.0)


def test_dominance_classes() -> None:
    # C, N = 20: shares .25 .15 .05 .05 .05 .10 .35; 0.10 is not > 10 % → common
    assert dominance_classes(C) == [
        "dominant",
        "dominant",
        "common",
        "common",
        "common",
        "common",
        "dominant",
    ]
    # 1/200 = 0.5 % < 1 % → rare; 1/100 = 1 % exactly → common; absent → None
    assert dominance_classes([1, 99, 100, 0]) == ["rare", "dominant", "dominant", None]
    assert dominance_classes([1, 99]) == ["common", "dominant"]
    # Thresholds are parameters (UNVERIFIED defaults): 20 % / 5 %
    assert dominance_classes(C, dominant=0.2, rare=0.06) == [
        "dominant",
        "common",
        "rare",
        "rare",
        "rare",
        "common",
        "dominant",
    ]
    assert DOMINANCE_LABELS_ZH["dominant"] == "优势种"
    assert dominance_classes([0, 0]) == [None, None]
    assert dominance_classes([]) == []


def test_transect_density() -> None:
    # 30 birds, 2 km transect, 25 m each side: 30/(2·2000·25) = 30/100000 = 3e-4 per m²
    assert transect_density(30, 2000, 25) == pytest.approx(3e-4)
    assert transect_density(30, 2000, 25, per="ha") == pytest.approx(3.0)
    assert transect_density(30, 2000, 25, per="km2") == pytest.approx(300.0)
    assert transect_density(0, 2000, 25) == 0.0


def test_effort_standardised() -> None:
    # 45 birds on 1500 m = 1.5 km → 45/1.5 = 30 per km
    assert effort_standardised(45, 1500, "m") == pytest.approx(30.0)
    assert effort_standardised(45, 1.5, "km") == pytest.approx(30.0)
    assert EFFORT_UNITS["m"].base == "km"
    # 12 moths in 4 traps × 3 days = 12 trap-days → 1 per trap-day
    assert effort_standardised(12, 12, "trap-day") == pytest.approx(1.0)
    # 9 fish in 3 gill nets × 6 h = 18 net-hours → 0.5 per net-hour
    assert effort_standardised(9, 18, "net-hour") == pytest.approx(0.5)
    # one count and effort per event
    out = effort_standardised(np.array([10, 0, 6]), np.array([2.0, 1.0, 3.0]), "km")
    np.testing.assert_allclose(out, [5.0, 0.0, 2.0])


# --------------------------------------------------------------------------- literature


def test_shannon_worked_example_shannon_1948() -> None:
    # Shannon (1948), A Mathematical Theory of Communication: the source with symbols
    # A, B, C, D of probabilities 1/2, 1/4, 1/8, 1/8 has H = 7/4 bits per symbol
    # (½·1 + ¼·2 + 2·⅛·3 = 1.75; the section number is not checked here). As counts 4:2:1:1:
    assert shannon([4, 2, 1, 1], base=2) == pytest.approx(1.75)
    # and two equally likely outcomes carry 1 bit (H is largest at p = q = ½, ibid.)
    assert shannon([7, 7], base=2) == pytest.approx(1.0)
    # the natural-log value is the same quantity × ln 2
    assert shannon([4, 2, 1, 1]) == pytest.approx(1.75 * math.log(2))


def test_chao1_worked_example_fossil_docs() -> None:
    # R package fossil 0.4.0 (M. Vavrek), help page int.chao, example output:
    #   a <- c(4,5,1,1,2,0,0,1,3,0,8,45,23); int.chao(a)  → 14.5
    #   (S 10, F1 3, F2 1; classic form while F2 > 0: 10 + 3²/(2·1) = 14.5)
    #   a <- c(4,5,0,0,2,0,0,0,3,0,8,45,23); int.chao(a)  → 7
    #   (no singletons: S = 7 whatever the form)
    a1 = [4, 5, 1, 1, 2, 0, 0, 1, 3, 0, 8, 45, 23]
    a2 = [4, 5, 0, 0, 2, 0, 0, 0, 3, 0, 8, 45, 23]
    assert chao1(a1, classic=True) == 14.5
    assert chao1(a1) == 11.5  # bias-corrected: 10 + 3·2/(2·2)
    assert chao1(a2, classic=True) == 7.0
    assert chao1(a2) == 7.0


def test_chao2_by_hand() -> None:
    # m = 4 sampling units × 6 species; species found in 4, 1, 1, 2, 1, 0 units:
    # S_obs 5, Q1 3, Q2 1. Bias-corrected: 5 + (3/4)·3·2/(2·2) = 5 + 0.75·1.5 = 6.125
    # Classic: 5 + (3/4)·3²/(2·1) = 5 + 3.375 = 8.375
    inc = np.array(
        [
            [1, 1, 0, 1, 0, 0],
            [1, 0, 1, 0, 0, 0],
            [1, 0, 0, 1, 0, 0],
            [1, 0, 0, 0, 1, 0],
        ]
    )
    d = chao2_detail(inc)
    assert (d.s_obs, d.f1, d.f2, d.sample_size) == (5, 3, 1, 4)
    assert d.estimate == pytest.approx(6.125)
    assert chao2(inc, classic=True) == pytest.approx(8.375)
    # abundances are reduced to presence
    assert chao2(inc * 7) == pytest.approx(6.125)
    # no duplicates: classic falls back to bias-corrected; 2 uniques in 2 units:
    # 2 + (1/2)·2·1/(2·1) = 2.5
    d2 = chao2_detail([[1, 0], [0, 1]], classic=True)
    assert (d2.estimate, d2.form) == (2.5, "bias-corrected")


def test_against_scikit_bio_if_installed() -> None:
    # Optional cross-check (field.md §1.4): scikit-bio is not a dependency.
    alpha = pytest.importorskip("skbio.diversity.alpha")
    rng = np.random.default_rng(3)
    for _ in range(20):
        v = rng.integers(0, 30, 25)
        assert shannon(v) == pytest.approx(alpha.shannon(v, base=math.e))
        assert gini_simpson(v) == pytest.approx(alpha.simpson(v))
        assert chao1(v) == pytest.approx(alpha.chao1(v))
        assert margalef(v) == pytest.approx(alpha.margalef(v))


# --------------------------------------------------------------------------- edge cases


def test_single_species() -> None:
    # p = 1: H' = −1·ln 1 = 0 (not −0.0), D = 1, 1 − D = 0, unbiased 1 − 5·4/(5·4) = 0,
    # J undefined (ln 1 = 0), Margalef 0/ln 5 = 0, Chao1 = 1 (no singletons)
    v = [0, 5, 0]
    assert richness(v) == 1
    h = shannon(v)
    assert h == 0.0 and math.copysign(1.0, h) == 1.0
    assert simpson_dominance(v) == 1.0
    assert gini_simpson(v) == 0.0
    assert simpson_unbiased(v) == 0.0
    assert inverse_simpson(v) == 1.0
    assert pielou(v) is None
    assert margalef(v) == 0.0
    assert chao1(v) == 1.0
    assert rarefy(v, 3) == 1.0
    assert dominance_classes(v) == [None, "dominant", None]


@pytest.mark.parametrize("v", [[], [0, 0, 0]], ids=["empty", "all-zero"])
def test_empty_and_all_zero(v: list[int]) -> None:
    assert richness(v) == 0
    for f in (shannon, simpson_dominance, gini_simpson, simpson_unbiased, inverse_simpson):
        assert f(v) is None, f.__name__
    assert pielou(v) is None
    assert margalef(v) is None
    assert chao1(v) == 0.0
    assert rarefy(v, 0) == 0.0


def test_one_individual() -> None:
    # N = 1: proportions exist (H' 0, D 1) but N(N − 1) = 0 and ln N = 0
    v = [0, 1]
    assert shannon(v) == 0.0
    assert simpson_dominance(v) == 1.0
    assert simpson_unbiased(v) is None
    assert margalef(v) is None
    assert pielou(v) is None
    # F1 = 1, F2 = 0: bias-corrected 1 + 1·0/(2·1) = 1
    assert chao1(v) == 1.0


def test_classic_chao1_with_no_doubletons_falls_back() -> None:
    # F1 = 2, F2 = 0: F1²/(2F2) is infinite; the bias-corrected 2·1/(2·1) = 1 is used
    d = chao1_detail([1, 1, 5], classic=True)
    assert (d.estimate, d.f1, d.f2, d.form) == (4.0, 2, 0, "bias-corrected")


def test_float_abundance_allowed_where_the_formula_allows() -> None:
    # cover % of plants: H', Simpson, J and Margalef take any non-negative numbers
    cover = [12.5, 37.5, 50.0]  # p = .125, .375, .5
    assert simpson_dominance(cover) == pytest.approx(0.125**2 + 0.375**2 + 0.25)
    assert shannon(cover) is not None
    with pytest.raises(ValidationError, match="整数"):
        chao1(cover)


# --------------------------------------------------------------------------- grouped


def _random_frame(seed: int = 20240501) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = 4000
    frame = pd.DataFrame(
        {
            "site": rng.choice(["S1", "S2", "S3", "S4", "S5"], rows),
            "year": rng.choice([2023, 2024], rows),
            "species": rng.choice([f"sp{i}" for i in range(60)], rows, p=None),
            "count": rng.geometric(0.35, rows) - 1,  # zeros included
        }
    )
    extra = pd.DataFrame(
        {
            "site": ["Z", "Z", "ONE", "SINGLE", "SINGLE"],
            "year": [2024, 2024, 2024, 2024, 2024],
            "species": ["a", "b", "a", "a", "a"],
            "count": [0, 0, 1, 2, 3],  # all-zero group; N = 1 group; one species twice
        }
    )
    return pd.concat([frame, extra], ignore_index=True)


def _none_to_nan(value: float | None) -> float:
    return math.nan if value is None else value


def test_indices_by_group_equals_scalar_functions() -> None:
    frame = _random_frame()
    out = indices_by_group(frame, ["site", "year"], "species", "count")
    assert list(out.columns) == ["site", "year", *GROUP_INDEX_COLUMNS]
    assert len(out) == frame.groupby(["site", "year"]).ngroups
    keys = list(zip(out["site"], out["year"], strict=True))
    assert keys == sorted(keys)
    for row in out.itertuples(index=False):
        sub = frame[(frame["site"] == row.site) & (frame["year"] == row.year)]
        v = sub.groupby("species")["count"].sum().to_numpy()
        d = chao1_detail(v)
        assert richness(v) == row.S
        assert int(v.sum()) == row.N
        expected = {
            "shannon": shannon(v),
            "simpson_dominance": simpson_dominance(v),
            "gini_simpson": gini_simpson(v),
            "simpson_unbiased": simpson_unbiased(v),
            "inverse_simpson": inverse_simpson(v),
            "pielou": pielou(v),
            "margalef": margalef(v),
            "chao1": d.estimate,
        }
        for col, value in expected.items():
            np.testing.assert_allclose(
                getattr(row, col), _none_to_nan(value), rtol=1e-12, err_msg=f"{row.site} {col}"
            )
        assert (d.f1, d.f2) == (row.F1, row.F2)
    z = out.set_index("site").loc["Z"]
    assert (z["S"], z["N"]) == (0, 0) and math.isnan(z["shannon"])
    single = out.set_index("site").loc["SINGLE"]  # species a: 2 + 3 = 5 in one group
    assert (single["S"], single["N"], single["shannon"]) == (1, 5, 0.0)


def test_indices_by_group_on_the_field_vectors() -> None:
    frame = pd.DataFrame(
        [("A", f"s{i}", n) for i, n in enumerate(A)]
        + [("B", f"s{i}", n) for i, n in enumerate(B)]
        + [("C", f"s{i}", n) for i, n in enumerate(C)],
        columns=["plot", "taxon", "n"],
    )
    out = indices_by_group(frame, ["plot"], "taxon", "n").set_index("plot")
    assert out.loc["C", "chao1"] == 8.5
    assert out.loc["B", "simpson_unbiased"] == pytest.approx(0.712121, abs=TOL)
    assert out.loc["A", "margalef"] == pytest.approx(0.813255, abs=TOL)


def test_indices_by_group_empty_frame() -> None:
    frame = pd.DataFrame({"site": [], "species": [], "count": []}).astype({"count": "int64"})
    out = indices_by_group(frame, ["site"], "species", "count")
    assert len(out) == 0
    assert list(out.columns) == ["site", *GROUP_INDEX_COLUMNS]


@pytest.mark.slow
def test_indices_by_group_one_million_rows() -> None:
    """Scale, not speed (tests never depend on timing; bench/ measures time)."""
    # 1,000 sites × 5 years = 5,000 groups, 1,000,000 rows, 800 species (Zipf-like)
    rng = np.random.default_rng(0)
    rows = 1_000_000
    names = np.array([f"S{i:04d}" for i in range(1000)], dtype=object)
    frame = pd.DataFrame(
        {
            "site": names[rng.integers(0, 1000, rows)],
            "year": rng.integers(2020, 2025, rows),
            "species": np.array([f"sp{i}" for i in range(800)], dtype=object)[
                rng.zipf(1.6, rows) % 800
            ],
            "count": rng.geometric(0.3, rows),
        }
    )
    out = indices_by_group(frame, ["site", "year"], "species", "count")
    assert len(out) == 5000
    assert int(out["N"].sum()) == int(frame["count"].sum())


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([3, -1, 2], "不能为负数"),
        ([3, float("nan")], "NaN"),
        ([3, float("inf")], "NaN/inf"),
        (["a", "b"], "数字"),
        ([[1, 2], [3, 4]], "一维"),
    ],
)
def test_bad_counts_refused(counts: object, message: str) -> None:
    for f in (richness, shannon, simpson_dominance, pielou, margalef, chao1):
        with pytest.raises(ValidationError, match=message):
            f(counts)  # type: ignore[arg-type]


def test_bad_counts_message_names_the_position() -> None:
    with pytest.raises(ValidationError) as err:
        shannon([1, 2, -3])
    assert "第 3 个值" in str(err.value)
    assert err.value.rows == ["第 3 个值 -3"]


def test_integer_only_indices_refuse_fractions() -> None:
    for f in (simpson_unbiased, chao1):
        with pytest.raises(ValidationError, match="整数"):
            f([1.5, 2])
    with pytest.raises(ValidationError, match="整数"):
        rarefy([1.5, 2], 1)


def test_bad_rarefy_n() -> None:
    with pytest.raises(ValidationError, match="N=12"):
        rarefy(B, 13)
    with pytest.raises(ValidationError, match="之间"):
        rarefy(B, -1)
    with pytest.raises(ValidationError, match="整数"):
        rarefy(B, 2.5)  # type: ignore[arg-type]


def test_bad_parameters() -> None:
    with pytest.raises(ValidationError, match="底数"):
        shannon(A, base=1)
    with pytest.raises(ValidationError, match="阈值"):
        dominance_classes(A, dominant=0.01, rare=0.1)
    with pytest.raises(ValidationError, match="样线长度"):
        transect_density(3, 0, 25)
    with pytest.raises(ValidationError, match="单侧宽度"):
        transect_density(3, 100, -1)
    with pytest.raises(ValidationError, match="个体数"):
        transect_density(float("nan"), 100, 5)
    with pytest.raises(ValidationError, match="未知的努力量单位"):
        effort_standardised(3, 1, "furlong")
    with pytest.raises(ValidationError, match="努力量"):
        effort_standardised(3, 0, "km")
    with pytest.raises(ValidationError, match="数字"):
        effort_standardised(["x"], 1, "km")  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="不能为负数"):
        effort_standardised(-3, 1, "km")
    with pytest.raises(ValidationError, match="二维"):
        chao2([1, 0, 1])
    with pytest.raises(ValidationError, match="不能为负数"):
        chao2([[1, -1], [0, 1]])


def test_bad_frames_refused_with_rows_named() -> None:
    good = pd.DataFrame(
        {"site": ["a", "a", "b"], "species": ["x", "y", "x"], "count": [1, 2, 3]},
        index=[10, 11, 12],
    )
    with pytest.raises(ValidationError, match="缺少列：year"):
        indices_by_group(good, ["site", "year"], "species", "count")
    with pytest.raises(ValidationError, match="分组列"):
        indices_by_group(good, [], "species", "count")

    nan = good.astype({"count": "float64"})
    nan.loc[11, "count"] = math.nan
    with pytest.raises(ValidationError, match="行 11") as err:
        indices_by_group(nan, ["site"], "species", "count")
    assert "NaN" in str(err.value)

    neg = good.copy()
    neg.loc[12, "count"] = -4
    with pytest.raises(ValidationError, match="行 12.*不能为负数|不能为负数.*行 12"):
        indices_by_group(neg, ["site"], "species", "count")

    frac = good.astype({"count": "float64"})
    frac.loc[10, "count"] = 0.5
    with pytest.raises(ValidationError, match="整数"):
        indices_by_group(frac, ["site"], "species", "count")

    text = good.astype({"count": "str"})
    with pytest.raises(ValidationError, match="数值类型"):
        indices_by_group(text, ["site"], "species", "count")

    no_species = good.astype({"species": "object"})
    no_species.loc[11, "species"] = None
    with pytest.raises(ValidationError, match="species.*行 11"):
        indices_by_group(no_species, ["site"], "species", "count")

    no_site = good.astype({"site": "object"})
    no_site.loc[10, "site"] = None
    with pytest.raises(ValidationError, match="site.*行 10"):
        indices_by_group(no_site, ["site"], "species", "count")
