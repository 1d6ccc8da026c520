"""Recognise the header row of a plan table and map its columns.

Column names vary between plans (牵头部门 / 牵头单位, 主责单位 / 责任单位, 完成时限 /
完成时间 / 计划节点 ...); the synonyms live in ``data/headers.toml``. A header may span two
rows: a group heading ("计划节点", "责任单位") over sub-columns ("2024年", "2025年";
"牵头单位", "配合单位").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ecoplan.plans.textnorm import nfkc

COLUMN_KEYS = (
    "number", "section", "task", "measure", "deadline", "lead", "responsible", "assisting",
    "target", "remark",
)  # fmt: skip
UNIT_KEYS = ("lead", "responsible", "assisting")
_YEAR_HEADING = re.compile(r"^(20\d\d)年?(?:度)?(?:目标|计划|节点|任务)?$")


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    text = resources.files("ecoplan.plans").joinpath("data/headers.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {key: tuple(data.get(key, ())) for key in COLUMN_KEYS}


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text or ""))


@lru_cache(maxsize=8192)
def match_heading(text: str) -> str | None:
    """The column key a heading stands for, or None."""
    heading = _compact(text)
    if not heading:
        return None
    syn = synonyms()
    for key, words in syn.items():
        if heading in words:
            return key
    bare = re.sub(r"\(.*?\)", "", heading)
    for key, words in syn.items():
        if bare in words:
            return key
    best: tuple[int, str] | None = None
    for key, words in syn.items():
        for word in words:
            if len(word) >= 2 and word in heading and (best is None or len(word) > best[0]):
                best = (len(word), key)
    if best and len(heading) <= 12:
        return best[1]
    return None


def year_of_heading(text: str) -> int | None:
    match = _YEAR_HEADING.match(_compact(text))
    return int(match.group(1)) if match else None


@dataclass
class ColumnMap:
    """Which column index holds what. ``years`` maps yearly sub-columns to their year."""

    columns: dict[str, int] = field(default_factory=dict)
    years: dict[int, int] = field(default_factory=dict)
    header_rows: int = 1
    headings: list[str] = field(default_factory=list)

    def get(self, key: str) -> int | None:
        return self.columns.get(key)

    @property
    def unit_keys(self) -> list[str]:
        return [k for k in UNIT_KEYS if k in self.columns]


def _map_row(cells: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = match_heading(cell)
        if key and key not in found:
            found[key] = index
    return found


def detect_header(
    rows: Sequence[Sequence[str]], search_rows: int = 40
) -> tuple[int, ColumnMap] | None:
    """Find the header row among the first ``search_rows`` rows.

    A header names the measure column and at least two other known columns. Returns the
    row index and the column map, or None when no row qualifies.
    """
    for index, row in enumerate(rows[:search_rows]):
        found = _map_row(row)
        if "measure" not in found and "task" in found and len(found) >= 3:
            # Plans whose only text column is called 任务 / 重点任务.
            found["measure"] = found.pop("task")
        if "measure" not in found or len(found) < 3:
            continue
        cmap = ColumnMap(columns=found, headings=[_compact(c) for c in row])
        if index + 1 < len(rows):
            _merge_sub_header(cmap, rows[index + 1])
        return index, cmap
    return None


def _merge_sub_header(cmap: ColumnMap, sub: Sequence[str]) -> None:
    """Fold a second header row (years, or 牵头/配合 under 责任单位) into ``cmap``."""
    years = {i: y for i, cell in enumerate(sub) if (y := year_of_heading(cell))}
    keyed = {i: k for i, cell in enumerate(sub) if (k := match_heading(cell))}
    filled = [c for c in sub if _compact(c)]
    if not filled or len(years) + len(keyed) < len(filled):
        return  # the next row has other text: it is data, not a sub-header
    cmap.header_rows = 2
    cmap.years = years
    for index, key in keyed.items():
        # A sub-heading is more specific than the group heading above it.
        for k, i in list(cmap.columns.items()):
            if i == index and k != key:
                del cmap.columns[k]
        cmap.columns[key] = index
    if years and "deadline" in cmap.columns and cmap.columns["deadline"] in years:
        del cmap.columns["deadline"]


def is_header_row(row: Sequence[str], cmap: ColumnMap) -> bool:
    """True for a repeat of the header (multi-page tables repeat it on every page)."""
    found = _map_row(row)
    return (
        len(found) >= 3
        and "measure" in found
        or (len(found) >= 3 and set(found) <= set(cmap.columns))
    )
