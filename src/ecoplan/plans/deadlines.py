"""Read a 完成时限 cell: 年底前 → 31 Dec of the plan year, 持续推进 → ongoing, dates as dates.

The phrases live in ``data/deadlines.toml``; the grammar for written dates ("2024年6月底前",
"6月底", "三季度", "上半年", "2024.9", "2024-09-30") is below. When a cell names several
dates ("6月底前完成方案,年底前完成验收") the measure is due at the latest of them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ecoplan.plans.document import Deadline
from ecoplan.plans.textnorm import chinese_number, nfkc


def _cn_number(text: str) -> int:
    """1–12 written as digits or Chinese numerals (十二, 十一, 九)."""
    if text.isdigit():
        return int(text)
    value = chinese_number(text)
    if value is None:
        raise ValueError(text)
    return value


@dataclass(frozen=True)
class Phrases:
    year_end: tuple[str, ...]
    ongoing: tuple[str, ...]


@lru_cache(maxsize=1)
def phrases() -> Phrases:
    text = resources.files("ecoplan.plans").joinpath("data/deadlines.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return Phrases(_by_length(data["year_end"]), _by_length(data["ongoing"]))


def _by_length(items: list[str]) -> tuple[str, ...]:
    """Longest first, so that 年底前完成 is matched before 年底前."""
    return tuple(sorted(items, key=len, reverse=True))


_MONTH = r"(?P<month>1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_YEAR = r"(?:(?P<year>20\d\d)年)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ymd",
        re.compile(
            r"(?P<year>20\d\d)[年.\-/](?P<month>1[0-2]|0?[1-9])[月.\-/](?P<day>3[01]|[12]\d|0?[1-9])日?"
        ),
    ),
    ("month", re.compile(_YEAR + r"?" + _MONTH + r"月(?:份)?(?P<part>底|末|上旬|中旬|下旬)?")),
    ("ym_dot", re.compile(r"(?P<year>20\d\d)[.\-/](?P<month>1[0-2]|0?[1-9])(?![\d.])")),
    ("half", re.compile(_YEAR + r"?(?P<half>上半年|下半年|年中)")),
    ("quarter", re.compile(_YEAR + r"?第?(?P<q>[一二三四1-4])季度")),
    ("year", re.compile(r"(?P<year>20\d\d)年(?:底|末|内|前)?")),
)

# A token that is a deadline and nothing else: used by the text parser to tell the
# deadline column from measure text and unit names.
_DEADLINE_TAIL = r"(?:底前|底|末|前|以前|之前|内|前完成|完成|底前完成)?"


def _end_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_deadline(raw: object, plan_year: int | None) -> tuple[Deadline, list[str]]:
    """Return the deadline and any warnings about it."""
    if isinstance(raw, dt.datetime):
        return Deadline(raw=raw.date().isoformat(), kind="date", due=raw.date()), []
    if isinstance(raw, dt.date):
        return Deadline(raw=raw.isoformat(), kind="date", due=raw), []
    text = nfkc(str(raw or "")).strip()
    compact = re.sub(r"\s+", "", text)
    if not compact or set(compact) <= set("—–-－/"):
        return Deadline(raw=text or None, kind="unknown"), (["未填写完成时限"] if not text else [])

    dates: list[dt.date] = []
    needs_year = False
    masked = compact
    for name, pattern in _PATTERNS:
        for match in pattern.finditer(masked):
            groups = match.groupdict()
            year = int(groups["year"]) if groups.get("year") else plan_year
            if year is None:
                needs_year = True
                continue
            if name == "ymd":
                try:
                    dates.append(dt.date(year, int(groups["month"]), int(groups["day"])))
                except ValueError:
                    continue
            elif name in ("month", "ym_dot"):
                month = _cn_number(groups["month"])
                part = groups.get("part")
                day = {"上旬": 10, "中旬": 20}.get(part or "")
                dates.append(dt.date(year, month, day) if day else _end_of_month(year, month))
            elif name == "half":
                dates.append(
                    dt.date(year, 12, 31) if groups["half"] == "下半年" else dt.date(year, 6, 30)
                )
            elif name == "quarter":
                quarter = _cn_number(groups["q"])
                dates.append(_end_of_month(year, quarter * 3))
            elif name == "year":
                dates.append(dt.date(year, 12, 31))
        masked = pattern.sub(lambda m: "#" * len(m.group(0)), masked)

    words = phrases()
    if any(p in masked for p in words.year_end):
        if plan_year is None:
            needs_year = True
        else:
            dates.append(dt.date(plan_year, 12, 31))
    if dates:
        return Deadline(raw=text, kind="date", due=max(dates)), []
    if any(p in compact for p in words.ongoing):
        return Deadline(raw=text, kind="ongoing"), []
    if needs_year:
        return Deadline(raw=text, kind="unknown"), [f"完成时限“{text}”缺少年份,且计划年份未知"]
    return Deadline(raw=text, kind="unknown"), [f"无法识别的完成时限“{text}”"]


@lru_cache(maxsize=1)
def _deadline_token_pattern() -> re.Pattern[str]:
    words = phrases()
    fixed = "|".join(re.escape(p) for p in (*words.year_end, *words.ongoing))
    dated = (
        r"(?:20\d\d年)?(?:(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])月(?:份)?(?:底|末|上旬|中旬|下旬)?"
        r"|上半年|下半年|年中|第?[一二三四1-4]季度|20\d\d年)" + _DEADLINE_TAIL
    )
    return re.compile(rf"^(?:{fixed}|{dated})(?:[,、和及至到-](?:{fixed}|{dated}))*$")


def is_deadline_token(token: str) -> bool:
    """True when ``token`` (no spaces) is a whole deadline phrase such as 年底前 or 2024年6月底前."""
    token = nfkc(token).strip()
    return bool(token) and bool(_deadline_token_pattern().match(token))


def find_deadline_prefix(text: str) -> str | None:
    """The longest deadline phrase that ``text`` starts with (for cells glued together)."""
    text = nfkc(text)
    best = None
    for end in range(len(text), 0, -1):
        if is_deadline_token(text[:end]):
            best = text[:end]
            break
    return best
