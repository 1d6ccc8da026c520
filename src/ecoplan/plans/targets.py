"""Read quantitative targets out of measure text.

"推进园林绿化“增绿提质”,森林覆盖率达到44.95%" gives 森林覆盖率 ≥ 44.95 %;
"全市新增城市绿地200公顷" gives 新增城市绿地 ≥ 200 公顷. A number counts as a target only
when it ends a clause (so "加强3个国家林木种质资源库" is a count of existing things, not a
target) and is not a year. Units, comparators and trimmed words come from
``data/targets.toml``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal, cast

from ecoplan.plans.document import Target

Comparator = Literal[">=", "<=", "="]
_CLAUSE_BREAK = re.compile(r"[,。;:!?,;]")


@dataclass(frozen=True)
class TargetRules:
    pattern: re.Pattern[str]
    comparators: dict[str, str]
    suffix_comparators: dict[str, str]
    lead_words: tuple[str, ...]


@lru_cache(maxsize=1)
def rules() -> TargetRules:
    text = resources.files("ecoplan.plans").joinpath("data/targets.toml").read_text("utf-8")
    data = tomllib.loads(text)
    units = sorted(data["units"], key=len, reverse=True)
    suffixes = sorted(data["suffix_comparators"], key=len, reverse=True)
    unit_alt = "|".join(re.escape(u) for u in units)
    suffix_alt = "|".join(re.escape(s) for s in suffixes)
    pattern = re.compile(
        rf"(?<![\d.])(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>{unit_alt})(?P<suffix>{suffix_alt})?"
        rf"(?=$|[,。;:!?,;、)\s]|及|和|的目标)"
    )
    return TargetRules(
        pattern=pattern,
        comparators=dict(data["comparators"]),
        suffix_comparators=dict(data["suffix_comparators"]),
        lead_words=tuple(sorted(data["trim"]["lead_words"], key=len, reverse=True)),
    )


def extract_targets(text: str, year: int | None = None) -> list[Target]:
    """All targets in ``text``, in reading order."""
    r = rules()
    found: list[Target] = []
    for match in r.pattern.finditer(text):
        clause_start = 0
        for brk in _CLAUSE_BREAK.finditer(text, 0, match.start()):
            clause_start = brk.end()
        head = text[clause_start : match.start()].strip()
        comparator = ">="  # "建设X100处" sets a floor unless a word says otherwise
        for word in sorted(r.comparators, key=len, reverse=True):
            if head.endswith(word):
                head = head[: -len(word)]
                comparator = r.comparators[word]
                break
        if match.group("suffix"):
            comparator = r.suffix_comparators[match.group("suffix")]
        indicator = _trim(head, r.lead_words)
        if not indicator or indicator[-1].isdigit() or len(indicator) > 40:
            continue
        found.append(
            Target(
                indicator=indicator,
                value=float(match.group("value")),
                unit=match.group("unit"),
                text=text[clause_start : match.end()].strip(),
                comparator=cast(Comparator, comparator),
                year=year,
            )
        )
    return found


def _trim(head: str, lead_words: tuple[str, ...]) -> str:
    changed = True
    while changed and head:
        changed = False
        for word in lead_words:
            if head.startswith(word) and len(head) > len(word):
                head = head[len(word) :]
                changed = True
                break
    return head.strip(" “”\"'")
