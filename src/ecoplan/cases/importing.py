"""Reading clue batches from files: GeoJSON / Shapefile / GeoPackage (polygons or points) and
xlsx sheets with coordinates (points).

Field names are matched in Chinese or English (线索编号 / code, 活动类型 / activity_type, …);
attributes without a field of their own are kept in the clue's ``facts``. Every problem in a
file is collected and reported together, naming rows and fields; nothing is stored unless the
whole file is good.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from openpyxl import load_workbook

from ecoplan.cases.rules import ClueRules
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.geo.regions import read_vector_wgs84

# our field -> names accepted in a file (first match wins)
FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("线索编号", "图斑编号", "编号", "clue_id", "code", "TBBH", "tbbh", "id"),
    "activity_type": ("活动类型", "问题类型", "activity_type", "activity"),
    "source": ("线索来源", "来源", "source"),
    "period": ("批次", "监测期", "period"),
    "change_type": ("变化类型", "change_type"),
    "legal_basis": ("合法性依据", "审批文件", "legal_basis"),
    "note": ("备注", "描述", "note", "description"),
    "lon": ("经度", "lon", "lng", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
}
VECTOR_SUFFIXES = {".geojson", ".json", ".shp", ".gpkg", ".zip"}
MAX_XLSX_ROWS = 200_000


@dataclass
class ClueRecords:
    """A batch as read from a file, before any geometry check."""

    codes: list[str]
    geoms: Any  # numpy object array of shapely geometries, WGS84
    attrs: list[dict[str, Any]] = field(default_factory=list)  # our fields
    facts: list[dict[str, Any]] = field(default_factory=list)  # everything else

    def __len__(self) -> int:
        return len(self.codes)


def find_column(columns: Sequence[Any], names: Sequence[str]) -> Any | None:
    """The first of ``names`` that is a column, compared without case or surrounding space;
    returns the column as the file spells it."""
    lowered = {str(c).strip().lower(): c for c in columns}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def _match(columns: list[str], ours: str) -> str | None:
    found: str | None = find_column(columns, FIELDS[ours])
    return found


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (int, float, str, bool)) else str(value)


def _text(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 编号 12 read from a numeric cell as 12.0
    return str(value).strip()


def read_clue_file(path: Path, rules: ClueRules, *, crs: str | None = None) -> ClueRecords:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        columns, rows, geoms = _read_xlsx(path)
    elif suffix in VECTOR_SUFFIXES:
        frame, geoms = read_vector_wgs84(path, crs)
        columns = [c for c in frame.columns if c != frame.geometry.name]
        rows = frame[columns].to_dict("records")  # one pass; iloc per row costs ~90 µs a clue
    else:
        raise InputFileError(path, "只接受 GeoJSON、Shapefile(.shp/.zip)、GeoPackage 或 XLSX 文件")
    if not rows:
        raise InputFileError(path, "文件中没有线索")
    return _records(path, columns, rows, geoms, rules)


def _records(path: Path, columns: list[str], rows: list[dict[str, Any]], geoms: Any,
             rules: ClueRules) -> ClueRecords:  # fmt: skip
    code_col = _match(columns, "code")
    if code_col is None:
        raise InputFileError(
            path, f"缺少线索编号列(线索编号/图斑编号/code); 现有列: {', '.join(columns)}"
        )
    mapped = {ours: _match(columns, ours) for ours in FIELDS}
    used = {c for c in mapped.values() if c}
    activity_by_label = {label: key for key, label in rules.activity_types.items()}
    source_by_label = {label: key for key, label in rules.sources.items()}
    problems: list[str] = []
    codes: list[str] = []
    attrs: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        where = f"第 {i + 2} 行" if path.suffix.lower() == ".xlsx" else f"第 {i + 1} 个要素"
        code = _text(row[code_col])
        if not code:
            problems.append(f"{where}: 缺少线索编号")
        elif code in seen:
            problems.append(f"{where}: 线索编号 {code} 与{seen[code]}重复")
        else:
            seen[code] = i
        item: dict[str, Any] = {}
        for ours in ("activity_type", "source", "period", "change_type", "legal_basis", "note"):
            col = mapped[ours]
            item[ours] = _text(row[col]) if col else ""
        activity = item["activity_type"] or "other"
        item["activity_type"] = activity_by_label.get(activity, activity)
        if item["activity_type"] not in rules.activity_types:
            problems.append(
                f"{where}: 活动类型“{activity}”无法识别(可选: {'、'.join(rules.activity_types.values())})"
            )
        source = item["source"]
        item["source"] = source_by_label.get(source, source)
        if item["source"] and item["source"] not in rules.sources:
            problems.append(
                f"{where}: 线索来源“{source}”无法识别(可选: {'、'.join(rules.sources.values())})"
            )
        codes.append(code)
        attrs.append(item)
        facts.append({c: _plain(row[c]) for c in columns if c not in used})
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未导入任何线索: " + "; ".join(problems[:8]),
            problems,
        )
    return ClueRecords(codes, np.asarray(geoms, dtype=object), attrs, facts)


def _read_xlsx(path: Path) -> tuple[list[str], list[dict[str, Any]], Any]:
    """Rows of the first sheet; geometry = the point at (经度, 纬度)."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputFileError(path, "无法读取为 XLSX 文件(文件损坏或不是 Excel 格式)") from exc
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header = next(values, None)
    if header is None:
        raise InputFileError(path, "工作表为空")
    columns = [_text(h) for h in header]
    lon_col, lat_col = _match(columns, "lon"), _match(columns, "lat")
    missing = [n for n, c in (("经度", lon_col), ("纬度", lat_col)) if c is None]
    if missing:
        raise InputFileError(
            path, f"缺少{'、'.join(missing)}列; 现有列: {', '.join(c for c in columns if c)}"
        )
    rows: list[dict[str, Any]] = []
    points: list[Any] = []
    problems: list[str] = []
    for n, raw in enumerate(values, start=2):
        if n > MAX_XLSX_ROWS + 1:
            raise InputFileError(path, f"行数超过上限 {MAX_XLSX_ROWS}")
        if all(v is None or _text(v) == "" for v in raw):
            continue
        row = {c: v for c, v in zip(columns, raw, strict=False) if c}
        try:
            lon, lat = float(row[lon_col]), float(row[lat_col])  # type: ignore[index]
        except (TypeError, ValueError):
            problems.append(f"第 {n} 行: 经纬度不是数字")
            continue
        rows.append(row)
        points.append(shapely.Point(lon, lat))
    book.close()
    if problems:
        raise ValidationError(f"{path.name}: " + "; ".join(problems[:8]), problems)
    return [c for c in columns if c], rows, np.asarray(points, dtype=object)
