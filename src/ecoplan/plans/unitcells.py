"""Turn the text of a unit cell into unit names.

Cells wrap long names over several lines ("各区政府\\n(含北京经济技术\\n开发区管委会)"),
separate names by line breaks, 、 , ; or spaces, mark an empty cell with "———", and
sometimes say the role inline ("市生态环境局牵头"). Fragments are joined back with the help
of the unit directory; names glued together without a separator are split by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ecoplan.units.directory import UnitDirectory, looks_like_unit_name, normalize_name

_EMPTY_MARKER = re.compile(r"^[—–\-－_~～]{2,}$|^[//无]$|^暂无$")
_SEPARATORS = re.compile(r"[、,,;;/]+")
_ROLE_SUFFIX = re.compile(
    r"^(?P<name>.+?)[((]?(?P<role>牵头|主责|负责|责任|配合|协办|参与|协助)[))]?$"
)
ROLE_WORDS = {
    "牵头": "lead",
    "主责": "responsible",
    "负责": "responsible",
    "责任": "responsible",
    "配合": "assisting",
    "协办": "assisting",
    "参与": "assisting",
    "协助": "assisting",
}


def is_empty_marker(token: str) -> bool:
    return bool(_EMPTY_MARKER.match(token.strip()))


@dataclass
class Piece:
    """A whitespace- or separator-delimited piece of a unit cell, with where it stood."""

    text: str
    line: int = 0
    col: int = 0
    blank_before: bool = False
    glued: bool = False  # came from splitting names written without any separator


@dataclass
class UnitItem:
    """One unit name (or an explicit empty-cell marker) with its layout."""

    name: str
    first_line: int = 0
    last_line: int = 0
    col: int = 0
    blank_before: bool = False
    empty_marker: bool = False
    known: bool = True
    glued: bool = False


@dataclass
class CellUnits:
    names: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _balance(text: str) -> int:
    return text.count("(") - text.count(")")


def is_unit_fragment(token: str, directory: UnitDirectory) -> bool:
    """True when ``token`` can be (part of) a unit name: known, unit-like, or a piece of one."""
    if is_empty_marker(token):
        return True
    t = normalize_name(token)
    if not t:
        return False
    if directory.is_known(t) or looks_like_unit_name(t):
        return True
    if t.startswith("(") or t.endswith(")") or _balance(t) != 0:
        return not re.search(r"[。;!?]", t)
    if len(t) >= 2 and any(
        name.startswith(t) or name.endswith(t) for name in directory.all_names()
    ):
        return True
    return directory.segment(t) is not None


def join_pieces(pieces: list[Piece], directory: UnitDirectory) -> list[UnitItem]:
    """Join fragments of names that were broken across lines or cells into whole names."""
    items: list[UnitItem] = []
    i, n = 0, len(pieces)
    while i < n:
        piece = pieces[i]
        if is_empty_marker(piece.text):
            items.append(_item("", piece, piece, empty=True))
            i += 1
            continue
        text = normalize_name(piece.text)
        if not text:
            i += 1
            continue
        if text.startswith("(") and items and not items[-1].empty_marker:
            # "(含北京经济技术开发区管委会)" qualifies the name before it.
            j = _extend_while_unbalanced(pieces, i, items[-1].name + text)
            items[-1].name += "".join(normalize_name(p.text) for p in pieces[i : j + 1])
            items[-1].last_line = pieces[j].line
            items[-1].known = directory.is_known(items[-1].name)
            i = j + 1
            continue
        known_end = _longest_known_join(pieces, i, directory)
        if known_end is not None:
            j = known_end
        else:
            j = _extend_while_unbalanced(pieces, i, text)
            joined = "".join(normalize_name(p.text) for p in pieces[i : j + 1])
            if not (directory.is_known(joined) or looks_like_unit_name(joined)):
                for k in range(j + 1, min(n, j + 3)):
                    candidate = joined + "".join(
                        normalize_name(p.text) for p in pieces[j + 1 : k + 1]
                    )
                    if directory.is_known(candidate) or looks_like_unit_name(candidate):
                        j = k
                        break
        name = "".join(normalize_name(p.text) for p in pieces[i : j + 1])
        parts = [name] if directory.is_known(name) else (directory.segment(name) or [name])
        for index, part in enumerate(parts):
            item = _item(part, pieces[i], pieces[j])
            item.known = directory.is_known(part)
            if index > 0 or piece.glued:
                item.glued = True
            items.append(item)
        i = j + 1
    return items


def _item(name: str, first: Piece, last: Piece, *, empty: bool = False) -> UnitItem:
    return UnitItem(
        name=name,
        first_line=first.line,
        last_line=last.line,
        col=first.col,
        blank_before=first.blank_before,
        empty_marker=empty,
        glued=first.glued,
    )


def _extend_while_unbalanced(pieces: list[Piece], i: int, text: str) -> int:
    j = i
    while _balance(text) > 0 and j + 1 < len(pieces):
        j += 1
        text += normalize_name(pieces[j].text)
    return j


def _longest_known_join(pieces: list[Piece], i: int, directory: UnitDirectory) -> int | None:
    for j in range(min(len(pieces), i + 4) - 1, i - 1, -1):
        if any(is_empty_marker(p.text) for p in pieces[i : j + 1]):
            continue
        if directory.is_known("".join(normalize_name(p.text) for p in pieces[i : j + 1])):
            return j
    return None


def split_unit_cell(text: str, directory: UnitDirectory) -> CellUnits:
    """Unit names in one table cell, in order, with inline roles and warnings."""
    result = CellUnits()
    pieces: list[Piece] = []
    for line_no, line in enumerate(text.splitlines()):
        for col, token in enumerate(t for t in re.split(r"\s+|" + _SEPARATORS.pattern, line) if t):
            pieces.append(Piece(token, line=line_no, col=col))
    for item in join_pieces(pieces, directory):
        if item.empty_marker:
            continue
        name = item.name
        role = None
        if not directory.is_known(name):
            match = _ROLE_SUFFIX.match(name)
            if match and directory.is_known(match.group("name")):
                name, role = match.group("name"), ROLE_WORDS[match.group("role")]
        if name in result.names:
            continue
        result.names.append(name)
        if role:
            result.roles[name] = role
        if not directory.is_known(name):
            result.warnings.append(f"单位名录中没有“{name}”")
    return result
