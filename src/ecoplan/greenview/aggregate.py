"""From image green shares to point and district green view indices (pure pandas).

- **point GVI** (per point and year): the mean of the point's image percentages (Treepedia:
  ``greenViewVal = Σ percent / 6``), or with ``aggregate = "pixels"`` Σ green pixels / Σ pixels
  × 100 (Li et al. 2015's formula; the two agree when all images have one size). A point with
  fewer than ``min_images`` images, or missing one of the method's headings at its pitch, is
  flagged ``complete = False``.
- **district GVI** (per district and year): mean and median over the district's points, and the
  number of points; the city row ``全市`` pools every placed point. Incomplete points are
  counted or left out by the method's ``incomplete`` rule; points outside every district are
  left out (the caller reports them).

Percentages are 0–100 (绿视率 %).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecoplan.greenview.method import PointSpec

CITY_CODE = "110000"  # 北京市 administrative code, used for the pooled row
CITY_NAME = "全市"

POINT_COLUMNS = [
    "point_id",
    "year",
    "lon",
    "lat",
    "n_images",
    "gvi",
    "complete",
    "missing_headings",
]
DISTRICT_COLUMNS = ["year", "district_code", "district", "n_points", "mean_gvi", "median_gvi",
                    "n_incomplete"]  # fmt: skip


def _heading_key(values: pd.Series) -> pd.Series:
    return (values.astype(float) % 360).round(3)


def point_gvi(images: pd.DataFrame, spec: PointSpec) -> pd.DataFrame:
    """Per-point GVI of ``images`` (columns ``point_id, year, lon, lat, heading, pitch,
    green_pixels, pixels``): one row per (point_id, year) with :data:`POINT_COLUMNS`."""
    if images.empty:
        return pd.DataFrame(columns=POINT_COLUMNS)
    frame = images.assign(
        fraction=images["green_pixels"] / images["pixels"],
        heading_key=_heading_key(images["heading"]),
        at_pitch=np.isclose(images["pitch"].astype(float), spec.pitch),
    )
    wanted = set(_heading_key(pd.Series(spec.headings, dtype=float)))
    rows = []
    for (point, year), group in frame.groupby(["point_id", "year"], sort=True):
        if spec.aggregate == "mean":
            gvi = float(group["fraction"].mean()) * 100
        else:
            gvi = float(group["green_pixels"].sum()) / float(group["pixels"].sum()) * 100
        seen = set(group.loc[group["at_pitch"], "heading_key"])
        missing = sorted(wanted - seen)
        rows.append(
            {
                "point_id": point,
                "year": int(year),
                "lon": float(group["lon"].iloc[0]),
                "lat": float(group["lat"].iloc[0]),
                "n_images": len(group),
                "gvi": gvi,
                "complete": len(group) >= spec.min_images and not missing,
                "missing_headings": ";".join(f"{h:g}" for h in missing),
            }  # fmt: skip
        )
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


def district_summary(points: pd.DataFrame, spec: PointSpec) -> pd.DataFrame:
    """Mean and median GVI and point counts per (year, district) and for the city, from points
    with ``district_code``, ``district``, ``gvi``, ``complete`` and ``year``."""
    placed = points[points["district_code"].notna()]
    used = placed[placed["complete"]] if spec.incomplete == "exclude" else placed
    rows = []
    for year, in_year in used.groupby("year", sort=True):
        incomplete_all = placed[(placed["year"] == year) & ~placed["complete"]]
        rows.append(_row(int(year), CITY_CODE, CITY_NAME, in_year, len(incomplete_all)))
        for (code, name), group in in_year.groupby(["district_code", "district"], sort=True):
            dropped = incomplete_all[incomplete_all["district_code"] == code]
            rows.append(_row(int(year), str(code), str(name), group, len(dropped)))
    return pd.DataFrame(rows, columns=DISTRICT_COLUMNS)


def _row(
    year: int, code: str, name: str, group: pd.DataFrame, incomplete: int
) -> dict[str, object]:
    values = group["gvi"].astype(float)
    return {"year": year, "district_code": code, "district": name, "n_points": len(values),
            "mean_gvi": float(values.mean()), "median_gvi": float(values.median()),
            "n_incomplete": incomplete}  # fmt: skip
