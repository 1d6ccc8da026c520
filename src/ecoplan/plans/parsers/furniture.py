"""Page furniture in text extracted from a PDF: page numbers, repeated headers, rules.

A PDF's text layer mixes the table with what the typesetter put around it: page numbers
framed by dashes ("—\\n94\\n—", often with reversed digits), a dash glued to the last
cell of a page ("市规划自然资源委—"), the header row repeated on every page and
"附件5" above the title. :func:`clean_lines` removes them and tells where pages break.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ecoplan.plans.textnorm import nfkc

_SINGLE_DASH = re.compile(r"^[—–\-－]$")
_PAGE_NUMBER = re.compile(r"^\d{1,3}$")
_FRAMED_PAGE_NUMBER = re.compile(
    r"^[—–\-－]\s*\d{1,3}\s*[—–\-－]$|^第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?$|^\d{1,3}\s*/\s*\d{1,3}$"
)
_GLUED_DASH = re.compile(r"(?<![—–\-－])\s*[—–\-－]$")
_ANNEX = re.compile(r"^附\s*件\s*\d*\s*[::]?$")


@dataclass
class Line:
    """A line of the body with the page it is on (1-based) and its position."""

    text: str
    page: int
    index: int
    header: bool = False


def _is_furniture(lines: list[str], i: int) -> bool:
    text = lines[i].strip()
    if _SINGLE_DASH.match(text) or _FRAMED_PAGE_NUMBER.match(text):
        return True
    if _PAGE_NUMBER.match(text):
        # A bare number is a page number only when framed by single dashes; otherwise it
        # is a task number in the 序号 column.
        return _neighbour_is_dash(lines, i, -1) or _neighbour_is_dash(lines, i, 1)
    return False


def _neighbour_is_dash(lines: list[str], i: int, step: int) -> bool:
    j = i + step
    while 0 <= j < len(lines) and not lines[j].strip():
        j += step
    return 0 <= j < len(lines) and bool(_SINGLE_DASH.match(lines[j].strip()))


def clean_lines(text: str, is_header: Callable[[str], bool]) -> tuple[list[Line], list[int]]:
    """Body lines without furniture (blank lines kept as ""), and indexes where pages end.

    The first header line is kept (flagged ``header``); its repeats on later pages are
    dropped and count as page breaks. The second value lists positions in the returned
    list before which a page break was seen, so that parsers can tell a task continued on
    the next page.
    """
    raw = [
        nfkc(line).rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    headers = [bool(line.strip()) and is_header(line) for line in raw]
    furniture = [h or _is_furniture(raw, i) for i, h in enumerate(headers)]
    seen_header = False
    out: list[Line] = []
    breaks: list[int] = []
    page = 1
    pending_break = False
    for i, line in enumerate(raw):
        if headers[i] and not seen_header:
            seen_header = True
            out.append(Line(line.strip(), page, i, header=True))
            continue
        if furniture[i]:
            pending_break = True
            continue
        stripped = line.strip()
        if not stripped:
            out.append(Line("", page, i))
            continue
        if _ANNEX.match(stripped):
            continue
        if _GLUED_DASH.search(stripped) and _next_content_is_furniture(raw, furniture, i):
            stripped = _GLUED_DASH.sub("", stripped)
        if pending_break:
            page += 1
            breaks.append(len(out))
            pending_break = False
        out.append(Line(stripped, page, i))
    return out, breaks


def _next_content_is_furniture(raw: list[str], furniture: list[bool], i: int) -> bool:
    j = i + 1
    while j < len(raw) and not raw[j].strip():
        j += 1
    return j >= len(raw) or furniture[j]
