"""The green view method as data (``data/greenview.toml``): classifiers and their thresholds,
image limits, how a point's images are combined, the green season, sampling along roads and
the year-on-year verdict rule.

A user replaces the file with ``ECOPLAN_GREENVIEW_METHOD=/path/to.toml`` (or ``--method`` on
the command line). Values read in the Treepedia source are ``verified = true``; every other
figure is a working default (field.md §5 marks them UNVERIFIED).
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ecoplan.datafiles import parse_toml, validated
from ecoplan.errors import InputFileError

ENV = "ECOPLAN_GREENVIEW_METHOD"
WHAT = "绿视率方法"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageSpec(Strict):
    formats: tuple[str, ...]
    max_pixels: int = Field(gt=0)
    max_file_bytes: int = Field(gt=0)


class ExgOtsuSpec(Strict):
    """Treepedia: ExG = 2G − R − B with an Otsu threshold clamped to a band."""

    kind: Literal["exg_otsu"]
    label: str
    verified: bool = False
    source: str = ""
    rgb_max: tuple[float, float, float]
    shadow_max: float = Field(ge=0, le=1)
    shadow_exg: float
    threshold_min: float
    threshold_max: float
    threshold_fallback: float
    otsu_bins: Literal[256] = 256
    otsu_index_offset: int = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _band(self) -> ExgOtsuSpec:
        if self.threshold_min > self.threshold_max:
            raise ValueError("threshold_min 不能大于 threshold_max")
        return self


class ExgExrSpec(Strict):
    """ExG − ExR > threshold, ExR = w·R − G (Meyer & Neto 2008, UNVERIFIED)."""

    kind: Literal["exg_exr"]
    label: str
    verified: bool = False
    source: str = ""
    chromatic: bool = True
    exr_red_weight: float = Field(gt=0)
    threshold: float


class HsvBandSpec(Strict):
    """Hue inside [hue_min, hue_max] degrees with saturation and value floors (0–1)."""

    kind: Literal["hsv_band"]
    label: str
    verified: bool = False
    source: str = ""
    hue_min: float = Field(ge=0, le=360)
    hue_max: float = Field(ge=0, le=360)
    sat_min: float = Field(ge=0, le=1)
    val_min: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _band(self) -> HsvBandSpec:
        if self.hue_min > self.hue_max:
            raise ValueError("hue_min 不能大于 hue_max")
        return self


ClassifierSpec = Annotated[ExgOtsuSpec | ExgExrSpec | HsvBandSpec, Field(discriminator="kind")]


class OnnxSpec(Strict):
    verified: bool = False
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    green_classes: tuple[int, ...] = ()
    score_threshold: float = 0.0


class PointSpec(Strict):
    headings: tuple[float, ...]
    pitch: float
    min_images: int = Field(ge=1)
    aggregate: Literal["mean", "pixels"]
    incomplete: Literal["include", "exclude"]
    coord_tolerance_m: float = Field(gt=0)


class SeasonSpec(Strict):
    verified: bool = False
    months: tuple[int, ...]

    @model_validator(mode="after")
    def _months(self) -> SeasonSpec:
        if not self.months or any(m < 1 or m > 12 for m in self.months):
            raise ValueError("months 须为 1–12 的月份,且至少一个")
        return self


class SamplingSpec(Strict):
    verified: bool = False
    spacing_m: float = Field(gt=0)
    min_distance_m: float = Field(gt=1.5)
    metric_crs: str
    type_field: str = "highway"
    exclude_types: tuple[str, ...] = ()


class VerdictSpec(Strict):
    verified: bool = False
    tolerance_pp: float = Field(ge=0)
    min_points: int = Field(ge=1)
    require_every_district: bool = True
    bootstrap: int = Field(ge=0)
    confidence: float = Field(gt=0, lt=1)
    seed: int = 0


class ParallelSpec(Strict):
    executor: Literal["thread", "process"]
    workers: int = Field(ge=0)


class ManifestSpec(Strict):
    columns: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _all(self) -> ManifestSpec:
        missing = set(MANIFEST_FIELDS) - set(self.columns)
        if missing:
            raise ValueError(f"manifest.columns 缺少: {', '.join(sorted(missing))}")
        return self


MANIFEST_FIELDS = ("point_id", "lon", "lat", "heading", "pitch", "date", "image")


class GreenviewMethod(Strict):
    id: str
    version: str
    default_classifier: str
    image: ImageSpec
    classifiers: dict[str, ClassifierSpec]
    onnx: OnnxSpec
    point: PointSpec
    season: SeasonSpec
    sampling: SamplingSpec
    verdict: VerdictSpec
    parallel: ParallelSpec
    manifest: ManifestSpec
    sha256: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _default(self) -> GreenviewMethod:
        if self.default_classifier not in self.classifiers:
            raise ValueError(f"default_classifier “{self.default_classifier}” 不在 classifiers 中")
        return self

    @property
    def key(self) -> str:
        """``id@version``, the name stored with every result."""
        return f"{self.id}@{self.version}"


@lru_cache(maxsize=4)
def _load(path: str | None) -> GreenviewMethod:
    if path:
        file = Path(path)
        if not file.is_file():
            raise InputFileError(file, f"{WHAT}文件不存在")
        raw, where = file.read_bytes(), file
    else:
        raw = resources.files("ecoplan.greenview").joinpath("data/greenview.toml").read_bytes()
        where = Path("greenview.toml")
    data = parse_toml(raw, where, WHAT)
    data |= {"sha256": hashlib.sha256(raw).hexdigest(), "source": str(where)}
    return validated(GreenviewMethod, data, where, WHAT)


def load_method(path: str | Path | None = None) -> GreenviewMethod:
    """The method in force: ``path``, else the file ECOPLAN_GREENVIEW_METHOD names, else the
    shipped one (each read once per process)."""
    chosen = path or os.environ.get(ENV) or None
    return _load(str(chosen) if chosen else None)
