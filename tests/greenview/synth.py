"""Synthetic street images with known green fractions, and files made from them.

Colours (8-bit) and what the Treepedia rule makes of them (ExG level = 2G − R − B):

- LEAF   (60, 140, 50):  R 0.235 G 0.549 B 0.196 all under the caps, level 170 (ExG 0.667): green
- GREY   (128, 128, 128): level 0: not green
- SKY    (135, 206, 235): level 42 (ExG 0.165) but B 0.92 ≥ 0.6: not green
- SHADOW (30, 45, 40):   all < 0.3, level 20 (ExG 0.078): green by the shadow rule (> 0.05) only
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

LEAF = (60, 140, 50)
GREY = (128, 128, 128)
SKY = (135, 206, 235)
SHADOW = (30, 45, 40)
HEADER = ["point_id", "lon", "lat", "heading", "pitch", "date", "image"]


def solid(colour: Sequence[int], height: int = 40, width: int = 40) -> np.ndarray:
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[...] = colour
    return out


def banded(
    green_rows: int, height: int = 40, width: int = 40, rest: Sequence[int] = GREY
) -> np.ndarray:
    """``green_rows`` rows of LEAF at the top, ``rest`` below: green share = green_rows / height."""
    out = solid(rest, height, width)
    out[:green_rows] = LEAF
    return out


def png_bytes(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(rgb: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95, **options)
    return buffer.getvalue()


def shipped_method_text() -> str:
    """The shipped data/greenview.toml, for tests that write a changed copy."""
    return (
        resources.files("ecoplan.greenview")
        .joinpath("data/greenview.toml")
        .read_text(encoding="utf-8")
    )


def write_manifest(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def point_rows(point: str, lon: float, lat: float, date: str, images: Sequence[str],
               headings: Sequence[int] = (0, 60, 120, 180, 240, 300)) -> list[list[object]]:  # fmt: skip
    return [[point, lon, lat, h, 0, date, img] for h, img in zip(headings, images, strict=False)]
