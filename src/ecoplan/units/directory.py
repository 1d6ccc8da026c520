"""The unit directory in memory: resolve a name as written in a plan to units.

Pure code, no database: the importer uses it to recognise unit names (also when they are
glued together or broken across lines), the store uses it to expand group expressions.
:mod:`ecoplan.units.service` builds one from the database; :meth:`UnitDirectory.builtin`
builds one from the data shipped with the package (``units/data``).
"""

from __future__ import annotations

import csv
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

UnitKind = Literal["city_bureau", "district_gov", "econ_zone", "other"]
UNIT_KINDS: tuple[str, ...] = ("city_bureau", "district_gov", "econ_zone", "other")
Level = Literal["city", "district", "unknown"]

# Characters that never belong to a unit name at its edges: separators, sentence
# punctuation and the dashes of page furniture.
_EDGE_CHARS = " \t\r\n、,,;;。.::—–-－·"
_SENTENCE_PUNCT = re.compile(r"[,。;:!?“”《》]")
# Names we accept as a unit even when the directory does not know them: they end like
# the name of a government body. A bare "...区" is not enough ("保护区" is a place).
_UNIT_SUFFIX = re.compile(
    r"(局|委|委员会|人民政府|政府|管委会|管理委员会|办公室|办|中心|研究院|院|研究所|所|站|总队|支队|队|厅|部|公司|集团|街道办事处|街道|镇政府|乡政府)$"
)
_DISTRICT_LIKE = re.compile(
    r"(区(人民)?政府|区管委会|县(人民)?政府|镇(人民)?政府|乡(人民)?政府|街道)"
)


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """NFKC, drop every whitespace character, trim separators and dashes at the edges.

    This is the form in which unit names appear in parsed plans (ARCHITECTURE: "unit names
    are written as in the document after NFKC normalisation, with line breaks and spaces
    inside the name removed").
    """
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"\s+", "", text)
    return text.strip(_EDGE_CHARS)


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    full_name: str
    kind: str
    district_code: str | None = None
    eco_conservation: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def level(self) -> Level:
        return "district" if self.kind in ("district_gov", "econ_zone") else "city"


@dataclass(frozen=True)
class GroupInfo:
    expressions: tuple[str, ...]
    kind: Literal["members", "placeholder"]
    rule: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None
    description: str = ""

    @property
    def name(self) -> str:
        return self.expressions[0]


@dataclass(frozen=True)
class Resolution:
    """What a name as written stands for."""

    written: str
    kind: Literal["unit", "group", "placeholder", "unknown"]
    units: tuple[UnitInfo, ...] = ()
    group: GroupInfo | None = None

    @property
    def level(self) -> Level:
        if self.kind == "unit":
            return self.units[0].level
        if self.kind == "group":
            return "district" if all(u.level == "district" for u in self.units) else "city"
        if self.kind == "placeholder":
            return "district" if self.group and self.group.scope == "district" else "unknown"
        return guess_level(self.written)


def guess_level(name: str) -> Level:
    """Level of a name the directory does not know, from its wording."""
    if _DISTRICT_LIKE.search(name):
        return "district"
    if name.startswith(("市", "北京市")):
        return "city"
    return "unknown"


def looks_like_unit_name(text: str) -> bool:
    """True for a string that reads like the name of a government body."""
    name = normalize_name(text)
    if not 2 <= len(name) <= 30 or _SENTENCE_PUNCT.search(name):
        return False
    if name.count("(") != name.count(")"):
        return False
    return bool(_UNIT_SUFFIX.search(name))


class UnitDirectory:
    """Units and group expressions, indexed by every normalised name they go by."""

    def __init__(self, units: Iterable[UnitInfo], groups: Iterable[GroupInfo]) -> None:
        self.units: dict[str, UnitInfo] = {}
        self._by_name: dict[str, UnitInfo] = {}
        self._groups: dict[str, GroupInfo] = {}
        self._resolved: dict[str, Resolution] = {}
        for unit in units:
            self.units[unit.code] = unit
            for label in (unit.name, unit.full_name, *unit.aliases):
                key = normalize_name(label)
                if key:
                    self._by_name.setdefault(key, unit)
        for group in groups:
            for expression in group.expressions:
                self._groups[normalize_name(expression)] = group
        # Longest first, so that segmentation prefers "各区政府(含...)" over "各区政府".
        self._names_longest_first = sorted(
            set(self._by_name) | set(self._groups), key=lambda s: (-len(s), s)
        )

    # -- construction -------------------------------------------------------------------
    @classmethod
    def builtin(cls) -> UnitDirectory:
        """The directory shipped with the package (Beijing bureaus, districts, 经开区)."""
        return _builtin_directory()

    # -- lookup -------------------------------------------------------------------------
    def resolve(self, name: str) -> Resolution:
        # Parsers ask about the same few dozen names thousands of times in a long plan.
        cached = self._resolved.get(name)
        if cached is None:
            cached = self._resolved[name] = self._resolve(name)
        return cached

    def _resolve(self, name: str) -> Resolution:
        written = normalize_name(name)
        for candidate in (written, written.removesuffix("等")):
            unit = self._by_name.get(candidate)
            if unit is not None:
                return Resolution(written, "unit", (unit,))
            group = self._groups.get(candidate)
            if group is not None:
                if group.kind == "placeholder":
                    return Resolution(written, "placeholder", (), group)
                return Resolution(written, "group", self.members(group), group)
        return Resolution(written, "unknown")

    def is_known(self, name: str) -> bool:
        return self.resolve(name).kind != "unknown"

    def members(self, group: GroupInfo) -> tuple[UnitInfo, ...]:
        rule = group.rule
        chosen: list[UnitInfo] = []
        for unit in self.units.values():
            matches = (
                unit.code in rule.get("codes", ()),
                unit.kind in rule.get("kinds", ()),
                unit.eco_conservation in rule.get("eco_conservation", ()),
            )
            if any(matches):
                chosen.append(unit)
        return tuple(chosen)

    def all_names(self) -> list[str]:
        """Every name, alias and group expression, longest first."""
        return self._names_longest_first

    def level(self, name: str) -> Level:
        return self.resolve(name).level

    @property
    def groups(self) -> list[GroupInfo]:
        seen: dict[int, GroupInfo] = {}
        for group in self._groups.values():
            seen.setdefault(id(group), group)
        return list(seen.values())

    # -- segmentation ---------------------------------------------------------------------
    def segment(self, text: str) -> list[str] | None:
        """Split ``text`` (no separators) into unit names, or None if it is not only names.

        Known names are matched longest first; a stretch the directory does not know is
        accepted when it ends like a unit name ("...局", "...委", "...政府").
        """
        s = normalize_name(text)
        if not s:
            return []
        return _segment(s, tuple(self._names_longest_first))


def _segment(s: str, names: Sequence[str]) -> list[str] | None:
    # Dynamic programming over prefix positions: best[i] = the split of s[:i] with the
    # fewest characters outside known names, then the fewest pieces.
    n = len(s)
    best: list[tuple[int, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, [])
    for i in range(n):
        state = best[i]
        if state is None:
            continue
        unknown, parts = state
        rest = s[i:]
        for name in names:
            if rest.startswith(name):
                _offer(best, i + len(name), unknown, [*parts, name])
        for j in range(i + 2, min(n, i + 30) + 1):
            piece = s[i:j]
            if looks_like_unit_name(piece):
                _offer(best, j, unknown + len(piece), [*parts, piece])
    final = best[n]
    return final[1] if final is not None else None


def _offer(
    best: list[tuple[int, list[str]] | None], j: int, unknown: int, parts: list[str]
) -> None:
    current = best[j]
    if current is None or (unknown, len(parts)) < (current[0], len(current[1])):
        best[j] = (unknown, parts)


def load_units_csv(rows: Iterable[dict[str, str]]) -> list[UnitInfo]:
    units = []
    for row in rows:
        aliases = tuple(a for a in (row.get("aliases") or "").split("|") if a.strip())
        units.append(
            UnitInfo(
                code=row["code"].strip(),
                name=normalize_name(row["name"]),
                full_name=normalize_name(row.get("full_name") or row["name"]),
                kind=(row.get("kind") or "other").strip(),
                district_code=(row.get("district_code") or "").strip() or None,
                eco_conservation=(row.get("eco_conservation") or "").strip() or None,
                aliases=tuple(normalize_name(a) for a in aliases),
            )
        )
    return units


def load_groups_toml(data: dict[str, Any]) -> list[GroupInfo]:
    return [
        GroupInfo(
            expressions=tuple(normalize_name(e) for e in entry["expressions"]),
            kind=entry["kind"],
            rule=dict(entry.get("rule", {})),
            scope=entry.get("scope"),
            description=entry.get("description", ""),
        )
        for entry in data.get("group", [])
    ]


def builtin_units() -> list[UnitInfo]:
    text = resources.files("ecoplan.units").joinpath("data/units.csv").read_text("utf-8")
    return load_units_csv(csv.DictReader(text.splitlines()))


def builtin_groups() -> list[GroupInfo]:
    text = resources.files("ecoplan.units").joinpath("data/groups.toml").read_text("utf-8")
    return load_groups_toml(tomllib.loads(text))


@lru_cache(maxsize=1)
def _builtin_directory() -> UnitDirectory:
    return UnitDirectory(builtin_units(), builtin_groups())
