"""Excel workbooks (openpyxl): every sheet with a recognisable header row is read.

Merged cells keep their value in the top-left cell only, which is what the row reader
expects (an empty 序号 below a merged one continues the same task). A sheet named
``_ecoplan`` is EcoPlan's own export metadata and is skipped.
"""

from __future__ import annotations

import io
import zipfile

from ecoplan.errors import InputFileError
from ecoplan.plans.parsers.assemble import ParsedPlan
from ecoplan.plans.parsers.tables import parse_rows
from ecoplan.units.directory import UnitDirectory

EXPORT_META_SHEET = "_ecoplan"


def read_workbook_rows(data: bytes, name: str) -> list[tuple[str, list[list[object]]]]:
    """(sheet title, rows of values) for every visible data sheet."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=False, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputFileError(name, f"Excel文件已损坏,无法打开({type(exc).__name__})") from None
    except Exception as exc:  # openpyxl raises assorted errors on malformed XML
        raise InputFileError(name, f"Excel文件无法解析({type(exc).__name__})") from None
    sheets = []
    for sheet in workbook.worksheets:
        if sheet.title == EXPORT_META_SHEET:
            continue
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        sheets.append((sheet.title, rows))
    return sheets


def parse_xlsx(data: bytes, name: str, directory: UnitDirectory) -> ParsedPlan:
    sheets = read_workbook_rows(data, name)
    result: ParsedPlan | None = None
    for title, rows in sheets:
        parsed = parse_rows(rows, directory)
        if parsed is None or not parsed.measures:
            continue
        if result is None:
            result = parsed
            if not result.title:
                result.title = title if title and not title.lower().startswith("sheet") else None
        else:  # further sheets continue the plan (one sheet per section is common)
            result.measures += parsed.measures
            result.warnings += parsed.warnings
    if result is None:
        raise InputFileError(
            name, "没有找到可识别的表头(需要“工作措施”或“重点任务”及完成时限、牵头部门等列名)"
        )
    return result
