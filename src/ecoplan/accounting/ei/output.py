"""EI results as tables: JSON (with the method's provenance), CSV and xlsx."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecoplan.accounting.ei.compute import EIResult
from ecoplan.accounting.ei.method import SUBINDEX_NAMES, SUBINDICES, Method

COLUMNS: tuple[tuple[str, str], ...] = (
    ("region_code", "区域代码"),
    ("region_name", "区域"),
    ("year", "年份"),
    *((k, SUBINDEX_NAMES[k]) for k in SUBINDICES),
    ("ei", "EI"),
    ("grade", "等级"),
    ("restriction", "环境限制"),
    ("previous_ei", "上年EI"),
    ("delta", "ΔEI"),
    ("change_grade", "变化程度"),
    ("verdict", "稳中向好"),
    ("approximation", "近似值"),
    ("method", "方法"),
)


def method_block(method: Method) -> dict[str, Any]:
    return {
        "id": method.method.id,
        "version": method.method.version,
        "standard": method.method.standard,
        "name": method.method.name,
        "sha256": method.sha256,
        "source": method.source,
        "unverified": method.unverified,
    }


def result_record(result: EIResult, method: Method) -> dict[str, Any]:
    record: dict[str, Any] = {
        "region_code": result.region_code,
        "region_name": result.region_name,
        "year": result.year,
        **{k: result.subindices[k] for k in SUBINDICES},
        "ei": result.ei,
        "grade": result.grade,
        "restriction": result.restriction_note,
        "previous_ei": result.previous_ei,
        "delta": result.delta,
        "change_grade": result.change_grade,
        "verdict": result.verdict,
        "approximation": result.approximation,
        "method": method.key,
    }
    return record


def to_json(results: Sequence[EIResult], method: Method) -> str:
    payload = {
        "method": method_block(method),
        "results": [
            {
                **result_record(r, method),
                "level": r.level,
                "area_km2": r.area_km2,
                "habitat_quality": None if math.isnan(r.habitat_quality) else r.habitat_quality,
                "ei_unrestricted": r.ei_unrestricted,
                "verdict_met": r.verdict_met,
            }
            for r in results
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def to_csv(results: Sequence[EIResult], method: Method) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([key for key, _ in COLUMNS])
    for r in results:
        record = result_record(r, method)
        writer.writerow(["" if record[k] is None else record[k] for k, _ in COLUMNS])
    return buffer.getvalue()


def write_xlsx(results: Sequence[EIResult], method: Method, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "EI"
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r in results:
        record = result_record(r, method)
        sheet.append([record[k] for k, _ in COLUMNS])
    info = book.create_sheet("方法")
    for key, value in method_block(method).items():
        info.append([key, "; ".join(value) if isinstance(value, list) else value])
    book.save(path)
