"""What a GEP-R service is: its spec (inputs with units and plausible ranges, parameters,
prices, outputs), a physical-quantity step and a valuation step kept apart.

A service may have a **pixel** step (a function of input blocks giving the quantity per m²,
run block by block and written as a raster) and a **regional** step (inventory methods such
as min(emission, capacity), reservoirs and lakes, computed per region from class areas and
tables). Valuation turns the per-region quantity into components, each a quantity times a
price, so a change between two runs can be split into its quantity part and its price part.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ecoplan.accounting.gep.ecosystems import TYPES, per_type
from ecoplan.accounting.gep.tables import (
    ParameterRow,
    ParameterTable,
    PriceIndex,
    PriceTable,
    PriceUse,
)
from ecoplan.errors import ValidationError
from ecoplan.geo.rasters import Grid

Floats = NDArray[np.float64]
InputKind = Literal["raster", "region_table", "points", "weather", "scalar"]


@dataclass(frozen=True)
class InputSpec:
    name: str
    title: str
    unit: str
    kind: InputKind
    lo: float = -np.inf  # plausible range: values outside it are refused as wrong units
    hi: float = np.inf
    hint: str = ""  # what a value outside the range probably means


@dataclass(frozen=True)
class ServiceSpec:
    id: str
    name: str
    unit: str  # unit of the regional physical quantity
    density_unit: str = ""  # unit of the per-pixel raster
    density_to_total: float = 1.0  # density × m² × this = quantity in ``unit``
    inputs: tuple[InputSpec, ...] = ()
    variants: tuple[str, ...] = ("default",)
    default_on: bool = True
    standard: str = "DB11/T 2059-2022 附录B(方法)/附录E(参数)；公式见 docs/gep.md"


@dataclass(frozen=True)
class Component:
    """One priced part of a service's value for every region of a layer."""

    name: str
    quantity: Floats
    unit: str
    price: float
    price_unit: str
    price_note: str
    verified: bool

    @property
    def value(self) -> Floats:
        return self.quantity * self.price

    def as_json(self, i: int) -> dict[str, Any]:
        return {
            "name": self.name, "quantity": float(self.quantity[i]), "unit": self.unit,
            "price": self.price, "price_unit": self.price_unit, "price_note": self.price_note,
            "verified": self.verified, "value": float(self.value[i]),
        }  # fmt: skip


@dataclass
class Context:
    """Everything a service step may read, recording which parameter and price rows it used."""

    year: int
    variant: str
    parameters: ParameterTable
    prices: PriceTable
    index: PriceIndex
    scalars: Mapping[str, float] = field(default_factory=dict)
    used_parameters: dict[str, ParameterRow] = field(default_factory=dict)
    used_prices: dict[str, PriceUse] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def param(self, indicator: str, key: str = "") -> float:
        row = self.parameters.get(indicator, key, year=self.year)
        self.used_parameters[f"{indicator}[{key}]" if key else indicator] = row
        return row.value

    def params_by_type(self, indicator: str) -> dict[str, float]:
        rows = self.parameters.by_key(indicator, year=self.year)
        if not rows:
            raise ValidationError(f"参数表 {self.parameters.key} 缺少参数 {indicator}")
        for key, row in rows.items():
            self.used_parameters[f"{indicator}[{key}]"] = row
        return {k: r.value for k, r in rows.items()}

    def type_table(self, indicator: str) -> Floats:
        """Parameter per ecosystem type code; types without a row are NaN (not counted)."""
        values = self.params_by_type(indicator)
        unknown = sorted(set(values) - set(TYPES))
        if unknown:
            raise ValidationError(f"参数 {indicator} 的键不是生态系统类型: {', '.join(unknown)}")
        table = per_type(values, default=np.nan)
        return table

    def price(self, indicator: str) -> PriceUse:
        use = self.prices.price(indicator, self.year, self.index)
        self.used_prices[indicator] = use
        return use

    def scalar(self, name: str) -> float:
        if name not in self.scalars:
            raise ValidationError(f"配置 [scalars] 缺少 {name}")
        return float(self.scalars[name])

    def priced(self, name: str, quantity: Floats, unit: str, indicator: str) -> Component:
        """A component valued at a table price directly (e.g. t SO₂ × 元/t)."""
        use = self.price(indicator)
        return Component(name, quantity, unit, use.value, use.unit, use.describe(), use.verified)


PixelFn = Callable[[NDArray[np.uint8], Mapping[str, NDArray[Any]], Mapping[str, Any]], NDArray[Any]]


@dataclass(frozen=True)
class RegionData:
    """Per-region facts of one layer that regional steps read."""

    codes: tuple[str, ...]
    type_area_km2: Mapping[str, Floats]  # ecosystem type → km² per region
    pixel_total: Floats | None  # the service's pixel quantity summed per region, in spec.unit
    tables: Mapping[str, Floats]  # region-table column → value per region (NaN where missing)
    points: Mapping[str, PointSet]  # point inventories (reservoirs, lakes) by name

    def column(self, name: str) -> Floats:
        return self.tables.get(name, np.full(len(self.codes), np.nan))

    def has_table(self, *columns: str) -> bool:
        """Whether the region tables give every region of this layer these columns."""
        return all(np.isfinite(self.column(c)).all() for c in columns)


@dataclass(frozen=True)
class PointSet:
    """Points of an inventory table with the region each lies in (−1: outside every region)."""

    region: NDArray[np.intp]
    columns: Mapping[str, Floats]

    def per_region(self, values: Floats, n: int) -> Floats:
        inside = self.region >= 0
        return np.bincount(self.region[inside], weights=values[inside], minlength=n).astype(
            np.float64
        )


class Service(ABC):
    """Base of a GEP-R service; modules subclass it, set ``spec`` and give its valuation."""

    spec: ServiceSpec

    def rasters(self, ctx: Context) -> tuple[str, ...]:
        """Raster inputs this run of the service reads."""
        return tuple(i.name for i in self.spec.inputs if i.kind == "raster")

    def derived(self, ctx: Context, inputs: Mapping[str, Any], grid: Grid) -> dict[str, Any]:
        """Lazy rasters the pixel step needs beyond the inputs (e.g. LS from the DEM)."""
        return {}

    def pixel(self, ctx: Context) -> tuple[PixelFn, dict[str, Any]] | None:
        """The per-pixel quantity (per m², in spec.density_unit) and its numeric parameters."""
        return None

    def quantities(self, ctx: Context, data: RegionData) -> dict[str, Floats] | None:
        """Physical quantity per component and region, or None when this layer lacks the
        tables the method needs (the pipeline then spreads the base layer's result)."""
        if data.pixel_total is None:
            raise ValidationError(f"{self.spec.name}: 没有像元结果")
        return {self.spec.id: data.pixel_total}

    def capacities(self, ctx: Context, data: RegionData) -> dict[str, Floats]:
        """Weights for spreading a base layer's quantities to other layers (default: area)."""
        area = sum(data.type_area_km2.values(), start=np.zeros(len(data.codes)))
        return {"*": np.asarray(area, dtype=np.float64)}

    @abstractmethod
    def value(self, ctx: Context, q: Mapping[str, Floats]) -> list[Component]:
        """Priced components of the quantities ``q`` (one array per component, per region)."""
