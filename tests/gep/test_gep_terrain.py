"""LS factor: flow accumulation with a capped slope length, S forms, and exact tiling."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from ecoplan.accounting.gep.terrain import (
    capped_upslope_cells,
    d8_receivers,
    ls_factor,
    ls_factor_blocks,
    s_factor,
)


def test_capped_accumulation_on_a_chain() -> None:
    receivers = np.asarray([1, 2, 3, -1])  # 0 → 1 → 2 → 3 (outlet)
    # cells draining through each: 1, 2, 3, 4; capped at 3
    assert capped_upslope_cells(receivers, 10).tolist() == [1, 2, 3, 4]
    assert capped_upslope_cells(receivers, 3).tolist() == [1, 2, 3, 3]


def test_d8_follows_steepest_descent_and_stops_in_pits() -> None:
    dem = np.asarray([[5.0, 4.0, 3.0], [4.0, 3.0, 2.0], [3.0, 2.0, 1.0]])
    receivers = d8_receivers(dem, 30.0, 30.0).reshape(3, 3)
    # centre (1,1) drops 2 m to (2,2) over 42.43 m (0.047) vs 1 m over 30 m (0.033): diagonal
    assert receivers[1, 1] == 8
    assert receivers[2, 2] == -1  # lowest pixel: a sink


def test_s_factor_forms() -> None:
    ten = np.deg2rad([10.0])
    # 刘宝元 for θ ≥ 10°: 21.91 × sin 10° − 0.96 = 21.91 × 0.173648 − 0.96 = 2.84463
    assert s_factor(ten, "liu")[0] == pytest.approx(2.84463, rel=1e-5)
    # McCool (tan θ ≥ 9 %): 16.8 × 0.173648 − 0.50 = 2.41729
    assert s_factor(ten, "mccool")[0] == pytest.approx(2.41729, rel=1e-5)


def test_ls_on_a_plane_grows_downslope_until_the_cap() -> None:
    rows = np.arange(40, dtype=float)[:, None]
    dem = np.broadcast_to(100.0 - rows * 3.0, (40, 10)).copy()  # 10 % slope facing south
    ls = ls_factor(dem, dx=30.0, dy=-30.0, cap_m=300.0)
    column = ls[1:-1, 5]
    assert np.all(np.diff(column[:9]) > 0)  # longer slope, larger L
    # after 300 m / 30 m = 10 pixels the contributing length is capped: L is constant
    assert np.allclose(column[12:-1], column[12])


def test_tiles_with_halo_equal_the_whole_grid() -> None:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:200, 0:230]
    dem = 300 + 80 * np.sin(x / 17.0) * np.cos(y / 23.0) + rng.normal(0, 1.5, y.shape)
    whole = ls_factor(dem, dx=30.0, dy=-30.0, cap_m=240.0)
    tiled = ls_factor_blocks(
        da.from_array(dem, chunks=47), dx=30.0, dy=-30.0, cap_m=240.0, s_variant="liu"
    )
    np.testing.assert_array_equal(tiled.compute(), whole)
