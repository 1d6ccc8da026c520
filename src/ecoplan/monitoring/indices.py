"""Diversity indices on species counts (issue 8, measures 5.1 / 5.2).

Pure functions: counts in, numbers out. Counts are a 1-D array or sequence of
non-negative numbers, one per species; a zero means the species was not recorded and is
ignored (it neither adds to S nor to any sum). Natural logarithms throughout unless a
``base`` is given. With S = species with n_i > 0, N = Σ n_i and p_i = n_i / N:

    S                      richness
    H' = −Σ p_i ln p_i                         Shannon (1948)
    D  = Σ p_i²                                Simpson (1949) dominance, "λ" for a sample
    1 − D                                      Gini–Simpson; Chinese reports call this
                                               "Simpson 指数 D = 1 − Σ p_i²"
    1 − Σ n_i(n_i − 1) / (N(N − 1))            unbiased form (Simpson 1949; equals
                                               Hurlbert's 1971 PIE = N/(N−1)·(1 − Σ p_i²))
    1 / D                                      inverse Simpson (Hill number of order 2)
    J  = H' / ln S                             Pielou (1966) evenness
    d  = (S − 1) / ln N                        Margalef (1958) richness
    Chao1 = S + F1(F1 − 1) / (2(F2 + 1))       bias-corrected (default); classic
                                               S + F1² / (2 F2) (Chao 1984)
    E[S_n] = Σ_i [1 − C(N − n_i, n) / C(N, n)] Hurlbert (1971) rarefaction

An index that is undefined for the data (H' of an empty sample, J with S ≤ 1, Margalef
with N ≤ 1, the unbiased Simpson with N ≤ 1) is returned as ``None`` by the scalar
functions and as NaN by :func:`indices_by_group`, never as a made-up 0 that a report
would then print. Bad input (negative, NaN, infinite, non-numeric, or non-integer where
the formula counts individuals) raises :class:`ecoplan.errors.ValidationError` with a
Chinese message. See ``docs/monitoring-indices.md`` for which form a report should print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from ecoplan.errors import ValidationError

FloatArray = npt.NDArray[np.float64]

#: Default dominance classes of Chinese bird-survey reports (share of individuals):
#: 优势种 > 10 %, 常见种 1–10 %, 稀有种 < 1 %. UNVERIFIED: it is not checked whether
#: HJ 710.4-2014 fixes these thresholds, so they are parameters of dominance_classes.
DOMINANT_SHARE = 0.10
RARE_SHARE = 0.01
DOMINANCE_LABELS_ZH = {"dominant": "优势种", "common": "常见种", "rare": "稀有种"}

# Largest N for which rarefy() uses exact big-integer binomials; above it the
# product form in _rarefy_terms_product (O(max n_i) floats) is used. math.comb(10_000,
# 5_000) already takes ~4 ms per species here, and the float form agrees to ~1e-13.
_EXACT_RAREFY_MAX_N = 5_000

_ROW_EXAMPLES = 10  # how many offending rows an error message names


# --------------------------------------------------------------------------- validation


def _as_counts(counts: npt.ArrayLike, *, integer: bool = False, what: str = "计数") -> FloatArray:
    """Counts as a 1-D float64 array, or ValidationError in Chinese.

    Float64 keeps every integer count up to 2**53 exact, so sums and n(n−1) stay exact for
    any survey, and one dtype serves both integer counts and abundance such as cover %.
    """
    try:
        arr = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what}必须是数字序列：{exc}") from None
    if arr.ndim != 1:
        raise ValidationError(f"{what}必须是一维序列（每个物种一个数），实际为 {arr.ndim} 维")
    _check_values(arr, what=what, integer=integer, labels=None)
    return arr


def _check_values(arr: FloatArray, *, what: str, integer: bool, labels: pd.Index | None) -> None:
    """Refuse NaN/inf, negatives and (if asked) fractions, naming positions or row labels."""

    def where(mask: npt.NDArray[np.bool_]) -> list[str]:
        idx = np.flatnonzero(mask)[:_ROW_EXAMPLES]
        if labels is None:
            return [f"第 {int(i) + 1} 个值 {arr[i]:g}" for i in idx]
        return [f"{row}：{arr[i]:g}" for row, i in zip(_row_names(labels, idx), idx, strict=True)]

    def fail(mask: npt.NDArray[np.bool_], problem: str) -> None:
        rows = where(mask)
        raise ValidationError(
            f"{what}{problem}（共 {int(mask.sum())} 处）：" + "；".join(rows), rows=rows
        )

    bad = ~np.isfinite(arr)
    if bad.any():
        fail(bad, "含缺失值或非有限数（NaN/inf）")
    bad = arr < 0
    if bad.any():
        fail(bad, "不能为负数")
    if integer:
        bad = arr != np.floor(arr)
        if bad.any():
            fail(bad, "必须是整数个体数（请用原始计数，不要用换算后的密度或比例）")


def _row_names(labels: pd.Index, positions: npt.NDArray[np.intp]) -> list[str]:
    """ "行 <index label>" for a few row positions (tolist() gives plain Python values)."""
    return [f"行 {label}" for label in labels.take(positions).tolist()]


def _present(arr: FloatArray) -> FloatArray:
    """Counts of the species actually recorded (zeros are absent species)."""
    return arr[arr > 0]


# --------------------------------------------------------------------------- indices


def richness(counts: npt.ArrayLike) -> int:
    """Observed species richness S: number of species with a count above zero."""
    return int(np.count_nonzero(_as_counts(counts) > 0))


def shannon(counts: npt.ArrayLike, base: float = math.e) -> float | None:
    """Shannon–Wiener index H' = −Σ p_i log p_i (Shannon 1948), natural log by default.

    ``base=2`` gives bits, ``base=10`` decits: H'_b = H' / ln b. Absent species add nothing
    (lim p→0 of p ln p = 0). None for an empty sample (N = 0): there are no proportions.
    A single species gives 0.
    """
    if not (base > 0 and base != 1 and math.isfinite(base)):
        raise ValidationError(f"对数底数必须为正数且不等于 1，实际为 {base!r}")
    x = _present(_as_counts(counts))
    n_total = x.sum()
    if n_total == 0:
        return None
    p = x / n_total
    # + 0.0 turns the −0.0 of a single species (−(1 · ln 1)) into 0.0 for printing.
    h = float(-np.sum(p * np.log(p))) + 0.0
    # Dividing by ln e would cost one rounding for nothing; keep the natural-log value exact.
    return h if base == math.e else h / math.log(base)


def simpson_dominance(counts: npt.ArrayLike) -> float | None:
    """Simpson's dominance D = Σ p_i² (Simpson 1949): chance two draws *with* replacement
    are the same species. Higher means less diverse. None when N = 0."""
    x = _present(_as_counts(counts))
    n_total = x.sum()
    if n_total == 0:
        return None
    p = x / n_total
    return float(np.sum(p * p))


def gini_simpson(counts: npt.ArrayLike) -> float | None:
    """Gini–Simpson 1 − Σ p_i²: the form Chinese survey reports print as "Simpson 指数 D".
    None when N = 0."""
    d = simpson_dominance(counts)
    return None if d is None else 1.0 - d


def simpson_unbiased(counts: npt.ArrayLike) -> float | None:
    """Unbiased Gini–Simpson 1 − Σ n_i(n_i − 1) / (N(N − 1)).

    Simpson (1949) gave λ = Σ n_i(n_i − 1) / (N(N − 1)), the unbiased estimator of Σ π_i²
    for a finite sample (draws *without* replacement); 1 − λ equals Hurlbert's (1971)
    PIE = N/(N − 1) · (1 − Σ p_i²). Needs integer counts of individuals. None when N ≤ 1.
    """
    x = _present(_as_counts(counts, integer=True))
    n_total = float(x.sum())
    if n_total <= 1:
        return None
    return 1.0 - float(np.sum(x * (x - 1.0))) / (n_total * (n_total - 1.0))


def inverse_simpson(counts: npt.ArrayLike) -> float | None:
    """Inverse Simpson 1 / Σ p_i² (effective number of equally common species, Hill's N2).
    None when N = 0."""
    d = simpson_dominance(counts)
    return None if d is None else 1.0 / d


def pielou(counts: npt.ArrayLike) -> float | None:
    """Pielou's (1966) evenness J = H' / ln S, in [0, 1].

    None when S ≤ 1: ln 1 = 0, and evenness of one species has no meaning.
    """
    x = _present(_as_counts(counts))
    s = x.size
    if s <= 1:
        return None
    h = shannon(x)
    assert h is not None  # S ≥ 2 implies N > 0
    return h / math.log(s)


def margalef(counts: npt.ArrayLike) -> float | None:
    """Margalef's (1958) richness d = (S − 1) / ln N.

    None when N ≤ 1 (ln N ≤ 0: the index is infinite or negative and means nothing).
    """
    x = _present(_as_counts(counts))
    n_total = float(x.sum())
    if n_total <= 1:
        return None
    return (x.size - 1) / math.log(n_total)


# --------------------------------------------------------------------------- Chao


@dataclass(frozen=True)
class ChaoEstimate:
    """A Chao richness estimate with the terms that produced it.

    ``f1``/``f2`` are singletons/doubletons (Chao1) or uniques/duplicates Q1/Q2 (Chao2);
    ``sample_size`` is N individuals (Chao1) or m sampling units (Chao2); ``form`` says
    which formula was applied ("bias-corrected" or "classic"), because the classic form
    falls back to the bias-corrected one when F2 = 0.
    """

    estimate: float
    s_obs: int
    f1: int
    f2: int
    sample_size: int
    form: Literal["bias-corrected", "classic"]


def _chao_unseen(
    f1: int, f2: int, classic: bool
) -> tuple[float, Literal["bias-corrected", "classic"]]:
    """Estimated number of unseen species before any finite-sample factor."""
    if classic and f2 > 0:
        return f1 * f1 / (2.0 * f2), "classic"
    # Bias-corrected form; also what the classic estimator becomes when F2 = 0, where
    # F1²/(2F2) is infinite (Chao's SpadeR and scikit-bio both switch the same way).
    return f1 * (f1 - 1) / (2.0 * (f2 + 1)), "bias-corrected"


def chao1_detail(
    counts: npt.ArrayLike, *, classic: bool = False, small_sample: bool = False
) -> ChaoEstimate:
    """Chao1 lower-bound estimate of species richness from abundance counts, with F1, F2.

    Default, bias-corrected (the form of scikit-bio and EstimateS, and of field.md's test
    vectors):   S_chao1 = S_obs + F1(F1 − 1) / (2(F2 + 1))
    ``classic=True`` (Chao 1984):   S_obs + F1² / (2 F2) when F2 > 0, else the
    bias-corrected form (``form`` in the result says which was used).
    ``small_sample=True`` multiplies the unseen term by (N − 1)/N, as A. Chao's own
    software SpadeR does (read from its source, SpecAbunChao1.R) and as Chiu et al. (2014,
    Biometrics 70:671–682) write Chao1 (**UNVERIFIED** against the paper's text). With
    ``classic=True, small_sample=True`` the result matches SpadeR's "Chao1 (Chao, 1984)".
    The factor changes the unseen term by 1/N: 5 % at N = 20, 0.1 % at N = 1000.

    F1 / F2 = number of species with exactly one / two individuals. Needs integer counts.
    The estimate is for the sampled assemblage under the sampling effort of the data;
    variance and confidence interval (Chao 1987) are not computed here.
    """
    x = _present(_as_counts(counts, integer=True))
    s_obs = int(x.size)
    f1 = int(np.count_nonzero(x == 1))
    f2 = int(np.count_nonzero(x == 2))
    n_total = int(x.sum())
    unseen, form = _chao_unseen(f1, f2, classic)
    if small_sample and n_total > 0:
        unseen *= (n_total - 1) / n_total
    return ChaoEstimate(s_obs + unseen, s_obs, f1, f2, n_total, form)


def chao1(counts: npt.ArrayLike, *, classic: bool = False, small_sample: bool = False) -> float:
    """Chao1 richness estimate; see :func:`chao1_detail` for the formulas and options.

    Chao, A. 1984. Non-parametric estimation of the number of classes in a population.
    Scand. J. Stat. 11:265–270. Chiu, C.-H., Wang, Y.-T., Walther, B. A. & Chao, A. 2014.
    An improved nonparametric lower bound of species richness via a modified Good–Turing
    frequency formula. Biometrics 70:671–682.
    """
    return chao1_detail(counts, classic=classic, small_sample=small_sample).estimate


def chao2_detail(incidence: npt.ArrayLike, *, classic: bool = False) -> ChaoEstimate:
    """Chao2 richness estimate from incidence data, with Q1, Q2 and m.

    ``incidence`` is an m × S matrix: one row per sampling unit (plot, trap, visit), one
    column per species; any value above zero means "present" (counts are reduced to
    presence, so abundance data may be passed as is). With Q_k = species found in exactly
    k of the m units and S_obs = species found in at least one:

        bias-corrected (default):  S_obs + ((m − 1)/m) · Q1(Q1 − 1) / (2(Q2 + 1))
        classic (Chao 1987):       S_obs + ((m − 1)/m) · Q1² / (2 Q2), when Q2 > 0

    **UNVERIFIED**: this exact form comes from field.md's notes; it matches the terms in
    A. Chao's SpadeR source (Chao2 with (t − 1)/t, and the bias-corrected Q1(Q1 − 1) /
    (2(Q2 + 1)) term), but was not checked against Chao (1987) or Chao (2005) themselves.
    Chao, A. 1987. Estimating the population size for capture–recapture data with unequal
    catchability. Biometrics 43:783–791.
    """
    try:
        arr = np.asarray(incidence, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"出现数据（样本 × 物种矩阵）必须是数字：{exc}") from None
    if arr.ndim != 2:
        raise ValidationError(
            f"出现数据必须是二维矩阵（每行一个样本，每列一个物种），实际为 {arr.ndim} 维"
        )
    _check_values(arr.ravel(), what="出现数据", integer=False, labels=None)
    m = int(arr.shape[0])
    freq = np.count_nonzero(arr > 0, axis=0)  # in how many units each species was found
    s_obs = int(np.count_nonzero(freq))
    q1 = int(np.count_nonzero(freq == 1))
    q2 = int(np.count_nonzero(freq == 2))
    unseen, form = _chao_unseen(q1, q2, classic)
    if m > 0:
        unseen *= (m - 1) / m
    return ChaoEstimate(s_obs + unseen, s_obs, q1, q2, m, form)


def chao2(incidence: npt.ArrayLike, *, classic: bool = False) -> float:
    """Chao2 incidence-based richness estimate (UNVERIFIED form); see :func:`chao2_detail`."""
    return chao2_detail(incidence, classic=classic).estimate


# --------------------------------------------------------------------------- rarefaction


def rarefy(counts: npt.ArrayLike, n: int) -> float:
    """Hurlbert's (1971) expected number of species in a random subsample of n individuals.

        E[S_n] = Σ_i [1 − C(N − n_i, n) / C(N, n)]

    (drawn without replacement; C(a, n) = 0 when a < n, so a species with more than N − n
    individuals is always present). Lets sites with unequal numbers of individuals be
    compared at the same n. Needs integer counts and an integer 0 ≤ n ≤ N.

    For N ≤ 5000 the ratio is computed exactly from big-integer binomials (math.comb)
    and rounded once. Above that, C(N − k, n) / C(N, n) = Π_{j<k} (1 − n/(N − j)) is summed
    in log space with log1p: O(max n_i) work and no cancellation, where the log-gamma form
    ln Γ(N+1) − ... loses ~1e-9 relative at N = 10^6 by subtracting numbers near 10^7.

    Hurlbert, S. H. 1971. The nonconcept of species diversity: a critique and alternative
    parameters. Ecology 52:577–586.
    """
    x = _present(_as_counts(counts, integer=True))
    n_total = int(x.sum())
    if isinstance(n, bool) or not float(n).is_integer():
        raise ValidationError(f"稀疏化样本量 n 必须是整数，实际为 {n!r}")
    n = int(n)
    if n < 0 or n > n_total:
        raise ValidationError(f"稀疏化样本量 n={n} 必须在 0 到总个体数 N={n_total} 之间")
    if n == 0:
        return 0.0
    k = x.astype(np.int64)
    if n_total <= _EXACT_RAREFY_MAX_N:
        return _rarefy_exact(k, n_total, n)
    return _rarefy_product(k, n_total, n)


def _rarefy_exact(k: npt.NDArray[np.int64], n_total: int, n: int) -> float:
    """Σ [1 − C(N − k, n)/C(N, n)] with exact integers; int / int rounds correctly once."""
    denom = math.comb(n_total, n)
    total = 0.0
    for ki in k.tolist():
        total += 1.0 - math.comb(n_total - ki, n) / denom
    return total


def _rarefy_product(k: npt.NDArray[np.int64], n_total: int, n: int) -> float:
    """Same sum with C(N − k, n)/C(N, n) = Π_{j=0}^{k−1} (1 − n/(N − j)) in log space."""
    kmax = int(k.max())
    j = np.arange(kmax, dtype=np.float64)
    # From j = N − n on, fewer than n individuals are left outside the species: every
    # subsample of n must include it, the ratio is 0, and a step of −inf makes
    # −expm1(−inf) = 1. (log1p would give −inf at j = N − n and NaN beyond it.)
    steps = np.full(kmax, -np.inf)
    inside = j < n_total - n
    steps[inside] = np.log1p(-n / (n_total - j[inside]))
    log_ratio = np.concatenate(([0.0], np.cumsum(steps)))  # log_ratio[k] for k = 0..kmax
    # 1 − e^L with expm1: exact for tiny L (rare species in a small subsample).
    return float(np.sum(-np.expm1(log_ratio[k])))


# --------------------------------------------------------------------------- classes, effort


def dominance_classes(
    counts: npt.ArrayLike,
    *,
    dominant: float = DOMINANT_SHARE,
    rare: float = RARE_SHARE,
) -> list[str | None]:
    """Dominance class of each species by its share p_i of individuals.

    "dominant" when p_i > ``dominant``, "rare" when p_i < ``rare``, else "common"
    (boundaries belong to "common": 1 of 10 individuals is common, not dominant).
    Defaults 10 % / 1 % as in Chinese bird reports, **UNVERIFIED** against HJ 710.4;
    :data:`DOMINANCE_LABELS_ZH` gives 优势种 / 常见种 / 稀有种. The list is aligned with
    the input; absent species (zero count) get None.
    """
    if not (0 <= rare <= dominant <= 1):
        raise ValidationError(
            f"优势度阈值必须满足 0 ≤ 稀有阈值 ≤ 优势阈值 ≤ 1，实际为 rare={rare!r}, dominant={dominant!r}"
        )
    x = _as_counts(counts)
    n_total = x.sum()
    out: list[str | None] = []
    for v in x.tolist():
        if v <= 0:
            out.append(None)
            continue
        # n/N is the correctly rounded share, so 3/30 compares equal to the literal 0.10.
        share = v / n_total
        out.append("dominant" if share > dominant else "rare" if share < rare else "common")
    return out


def transect_density(
    n: float,
    length_m: float,
    half_width_m: float,
    *,
    per: Literal["m2", "ha", "km2"] = "m2",
) -> float:
    """Density on a fixed-width line transect: D = n / (2 · L · W).

    L = transect length and W = one-side (half) width, both in metres, so the strip
    surveyed is 2·L·W m². Returns individuals per m² by default; ``per="ha"`` (公顷,
    ×10⁴) or ``per="km2"`` (×10⁶, as bird reports print 只/km²).
    """
    for name, value, positive in (
        ("个体数 n", n, False),
        ("样线长度 L", length_m, True),
        ("单侧宽度 W", half_width_m, True),
    ):
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            cond = "大于 0" if positive else "不小于 0"
            raise ValidationError(f"{name} 必须是{cond}的有限数，实际为 {value!r}")
    scale = {"m2": 1.0, "ha": 1e4, "km2": 1e6}.get(per)
    if scale is None:
        raise ValidationError(f"密度单位必须是 m2、ha 或 km2，实际为 {per!r}")
    return n / (2.0 * length_m * half_width_m) * scale


@dataclass(frozen=True)
class EffortUnit:
    """A unit of sampling effort: the base unit results are expressed per, and the factor
    that converts one of this unit into base units (e.g. 1 m = 0.001 km)."""

    base: str
    factor: float
    label_zh: str


#: Effort units accepted by effort_standardised. Results are per one *base* unit.
EFFORT_UNITS: dict[str, EffortUnit] = {
    "km": EffortUnit("km", 1.0, "每公里样线"),
    "m": EffortUnit("km", 1e-3, "每公里样线"),
    "trap-day": EffortUnit("trap-day", 1.0, "每诱捕器·日"),
    "net-hour": EffortUnit("net-hour", 1.0, "每网·小时"),
}


@overload
def effort_standardised(count: float, effort: float, unit: str) -> float: ...
@overload
def effort_standardised(
    count: npt.NDArray[Any] | Sequence[float], effort: npt.ArrayLike, unit: str
) -> FloatArray: ...
@overload
def effort_standardised(count: float, effort: npt.NDArray[Any], unit: str) -> FloatArray: ...


def effort_standardised(
    count: float | npt.ArrayLike, effort: float | npt.ArrayLike, unit: str
) -> float | FloatArray:
    """Counts per unit of effort (CPUE): count / (effort × factor of ``unit``).

    Individuals per km of transect (effort in "km" or "m"), per trap-day ("trap-day" =
    traps × days), per net-hour ("net-hour" = nets × hours); :data:`EFFORT_UNITS` lists the
    units and the base unit of the result. Scalars give a float; arrays (one count and
    effort per event) give an array. Diversity indices are computed on the raw counts,
    not on these rates: the rates are for comparing abundance between unequal efforts.
    """
    spec = EFFORT_UNITS.get(unit)
    if spec is None:
        known = "、".join(EFFORT_UNITS)
        raise ValidationError(f"未知的努力量单位 {unit!r}，可用：{known}")
    try:
        c = np.asarray(count, dtype=np.float64)
        e = np.asarray(effort, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"计数和努力量必须是数字：{exc}") from None
    _check_values(c.ravel(), what="计数", integer=False, labels=None)
    bad = ~np.isfinite(e) | (e <= 0)
    if bad.any():
        raise ValidationError(
            f"努力量必须是大于 0 的有限数（单位 {unit}），实际含 {e[bad][:5].tolist()}"
        )
    rate = c / (e * spec.factor)
    if rate.ndim == 0:
        return float(rate)
    return rate


# --------------------------------------------------------------------------- grouped

#: Columns of the indices_by_group result after the group columns, and their meaning.
GROUP_INDEX_COLUMNS: dict[str, str] = {
    "S": "物种数 S",
    "N": "个体数 N",
    "shannon": "Shannon-Wiener H'（ln）",
    "simpson_dominance": "Simpson 优势度 Σp²",
    "gini_simpson": "Simpson 指数 1 − Σp²",
    "simpson_unbiased": "Simpson 无偏 1 − Σn(n−1)/(N(N−1))",
    "inverse_simpson": "逆 Simpson 1/Σp²",
    "pielou": "Pielou 均匀度 J",
    "margalef": "Margalef 丰富度 d",
    "chao1": "Chao1（偏差校正）",
    "F1": "单例物种数 F1",
    "F2": "双例物种数 F2",
}


def indices_by_group(
    frame: pd.DataFrame,
    group_cols: Sequence[str],
    species_col: str,
    count_col: str,
) -> pd.DataFrame:
    """All indices per group (e.g. site × year × taxon group) in one vectorised pass.

    ``frame`` holds occurrence rows (one species count per row; a species may appear in
    several rows of a group, e.g. one per visit, and its counts are summed first). Returns
    one row per group, sorted by the group columns, with the group columns followed by
    :data:`GROUP_INDEX_COLUMNS`: S, N, shannon, simpson_dominance, gini_simpson,
    simpson_unbiased, inverse_simpson, pielou, margalef, chao1 (bias-corrected), F1, F2.
    Undefined values are NaN (None in the scalar functions); a group whose counts are all
    zero is kept with S = N = 0.

    Counts must be integers ≥ 0 (the unbiased Simpson and Chao1 count individuals);
    missing group keys or species names are refused with the rows named.

    Why not ``groupby().apply(scalar)``: a Python call per group costs ~0.1 ms, so 5,000
    groups alone would be ~1 s before any arithmetic. Instead (group, species) pairs are
    reduced to integer codes, summed with np.bincount, and every per-group sum
    (Σ p ln p, Σ p², Σ n(n−1), F1, F2) is one more bincount over the pairs: O(rows).
    """
    group_cols = list(group_cols)
    needed = [*group_cols, species_col, count_col]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"缺少列：{'、'.join(missing)}（现有列：{'、'.join(map(str, frame.columns))}）"
        )
    if not group_cols:
        raise ValidationError("至少需要一个分组列（如样地、年份）")
    labels = frame.index

    def refuse_missing(col: str) -> None:
        mask = frame[col].isna().to_numpy()
        if mask.any():
            rows = _row_names(labels, np.flatnonzero(mask)[:_ROW_EXAMPLES])
            raise ValidationError(
                f"列「{col}」有 {int(mask.sum())} 行为空：" + "；".join(rows), rows=rows
            )

    for col in [*group_cols, species_col]:
        refuse_missing(col)
    if not pd.api.types.is_numeric_dtype(frame[count_col].dtype):
        # Text such as "3只" must be converted (and reported) by the importer, not guessed here.
        raise ValidationError(f"列「{count_col}」必须是数值类型，实际为 {frame[count_col].dtype}")
    counts = frame[count_col].to_numpy(dtype=np.float64, na_value=np.nan)
    _check_values(counts, what=f"列「{count_col}」的计数", integer=True, labels=labels)

    grouped = frame.groupby(group_cols, sort=True, observed=True, dropna=False)
    keys = grouped.size().index  # group keys in the order ngroup() numbers them
    n_groups = len(keys)
    gcode = grouped.ngroup().to_numpy(dtype=np.int64)
    scode, species = pd.factorize(frame[species_col], sort=False)
    n_species = max(len(species), 1)

    # One integer per (group, species) pair; factorize (hashing, O(rows)) numbers the
    # distinct pairs and bincount sums their counts, so duplicate rows of a species merge.
    pair_key = gcode * n_species + scode.astype(np.int64)
    pair_code, pair_uniques = pd.factorize(pair_key, sort=False)
    n_pair = np.bincount(pair_code, weights=counts, minlength=len(pair_uniques))
    pair_group = np.asarray(pair_uniques, dtype=np.int64) // n_species
    present = n_pair > 0  # zero counts are absent species, as in the scalar functions
    n_i = n_pair[present]
    g = pair_group[present]

    def per_group(weights: npt.NDArray[Any] | None = None) -> FloatArray:
        return np.bincount(g, weights=weights, minlength=n_groups).astype(np.float64)

    s = per_group()
    n_tot = per_group(n_i)
    p = n_i / n_tot[g]
    with np.errstate(divide="ignore", invalid="ignore"):
        has_n = n_tot > 0
        shannon_h = np.where(has_n, -per_group(p * np.log(p)) + 0.0, np.nan)
        dom = np.where(has_n, per_group(p * p), np.nan)
        unbiased = np.where(
            n_tot > 1, 1.0 - per_group(n_i * (n_i - 1.0)) / (n_tot * (n_tot - 1.0)), np.nan
        )
        pielou_j = np.where(s > 1, shannon_h / np.log(s), np.nan)
        margalef_d = np.where(n_tot > 1, (s - 1.0) / np.log(n_tot), np.nan)
        inv = 1.0 / dom
    f1 = per_group((n_i == 1).astype(np.float64))
    f2 = per_group((n_i == 2).astype(np.float64))
    chao = s + f1 * (f1 - 1.0) / (2.0 * (f2 + 1.0))

    result = keys.to_frame(index=False) if n_groups else pd.DataFrame(columns=group_cols)
    result["S"] = s.astype(np.int64)
    result["N"] = n_tot.astype(np.int64)
    result["shannon"] = shannon_h
    result["simpson_dominance"] = dom
    result["gini_simpson"] = 1.0 - dom
    result["simpson_unbiased"] = unbiased
    result["inverse_simpson"] = inv
    result["pielou"] = pielou_j
    result["margalef"] = margalef_d
    result["chao1"] = chao
    result["F1"] = f1.astype(np.int64)
    result["F2"] = f2.astype(np.int64)
    return result
