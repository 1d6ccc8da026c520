"""Year-on-year verdict for measure 14.1 "全市各区建成区绿视率稳中有升".

Only points surveyed in both years count (the same point set, paired by ``point_id``). For the
paired changes d_i = GVI_B,i − GVI_A,i (percentage points):

- 升 (rise)   mean(d) >  tolerance
- 稳 (steady) −tolerance ≤ mean(d) ≤ tolerance
- 降 (drop)   mean(d) < −tolerance
- 样点不足    fewer than ``min_points`` pairs: not judged

"稳中有升" holds when the city is 稳 or 升 and, with ``require_every_district`` (the reading
of 全市各区), no judged district is 降. A paired bootstrap of mean(d) (seeded, so reruns agree)
gives the confidence interval reported beside the verdict; it does not change the verdict.
Tolerance, minimum points and bootstrap settings are in ``[verdict]`` of the method file
(working defaults).
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ecoplan.datafiles import read_csv_text
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.greenview.aggregate import CITY_CODE, CITY_NAME
from ecoplan.greenview.method import VerdictSpec

RISE, STEADY, DROP, TOO_FEW = "升", "稳", "降", "样点不足"
REQUIRED = ("point_id", "year", "gvi")


@dataclass(frozen=True)
class Verdict:
    """The verdict for one area (the city or a district); changes in percentage points."""

    district_code: str
    district: str
    n_pairs: int
    mean_a: float
    mean_b: float
    mean_change: float
    median_change: float
    ci_low: float
    ci_high: float
    label: str  # 升 / 稳 / 降 / 样点不足

    @property
    def steady_or_rising(self) -> bool:
        return self.label in (RISE, STEADY)


@dataclass
class Comparison:
    year_a: int
    year_b: int
    city: Verdict
    districts: list[Verdict]
    steady_rise: bool  # 稳中有升
    only_a: list[str]  # point ids surveyed in year A only (left out)
    only_b: list[str]
    tolerance_pp: float
    reasons: list[str] = field(default_factory=list)  # why 稳中有升 does not hold

    def to_records(self) -> dict[str, Any]:
        """Plain dicts for storage: the summary and one row per area."""
        return {
            "year_a": self.year_a, "year_b": self.year_b, "steady_rise": self.steady_rise,
            "tolerance_pp": self.tolerance_pp, "n_only_a": len(self.only_a),
            "n_only_b": len(self.only_b), "reasons": list(self.reasons),
            "areas": [_plain(asdict(v)) for v in [self.city, *self.districts]],
        }  # fmt: skip

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(v) for v in [self.city, *self.districts]])


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def classify_change(mean_change: float, n_pairs: int, spec: VerdictSpec) -> str:
    """升 / 稳 / 降 by the tolerance rule, 样点不足 below ``min_points`` pairs."""
    if n_pairs < spec.min_points:
        return TOO_FEW
    if mean_change > spec.tolerance_pp:
        return RISE
    if mean_change < -spec.tolerance_pp:
        return DROP
    return STEADY


def bootstrap_ci(changes: NDArray[np.float64], spec: VerdictSpec) -> tuple[float, float]:
    """Percentile interval of the mean of ``changes`` resampled with replacement."""
    n = changes.size
    if n == 0 or spec.bootstrap == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(spec.seed)
    means = np.empty(spec.bootstrap)
    block = max(1, 2_000_000 // n)  # resamples per block: bounded memory for large surveys
    for start in range(0, spec.bootstrap, block):
        stop = min(spec.bootstrap, start + block)
        means[start:stop] = changes[rng.integers(0, n, (stop - start, n))].mean(axis=1)
    tail = (1 - spec.confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def _verdict(code: str, name: str, pairs: pd.DataFrame, spec: VerdictSpec) -> Verdict:
    changes = (pairs["gvi_b"] - pairs["gvi_a"]).to_numpy(float)
    n = changes.size
    mean = float(changes.mean()) if n else math.nan
    low, high = bootstrap_ci(changes, spec)
    return Verdict(
        district_code=code, district=name, n_pairs=n,
        mean_a=float(pairs["gvi_a"].mean()) if n else math.nan,
        mean_b=float(pairs["gvi_b"].mean()) if n else math.nan,
        mean_change=mean, median_change=float(np.median(changes)) if n else math.nan,
        ci_low=low, ci_high=high, label=classify_change(mean, n, spec) if n else TOO_FEW,
    )  # fmt: skip


def _single_year(frame: pd.DataFrame, name: str) -> int:
    years = sorted(set(frame["year"]))
    if len(years) != 1:
        raise ValidationError(f"{name}: 应只含一个年份的样点,实际含 {'、'.join(map(str, years))}")
    return int(years[0])


def compare_points(
    a: pd.DataFrame, b: pd.DataFrame, spec: VerdictSpec, names: tuple[str, str] = ("A", "B")
) -> Comparison:
    """Verdict from two per-point tables (``point_id, year, gvi`` and optionally
    ``district_code, district``), each of one year; B is the later one."""
    year_a, year_b = _single_year(a, names[0]), _single_year(b, names[1])
    if year_b <= year_a:
        raise ValidationError(f"第二个文件的年份({year_b})应晚于第一个({year_a})")
    for frame, name in ((a, names[0]), (b, names[1])):
        dup = frame.loc[frame["point_id"].duplicated(), "point_id"]
        if not dup.empty:
            raise ValidationError(f"{name}: 样点编号重复: {'、'.join(dup.astype(str)[:10])}")
    district_cols = [c for c in ("district_code", "district") if c in a.columns or c in b.columns]
    left = a[["point_id", "gvi", *[c for c in district_cols if c in a.columns]]]
    right = b[["point_id", "gvi", *[c for c in district_cols if c in b.columns]]]
    pairs = left.merge(right, on="point_id", suffixes=("_a", "_b"), how="inner")
    for col in district_cols:  # the earlier year's district, else the later one's
        first, second = f"{col}_a", f"{col}_b"
        if first in pairs and second in pairs:
            pairs[col] = pairs[first].where(
                pairs[first].notna() & (pairs[first] != ""), pairs[second]
            )
        elif first in pairs:
            pairs[col] = pairs[first]
        elif second in pairs:
            pairs[col] = pairs[second]
    if pairs.empty:
        raise ValidationError("两个年份没有共同的样点(样点编号不一致?),无法比较")
    only_a = sorted(set(a["point_id"]) - set(b["point_id"]))
    only_b = sorted(set(b["point_id"]) - set(a["point_id"]))
    city = _verdict(CITY_CODE, CITY_NAME, pairs, spec)
    districts: list[Verdict] = []
    if "district_code" in pairs:
        placed = pairs[pairs["district_code"].notna() & (pairs["district_code"] != "")]
        label = "district" if "district" in placed else "district_code"
        for (code, name), group in placed.groupby(["district_code", label], sort=True):
            districts.append(_verdict(str(code), str(name), group, spec))
    reasons = []
    if not city.steady_or_rising:
        reasons.append(
            f"全市: {city.label}"
            + ("" if city.label == TOO_FEW else f"(平均变化 {city.mean_change:+.2f} 个百分点)")
        )
    if spec.require_every_district:
        reasons += [
            f"{d.district}: 降(平均变化 {d.mean_change:+.2f} 个百分点)"
            for d in districts
            if d.label == DROP
        ]
    return Comparison(
        year_a, year_b, city, districts, not reasons, only_a, only_b, spec.tolerance_pp, reasons
    )


def read_points_csv(path: Path) -> pd.DataFrame:
    """A per-point CSV written by ``ecoplan greenview survey`` (or any CSV with ``point_id,
    year, gvi`` and optionally ``district_code, district``)."""
    if not path.is_file():
        raise InputFileError(path, "样点结果文件不存在")
    try:
        frame = pd.read_csv(io.StringIO(read_csv_text(path)), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputFileError(path, f"无法读取 CSV({type(exc).__name__})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValidationError(f"{path.name}: 缺少列 {'、'.join(missing)}")
    if frame.empty:
        raise InputFileError(path, "没有样点")
    bad = []
    out = frame.copy()
    out["point_id"] = out["point_id"].str.strip()
    year = pd.to_numeric(out["year"], errors="coerce")
    gvi = pd.to_numeric(out["gvi"], errors="coerce")
    for line, (pid, y, g) in enumerate(zip(out["point_id"], year, gvi, strict=True), start=2):
        if not pid or pd.isna(y) or pd.isna(g) or not 0 <= g <= 100 or y != int(y):
            bad.append(f"第 {line} 行: 样点编号、年份或绿视率(0–100)有误")
    if bad:
        raise ValidationError(f"{path.name}: {len(bad)} 行有误: {bad[0]}", bad)
    out["year"], out["gvi"] = year.astype(int), gvi.astype(float)
    if "district_code" in out:
        out["district_code"] = out["district_code"].replace("", None)
    return out
