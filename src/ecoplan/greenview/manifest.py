"""The image manifest of a street-level survey: one row per image.

Columns (names and their Chinese spellings in the method file, ``[manifest.columns]``):
``point_id, lon, lat, heading, pitch, date, image``. ``lon``/``lat`` are WGS-84 degrees,
``heading`` degrees clockwise from north (0–360), ``pitch`` degrees (−90–90), ``date`` the day
(``YYYY-MM-DD``) or month (``YYYY-MM``, as street-view metadata gives it) the image was taken,
``image`` the path relative to the manifest's folder (or the member path in an image zip).

Every row is checked before any image is opened; all problems are reported together, naming
the line, and nothing is returned when there is one.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Geod

from ecoplan.datafiles import read_csv_text
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.greenview.batch import clean_name
from ecoplan.greenview.method import MANIFEST_FIELDS, GreenviewMethod

_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]?\s*(\d{1,2})\s*月?\s*(?:[-/.]?\s*(\d{1,2})\s*日?)?(?:[ T]\d{1,2}:\d{2}(:\d{2})?.*)?$"
)
_GEOD = Geod(ellps="WGS84")
MAX_SHOWN = 200  # problems listed at most (the count is always exact)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (UTF-8 or GBK) or XLSX sheet as text cells, with the line numbers a user sees
    (header = line 1) as index; blank rows dropped."""
    if not path.is_file():
        raise InputFileError(path, "清单文件不存在")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(io.StringIO(read_csv_text(path)), dtype=str, keep_default_na=False)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        else:
            raise InputFileError(path, "清单只接受 CSV 或 XLSX 文件")
    except (ValueError, OSError, pd.errors.ParserError, zipfile.BadZipFile) as exc:
        raise InputFileError(path, f"无法读取清单({type(exc).__name__})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda c: c.astype(str).str.strip())
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    frame = frame[(frame != "").any(axis=1)]
    if frame.empty:
        raise InputFileError(path, "清单中没有数据行")
    return frame


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def parse_date(text: str) -> tuple[str, int, int] | None:
    """(ISO date or month, year, month) of ``2024-06-15``, ``2024/6/15``, ``2024年6月``,
    ``2024-06``, ``2024-06-15 00:00:00`` …, or None."""
    match = _DATE.match(text.strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    if match.group(3) is None:
        return f"{year:04d}-{month:02d}", year, month
    day = int(match.group(3))
    try:
        return dt.date(year, month, day).isoformat(), year, month
    except ValueError:
        return None


def _number(text: str, low: float, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and low <= value <= high else None


def read_manifest(path: Path, method: GreenviewMethod) -> pd.DataFrame:
    """The validated manifest: columns ``line, point_id, lon, lat, heading, pitch, date, year,
    month, image``, one row per image; ValidationError listing every bad line otherwise."""
    raw = read_table(path)
    columns = list(raw.columns)
    found = {f: _find(columns, method.manifest.columns[f]) for f in MANIFEST_FIELDS}
    absent = [f for f, c in found.items() if c is None]
    if absent:
        spelled = "; ".join(f"{f}(可写作 {'/'.join(method.manifest.columns[f])})" for f in absent)
        raise ValidationError(f"{path.name}: 缺少列 {spelled}")
    problems: list[str] = []
    rows: list[dict[str, object]] = []
    for line, record in raw.iterrows():
        cell = {f: str(record[c]) for f, c in found.items() if c is not None}
        bad: list[str] = [f"缺少 {f}" for f in MANIFEST_FIELDS if not cell[f]]
        lon = _number(cell["lon"], -180, 180) if cell["lon"] else None
        lat = _number(cell["lat"], -90, 90) if cell["lat"] else None
        heading = _number(cell["heading"], 0, 360) if cell["heading"] else None
        pitch = _number(cell["pitch"], -90, 90) if cell["pitch"] else None
        date = parse_date(cell["date"]) if cell["date"] else None
        for name, value, rule in (
            ("lon", lon, "经度应为 −180~180 的数"),
            ("lat", lat, "纬度应为 −90~90 的数"),
            ("heading", heading, "方位角应为 0~360 度"),
            ("pitch", pitch, "俯仰角应为 −90~90 度"),
            ("date", date, "日期应为 YYYY-MM-DD 或 YYYY-MM"),
        ):
            if cell[name] and value is None:
                bad.append(f"{name}“{cell[name]}”: {rule}")
        if bad:
            problems.append(f"第 {line} 行: " + ";".join(bad))
            continue
        assert date is not None and heading is not None  # checked just above
        rows.append(
            {
                "line": int(str(line)),
                "point_id": cell["point_id"],
                "lon": lon,
                "lat": lat,
                "heading": heading % 360,
                "pitch": pitch,
                "date": date[0],
                "year": date[1],
                "month": date[2],
                "image": clean_name(cell["image"]),
            }  # fmt: skip
        )
    frame = pd.DataFrame(rows)
    if not problems:
        problems = _duplicates(frame) + _spread(frame, method.point.coord_tolerance_m)
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未计算任何结果: {problems[0]}",
            problems[:MAX_SHOWN],
        )
    return frame.reset_index(drop=True)


def _duplicates(frame: pd.DataFrame) -> list[str]:
    out = []
    for keys, what in (
        (["image"], "同一图片出现在多行"),
        (["point_id", "date", "heading", "pitch"], "同一样点、日期、方位角和俯仰角出现多次"),
    ):
        dup = frame[frame.duplicated(keys, keep=False)]
        for _, group in dup.groupby(keys, sort=False):
            lines = "、".join(str(v) for v in group["line"])
            out.append(f"第 {lines} 行: {what}({group.iloc[0]['image']})")
    return out


def _spread(frame: pd.DataFrame, tolerance_m: float) -> list[str]:
    """Rows of one point and year whose position is farther than ``tolerance_m`` metres from
    the point's first row (the images of a point are taken at one place)."""
    first = frame.groupby(["point_id", "year"])[["lon", "lat"]].transform("first")
    _, _, dist = _GEOD.inv(
        first["lon"].to_numpy(), first["lat"].to_numpy(), frame["lon"].to_numpy(),
        frame["lat"].to_numpy(),
    )  # fmt: skip
    far = np.flatnonzero(np.asarray(dist) > tolerance_m)
    return [
        f"第 {frame.iloc[i]['line']} 行: 样点 {frame.iloc[i]['point_id']} 的位置与该样点"
        f"{frame.iloc[i]['year']} 年的第一行相距 {dist[i]:.0f} 米(上限 {tolerance_m:g} 米)"
        for i in far
    ]
