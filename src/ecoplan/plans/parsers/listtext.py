"""Read a plan written as a numbered list instead of a table.

Many plans are prose: "一、" sections, "(一)" tasks, "1." or "1、" measures, with the
units and deadline written into the text, either labelled ("牵头单位:市园林绿化局;
完成时限:年底前") or in a closing parenthesis ("(市园林绿化局牵头,各区政府负责,年底前
完成)"). The numbering levels present decide the structure: the deepest level is a
measure, the one above it a task, the one above that a section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ecoplan.plans.deadlines import is_deadline_token
from ecoplan.plans.parsers.assemble import ParsedPlan, RawMeasure, first_title, year_from_title
from ecoplan.plans.textnorm import join_lines, nfkc
from ecoplan.plans.unitcells import ROLE_WORDS, split_unit_cell
from ecoplan.units.directory import UnitDirectory

_CN = "一二三四五六七八九十"
# Numbering styles from the outermost to the innermost, as Chinese official documents use them.
LEVELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn", re.compile(rf"^([{_CN}]{{1,3}})[、.．]\s*(.*)$")),
    ("paren_cn", re.compile(rf"^[((]([{_CN}]{{1,3}})[))]\s*(.*)$")),
    ("arabic", re.compile(r"^(\d{1,3})(?:[、.．](?!\d)|\s)\s*(.*)$")),
    ("paren_arabic", re.compile(r"^[((](\d{1,3})[))]\s*(.*)$")),
)
_FIELD_LABELS = {
    "lead": r"牵头(?:单位|部门)",
    "responsible": r"(?:主责|责任|承办|负责|实施)(?:单位|部门)",
    "assisting": r"(?:协办|配合|参与|协同)(?:单位|部门)",
    "deadline": r"(?:完成)?(?:时限|时间|期限)|时间节点",
}
_FIELD = re.compile(
    r"[((]?\s*(?P<label>"
    + "|".join(f"(?P<{k}>{v})" for k, v in _FIELD_LABELS.items())
    + r")\s*[::]"
)
_EDGE_PUNCT = re.compile(r"^[\s;;,,。)()]+|[\s;;,,。()(]+$")
_TRAILING_PAREN = re.compile(r"[((](?P<inner>[^()()]*)[))]\s*[。;;]?\s*$")


@dataclass
class _Item:
    level: str
    number: str
    lines: list[str] = field(default_factory=list)


def parse_list(text: str, directory: UnitDirectory) -> ParsedPlan:
    """Never raises; returns an empty plan when no numbered items are found."""
    lines = [nfkc(line).strip() for line in text.replace("\r", "\n").split("\n")]
    title: str | None = None
    items: list[_Item] = []
    for line in lines:
        if not line:
            continue
        for level, pattern in LEVELS:
            match = pattern.match(line)
            if match and (match.group(2) or level != "arabic"):
                items.append(_Item(level, match.group(1), [match.group(2)]))
                break
        else:
            if items:
                items[-1].lines.append(line)
            elif title is None:
                title = first_title([line])
    present = [level for level, _ in LEVELS if any(item.level == level for item in items)]
    if not present:
        return ParsedPlan(title, year_from_title(title), [])
    measure_level = present[-1]
    task_level = present[-2] if len(present) >= 2 else None
    section_level = present[-3] if len(present) >= 3 else None
    measures: list[RawMeasure] = []
    section: tuple[str | None, str | None] = (None, None)
    task: tuple[str | None, str | None] = (None, None)
    for item in items:
        heading = join_lines(item.lines)
        if item.level == section_level:
            section, task = (item.number, heading), (None, None)
        elif item.level == task_level:
            task = (item.number, heading)
        elif item.level == measure_level:
            measures.append(_measure(item, heading, section, task, directory))
        elif measures:  # a level outside the three used: part of the last measure's text
            measures[-1].text += heading
    return ParsedPlan(title, year_from_title(title), measures)


def _measure(
    item: _Item,
    body: str,
    section: tuple[str | None, str | None],
    task: tuple[str | None, str | None],
    directory: UnitDirectory,
) -> RawMeasure:
    raw = RawMeasure(
        text=body,
        section_number=section[0],
        section_title=section[1],
        task_number=task[0],
        task_title=task[1],
        source_text="\n".join(item.lines),
    )
    units: dict[str, list[str]] = {"lead": [], "responsible": [], "assisting": []}
    text = body
    labelled = list(_FIELD.finditer(text))
    if labelled:
        for i, match in enumerate(labelled):
            end = labelled[i + 1].start() if i + 1 < len(labelled) else len(text)
            value = _EDGE_PUNCT.sub("", text[match.end() : end])
            key = next(k for k in _FIELD_LABELS if match.group(k))
            if key == "deadline":
                raw.deadline = value
            else:
                _add(units, key, value, directory)
        text = _EDGE_PUNCT.sub("", text[: labelled[0].start()])
    else:
        paren = _TRAILING_PAREN.search(text)
        if paren and _read_parenthesis(paren.group("inner"), units, raw, directory):
            text = text[: paren.start()].rstrip() + (
                "。" if text[: paren.start()].rstrip()[-1:] not in "。;;" else ""
            )
    raw.text = text
    raw.units = units
    if not any(units.values()):
        raw.confidence = 0.6
        raw.warnings.append("正文中没有写明责任单位,请核对后补充")
    return raw


def _read_parenthesis(
    inner: str, units: dict[str, list[str]], raw: RawMeasure, directory: UnitDirectory
) -> bool:
    """Read "(市园林绿化局牵头,各区政府负责,年底前完成)"; False if it is not such a note."""
    found = False
    for part in re.split(r"[,,;;]", inner):
        part = part.strip()
        if not part:
            continue
        if is_deadline_token(part) or is_deadline_token(part.removesuffix("完成")):
            raw.deadline = part
            found = True
            continue
        role = next((ROLE_WORDS[w] for w in ROLE_WORDS if part.endswith(w)), None)
        if role:
            _add(units, role, part[:-2], directory)
            found = True
    return found


def _add(units: dict[str, list[str]], role: str, value: str, directory: UnitDirectory) -> None:
    cell = split_unit_cell(value, directory)
    for name in cell.names:
        target = cell.roles.get(name, role)
        if name not in units[target]:
            units[target].append(name)
