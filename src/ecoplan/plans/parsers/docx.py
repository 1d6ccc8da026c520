"""Word documents (python-docx): the plan table(s) and the title above them.

python-docx repeats a vertically merged cell on every row it covers; the repeats are
blanked (same underlying ``<w:tc>`` as the cell above) so that the row reader sees a merged
序号 / 重点任务 / 牵头部门 as one value followed by empty cells. Horizontally merged cells
(a section heading spanning the table) come back once per grid column; only the first
is kept.
"""

from __future__ import annotations

import io
import zipfile

from ecoplan.errors import InputFileError
from ecoplan.plans.parsers.assemble import ParsedPlan, first_title
from ecoplan.plans.parsers.tables import parse_rows
from ecoplan.units.directory import UnitDirectory


def _open(data: bytes, name: str):  # type: ignore[no-untyped-def]
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputFileError(name, f"Word文件已损坏,无法打开({type(exc).__name__})") from None
    except Exception as exc:  # lxml and python-docx raise assorted errors on bad XML
        raise InputFileError(name, f"Word文件无法解析({type(exc).__name__})") from None


def table_rows(table) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rows: list[list[str]] = []
    above: list[object] = []
    for row in table.rows:
        cells = list(row.cells)
        texts: list[str] = []
        for index, cell in enumerate(cells):
            same_as_above = index < len(above) and above[index] is cell._tc
            same_as_left = index > 0 and cells[index - 1]._tc is cell._tc
            texts.append("" if same_as_above or same_as_left else cell.text)
        above = [cell._tc for cell in cells]
        rows.append(texts)
    return rows


def parse_docx(data: bytes, name: str, directory: UnitDirectory) -> ParsedPlan:
    document = _open(data, name)
    if not document.tables:
        raise InputFileError(name, "Word文件中没有表格(本导入器读取计划表格)")
    title = first_title(p.text for p in document.paragraphs)
    rows: list[list[str]] = []
    for table in document.tables:
        rows += table_rows(table)
    parsed = parse_rows(rows, directory, title=title)
    if parsed is None:
        raise InputFileError(
            name, "Word表格中没有可识别的表头(需要“工作措施”或“重点任务”及完成时限、牵头部门等列名)"
        )
    return parsed
