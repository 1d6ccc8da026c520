"""Parameters, prices and price indices as versioned data tables.

Every number a service uses that is not an input raster or region table lives in one of
three TOML tables shipped in ``gep/tables/`` or given by the user (same structure):

- a **parameter table**: rows keyed by (indicator, key, year, source), e.g. the surface-runoff
  coefficient of forest;
- a **price table**: rows keyed by (indicator, year, source) with a price year, e.g. the
  reservoir construction cost per m³ in 2005 yuan;
- a **price index**: one index value per year, used to inflate a price from its price year
  to the accounting year (P_t = P_y × I_t / I_y).

Each row says whether it was checked against the standard text (``verified``); every output
row carries the flag of the values it used, so an unverified price is never shown as fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import load_toml_model
from ecoplan.errors import ValidationError

PACKAGE: Final = "ecoplan.accounting.gep"
BUILT_IN_PARAMETERS: Final = ("gep-parameters",)
BUILT_IN_PRICES: Final = ("gep-prices",)
BUILT_IN_INDICES: Final = ("cn-cpi",)


class TableInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    version: str
    title: str


class ParameterRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    indicator: str
    key: str = ""
    value: float
    unit: str
    year: int
    source: str
    verified: bool = False
    note: str = ""


class PriceRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    indicator: str
    value: float = Field(ge=0)
    unit: str
    year: int  # the price year: the year whose money the value is in
    source: str
    verified: bool = False
    note: str = ""


def _duplicates(keys: Iterable[tuple[object, ...]]) -> list[str]:
    seen: set[tuple[object, ...]] = set()
    dup = []
    for key in keys:
        if key in seen:
            dup.append("/".join(str(k) for k in key))
        seen.add(key)
    return dup


class VersionedTable(BaseModel):
    """What parameter and price tables share: the header, the file's hash and origin."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    table: TableInfo
    sha256: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.table.id}@{self.table.version}"


class ParameterTable(VersionedTable):
    rows: list[ParameterRow] = Field(alias="row")

    @model_validator(mode="after")
    def _unique(self) -> ParameterTable:
        dup = _duplicates((r.indicator, r.key, r.year, r.source) for r in self.rows)
        if dup:
            raise ValueError(f"参数重复(指标/键/年份/来源): {', '.join(dup[:5])}")
        return self

    def get(self, indicator: str, key: str = "", *, year: int) -> ParameterRow:
        """The row for (indicator, key) with the latest year not after ``year``."""
        rows = [r for r in self.rows if r.indicator == indicator and r.key == key]
        usable = [r for r in rows if r.year <= year] or rows
        if not usable:
            name = f"{indicator}[{key}]" if key else indicator
            raise ValidationError(f"参数表 {self.key} 缺少参数 {name}")
        return max(usable, key=lambda r: r.year)

    def by_key(self, indicator: str, *, year: int) -> dict[str, ParameterRow]:
        """All keys of one indicator (e.g. the runoff coefficient of every ecosystem type)."""
        keys = sorted({r.key for r in self.rows if r.indicator == indicator})
        return {k: self.get(indicator, k, year=year) for k in keys}


class PriceIndex(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    table: TableInfo
    base_year: int
    origin: str = ""  # where the index numbers come from
    verified: bool = False
    index: dict[int, float]
    sha256: str = ""

    @model_validator(mode="after")
    def _positive(self) -> PriceIndex:
        bad = [str(y) for y, v in self.index.items() if v <= 0]
        if bad:
            raise ValueError(f"价格指数必须为正: {', '.join(bad)}")
        return self

    def factor(self, from_year: int, to_year: int) -> float:
        if from_year == to_year:
            return 1.0
        missing = [y for y in (from_year, to_year) if y not in self.index]
        if missing:
            raise ValidationError(
                f"价格指数 {self.table.id} 缺少 {', '.join(map(str, missing))} 年，"
                f"无法把 {from_year} 年价格折算到 {to_year} 年"
            )
        return self.index[to_year] / self.index[from_year]


@dataclass(frozen=True)
class PriceUse:
    """A price as used for one accounting year: the table row and the inflation applied."""

    indicator: str
    value: float  # in accounting-year money
    unit: str
    base_value: float
    base_year: int
    factor: float
    source: str
    verified: bool

    def describe(self) -> str:
        shift = f"，按价格指数×{self.factor:.4f}" if self.factor != 1.0 else ""
        return f"{self.source}({self.base_year}年价{shift})"


class PriceTable(VersionedTable):
    rows: list[PriceRow] = Field(alias="row")

    @model_validator(mode="after")
    def _unique(self) -> PriceTable:
        dup = _duplicates((r.indicator, r.year, r.source) for r in self.rows)
        if dup:
            raise ValueError(f"价格重复(指标/年份/来源): {', '.join(dup[:5])}")
        return self

    def price(self, indicator: str, year: int, index: PriceIndex) -> PriceUse:
        """The price for the accounting ``year``: that year's row, else the latest earlier
        row inflated with ``index``. A price only from later years is refused (deflating a
        future price would guess)."""
        rows = [r for r in self.rows if r.indicator == indicator]
        earlier = [r for r in rows if r.year <= year]
        if not earlier:
            have = ", ".join(str(r.year) for r in rows) or "无"
            raise ValidationError(
                f"价格表 {self.key} 没有 {indicator} 在 {year} 年或更早的价格(已有: {have})"
            )
        row = max(earlier, key=lambda r: r.year)
        factor = index.factor(row.year, year)
        return PriceUse(
            indicator, row.value * factor, row.unit, row.value, row.year, factor, row.source,
            row.verified and (factor == 1.0 or index.verified),
        )  # fmt: skip


def load_parameters(name: str | Path = "gep-parameters") -> ParameterTable:
    return load_toml_model(ParameterTable, PACKAGE, "tables", name, BUILT_IN_PARAMETERS, "参数表")


def load_prices(name: str | Path = "gep-prices") -> PriceTable:
    return load_toml_model(PriceTable, PACKAGE, "tables", name, BUILT_IN_PRICES, "价格表")


def load_price_index(name: str | Path = "cn-cpi") -> PriceIndex:
    return load_toml_model(PriceIndex, PACKAGE, "tables", name, BUILT_IN_INDICES, "价格指数")
