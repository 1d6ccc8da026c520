"""The EI indicator table (docs/ei.md, shared schema ``ei-indicators.md``): read and check it.

One row per region and year; areas in km², lengths in km, emissions in t/yr, precipitation
in mm/yr. Every problem is reported with its row and column, and nothing is computed from a
table that has any.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd

from ecoplan.accounting.ei.method import Method
from ecoplan.errors import InputFileError, ValidationError

ID_COLUMNS: Final = ("region_code", "region_name", "year")
OTHER_REQUIRED: Final = (
    "area_km2",
    "ndvi_mean",
    "river_length_km",
    "water_area_km2",
    "water_resources_1e6m3",
    "erosion_severe_km2",
    "erosion_moderate_km2",
    "stress_other_km2",
    "precip_mm",
    "restriction_level",
)
OPTIONAL: Final = ("water_resources_mean_1e6m3", "bi")
LEVEL_COLUMN: Final = "region_level"
LAND_SUM_TOLERANCE: Final = 1.02  # land classes may exceed A by rounding, not by 2 %


@dataclass(frozen=True)
class IndicatorRow:
    """One region-year of inputs; ``values`` holds every numeric column (None when empty)."""

    region_code: str
    region_name: str
    year: int
    level: str
    values: dict[str, float | None]

    def get(self, column: str) -> float:
        value = self.values.get(column)
        return 0.0 if value is None else value


def required_columns(method: Method) -> list[str]:
    pollution = [t.column for t in method.pollution_load.terms]
    stress = list(method.land_stress.terms)
    extra = [c for c in (*pollution, *stress) if c not in OTHER_REQUIRED]
    return [*ID_COLUMNS, *OTHER_REQUIRED, *method.land_columns(), *extra]


def infer_level(code: str) -> str:
    """city for xx0000 codes, district for other 6-digit codes, zone otherwise (e.g. 经开区)."""
    if len(code) == 6 and code.isdigit():
        return "city" if code.endswith("0000") else "district"
    return "zone"


def read_table(path: Path, method: Method) -> list[IndicatorRow]:
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            frame = pd.read_excel(path, dtype=str)
        else:
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (
        ValueError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        OSError,
        zipfile.BadZipFile,
    ) as exc:
        raise InputFileError(path, f"无法读取指标表: {exc}") from exc
    return rows_from_frame(frame, method, source=path.name)


def rows_from_frame(
    frame: pd.DataFrame, method: Method, *, source: str = "指标表"
) -> list[IndicatorRow]:
    frame = frame.rename(columns=lambda c: str(c).strip())
    if frame.empty:
        raise ValidationError(f"{source}: 表中没有数据行")
    required = required_columns(method)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValidationError(f"{source}: 缺少列 {', '.join(missing)}", missing)
    numeric = [c for c in required if c not in ID_COLUMNS] + [
        c for c in OPTIONAL if c in frame.columns
    ]
    problems: list[str] = []
    rows: list[IndicatorRow] = []
    seen: set[tuple[str, int]] = set()
    for index, record in enumerate(frame.to_dict("records")):
        line = index + 2  # header is line 1
        code = _text(record.get("region_code"))
        name = _text(record.get("region_name"))
        year_text = _text(record.get("year"))
        if not code:
            problems.append(f"第 {line} 行: region_code 为空")
            continue
        try:
            year = int(float(year_text))
        except ValueError:
            problems.append(f"第 {line} 行: year “{year_text}” 不是年份")
            continue
        if (code, year) in seen:
            problems.append(f"第 {line} 行: {code} {year} 年重复")
        seen.add((code, year))
        values: dict[str, float | None] = {}
        for column in numeric:
            raw = _text(record.get(column))
            if not raw:
                if column not in OPTIONAL:
                    problems.append(f"第 {line} 行({name}): {column} 为空")
                values[column] = None
                continue
            try:
                number = float(raw)
            except ValueError:
                problems.append(f"第 {line} 行({name}): {column} “{raw}” 不是数字")
                continue
            if not math.isfinite(number) or number < 0:
                problems.append(f"第 {line} 行({name}): {column} 为 {raw}，不能为负数或非有限值")
                continue
            values[column] = number
        area = values.get("area_km2")
        if area is not None and area == 0:
            problems.append(f"第 {line} 行({name}): 区域面积 area_km2 为 0")
        elif area:
            land = sum(values.get(c) or 0.0 for c in method.land_columns())
            if land > area * LAND_SUM_TOLERANCE:
                problems.append(
                    f"第 {line} 行({name}): 各地类面积之和 {land:.2f} km² 超过区域面积 {area:.2f} km²"
                )
        level = _text(record.get(LEVEL_COLUMN)) or infer_level(code)
        rows.append(IndicatorRow(code, name or code, year, level, values))
    if problems:
        raise ValidationError(
            f"{source}: {len(problems)} 处错误; " + "; ".join(problems[:5]), problems
        )
    return rows


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()
