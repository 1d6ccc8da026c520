"""Read a plan from table rows: XLSX sheets, CSV, DOCX tables, PDF tables, tabbed text.

Every tabular format is reduced to rows of cell strings (merged cells give "" below their
first row) with the page each row is on. :func:`parse_rows` finds the header row by its
column names (see :mod:`ecoplan.plans.headers`), then reads section rows, task numbers
that fill down, rows a page break split in two, yearly sub-columns and unit cells.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from ecoplan.plans.document import ROLES
from ecoplan.plans.headers import ColumnMap, detect_header, is_header_row
from ecoplan.plans.parsers.assemble import (
    ParsedPlan,
    RawMeasure,
    bare_number,
    first_title,
    year_from_title,
)
from ecoplan.plans.textnorm import clean_cell, join_lines
from ecoplan.plans.unitcells import is_empty_marker, split_unit_cell
from ecoplan.units.directory import UnitDirectory

_SECTION_LABEL = re.compile(
    r"^(?:第?([一二三四五六七八九十]{1,3})[、.．]|第([一二三四五六七八九十]{1,3})部分|([一二三四五六七八九十]{1,3})\s)\s*(\S.*)$"
)
_TERMINAL = ("。", ";", ";", "!", ")", "”")


def delimited_rows(text: str) -> list[list[str]] | None:
    """Rows of a tab- or pipe-separated text table, or None when the text is not one."""
    lines = [line for line in text.splitlines() if line.strip()]
    for sep in ("\t", "|"):
        split = [
            line.strip().strip("|").split(sep) if sep == "|" else line.split(sep) for line in lines
        ]
        multi = [row for row in split if len(row) >= 3]
        if len(multi) >= 2 and len(multi) >= 0.6 * len(lines):
            return [[cell.strip() for cell in row] for row in split]
    return None


def parse_csv(text: str, name: str, directory: UnitDirectory) -> ParsedPlan:
    from ecoplan.errors import InputFileError

    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel()  # type: ignore[assignment]
    rows = [list(row) for row in csv.reader(io.StringIO(text), dialect)]
    parsed = parse_rows(rows, directory)
    if parsed is None:
        raise InputFileError(
            name, "找不到表头:需要“工作措施”(或“重点任务”)及完成时限、牵头部门等列名"
        )
    return parsed


def parse_rows(
    rows: Sequence[Sequence[object]],
    directory: UnitDirectory,
    *,
    pages: Sequence[int] | None = None,
    title: str | None = None,
) -> ParsedPlan | None:
    """The plan in ``rows``, or None when no header row can be found."""
    cells = [[clean_cell(None if c is None else str(c)) for c in row] for row in rows]
    found = detect_header(cells)
    if found is None:
        return None
    header_at, cmap = found
    title = title or first_title(cell for row in cells[:header_at] for cell in row)
    reader = _RowReader(cmap, directory, pages)
    for index in range(header_at + cmap.header_rows, len(cells)):
        row = cells[index]
        if is_header_row(row, cmap):
            continue
        reader.row(row, index)
    warnings = list(reader.warnings)
    if "responsible" not in cmap.columns and (
        "lead" in cmap.columns or "assisting" in cmap.columns
    ):
        warnings.append("表格没有主责单位列:主责单位留空,请在核对时补充")
    return ParsedPlan(title, year_from_title(title), reader.measures, warnings)


class _RowReader:
    def __init__(
        self, cmap: ColumnMap, directory: UnitDirectory, pages: Sequence[int] | None
    ) -> None:
        self.cmap = cmap
        self.directory = directory
        self.pages = pages
        self.measures: list[RawMeasure] = []
        self.warnings: list[str] = []
        self.section: tuple[str | None, str | None] = (None, None)
        self.task: tuple[str | None, str | None] = (None, None)
        self.last_page: int | None = None

    def _cell(self, row: Sequence[str], key: str) -> str:
        index = self.cmap.get(key)
        return row[index] if index is not None and index < len(row) else ""

    def row(self, row: Sequence[str], index: int) -> None:
        page = self.pages[index] if self.pages is not None else None
        new_page = page is not None and self.last_page is not None and page != self.last_page
        self.last_page = page
        filled = [c for c in row if c]
        if not filled:
            return
        measure_text = join_lines(self._cell(row, "measure"))
        number = self._cell(row, "number")
        task_title = join_lines(self._cell(row, "task"))
        units_text = "".join(self._cell(row, k) for k in ROLES)
        if self._is_section_row(row, measure_text, units_text):
            label = join_lines(filled[0])
            match = _SECTION_LABEL.match(label)
            if match:
                self.section = (
                    match.group(1) or match.group(2) or match.group(3),
                    match.group(4).strip(),
                )
            else:
                self.section = (None, label)
            self.task = (None, None)
            return
        if "section" in self.cmap.columns:
            section_cell = join_lines(self._cell(row, "section"))
            if section_cell and section_cell != self.section[1]:
                self.section = (None, section_cell)
        if not measure_text and not units_text:
            if number or task_title:  # a task row without measures of its own
                self._new_task(number, task_title)
            return
        continued = (
            new_page
            and not number
            and not task_title
            and self.measures
            and not self.measures[-1].text.endswith(_TERMINAL)
        )
        if continued:
            self._continue(self.measures[-1], row, measure_text, page)
            return
        if number and (bare_number(number) or number) != self.task[0]:
            self._new_task(number, task_title)
        elif task_title and task_title != self.task[1]:
            self._new_task(None, task_title)
        elif self.task == (None, None):
            self._new_task(None, None)
        self.measures.append(self._measure(row, measure_text, page))

    def _is_section_row(self, row: Sequence[str], measure_text: str, units_text: str) -> bool:
        distinct = {c for c in row if c}
        if len(distinct) != 1 or units_text.strip():
            return False
        value = join_lines(next(iter(distinct)))
        if _SECTION_LABEL.match(value):
            return True
        # A one-cell row spanning the table (merged), with no measure: a section heading,
        # unless it is just a number.
        return (
            not measure_text
            and bare_number(value) is None
            and len(row) > 1
            and (
                row.count(next(iter(distinct))) > 1
                or self._cell(row, "number") == next(iter(distinct))
            )
        )

    def _new_task(self, number: str | None, title: str | None) -> None:
        label = bare_number(number) or (number or None)
        self.task = (label, title or None)

    def _measure(self, row: Sequence[str], text: str, page: int | None) -> RawMeasure:
        raw = RawMeasure(
            text=text,
            section_number=self.section[0],
            section_title=self.section[1],
            task_number=self.task[0],
            task_title=self.task[1],
            deadline=self._deadline(row),
            extra_target_text=self._cell(row, "target"),
            pages=[page] if page else [],
            source_text=" | ".join(c for c in row if c),
        )
        self._units(raw, row)
        return raw

    def _continue(self, raw: RawMeasure, row: Sequence[str], text: str, page: int | None) -> None:
        """A row split by a page break: append its text and units to the previous measure."""
        raw.text += text
        if page:
            raw.pages.append(page)
        if not raw.deadline:
            raw.deadline = self._deadline(row)
        extra = RawMeasure(text="")
        self._units(extra, row)
        for role, names in extra.units.items():
            raw.units.setdefault(role, [])
            raw.units[role] += [n for n in names if n not in raw.units[role]]
        raw.source_text += "\n" + " | ".join(c for c in row if c)

    def _deadline(self, row: Sequence[str]) -> str | None:
        if self.cmap.years:
            parts = []
            for index, year in sorted(self.cmap.years.items(), key=lambda kv: kv[1]):
                value = join_lines(row[index]) if index < len(row) else ""
                if value and not is_empty_marker(value):
                    parts.append(f"{year}年:{value}")
            return ";".join(parts) or None
        value = join_lines(self._cell(row, "deadline"))
        return value or None

    def _units(self, raw: RawMeasure, row: Sequence[str]) -> None:
        units: dict[str, list[str]] = {role: [] for role in ROLES}
        for role in self.cmap.unit_keys:
            cell = split_unit_cell(self._cell(row, role), self.directory)
            for name in cell.names:
                target = cell.roles.get(name, role)
                if name not in units[target]:
                    units[target].append(name)
        raw.units = units
