"""Dashboard figures computed from a board: one place, used by the web pages, the API and the
bulletin, so every view shows the same numbers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ecoplan.supervision.board import Board, Share, worst

DISTRICT_KINDS = ("district_gov", "econ_zone")


@dataclass
class Tally:
    """Lights and closure over a set of shares (and of the measures they belong to)."""

    key: str
    label: str
    shares: int = 0
    closed: int = 0
    lights: Counter[str] = field(default_factory=Counter)
    measures: set[int] = field(default_factory=set)
    light: str = "green"

    def add(self, share: Share) -> None:
        self.shares += 1
        self.closed += share.closed
        self.lights[share.light] += 1
        self.measures.add(share.measure.id)
        self.light = worst([self.light, share.light])

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "shares": self.shares,
                "closed": self.closed, "measures": len(self.measures), "light": self.light,
                "green": self.lights["green"], "yellow": self.lights["yellow"],
                "red": self.lights["red"]}  # fmt: skip


def _tally(board: Board, key_of: Any, label_of: Any) -> list[Tally]:
    tallies: dict[str, Tally] = {}
    for share in board.shares:
        key = key_of(share)
        if key is None:
            continue
        tally = tallies.setdefault(key, Tally(key, label_of(share)))
        tally.add(share)
    return list(tallies.values())


def summary(board: Board) -> dict[str, Any]:
    lights = Counter(s.light for s in board.shares)
    by_measure = board.by_measure()
    measure_lights = Counter(worst([s.light for s in shares]) for shares in by_measure.values())
    closed_measures = sum(1 for shares in by_measure.values() if all(s.closed for s in shares))
    return {
        "measures": len(board.measures),
        "measures_with_shares": len(by_measure),
        "shares": len(board.shares),
        "closed_shares": sum(1 for s in board.shares if s.closed),
        "closed_measures": closed_measures,
        "share_lights": {k: lights[k] for k in ("green", "yellow", "red")},
        "measure_lights": {k: measure_lights[k] for k in ("green", "yellow", "red")},
        "due_period": board.due_period.label if board.due_period else None,
        "today": board.today.isoformat(),
    }


def by_section(board: Board) -> list[Tally]:
    return _tally(board, lambda s: s.measure.section_number or "-",
                  lambda s: f"{s.measure.section_number or ''} {s.measure.section_title or ''}".strip())  # fmt: skip


def by_task(board: Board) -> list[Tally]:
    return _tally(board, lambda s: s.measure.task_number or "-",
                  lambda s: f"{s.measure.task_number or ''} {s.measure.task_title or ''}".strip())  # fmt: skip


def by_unit(board: Board) -> list[Tally]:
    rows = _tally(board, lambda s: s.unit.code, lambda s: s.unit.name)
    return sorted(rows, key=lambda t: (-t.lights["red"], -t.lights["yellow"], t.label))


def by_district(board: Board) -> list[Tally]:
    """The 16 districts and 经开区, each listed even when it has no share."""
    rows = {t.key: t for t in _tally(board, lambda s: s.unit.code if s.unit.kind in DISTRICT_KINDS
                                     else None, lambda s: s.unit.name)}  # fmt: skip
    for unit in sorted(board.units.values(), key=lambda u: u.code):
        if unit.kind in DISTRICT_KINDS and unit.code not in rows:
            rows[unit.code] = Tally(unit.code, unit.name)
    return [rows[k] for k in sorted(rows)]


def overdue(board: Board) -> list[Share]:
    return [s for s in board.shares if s.light == "red"]
