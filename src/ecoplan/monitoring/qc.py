"""Automatic quality control of station time series: the parameter table and a pure engine.

The engine takes one parameter's series (times and values in time order, NaN for a row without
a value) and returns, for every row, the codes of the tests it fails; gaps are returned apart,
as a list, since a gap belongs to no row. Thresholds come from ``data/stations.toml``
(``verified = false`` defaults). Tests, after the U.S. IOOS QARTOD manuals (Manual for
Real-Time Quality Control of In-situ Temperature and Salinity Data, v2.1, 2020, tests
"gap", "gross range", "spike", "flat line") and, for the spike formula, the GTSPP / Argo
real-time QC spike test (docs/monitoring-registers.md):

- ``RANGE``: value < min or value > max (QARTOD gross range test, "fail" span);
- ``SPIKE``: |x_t − (x_{t−1} + x_{t+1})/2| − |(x_{t+1} − x_{t−1})/2| > spike. The second term
  removes the part of the jump a steady gradient explains, so a step or a ramp is not a spike
  and the neighbours of a spike are not flagged with it (Argo quality control manual, real-time
  test 9; GTSPP real-time QC manual, IOC Manuals and Guides 22; QARTOD's own spike test drops
  the gradient term). Evaluated only when both neighbours have values and are no further away
  than ``gap_factor`` expected intervals: across an outage the neighbours say nothing;
- ``FLAT``: ``flat_n`` consecutive values (rows with a value, in time order) whose
  max − min ≤ ``flat_tolerance``: every value of such a run is flagged (QARTOD flat line test;
  there the current value is compared with the previous n, here the whole stuck run is marked
  because QC runs over stored series, not in real time);
- ``MISSING``: a row whose value is empty;
- gaps: consecutive rows more than ``gap_factor`` × ``interval_minutes`` apart (QARTOD gap test).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import load_toml_model

FLAGS = ("RANGE", "SPIKE", "FLAT", "MISSING")
Quality = Literal["good", "suspect", "bad", "missing"]


class ParameterSpec(BaseModel):
    """One measured quantity: its canonical unit and its QC thresholds (in that unit)."""

    model_config = ConfigDict(extra="forbid")

    label: str
    aliases: list[str] = []
    unit: str
    unit_aliases: list[str] = []
    min: float
    max: float
    spike: float | None = Field(default=None, gt=0)
    flat_n: int | None = Field(default=None, ge=2)
    flat_tolerance: float = Field(default=0.0, ge=0)
    interval_minutes: float = Field(gt=0)

    @model_validator(mode="after")
    def _range(self) -> ParameterSpec:
        if self.min >= self.max:
            raise ValueError(f"{self.label}: min 应小于 max")
        return self


class Conversion(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_unit: str = Field(alias="from")
    to: str
    factor: float
    offset: float = 0.0


class StationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    verified: bool
    gap_factor: float = Field(gt=1)
    severity: dict[str, Literal["bad", "suspect", "missing"]]
    parameters: dict[str, ParameterSpec]
    conversions: list[Conversion] = []
    sha256: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _complete(self) -> StationConfig:
        if set(self.severity) != set(FLAGS):
            raise ValueError(f"severity 应为每个标记({', '.join(FLAGS)})给出等级")
        return self


@lru_cache(maxsize=1)
def config() -> StationConfig:
    """The built-in parameter table (``data/stations.toml``)."""
    return load_toml_model(StationConfig, "ecoplan.monitoring", "data", "stations", ["stations"],
                           "监测站参数")  # fmt: skip


def unit_key(unit: str) -> str:
    """A unit spelled for comparison: NFKC (℃ → °C, µ → μ, ³ → 3), no spaces, lower case,
    and a leading u for micro written as μ (ug/L → μg/L)."""
    key = unicodedata.normalize("NFKC", unit or "").replace(" ", "").lower()
    return re.sub(r"^u(?=[gsm])", "μ", key)


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name or "").strip().lower()


@dataclass(frozen=True)
class UnitFix:
    """How a value in a file's unit becomes a value in the parameter's unit."""

    factor: float = 1.0
    offset: float = 0.0

    @property
    def identity(self) -> bool:
        return self.factor == 1.0 and self.offset == 0.0


def parameter_lookup(cfg: StationConfig) -> dict[str, str]:
    """Every accepted spelling of a parameter (key, label, alias) → its key."""
    out: dict[str, str] = {}
    for key, spec in cfg.parameters.items():
        for name in (key, spec.label, *spec.aliases):
            out[name_key(name)] = key
    return out


def unit_fix(cfg: StationConfig, parameter: str, given: str) -> UnitFix | None:
    """The conversion from ``given`` to the parameter's unit; identity when they are the same
    unit (or ``given`` is empty), None when the pair is unknown."""
    spec = cfg.parameters[parameter]
    key = unit_key(given)
    if key == "" or key in {unit_key(u) for u in (spec.unit, *spec.unit_aliases)}:
        return UnitFix()
    target = unit_key(spec.unit)
    for conv in cfg.conversions:
        if unit_key(conv.from_unit) == key and unit_key(conv.to) == target:
            return UnitFix(conv.factor, conv.offset)
    return None


def flag_series(
    times_s: ArrayLike, values: ArrayLike, spec: ParameterSpec, gap_factor: float
) -> list[list[str]]:
    """The flags of each row of one parameter's series, in the order of ``FLAGS``.

    ``times_s``: seconds (any epoch), ascending; ``values``: floats, NaN = no value.
    """
    t = np.asarray(times_s, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    missing = np.isnan(v)
    out_of_range = ~missing & ((v < spec.min) | (v > spec.max))
    spike = np.zeros(n, dtype=bool)
    flat = np.zeros(n, dtype=bool)
    present = np.flatnonzero(~missing)
    x, tx = v[present], t[present]
    if spec.spike is not None and len(x) >= 3:
        prev, cur, nxt = x[:-2], x[1:-1], x[2:]
        test = np.abs(cur - (prev + nxt) / 2) - np.abs((nxt - prev) / 2)
        reach = gap_factor * spec.interval_minutes * 60
        close = (tx[1:-1] - tx[:-2] <= reach) & (tx[2:] - tx[1:-1] <= reach)
        spike[present[1:-1]] = close & (test > spec.spike)
    if spec.flat_n is not None and len(x) >= spec.flat_n:
        flat[present] = _flat_runs(x, spec.flat_n, spec.flat_tolerance)
    columns = {"RANGE": out_of_range, "SPIKE": spike, "FLAT": flat, "MISSING": missing}
    stacked = np.column_stack([columns[f] for f in FLAGS])
    hit = np.flatnonzero(stacked.any(axis=1))
    flags: list[list[str]] = [[] for _ in range(n)]
    for i in hit:
        flags[i] = [f for f, on in zip(FLAGS, stacked[i], strict=True) if on]
    return flags


def _flat_runs(x: NDArray[np.float64], n: int, tolerance: float) -> NDArray[np.bool_]:
    """Members of any window of n consecutive values whose spread is within tolerance."""
    windows = np.lib.stride_tricks.sliding_window_view(x, n)
    spread = windows.max(axis=1) - windows.min(axis=1)
    # a relative epsilon so that 7.01 − 7.00 (0.00999…98 in binary) is "within 0.01"
    slack = 1e-9 * np.maximum(1.0, np.abs(windows).max(axis=1))
    starts = np.flatnonzero(spread <= tolerance + slack)
    marks = np.zeros(len(x) + 1, dtype=np.int64)
    np.add.at(marks, starts, 1)
    np.add.at(marks, starts + n, -1)
    covered: NDArray[np.bool_] = np.cumsum(marks)[:-1] > 0
    return covered


@dataclass(frozen=True)
class GapSpan:
    """Two consecutive times further apart than allowed; ``missing`` observations expected
    between them (rounded)."""

    after_s: float
    before_s: float
    missing: int


def find_gaps(times_s: ArrayLike, interval_minutes: float, gap_factor: float) -> list[GapSpan]:
    """Gaps between consecutive times (seconds, ascending): a step > gap_factor × interval."""
    t = np.asarray(times_s, dtype=np.float64)
    if len(t) < 2:
        return []
    step = np.diff(t)
    interval = interval_minutes * 60
    where = np.flatnonzero(step > gap_factor * interval)
    return [GapSpan(float(t[i]), float(t[i + 1]), max(int(round(step[i] / interval)) - 1, 1))
            for i in where]  # fmt: skip


def quality(flags: list[str], override: str | None, cfg: StationConfig) -> Quality:
    """A value's effective quality: a person's verdict wins; else the worst flag's severity."""
    if override in ("good", "bad"):
        return "good" if override == "good" else "bad"
    levels = {cfg.severity[f] for f in flags if f in cfg.severity}
    order: tuple[Quality, ...] = ("missing", "bad", "suspect")
    return next((level for level in order if level in levels), "good")
