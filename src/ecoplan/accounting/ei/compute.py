"""EI from an indicator table (HJ 192-2015 structure; coefficients from the method file).

    HQ  = A_bio · Σ_c w_c Σ_s w_s · area_s / A                 生境质量指数
    生物丰度 = (BI + HQ) / 2 if BI is given, else HQ
    植被覆盖 = A_veg · NDVI_mean
    水网密度 = (A_riv · L/A + A_lak · S_water/A + A_res · Q/A) / 3
    土地胁迫 = A_ero · (0.4 重度侵蚀 + 0.2 中度侵蚀 + 0.2 建设用地 + 0.2 其他胁迫) / A
    污染负荷 = Σ w_k · A_k · E_k / (P·A for water pollutants, A for air and solid waste)
    EI  = Σ w · positive sub-index + Σ w · (100 − negative sub-index), then 环境限制

Sub-indices are optionally capped at 100, rounded to the method's decimals, and EI is
rounded likewise, so that published numbers, grades and ΔEI agree. A larger region is
computed from its own totals (a row of its own), never by averaging its parts; the
area-weighted mean of districts is offered beside it and labelled as an approximation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal

from ecoplan.accounting.ei.method import NEGATIVE, SUBINDICES, Method
from ecoplan.accounting.ei.table import IndicatorRow
from ecoplan.errors import ValidationError

APPROX_SUFFIX = "~aw"


@dataclass(frozen=True)
class EIResult:
    region_code: str
    region_name: str
    year: int
    level: str
    area_km2: float
    subindices: dict[str, float]
    habitat_quality: float
    ei_unrestricted: float
    ei: float
    grade: str
    restriction_level: int = 0
    restriction_note: str = ""
    approximation: bool = False
    previous_ei: float | None = None
    delta: float | None = None
    change_grade: str | None = None
    verdict_met: bool | None = None
    verdict: str | None = None
    notes: list[str] = field(default_factory=list)


def round_to(value: float, decimals: int | None) -> float:
    """Round half away from zero, as published tables do (Python's round() is half-even)."""
    if decimals is None:
        return value
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded)


def subindices(row: IndicatorRow, method: Method) -> tuple[dict[str, float], float]:
    """The five sub-indices (before clipping and rounding) and HQ."""
    area = row.get("area_km2")
    if area <= 0:
        raise ValidationError(f"{row.region_name}: 区域面积为 0，无法计算")
    ba = method.biological_abundance
    weighted = 0.0
    for land_class, class_weight in ba.class_weights.items():
        weighted += class_weight * sum(
            w * row.get(col) for col, w in ba.subclass_weights[land_class].items()
        )
    hq = ba.coefficient * weighted / area
    bi = row.values.get("bi")
    bio = (bi + hq) / 2.0 if bi is not None and ba.bi_rule == "mean_with_hq" else hq

    veg = method.vegetation_cover.coefficient * row.get("ndvi_mean")

    wn = method.water_network
    resources = _water_resources(row, method)
    water = (
        wn.river_coefficient * row.get("river_length_km") / area
        + wn.lake_coefficient * row.get("water_area_km2") / area
        + wn.resource_coefficient * resources / area
    ) / 3.0

    ls = method.land_stress
    stress_area = sum(w * row.get(col) for col, w in ls.terms.items())
    for land_class, w in ls.class_terms.items():
        stress_area += w * sum(row.get(col) for col in ba.subclass_weights[land_class])
    stress = ls.coefficient * stress_area / area

    precipitation = row.get("precip_mm") * area
    pollution = 0.0
    for term in method.pollution_load.terms:
        amount = row.get(term.column)
        if amount == 0:
            continue
        if term.per == "precipitation":
            if precipitation <= 0:
                raise ValidationError(f"{row.region_name}: 降水量为 0，无法计算水污染负荷")
            pollution += term.weight * term.coefficient * amount / precipitation
        else:
            pollution += term.weight * term.coefficient * amount / area
    values = {
        "biological_abundance": bio,
        "vegetation_cover": veg,
        "water_network": water,
        "land_stress": stress,
        "pollution_load": pollution,
    }
    return values, hq


def _water_resources(row: IndicatorRow, method: Method) -> float:
    """水资源量 after the flood-year rule (only when the multi-year mean is given)."""
    current = row.get("water_resources_1e6m3")
    mean = row.values.get("water_resources_mean_1e6m3")
    rule = method.water_network.flood_rule
    if rule is None or not mean:
        return current
    ratio = current / mean
    if ratio <= rule.normal_max:
        return current
    if ratio <= rule.zero_at:
        return mean * (rule.zero_at - ratio)
    return 0.0


def compute_row(row: IndicatorRow, method: Method) -> EIResult:
    raw, hq = subindices(row, method)
    decimals = method.method.decimals
    subs: dict[str, float] = {}
    for name in SUBINDICES:
        value = raw[name]
        if method.method.clip_subindices:
            value = min(value, 100.0)
        subs[name] = round_to(value, decimals)
    ei = 0.0
    for name in SUBINDICES:
        weight = getattr(method.weights, name)
        ei += weight * ((100.0 - subs[name]) if name in NEGATIVE else subs[name])
    ei = round_to(ei, decimals)
    level = int(row.get("restriction_level"))
    restricted, note = apply_restriction(ei, level, method, row.region_name)
    return EIResult(
        region_code=row.region_code,
        region_name=row.region_name,
        year=row.year,
        level=row.level,
        area_km2=row.get("area_km2"),
        subindices=subs,
        habitat_quality=round_to(min(hq, 100.0) if method.method.clip_subindices else hq, decimals),
        ei_unrestricted=ei,
        ei=restricted,
        grade=method.grade(restricted),
        restriction_level=level,
        restriction_note=note,
    )


def apply_restriction(ei: float, level: int, method: Method, region: str = "") -> tuple[float, str]:
    """环境限制: cap the grade and/or drop grades; EI moves to the top of the lower grade."""
    if level <= 0:
        return ei, ""
    rule = next((r for r in method.restriction.rules if r.level == level), None)
    if rule is None:
        raise ValidationError(f"{region}: 方法 {method.key} 未定义环境限制等级 {level} 的规则")
    grades = method.grades
    step = 10.0 ** -(method.method.decimals if method.method.decimals is not None else 6)

    def index_of(value: float) -> int:
        return next((i for i, g in enumerate(grades) if value >= g.min), len(grades) - 1)

    value = ei
    if rule.cap is not None:
        cap = next(i for i, g in enumerate(grades) if g.label == rule.cap)
        if index_of(value) < cap:
            value = grades[cap - 1].min - step
    for _ in range(rule.drop):
        i = index_of(value)
        if i == len(grades) - 1:
            break
        value = grades[i].min - step
    value = round_to(value, method.method.decimals)
    note = (
        f"环境限制等级 {level}: {ei:g} → {value:g}"
        if value != ei
        else f"环境限制等级 {level}: 无影响"
    )
    return value, note


def change_grade(delta: float, method: Method) -> str:
    ch = method.change
    for band in sorted(ch.bands, key=lambda b: -b.min):
        if abs(delta) >= band.min:
            return band.label + (ch.better if delta > 0 else ch.worse)
    return ch.stable_label


def with_change(result: EIResult, previous_ei: float, method: Method) -> EIResult:
    delta = round_to(result.ei - previous_ei, method.method.decimals)
    met = delta >= method.verdict.min_delta
    return replace(
        result,
        previous_ei=previous_ei,
        delta=delta,
        change_grade=change_grade(delta, method),
        verdict_met=met,
        verdict="稳中向好" if met else "未实现稳中向好",
    )


def area_weighted(results: Sequence[EIResult], method: Method) -> list[EIResult]:
    """Per year: the area-weighted mean of district EIs beside each city row (approximation)."""
    out: list[EIResult] = []
    by_year: dict[int, list[EIResult]] = defaultdict(list)
    for r in results:
        by_year[r.year].append(r)
    for year, rows in sorted(by_year.items()):
        cities = [r for r in rows if r.level == "city"]
        districts = [r for r in rows if r.level == "district"]
        total = sum(r.area_km2 for r in districts)
        if len(cities) != 1 or not districts or total <= 0:
            continue
        city = cities[0]
        ei = round_to(sum(r.ei * r.area_km2 for r in districts) / total, method.method.decimals)
        subs = {
            k: round_to(
                sum(r.subindices[k] * r.area_km2 for r in districts) / total, method.method.decimals
            )
            for k in SUBINDICES
        }
        out.append(
            EIResult(
                region_code=city.region_code + APPROX_SUFFIX,
                region_name=f"{city.region_name}(各区面积加权平均，近似值)",
                year=year,
                level="city",
                area_km2=total,
                subindices=subs,
                habitat_quality=float("nan"),
                ei_unrestricted=ei,
                ei=ei,
                grade=method.grade(ei),
                approximation=True,
            )
        )
    return out


def compute(
    rows: Iterable[IndicatorRow],
    method: Method,
    *,
    previous: Iterable[IndicatorRow] | dict[str, float] | None = None,
) -> list[EIResult]:
    """EI for every row, the area-weighted approximation per year, and change since ``previous``.

    ``previous`` is either last year's indicator rows (computed here with the same method) or
    last year's EI by region code (from a stored run of the same method).
    """
    results = [compute_row(r, method) for r in rows]
    results += area_weighted(results, method)
    if previous is None:
        return results
    if isinstance(previous, dict):
        prior = previous
    else:
        prior = {r.region_code: r.ei for r in compute(previous, method)}
    return [
        with_change(r, prior[r.region_code], method) if r.region_code in prior else r
        for r in results
    ]
