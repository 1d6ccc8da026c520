"""Green pixels of a street-level image: pure numpy on an RGB ``uint8`` array (H × W × 3).

The default is the Treepedia classifier (Li et al. 2015; ``GreenView_Calculate.py``), applied
per pixel (the source first smooths the image by mean-shift segmentation; see
docs/greenview.md for why that step is left out). On RGB normalised to [0, 1]:

    ExG = (G − R) + (G − B)
    t   = clamp(Otsu(ExG), threshold_min, threshold_max)          (fallback when undefined)
    green = (R < 0.6 & G < 0.9 & B < 0.6 & ExG > t) | (R, G, B < 0.3 & ExG > 0.05)

Every constant comes from the method file (``data/greenview.toml``). Because the input has 8
bits per channel, ``ExG × 255 = 2G − R − B`` is an integer "level" and every comparison above
is done exactly on integers: ``R/255 < 0.6`` ⇔ ``R < 153``, ``ExG > t`` ⇔ ``level > ⌊255 t⌋``.

Alternatives, selected by name (``treepedia``, ``exg_exr``, ``hsv`` in the shipped file):
ExG − ExR (ExR = 1.4R − G) and an HSV hue band. Any callable ``RGB array → boolean mask``
(:class:`MaskBackend`) can be registered under a name with :func:`register_backend`, e.g. a
user's segmentation model (:mod:`ecoplan.greenview.onnx` wraps an ONNX one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ecoplan.errors import ValidationError
from ecoplan.greenview.method import (
    ClassifierSpec,
    ExgExrSpec,
    ExgOtsuSpec,
    GreenviewMethod,
    HsvBandSpec,
)

RGB = NDArray[np.uint8]
Mask = NDArray[np.bool_]
Levels = NDArray[np.int16]

_SCALE = 255  # 8-bit channel maximum: normalised value = level / 255
_EPS = 1e-9  # absorbs the rounding of t × 255 when t is itself k / 255


@runtime_checkable
class MaskBackend(Protocol):
    """Anything that turns an RGB ``uint8`` array (H × W × 3) into a boolean mask (H × W) of
    green-vegetation pixels. It must not modify its input and must be thread-safe."""

    def __call__(self, rgb: RGB, /) -> Mask: ...


def check_rgb(rgb: NDArray[np.generic]) -> RGB:
    """``rgb`` as an H × W × 3 ``uint8`` array, or ValidationError."""
    array = np.asarray(rgb)
    if array.ndim != 3 or array.shape[2] != 3 or array.dtype != np.uint8:
        raise ValidationError(f"图像数组应为 H×W×3 的 uint8,实际为 {array.shape} {array.dtype}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValidationError("图像为空(0 像素)")
    return array.astype(np.uint8, copy=False)


def green_fraction(mask: Mask) -> float:
    """Share of True pixels (0–1)."""
    return float(np.count_nonzero(mask)) / mask.size


# -- Treepedia: ExG + clamped Otsu ----------------------------------------------------------


def planes(rgb: RGB) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """R, G and B as contiguous 2-D arrays (comparisons on them are ~10× faster than on the
    interleaved channels of an H × W × 3 array)."""
    planar = np.ascontiguousarray(np.moveaxis(rgb, 2, 0))
    return planar[0], planar[1], planar[2]


def exg_levels(rgb: RGB) -> Levels:
    """``ExG × 255 = 2G − R − B`` per pixel, an integer in [−510, 510]."""
    return _levels(*planes(check_rgb(rgb)))


def _levels(red: NDArray[np.uint8], green: NDArray[np.uint8], blue: NDArray[np.uint8]) -> Levels:
    out: Levels = green.astype(np.int16)
    out *= 2
    out -= red
    out -= blue
    return out


def otsu_threshold(levels: Levels, index_offset: int = 1) -> float | None:
    """Otsu's threshold of ExG (in ExG units, not levels), or None when it is undefined.

    As Treepedia's ``graythresh``: ExG × 255 with negatives set to 0, one histogram bin per
    level 0…255, between-class variance σ²_b(k) = (μ_T ω(k) − μ(k))² / (ω(k)(1 − ω(k))) with
    μ on bin numbers 1…256, threshold = (mean of the bins where σ²_b is largest − offset) / 255.
    Levels above 255 (ExG > 1) go into the top bin. Bins where σ²_b is 0/0 are ignored, as in
    MATLAB's ``graythresh`` (numpy's ``max`` would propagate NaN; see docs/greenview.md);
    when no bin is left (every pixel on one level) the threshold is undefined.
    """
    hist = np.bincount(np.clip(levels, 0, _SCALE).ravel(), minlength=_SCALE + 1)
    total = float(hist.sum())
    if total == 0:
        return None
    counts = np.cumsum(hist)
    omega = counts / total
    mu = np.cumsum(hist * np.arange(1, _SCALE + 2)) / total
    mu_t = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = (mu_t * omega - mu) ** 2 / (omega * (1.0 - omega))
    finite = np.isfinite(sigma)
    if not finite.any():
        return None
    best = sigma[finite].max()
    index = float(np.flatnonzero(finite & (sigma == best)).mean())
    return (index - index_offset) / _SCALE


def treepedia_threshold(levels: Levels, spec: ExgOtsuSpec) -> tuple[float, float | None]:
    """(threshold used, raw Otsu threshold or None): Otsu clamped to the method's band."""
    raw = otsu_threshold(levels, spec.otsu_index_offset)
    chosen = spec.threshold_fallback if raw is None else raw
    return min(max(chosen, spec.threshold_min), spec.threshold_max), raw


def _below(limit: float) -> int:
    """Smallest 8-bit level v with v / 255 ≥ ``limit``: ``v/255 < limit`` ⇔ ``v < result``."""
    return int(np.count_nonzero(np.arange(_SCALE + 1) / _SCALE < limit))


def _above(limit: float) -> int:
    """Integer k with ``level / 255 > limit`` ⇔ ``level > k``."""
    return math.floor(limit * _SCALE + _EPS)


def exg_otsu_mask(rgb: RGB, spec: ExgOtsuSpec) -> Mask:
    """Treepedia's green mask (pixel level) of an RGB ``uint8`` image."""
    red, green, blue = planes(check_rgb(rgb))
    levels = _levels(red, green, blue)
    threshold, _ = treepedia_threshold(levels, spec)
    r_max, g_max, b_max = (_below(v) for v in spec.rgb_max)
    bright: Mask = (red < r_max) & (green < g_max) & (blue < b_max) & (levels > _above(threshold))
    s_max = _below(spec.shadow_max)
    shadow: Mask = (red < s_max) & (green < s_max) & (blue < s_max)
    shadow &= levels > _above(spec.shadow_exg)
    return bright | shadow


# -- alternatives (UNVERIFIED thresholds) ---------------------------------------------------


def exg_exr_mask(rgb: RGB, spec: ExgExrSpec) -> Mask:
    """ExG − ExR > threshold with ExR = w·R − G, i.e. ``3G − (1 + w)R − B > threshold``, on
    chromatic coordinates (each channel / (R + G + B); black is 0) or on values in [0, 1].

    With chromatic coordinates the division is folded into the comparison
    (``x / S > t`` ⇔ ``x > t·S`` for S > 0), which also keeps black at 0 without dividing."""
    red, green, blue = (p.astype(np.float32) for p in planes(check_rgb(rgb)))
    index = 3 * green
    index -= (1 + spec.exr_red_weight) * red
    index -= blue
    if spec.chromatic:
        total = red + green + blue
        mask: Mask = index > spec.threshold * total
        return mask & (total > 0) if spec.threshold < 0 else mask
    out: Mask = index > spec.threshold * _SCALE
    return out


def hue_saturation_value(
    rgb: RGB,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Hue in degrees [0, 360) (NaN for grey pixels), saturation and value in [0, 1]."""
    red, green, blue = (p.astype(np.float32) for p in planes(check_rgb(rgb)))
    high = np.maximum(np.maximum(red, green), blue)
    delta = high - np.minimum(np.minimum(red, green), blue)
    grey = delta == 0
    safe = np.where(grey, np.float32(1), delta)
    hue = (blue - red) / safe + 2  # sector where green is the largest
    red_top = high == red
    hue[red_top] = ((green[red_top] - blue[red_top]) / safe[red_top]) % 6
    blue_top = (high == blue) & ~red_top & (high != green)
    hue[blue_top] = (red[blue_top] - green[blue_top]) / safe[blue_top] + 4
    hue *= 60
    hue[grey] = np.nan
    saturation = np.where(high > 0, delta / np.where(high > 0, high, 1), 0).astype(np.float32)
    value = (high / _SCALE).astype(np.float32)
    return hue.astype(np.float32, copy=False), saturation, value


def hsv_mask(rgb: RGB, spec: HsvBandSpec) -> Mask:
    """Hue in [hue_min, hue_max] with saturation ≥ sat_min and value ≥ val_min."""
    hue, saturation, value = hue_saturation_value(rgb)
    with np.errstate(invalid="ignore"):
        mask: Mask = (
            (hue >= spec.hue_min)
            & (hue <= spec.hue_max)
            & (saturation >= spec.sat_min)
            & (value >= spec.val_min)
        )
    return mask


# -- backends -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColourClassifier:
    """A colour classifier of the method file as a :class:`MaskBackend` (picklable, so it
    also runs in worker processes)."""

    name: str
    spec: ClassifierSpec

    def __call__(self, rgb: RGB, /) -> Mask:
        if isinstance(self.spec, ExgOtsuSpec):
            return exg_otsu_mask(rgb, self.spec)
        if isinstance(self.spec, ExgExrSpec):
            return exg_exr_mask(rgb, self.spec)
        return hsv_mask(rgb, self.spec)


BackendFactory = Callable[[GreenviewMethod], MaskBackend]
_REGISTRY: dict[str, BackendFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``factory(method)`` selectable as classifier ``name`` (e.g. a segmentation model).
    A colour classifier of the method file with the same name takes precedence."""
    if not name or not name.strip():
        raise ValidationError("分类器名称不能为空")
    _REGISTRY[name] = factory


def unregister_backend(name: str) -> None:
    _REGISTRY.pop(name, None)


def available(method: GreenviewMethod) -> list[str]:
    """Classifier names that can be selected: the method's colour ones, then registered ones."""
    return [*method.classifiers, *(n for n in _REGISTRY if n not in method.classifiers)]


def get_backend(method: GreenviewMethod, name: str | None = None) -> MaskBackend:
    """The classifier called ``name`` (default: the method's ``default_classifier``)."""
    chosen = name or method.default_classifier
    if chosen in method.classifiers:
        return ColourClassifier(chosen, method.classifiers[chosen])
    factory = _REGISTRY.get(chosen)
    if factory is None:
        raise ValidationError(f"未知的分类器“{chosen}”(可选: {'、'.join(available(method))})")
    backend = factory(method)
    if not isinstance(backend, MaskBackend):
        raise ValidationError(f"分类器“{chosen}”不是可调用对象")
    return backend


def classify_array(rgb: RGB, backend: MaskBackend) -> Mask:
    """Run ``backend`` and check what it returns: a boolean mask of the image's height and
    width (a backend's mistake is reported, not silently counted)."""
    rgb = check_rgb(rgb)
    mask = np.asarray(backend(rgb))
    if mask.shape != rgb.shape[:2]:
        raise ValidationError(f"分类器返回的掩膜尺寸 {mask.shape} 与图像 {rgb.shape[:2]} 不一致")
    if mask.dtype != np.bool_:
        raise ValidationError(f"分类器返回的掩膜应为布尔型,实际为 {mask.dtype}")
    return mask
