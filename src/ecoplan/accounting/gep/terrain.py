"""RUSLE slope-length and steepness factor LS from a DEM, block by block.

Method (documented in docs/gep.md):

- slope θ and aspect α from the 3 × 3 neighbourhood (Horn's finite differences);
- D8 flow directions by steepest descent, **without depression filling**: a pixel with no
  lower neighbour is a sink and ends the slope (for RUSLE a sink is where the slope
  deposits, so the slope length ends there);
- upslope contributing area per unit contour width, capped at the slope-length cap λ_max
  (parameter ``soil_retention.slope_length_cap_m``);
- L by Desmet & Govers (1996): L = ((A + D²)^(m+1) − A^(m+1)) / (D^(m+2) · x^m · 22.13^m),
  A = contributing area at the pixel's inlet (m²), D = pixel size, x = |sin α| + |cos α|,
  m from the slope (0.2 / 0.3 / 0.4 / 0.5 by per cent slope, β/(1+β) above 9 %);
- S by McCool (10.8 sinθ + 0.03 below 9 %, 16.8 sinθ − 0.50 above) or, by default, with
  刘宝元's steep-slope form (21.91 sinθ − 0.96 for θ ≥ 10°) used in Chinese practice.

Why no global routing: with the slope length capped at λ_max, a pixel's capped contributing
area depends only on pixels within λ_max / D steps upstream (each step adds at least one
pixel), and D8 directions depend only on the 3 × 3 neighbourhood. So a block computed with a
halo of ⌈λ_max / D⌉ + 1 pixels gives exactly the whole-grid result, and the DEM can be as
large as the disk allows while each task holds one block.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]

# D8 neighbour offsets (row, col) and their distances in pixels
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def halo_pixels(cap_m: float, pixel_m: float) -> int:
    return int(math.ceil(cap_m / pixel_m)) + 1


def slope_aspect(dem: Floats, dx: float, dy: float) -> tuple[Floats, Floats]:
    """Slope (radians) and aspect (radians, any reference: only |sin| + |cos| is used)."""
    z = np.pad(dem, 1, mode="constant", constant_values=np.nan)

    def at(r: int, c: int) -> Floats:
        # a neighbour outside the grid or nodata counts as level with the centre, so a block
        # padded with NaN and the whole grid give the same slope at the grid's edge
        cell = z[1 + r : 1 + r + dem.shape[0], 1 + c : 1 + c + dem.shape[1]]
        return np.where(np.isnan(cell), dem, cell)

    # Horn (1981): weighted differences over the 3 × 3 window
    a, b, c = at(-1, -1), at(-1, 0), at(-1, 1)
    d, f = at(0, -1), at(0, 1)
    g, h, i = at(1, -1), at(1, 0), at(1, 1)
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * dx)
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * dy)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(dzdy, -dzdx)
    return slope, aspect


def d8_receivers(dem: Floats, dx: float, dy: float) -> NDArray[np.intp]:
    """Flat index of each pixel's steepest-descent neighbour, −1 for sinks and nodata."""
    h, w = dem.shape
    z = np.pad(dem, 1, mode="constant", constant_values=np.nan)
    best = np.zeros((h, w))
    receiver = np.full((h, w), -1, dtype=np.intp)
    rows, cols = np.indices((h, w))
    for dr, dc in _OFFSETS:
        distance = math.hypot(dr * dy, dc * dx)
        neighbour = z[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
        with np.errstate(invalid="ignore"):
            drop = (dem - neighbour) / distance
        better = drop > best  # NaN compares False: nodata neither sends nor receives
        best = np.where(better, drop, best)
        receiver = np.where(better, (rows + dr) * w + (cols + dc), receiver)
    return receiver.ravel()


def capped_upslope_cells(receiver: NDArray[np.intp], cap_cells: int) -> NDArray[np.float64]:
    """min(number of pixels draining through each pixel, itself included, cap_cells).

    Kahn's topological order in waves: a pixel is final once every upstream neighbour has
    passed its count on. A pixel still waiting after ``cap_cells`` waves has an upstream path
    longer than the cap, so its count is at least the cap.
    """
    n = receiver.size
    has = receiver >= 0
    indegree = np.bincount(receiver[has], minlength=n)
    acc = np.ones(n)
    done = np.zeros(n, dtype=bool)
    frontier = np.flatnonzero(indegree == 0)
    for _ in range(cap_cells):
        if frontier.size == 0:
            break
        done[frontier] = True
        targets = receiver[frontier]
        keep = targets >= 0
        src, targets = frontier[keep], targets[keep]
        acc += np.bincount(targets, weights=acc[src], minlength=n)
        indegree -= np.bincount(targets, minlength=n)
        candidates = np.unique(targets)
        frontier = candidates[indegree[candidates] == 0]
    acc[~done] = np.maximum(acc[~done], cap_cells)
    return np.minimum(acc, cap_cells)


def _m_exponent(slope: Floats) -> Floats:
    percent = np.tan(slope) * 100
    sin = np.sin(slope)
    beta = (sin / 0.0896) / (3 * np.power(sin, 0.8, where=sin > 0, out=np.zeros_like(sin)) + 0.56)
    return np.select(
        [percent <= 1, percent <= 3.5, percent <= 5, percent <= 9],
        [0.2, 0.3, 0.4, 0.5],
        default=beta / (1 + beta),
    )


def s_factor(slope: Floats, variant: str = "liu") -> Floats:
    sin = np.sin(slope)
    mccool = np.where(np.tan(slope) < 0.09, 10.8 * sin + 0.03, 16.8 * sin - 0.50)
    if variant == "mccool":
        return np.asarray(mccool)
    steep = slope >= np.deg2rad(10.0)
    return np.asarray(np.where(steep, 21.91 * sin - 0.96, mccool))


def ls_factor(
    dem: NDArray[Any], *, dx: float, dy: float, cap_m: float, s_variant: str = "liu"
) -> NDArray[np.float32]:
    """LS of every pixel of ``dem`` (metres, projected grid; NaN = nodata)."""
    dem = np.asarray(dem, dtype=np.float64)
    pixel = math.sqrt(abs(dx * dy))
    slope, aspect = slope_aspect(dem, abs(dx), abs(dy))
    cap_cells = max(1, int(round(cap_m / pixel)))  # A / D ≤ λ_max, in pixels
    cells = capped_upslope_cells(d8_receivers(dem, abs(dx), abs(dy)), cap_cells)
    inlet = (cells.reshape(dem.shape) - 1) * pixel * pixel  # contributing area at the inlet, m²
    m = _m_exponent(slope)
    x = np.abs(np.sin(aspect)) + np.abs(np.cos(aspect))
    length = (np.power(inlet + pixel**2, m + 1) - np.power(inlet, m + 1)) / (
        np.power(pixel, m + 2) * np.power(x, m) * np.power(22.13, m)
    )
    ls = length * np.maximum(s_factor(slope, s_variant), 0.0)
    return np.where(np.isfinite(dem), ls, np.nan).astype(np.float32)


def ls_factor_blocks(dem: Any, *, dx: float, dy: float, cap_m: float, s_variant: str) -> Any:
    """LS over a dask array: each block with a halo large enough to be exact (see above)."""
    depth = halo_pixels(cap_m, math.sqrt(abs(dx * dy)))
    return dem.map_overlap(
        ls_factor, depth=depth, boundary=np.nan, dtype=np.float32,
        dx=dx, dy=dy, cap_m=cap_m, s_variant=s_variant,
    )  # fmt: skip
