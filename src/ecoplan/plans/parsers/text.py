"""Read a plan table from text extracted from a PDF (``pdftotext``, copy-paste, OCR).

The text layer of a table keeps the reading order of the cells but not the grid: each
row comes out as the 序号, then the task title broken over short lines, the measure text,
the deadline and the unit names, cell after cell. This parser walks the lines with a small
state machine:

``TITLE``  short lines after a task number are the task title;
``TEXT``   other lines are measure text, until a line ends in a deadline phrase
           (optionally followed by unit names on the same line);
``UNITS``  lines made only of unit names (or "———") belong to the unit columns; the
           first line that is not a unit name starts the next measure.

Which unit column a name sat in is then inferred by :mod:`ecoplan.plans.columns`, which
gives the most probable reading and its probability. The parser never raises on any
input: what it cannot read becomes a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from ecoplan.plans.columns import AMBIGUOUS_COLUMNS, assign_columns, describe
from ecoplan.plans.deadlines import find_deadline_prefix, is_deadline_token
from ecoplan.plans.headers import ColumnMap, detect_header
from ecoplan.plans.parsers.assemble import ParsedPlan, RawMeasure, first_title, year_from_title
from ecoplan.plans.parsers.furniture import Line, clean_lines
from ecoplan.plans.unitcells import Piece, is_empty_marker, is_unit_fragment, join_pieces
from ecoplan.units.directory import UnitDirectory, looks_like_unit_name

_SECTION = re.compile(
    r"^(?:第?([一二三四五六七八九十]{1,3})[、.．]|第([一二三四五六七八九十]{1,3})部分)\s*(\S.*)$"
)
_TASK_NUMBER = re.compile(r"^(\d{1,3})[、.．]?(?:\s+(.*))?$")
_SENTENCE = re.compile(r"[。,,;;::!?]")
_TITLE_MAX = 10  # the 重点任务 column is narrow: its lines are short
_CLAUSE_END = re.compile(r"[。;;!?]")


class State(Enum):
    TITLE = "title"
    TEXT = "text"
    UNITS = "units"


@dataclass
class _Open:
    """The measure being read."""

    section: tuple[str | None, str | None]
    task: tuple[str | None, str | None]
    text: list[str] = field(default_factory=list)
    deadline: str | None = None
    pieces: list[Piece] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    source: list[str] = field(default_factory=list)


def header_columns(line: str) -> ColumnMap | None:
    """The column map when ``line`` is a table header written on one line."""
    found = detect_header([line.split()], search_rows=1)
    return found[1] if found else None


def is_header_line(line: str) -> bool:
    return header_columns(line) is not None


class TextTableParser:
    """State machine over the lines of one text-layer table (see the module docstring)."""

    def __init__(self, directory: UnitDirectory) -> None:
        self.directory = directory

    def parse(self, text: str) -> ParsedPlan | None:
        """The plan, or None when the text has no table header (try the list parser)."""
        lines, breaks = clean_lines(text, is_header_line)
        header_at = next((i for i, line in enumerate(lines) if line.header), None)
        if header_at is None:
            return None
        cmap = header_columns(lines[header_at].text)
        if cmap is None:
            return None
        title = first_title(line.text for line in lines[:header_at])
        self.cmap = cmap
        self.unit_keys = sorted(cmap.unit_keys, key=lambda k: cmap.columns[k])
        self.has_task_column = "task" in cmap.columns
        self.has_deadline = "deadline" in cmap.columns or bool(cmap.years)
        self.measures: list[RawMeasure] = []
        self.warnings: list[str] = []
        self.section: tuple[str | None, str | None] = (None, None)
        self.task: tuple[str | None, str | None] = (None, None)
        self.task_number = 0
        self.title_parts: list[str] = []
        self.skip_title = False
        self.current: _Open | None = None
        self.state = State.TEXT
        self.blank = False
        break_set = set(breaks)
        self.after_break = False
        for index in range(header_at + 1, len(lines)):
            if index in break_set:
                self.after_break = True
            self._line(lines[index])
        self._close()
        if not self.unit_keys:
            self.warnings.append("表头中没有牵头/主责/协办单位列")
        return ParsedPlan(title, year_from_title(title), self.measures, self.warnings)

    # -- one line ---------------------------------------------------------------------
    def _line(self, line: Line) -> None:
        text = line.text
        if not text:
            self.blank = True
            return
        blank_before, self.blank = self.blank, False
        after_break, self.after_break = self.after_break, False
        section = _SECTION.match(text)
        if section and not self._tail_split(text.split()) and len(text) <= 40:
            self._close()
            self.section = (section.group(1) or section.group(2), section.group(3).strip())
            self.state = State.TEXT
            return
        number = _TASK_NUMBER.match(text)
        if number:
            n = int(number.group(1))
            if n == self.task_number + 1 or (n == self.task_number and after_break):
                self._start_task(n, continued=(n == self.task_number))
                rest = number.group(2)
                if rest:
                    self._content(rest, line, blank_before=False)
                return
        self._content(text, line, blank_before=blank_before)

    def _start_task(self, n: int, *, continued: bool) -> None:
        self._close()
        if not continued:
            self.task_number = n
            self.task = (str(n), None)
            self.title_parts = []
        self.skip_title = continued
        self.state = State.TITLE if self.has_task_column else State.TEXT

    def _content(self, text: str, line: Line, *, blank_before: bool) -> None:
        tokens = _split_glued(text.split(), self.directory)
        if self.state is State.TITLE:
            while (
                tokens
                and _is_title_fragment(tokens[0])
                and (len(tokens) > 1 or self._title_line(text))
            ):
                if not self.skip_title:
                    self.title_parts.append(tokens[0])
                    self.task = (self.task[0], "".join(self.title_parts))
                tokens = tokens[1:]
            if not tokens:
                return
            self.state = State.TEXT
        if self.state is State.UNITS:
            if tokens and all(self._unit_token(t) for t in tokens):
                self._add_units(tokens, line, blank_before=blank_before)
                return
            self._close()
            self.state = State.TEXT
        # TEXT: a measure's text, possibly ending in its deadline and first unit names.
        if self.current is None:
            self.current = _Open(self.section, self.task)
        self.current.pages.append(line.page)
        self.current.source.append(line.text)
        split = self._tail_split(tokens)
        if split is None:
            self.current.text.append(" ".join(tokens))
            return
        text_tokens, deadline, unit_tokens = split
        if text_tokens:
            self.current.text.append(" ".join(text_tokens))
        self.current.deadline = deadline
        self.state = State.UNITS
        if unit_tokens:
            self._add_units(unit_tokens, line, blank_before=False, record=False)

    def _title_line(self, text: str) -> bool:
        """A whole line short enough to be a fragment of the task title."""
        return len(text.replace(" ", "")) <= _TITLE_MAX

    def _unit_token(self, token: str) -> bool:
        return is_empty_marker(token) or (
            len(token) <= 30 and is_unit_fragment(token, self.directory)
        )

    def _tail_split(self, tokens: list[str]) -> tuple[list[str], str | None, list[str]] | None:
        """Split a line into text, deadline and unit tokens, or None if it is all text."""
        if self.has_deadline:
            for d in range(len(tokens) - 1, -1, -1):
                if is_deadline_token(tokens[d]) and all(
                    self._unit_token(t) for t in tokens[d + 1 :]
                ):
                    if d > 0 and not _ends_clause(tokens[d - 1]):
                        continue
                    return tokens[:d], tokens[d], tokens[d + 1 :]
            return None
        # No deadline column: the text ends where whole unit names start.
        for k in range(1, len(tokens)):
            rest = tokens[k:]
            if _ends_clause(tokens[k - 1]) and all(
                is_empty_marker(t) or self.directory.is_known(t) or looks_like_unit_name(t)
                for t in rest
            ):
                return tokens[:k], None, rest
        return None

    def _add_units(
        self, tokens: list[str], line: Line, *, blank_before: bool, record: bool = True
    ) -> None:
        assert self.current is not None
        if record:
            self.current.source.append(line.text)
            self.current.pages.append(line.page)
        for col, token in enumerate(tokens):
            self.current.pieces.append(
                Piece(token, line=line.index, col=col, blank_before=blank_before and col == 0)
            )

    # -- closing a measure ------------------------------------------------------------
    def _close(self) -> None:
        current, self.current = self.current, None
        if current is None:
            return
        text = "".join(current.text).strip()
        if not text and not current.pieces:
            return
        raw = RawMeasure(
            text=text,
            section_number=current.section[0],
            section_title=current.section[1],
            task_number=current.task[0],
            task_title=current.task[1],
            deadline=current.deadline,
            pages=current.pages,
            source_text="\n".join(current.source),
        )
        if self.has_deadline and current.deadline is None:
            raw.warnings.append("未识别到完成时限")
        items = join_pieces(current.pieces, self.directory)
        if self.unit_keys:
            assignment = assign_columns(items, self.unit_keys, self.directory)
            raw.units = assignment.best.columns
            raw.confidence = assignment.probability
            names = [it for it in items if not it.empty_marker]
            if assignment.relaxed:
                raw.warnings.append("单位名称与表格列数不一致,已按顺序放入单位列")
            if names and assignment.probability < 0.8:
                runner = assignment.runner_up
                message = (
                    f"PDF文本层未保留单位所在的列,{AMBIGUOUS_COLUMNS}(可信度{assignment.probability:.2f});"
                    f"采用:{describe(assignment.best.columns)}"
                )
                if runner is not None:
                    message += f";次选(可信度{runner.probability:.2f}):{describe(runner.columns)}"
                raw.warnings.append(message)
        if not text:
            raw.warnings.append("措施内容为空")
            raw.confidence = min(raw.confidence, 0.5)
        self.measures.append(raw)


def _is_title_fragment(token: str) -> bool:
    return len(token) <= _TITLE_MAX and not _SENTENCE.search(token) and not is_deadline_token(token)


def _ends_clause(token: str) -> bool:
    """Text before a deadline ends a sentence or at least a CJK word (not mid-number)."""
    return bool(token) and not token[-1].isdigit()


def _split_glued(tokens: list[str], directory: UnitDirectory) -> list[str]:
    """Split "…修复。年底前市水务局" (cells glued without spaces) into its cells.

    A deadline phrase is cut out of a token only where it follows the end of a sentence
    (or starts the token) and what follows it is empty or reads as unit names.
    """
    out: list[str] = []
    for token in tokens:
        starts = [0] + [m.end() for m in _CLAUSE_END.finditer(token)]
        for start in starts:
            deadline = find_deadline_prefix(token[start:])
            if not deadline or (start == 0 and deadline == token):
                continue
            rest = token[start + len(deadline) :]
            if rest and directory.segment(rest) is None:
                continue
            if start:
                out.append(token[:start])
            out.append(deadline)
            if rest:
                out.append(rest)
            break
        else:
            out.append(token)
    return out
