"""Assign the unit names of a text-layer measure to the table's unit columns.

A PDF text layer lists the names of the 牵头部门 / 主责单位 / 协办单位 cells one after the
other; which column a name sat in is often lost. This module enumerates every way of
cutting the sequence into the columns, scores each with the layout and wording evidence
weighted in ``data/columns.toml``, and returns the most probable reading with its
probability and the runner-up, so that an ambiguous measure can be flagged, never guessed
silently.

Hard evidence: two names on one line separated by a space sat in different cells, and an
explicit empty marker ("———") fills a cell on its own.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from ecoplan.plans.document import ROLE_LABELS
from ecoplan.plans.unitcells import UnitItem
from ecoplan.units.directory import UnitDirectory

# Marks the warning of a measure whose unit columns were inferred with low probability;
# the review queue lists it and a hand edit of the units clears it.
AMBIGUOUS_COLUMNS = "单位归属不确定"


@dataclass(frozen=True)
class Weights:
    continuation_same_cell: float
    continuation_level_change: float
    blank_line_new_cell: float
    mixed_levels_in_cell: float
    district_in_lead: float
    district_in_responsible: float
    marker_in_last_column: float
    unmarked_empty: dict[str, float]
    version: str


@lru_cache(maxsize=1)
def weights() -> Weights:
    text = resources.files("ecoplan.plans").joinpath("data/columns.toml").read_text("utf-8")
    data = tomllib.loads(text)
    w = dict(data["weights"])
    empty = w.pop("unmarked_empty")
    return Weights(**w, unmarked_empty=dict(empty), version=str(data["version"]))


@dataclass
class Reading:
    columns: dict[str, list[str]]
    score: float
    probability: float = 0.0


@dataclass
class ColumnAssignment:
    best: Reading
    runner_up: Reading | None
    candidates: int
    relaxed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def probability(self) -> float:
        return self.best.probability


def describe(columns: dict[str, list[str]]) -> str:
    parts = []
    for key, names in columns.items():
        parts.append(f"{ROLE_LABELS.get(key, key)}={'、'.join(names) if names else '空'}")
    return ";".join(parts)


def assign_columns(
    items: Sequence[UnitItem], keys: Sequence[str], directory: UnitDirectory
) -> ColumnAssignment:
    """Most probable split of ``items`` (in document order) into the columns ``keys``."""
    w = weights()
    n, k = len(items), len(keys)
    if k == 0:
        return ColumnAssignment(Reading({}, 0.0, 1.0), None, 1)
    if k == 1:
        names = [it.name for it in items if not it.empty_marker]
        return ColumnAssignment(Reading({keys[0]: names}, 0.0, 1.0), None, 1)
    levels = [None if it.empty_marker else directory.level(it.name) for it in items]

    def feasible(cols: list[int], strict: bool) -> bool:
        for i in range(1, n):
            if strict and _same_line(items[i - 1], items[i]) and cols[i] == cols[i - 1]:
                return False
        for c in range(k):
            members = [i for i in range(n) if cols[i] == c]
            if any(items[i].empty_marker for i in members) and len(members) > 1:
                return False
        return True

    def score(cols: list[int]) -> float:
        total = 0.0
        for i in range(1, n):
            a, b = items[i - 1], items[i]
            if _same_line(a, b):
                continue
            if b.first_line == a.last_line + 1 and not b.blank_before and cols[i] == cols[i - 1]:
                same_level = levels[i - 1] == levels[i] or "unknown" in (levels[i - 1], levels[i])
                total += w.continuation_same_cell if same_level else w.continuation_level_change
            if b.blank_before and cols[i] != cols[i - 1]:
                total += w.blank_line_new_cell
        for c, key in enumerate(keys):
            members = [i for i in range(n) if cols[i] == c]
            if not members:
                total -= w.unmarked_empty.get(key, 1.0)
                continue
            if any(items[i].empty_marker for i in members):
                if c == k - 1:
                    total += w.marker_in_last_column
                continue
            member_levels = {levels[i] for i in members} - {"unknown", None}
            if len(member_levels) > 1:
                total -= w.mixed_levels_in_cell
            if member_levels == {"district"}:
                if key == "lead":
                    total -= w.district_in_lead
                elif key == "responsible":
                    total += w.district_in_responsible
        return total

    readings: list[Reading] = []
    relaxed = False
    for strict in (True, False):
        for cuts in itertools.combinations_with_replacement(range(n + 1), k - 1):
            bounds = (0, *cuts, n)
            cols = [0] * n
            for c in range(k):
                for i in range(bounds[c], bounds[c + 1]):
                    cols[i] = c
            if not feasible(cols, strict):
                continue
            columns = {
                key: [items[i].name for i in range(n) if cols[i] == c and not items[i].empty_marker]
                for c, key in enumerate(keys)
            }
            readings.append(Reading(columns, score(cols)))
        if readings:
            break
        relaxed = True
    if not readings:  # more explicit markers than columns: keep names, drop markers
        names = [it.name for it in items if not it.empty_marker]
        columns = {key: (names if c == 0 else []) for c, key in enumerate(keys)}
        return ColumnAssignment(Reading(columns, 0.0, 0.0), None, 0, relaxed=True)

    top = max(r.score for r in readings)
    z = sum(math.exp(r.score - top) for r in readings)
    for r in readings:
        r.probability = math.exp(r.score - top) / z
    # Several cut sequences can give the same columns (only when markers sit in them):
    # merge them so the probability of a reading is the sum over its cuts.
    merged: dict[str, Reading] = {}
    for r in readings:
        key = repr(r.columns)
        if key in merged:
            merged[key].probability += r.probability
        else:
            merged[key] = Reading(r.columns, r.score, r.probability)
    ordered = sorted(merged.values(), key=lambda r: -r.probability)
    return ColumnAssignment(
        best=ordered[0],
        runner_up=ordered[1] if len(ordered) > 1 else None,
        candidates=len(ordered),
        relaxed=relaxed,
    )


def _same_line(a: UnitItem, b: UnitItem) -> bool:
    """``b`` starts on the line where ``a`` ends, after a space: a different cell."""
    return b.first_line == a.last_line and not b.glued
