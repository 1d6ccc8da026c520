"""Exact fraction of each pixel covered by a polygon, for the pixels its boundary crosses.

Method (why it is fast): the region is clipped down a quadtree to small pixel-aligned cells
(GEOS ``clip_by_rect``, only where the boundary runs), so each boundary pixel meets a piece
of a few edges. The area of piece ∩ pixel-box is then a line integral that numpy evaluates
for all (pixel, edge) pairs at once: for a counter-clockwise ring,

    area(P ∩ [0,w]×[0,h]) = Σ_edges  −∫ clamp(y(x), 0, h) dx   over x ∈ [0, w],

because at each x the covered height inside the box is Σ (clamp(upper) − clamp(lower)) and
upper boundaries run right-to-left. Each edge's integral has a closed form (mean of a clamped
linear function), computed in coordinates local to the pixel so no precision is lost on
projected coordinates of ~10⁶ m.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray

CELL: Final = 32
"""Pixels per side of the smallest quadtree cell; a piece then has a dozen edges or so."""

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]


def boundary_fractions(
    geom: shapely.Geometry,
    rows: Ints,
    cols: Ints,
    *,
    x0: float,
    y0: float,
    dx: float,
    dy: float,
) -> Floats:
    """Fraction (0–1) of pixel (row, col) covered by ``geom``.

    ``x0, y0`` is the outer corner of pixel (0, 0) and ``dx, dy`` the pixel size as in an
    affine transform (``dy`` is negative for north-up rasters). All pixel indices must be
    non-negative.
    """
    fractions = np.zeros(len(rows))
    if len(rows) == 0:
        return fractions
    cell_r, cell_c = rows // CELL, cols // CELL
    n_r, n_c = int(cell_r.max()) + 1, int(cell_c.max()) + 1
    need = np.zeros((n_r, n_c), dtype=bool)
    need[cell_r, cell_c] = True
    pieces: dict[tuple[int, int], shapely.Geometry] = {}
    size = 1
    while size < max(n_r, n_c):
        size *= 2
    _descend(geom, 0, 0, size, need, pieces, x0, y0, dx * CELL, dy * CELL)
    if not pieces:
        return fractions

    keys = list(pieces)
    piece_index = np.full((n_r, n_c), -1, dtype=np.intp)
    for i, (r, c) in enumerate(keys):
        piece_index[r, c] = i
    oriented = shapely.orient_polygons(np.asarray([pieces[k] for k in keys], dtype=object))
    # get_rings only opens Polygons, so split MultiPolygon pieces into their parts first
    parts, part_piece = shapely.get_parts(oriented, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    ring_piece = part_piece[ring_part]
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = coord_ring[1:] == coord_ring[:-1]
    ex1, ey1 = coords[:-1, 0][same_ring], coords[:-1, 1][same_ring]
    ex2, ey2 = coords[1:, 0][same_ring], coords[1:, 1][same_ring]
    edge_piece = ring_piece[coord_ring[:-1][same_ring]]
    order = np.argsort(edge_piece, kind="stable")
    ex1, ey1, ex2, ey2, edge_piece = (
        ex1[order],
        ey1[order],
        ex2[order],
        ey2[order],
        edge_piece[order],
    )
    counts = np.bincount(edge_piece, minlength=len(keys))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])

    pixel_piece = piece_index[cell_r, cell_c]
    has_piece = pixel_piece >= 0
    pix = np.flatnonzero(has_piece)
    per_pixel = counts[pixel_piece[pix]]
    pair_pixel = np.repeat(pix, per_pixel)
    # index of each pair's edge: the piece's first edge + position within the pixel's run
    run_start = np.repeat(np.cumsum(per_pixel) - per_pixel, per_pixel)
    pair_edge = np.repeat(starts[pixel_piece[pix]], per_pixel) + (
        np.arange(len(pair_pixel)) - run_start
    )

    # pixel box in local coordinates: x from 0 to w, y from 0 to h (h > 0 going north)
    w, h = abs(dx), abs(dy)
    left = x0 + cols[pair_pixel] * dx + min(dx, 0.0)
    bottom = y0 + (rows[pair_pixel] + 1) * dy if dy < 0 else y0 + rows[pair_pixel] * dy
    x1, y1 = ex1[pair_edge] - left, ey1[pair_edge] - bottom
    x2, y2 = ex2[pair_edge] - left, ey2[pair_edge] - bottom
    area = _clamped_edge_integral(x1, y1, x2, y2, w, h)
    covered = np.bincount(pair_pixel, weights=area, minlength=len(rows))
    fractions = np.clip(covered / (w * h), 0.0, 1.0)
    return fractions


def _descend(
    geom: shapely.Geometry,
    r0: int,
    c0: int,
    size: int,
    need: NDArray[np.bool_],
    pieces: dict[tuple[int, int], shapely.Geometry],
    x0: float,
    y0: float,
    cell_dx: float,
    cell_dy: float,
) -> None:
    """Clip ``geom`` to quadtree square (r0, c0, size cells) and recurse where cells are needed."""
    if not need[r0 : r0 + size, c0 : c0 + size].any():
        return
    xa, xb = sorted((x0 + c0 * cell_dx, x0 + (c0 + size) * cell_dx))
    ya, yb = sorted((y0 + r0 * cell_dy, y0 + (r0 + size) * cell_dy))
    piece = shapely.clip_by_rect(geom, xa, ya, xb, yb)
    if piece.is_empty:
        return
    if size == 1:
        pieces[(r0, c0)] = piece
        return
    half = size // 2
    for dr in (0, half):
        for dc in (0, half):
            _descend(piece, r0 + dr, c0 + dc, half, need, pieces, x0, y0, cell_dx, cell_dy)


def _clamped_edge_integral(
    x1: Floats, y1: Floats, x2: Floats, y2: Floats, w: float, h: float
) -> Floats:
    """−∫ clamp(y, 0, h) dx along each edge, restricted to x ∈ [0, w] (signed area part)."""
    lo = np.maximum(np.minimum(x1, x2), 0.0)
    hi = np.minimum(np.maximum(x1, x2), w)
    span = hi - lo
    valid = (span > 0) & (x1 != x2)
    out = np.zeros_like(x1)
    if not valid.any():
        return out
    x1, y1, x2, y2, lo, hi, span = (a[valid] for a in (x1, y1, x2, y2, lo, hi, span))
    slope = (y2 - y1) / (x2 - x1)
    ya = y1 + (lo - x1) * slope
    yb = y1 + (hi - x1) * slope
    dy = yb - ya
    flat = np.abs(dy) <= 1e-12 * h
    safe_dy = np.where(flat, 1.0, dy)
    mean_clamped = np.where(
        flat,
        np.clip((ya + yb) / 2.0, 0.0, h),
        (_clamp_antiderivative(yb, h) - _clamp_antiderivative(ya, h)) / safe_dy,
    )
    out[valid] = -np.sign(x2 - x1) * mean_clamped * span
    return out


def _clamp_antiderivative(y: Floats, h: float) -> Floats:
    """G(y) = ∫₀^y clamp(t, 0, h) dt."""
    inside = np.clip(y, 0.0, h)
    return inside * inside / 2.0 + h * np.maximum(y - h, 0.0)
