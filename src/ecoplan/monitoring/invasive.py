"""Invasive-species monitoring (plan task 3): the species watched, their monitoring sites and
the records of each check, imported from a sheet all or nothing.

- ``sync_species`` writes the six species of the plan from ``data/invasive.toml`` (idempotent);
  ``add_species`` adds one an admin names.
- ``add_site`` / ``import_sites``: traps, plots, transects, water bodies, placed in a district
  (and a township when a township layer is loaded).
- ``import_records``: CSV (UTF-8 or GBK) or xlsx, Chinese or English headers in any order. Every
  bad row is named in one error and nothing is stored; a good file's records are placed, audited
  and run through the alert rules (``invasive_alerts``).

Records follow NAISMA's fields as far as the plan needs them (species, place, date, method,
quantity with unit, effort); negative results are records too (a trap check with no catch).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.importing import find_column
from ecoplan.cases.layers import active_features
from ecoplan.cases.spatial import BEIJING_BBOX, assign, in_bbox, place_points, project
from ecoplan.config import today as clock_today
from ecoplan.errors import InputFileError, NotFoundError, ValidationError
from ecoplan.monitoring.invasive_config import InvasiveConfig, load_config
from ecoplan.monitoring.invasive_models import InvasiveRecord, InvasiveSite, InvasiveSpecies
from ecoplan.monitoring.invasive_rates import is_positive
from ecoplan.monitoring.surveys import read_sheet
from ecoplan.monitoring.taxa import NameMatcher, clean, latin_key
from ecoplan.units.models import Unit

if TYPE_CHECKING:
    from ecoplan.monitoring.invasive_alerts import AlertRun

SITE_KINDS = {"trap": "诱捕器", "light_trap": "测报灯", "plot": "样地", "transect": "样线",
              "water": "水体"}  # fmt: skip
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_PROBLEMS_SHOWN = 8

# our field -> headers accepted (first match wins; compared without case or surrounding space)
RECORD_COLUMNS: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "记录编号", "occurrenceid", "编号"),
    "species": ("scientific_name", "species", "scientificname", "学名", "物种", "物种名称",
                "name_cn", "中文名"),
    "method": ("method", "监测方法", "调查方法", "方法"),
    "date": ("observed_on", "date", "eventdate", "日期", "监测日期", "调查日期", "检查日期"),
    "value": ("value", "数量", "数值", "监测值", "count"),
    "unit": ("value_unit", "unit", "单位"),
    "effort": ("effort_days", "effort", "诱捕天数", "努力量(天)", "努力量", "天数"),
    "lon": ("lon", "longitude", "decimallongitude", "经度"),
    "lat": ("lat", "latitude", "decimallatitude", "纬度"),
    "site": ("site_code", "site", "监测点编号", "监测点", "站点编号", "locationid"),
    "township": ("township", "乡镇", "乡镇街道", "乡镇(街道)"),
    "host": ("host", "寄主"),
    "recorded_by": ("recorded_by", "recordedby", "记录人", "调查人"),
    "remarks": ("remarks", "备注"),
    "province": ("province", "省份", "省"),
    "district_code": ("district_code", "区县代码", "区划代码"),
    "district_name": ("district_name", "district", "区县", "区"),
}  # fmt: skip
SITE_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "site_code", "监测点编号", "站点编号", "编号"),
    "name": ("name", "名称", "监测点名称"),
    "species": ("species", "scientific_name", "物种", "学名", "中文名"),
    "kind": ("kind", "类型", "监测点类型"),
    "lon": ("lon", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "township": ("township", "乡镇", "乡镇街道"),
    "unit": ("unit", "unit_code", "单位", "单位代码"),
}
POSITIVE_WORDS = {"阳性": 1.0, "阴性": 0.0, "positive": 1.0, "negative": 0.0, "+": 1.0, "-": 0.0}
DATE_PATTERN = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


# --------------------------------------------------------------------------------- species


@dataclass
class SpeciesSync:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def _taxon_id(session: Session, scientific_name: str) -> int | None:
    """The species list's taxon of that scientific name (exact or synonym), when listed."""
    match = NameMatcher.from_db(session).match(scientific_name)
    return match.taxon_id if match.kind in ("exact", "synonym") else None


def _unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise ValidationError(f"单位代码 {code} 不在单位名录中(请先同步内置单位)")
    return unit


def _snapshot(sp: InvasiveSpecies) -> dict[str, Any]:
    return {"key": sp.key, "scientific_name": sp.scientific_name, "name_cn": sp.name_cn,
            "methods": list(sp.methods or []), "threshold": sp.threshold,
            "threshold_method": sp.threshold_method, "unit_id": sp.unit_id,
            "quarantine": sp.quarantine, "taxon_id": sp.taxon_id, "active": sp.active}  # fmt: skip


def sync_species(session: Session, *, actor: str) -> SpeciesSync:
    """Create or update the species of the rule file (the six of the plan); running it again
    changes nothing. A species' taxon is linked when the species list holds its name."""
    config = load_config()
    result = SpeciesSync()
    for key, spec in config.species.items():
        unit = _unit(session, spec.unit)
        first = next(iter(spec.thresholds.items()), None)  # the one stored on the row
        wanted = {"key": key, "scientific_name": spec.scientific_name, "name_cn": spec.name_cn,
                  "methods": list(spec.methods), "threshold": first[1].value if first else None,
                  "threshold_method": first[0] if first else None, "unit_id": unit.id,
                  "quarantine": spec.quarantine, "taxon_id": _taxon_id(session, spec.scientific_name),
                  "active": True}  # fmt: skip
        row = session.scalar(select(InvasiveSpecies).where(InvasiveSpecies.key == key))
        if row is None:
            row = session.scalar(
                select(InvasiveSpecies).where(
                    InvasiveSpecies.scientific_name == spec.scientific_name
                )
            )
        if row is None:
            row = InvasiveSpecies(**wanted)
            session.add(row)
            session.flush()
            audit.record(session, actor=actor, action="invasive_species.add", entity_type="invasive_species",
                         entity_id=row.id, after=_snapshot(row), context={"rules": config.key})  # fmt: skip
            result.added.append(key)
            continue
        before = _snapshot(row)
        if before == wanted:
            continue
        for name, value in wanted.items():
            setattr(row, name, value)
        session.flush()
        audit.record(session, actor=actor, action="invasive_species.sync", entity_type="invasive_species",
                     entity_id=row.id, before=before, after=_snapshot(row),
                     context={"rules": config.key})  # fmt: skip
        result.updated.append(key)
    return result


def add_species(
    session: Session,
    *,
    key: str,
    scientific_name: str,
    name_cn: str,
    methods: Sequence[str],
    unit_code: str,
    actor: str,
    quarantine: bool = False,
    threshold: float | None = None,
    threshold_method: str | None = None,
) -> InvasiveSpecies:
    """An admin's additional species. ``threshold`` is in ``threshold_method``'s unit (per day
    for a daily method such as trap_catch)."""
    config = load_config()
    problems: list[str] = []
    if not KEY_PATTERN.match(key):
        problems.append(f"物种代码“{key}”须为 2–40 位小写字母、数字或下划线,以字母开头")
    scientific_name, name_cn = clean(scientific_name), clean(name_cn)
    if not scientific_name or not name_cn:
        problems.append("须填写学名和中文名")
    unknown = [m for m in methods if m not in config.methods]
    if not methods or unknown:
        problems.append(
            f"监测方法须从以下选择: {'、'.join(config.methods)}"
            + (f"(未知: {'、'.join(unknown)})" if unknown else "")
        )
    if (threshold is None) != (threshold_method is None):
        problems.append("阈值与阈值所用方法须同时填写")
    elif threshold is not None and (not math.isfinite(threshold) or threshold <= 0):
        problems.append("阈值须为正数")
    elif threshold_method is not None and threshold_method not in methods:
        problems.append(f"阈值所用方法 {threshold_method} 不在该物种的监测方法中")
    if problems:
        raise ValidationError("；".join(problems), problems)
    taken = session.scalar(select(InvasiveSpecies).where(
        (InvasiveSpecies.key == key) | (InvasiveSpecies.scientific_name == scientific_name)))  # fmt: skip
    if taken is not None:
        raise ValidationError(f"物种 {taken.name_cn}({taken.scientific_name}, {taken.key})已存在")
    row = InvasiveSpecies(key=key, scientific_name=scientific_name, name_cn=name_cn, methods=list(methods),
                          threshold=threshold, threshold_method=threshold_method,
                          unit_id=_unit(session, unit_code).id, quarantine=quarantine,
                          taxon_id=_taxon_id(session, scientific_name), active=True)  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="invasive_species.add", entity_type="invasive_species",
                 entity_id=row.id, after=_snapshot(row))  # fmt: skip
    return row


def get_species(session: Session, key: str) -> InvasiveSpecies:
    row = session.scalar(select(InvasiveSpecies).where(InvasiveSpecies.key == key))
    if row is None:
        raise NotFoundError(f"未知的外来入侵物种“{key}”")
    return row


def list_species(session: Session, *, active_only: bool = True) -> list[InvasiveSpecies]:
    query = select(InvasiveSpecies).order_by(InvasiveSpecies.id)
    if active_only:
        query = query.where(InvasiveSpecies.active.is_(True))
    return list(session.scalars(query))


class SpeciesIndex:
    """Finds a species by key, scientific name (authorship and case ignored) or Chinese name."""

    def __init__(self, species: Sequence[InvasiveSpecies]) -> None:
        self.by_name: dict[str, InvasiveSpecies] = {}
        for sp in species:
            self.by_name[sp.key] = sp
            self.by_name[latin_key(sp.scientific_name)] = sp
            self.by_name[clean(sp.name_cn)] = sp

    def find(self, name: str) -> InvasiveSpecies | None:
        text = clean(name)
        if not text:
            return None
        return self.by_name.get(text) or self.by_name.get(latin_key(text))


# ------------------------------------------------------------------------------- positions


def position_problem(
    lon: float, lat: float, bbox: tuple[float, float, float, float] = BEIJING_BBOX,
    area: str = "北京市",
) -> str | None:  # fmt: skip
    """Why (lon, lat) cannot be used, or None: missing, swapped (with the hint), outside."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "缺少经纬度或经纬度不是数字"
    if in_bbox(lon, lat, bbox):
        return None
    if in_bbox(lat, lon, bbox):
        return f"经纬度可能颠倒(经度 {lon:g} 像纬度、纬度 {lat:g} 像经度),请交换后重新导入"
    return f"位置({lon:g}, {lat:g})不在{area}范围内"


def townships(session: Session, lon: Sequence[float], lat: Sequence[float],
              given: Sequence[str]) -> list[str]:  # fmt: skip
    """The township of each point: from the loaded township layer when there is one (the
    authority), else what the file gave, else empty."""
    layer = active_features(session, ("township",))
    if not len(layer) or not len(lon):
        return [clean(g) for g in given]
    index = assign(project(shapely.points(np.asarray(lon), np.asarray(lat))), layer.metric)
    return [layer.names[i] if i >= 0 else clean(g) for i, g in zip(index, given, strict=True)]


# ----------------------------------------------------------------------------------- sites


def _site_problems(species: InvasiveSpecies | None, kind: str, lon: float, lat: float) -> list[str]:
    problems = []
    if species is None:
        problems.append("物种不在外来入侵物种名录中")
    if kind not in SITE_KINDS:
        problems.append(
            f"监测点类型“{kind}”无法识别(可选: {'、'.join(f'{k}/{v}' for k, v in SITE_KINDS.items())})"
        )
    where = position_problem(lon, lat)
    if where:
        problems.append(where)
    elif place_points(np.asarray([lon]), np.asarray([lat]))[0][0] is None:
        problems.append(f"位置({lon:g}, {lat:g})不在北京市任何一个区内")
    return problems


def _kind(text: str) -> str:
    by_label = {label: key for key, label in SITE_KINDS.items()}
    return by_label.get(text.strip(), text.strip())


def _site_snapshot(site: InvasiveSite) -> dict[str, Any]:
    return {"code": site.code, "name": site.name, "species_id": site.species_id, "kind": site.kind,
            "lon": site.lon, "lat": site.lat, "district_code": site.district_code,
            "township": site.township, "unit_id": site.unit_id}  # fmt: skip


def add_site(
    session: Session,
    *,
    code: str,
    name: str,
    species_key: str,
    kind: str,
    lon: float,
    lat: float,
    actor: str,
    township: str = "",
    unit_code: str | None = None,
) -> InvasiveSite:
    """One monitoring site (WGS84 lon/lat, inside Beijing); its unit defaults to the district
    government it lies in (the one that checks the trap)."""
    sites = _build_sites(session, [{"code": code, "name": name, "species": species_key, "kind": kind,
                                    "lon": lon, "lat": lat, "township": township,
                                    "unit": unit_code or ""}], where=None)  # fmt: skip
    site = sites[0]
    audit.record(session, actor=actor, action="invasive_site.add", entity_type="invasive_site",
                 entity_id=site.id, after=_site_snapshot(site))  # fmt: skip
    return site


def import_sites(session: Session, path: Path, *, actor: str) -> list[InvasiveSite]:
    """Sites from a CSV/xlsx sheet (监测点编号, 名称, 物种, 类型, 经度, 纬度, [乡镇], [单位代码]);
    all or nothing."""
    frame = read_sheet(path)
    if frame.empty:
        raise InputFileError(path, "文件中没有监测点")
    cols = {k: find_column(list(frame.columns), names) for k, names in SITE_COLUMNS.items()}
    missing = [k for k in ("code", "name", "species", "kind", "lon", "lat") if cols[k] is None]
    if missing:
        labels = {"code": "监测点编号", "name": "名称", "species": "物种", "kind": "类型",
                  "lon": "经度", "lat": "纬度"}  # fmt: skip
        raise InputFileError(path, f"缺少列: {'、'.join(labels[m] for m in missing)}")
    rows = [{k: (str(row[c]).strip() if c is not None else "") for k, c in cols.items()}
            for row in frame.to_dict("records")]  # fmt: skip
    sites = _build_sites(session, rows, where=path)
    audit.record(session, actor=actor, action="invasive_site.import", entity_type="invasive_site",
                 entity_id="*", after={"file": path.name, "sites": [s.code for s in sites]})  # fmt: skip
    return sites


def _build_sites(
    session: Session, rows: list[dict[str, Any]], where: Path | None
) -> list[InvasiveSite]:
    index = SpeciesIndex(list_species(session))
    units = {u.code: u for u in session.scalars(select(Unit))}
    problems: list[str] = []
    seen: dict[str, int] = {}
    parsed = []
    for i, row in enumerate(rows):
        at = f"第 {i + 2} 行: " if where else ""
        code, name = str(row["code"]).strip(), str(row["name"]).strip()
        lon, lat = _number(row["lon"]), _number(row["lat"])
        species = index.find(str(row["species"]))
        kind = _kind(str(row["kind"]))
        row_problems = _site_problems(species, kind, lon, lat)
        if not code or len(code) > 60:
            row_problems.append("监测点编号须为 1–60 个字符")
        elif code in seen:
            row_problems.append(f"监测点编号 {code} 与第 {seen[code] + 2} 行重复")
        seen.setdefault(code, i)
        if not name:
            row_problems.append("缺少监测点名称")
        unit_code = str(row.get("unit") or "").strip()
        if unit_code and unit_code not in units:
            row_problems.append(f"单位代码 {unit_code} 不在单位名录中")
        problems += [at + p for p in row_problems]
        parsed.append(
            (code, name, species, kind, lon, lat, str(row.get("township") or ""), unit_code)
        )
    known = set(session.scalars(select(InvasiveSite.code).where(InvasiveSite.code.in_(list(seen)))))
    problems += [f"监测点编号 {c} 已存在" for c in sorted(known)]
    if problems:
        head = f"{where.name}: " if where else ""
        raise ValidationError(
            f"{head}{len(problems)} 处错误,未保存任何监测点: "
            + "; ".join(problems[:MAX_PROBLEMS_SHOWN]),
            problems,
        )
    lons = np.asarray([p[4] for p in parsed], dtype=float)
    lats = np.asarray([p[5] for p in parsed], dtype=float)
    places = place_points(lons, lats)
    towns = townships(session, lons.tolist(), lats.tolist(), [p[6] for p in parsed])
    sites = []
    for (code, name, species, kind, lon, lat, _, unit_code), (dcode, dname), town in zip(
        parsed, places, towns, strict=True
    ):
        assert species is not None  # refused above otherwise
        unit = units.get(unit_code) if unit_code else units.get(dcode or "")
        site = InvasiveSite(code=code, name=name[:200], species_id=species.id, kind=kind, lon=lon, lat=lat,
                            district_code=dcode, district_name=dname, township=town[:100],
                            unit_id=unit.id if unit else None, active=True)  # fmt: skip
        session.add(site)
        sites.append(site)
    session.flush()
    return sites


def list_sites(session: Session, species_key: str | None = None) -> list[InvasiveSite]:
    """Active sites, by code (of one species when ``species_key`` is given)."""
    query = select(InvasiveSite).where(InvasiveSite.active.is_(True)).order_by(InvasiveSite.code)
    if species_key:
        query = query.where(InvasiveSite.species_id == get_species(session, species_key).id)
    return list(session.scalars(query))


def _number(value: Any) -> float:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return math.nan
    return number


# --------------------------------------------------------------------------------- records


@dataclass
class RecordImport:
    """What an import stored and raised."""

    file: str
    sha256: str
    records: list[InvasiveRecord]
    positives: int
    alerts: AlertRun | None = None


@dataclass
class ReadOptions:
    """How rows are checked: local monitoring (inside Beijing, placed by polygons) or an
    exchange file of a partner province (inside the 京津冀 box, province column checked)."""

    origin: str
    exchange_province: str | None = None
    bbox: tuple[float, float, float, float] = BEIJING_BBOX
    area: str = "北京市"
    require_ids: bool = False  # an exchange file must carry its stable record IDs
    # (unit id, unit code) of a unit importing its own records: each row must be of a species it
    # answers for, at one of its sites, or in its district (a district government's code)
    scope: tuple[int, str] | None = None


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY年M月D日, optionally followed by a time (xlsx cells
    come as "2024-05-12 00:00:00"); None when it is not a real date."""
    match = DATE_PATTERN.match(text)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _same_unit(given: str, expected: str) -> bool:
    def norm(s: str) -> str:
        return unicodedata.normalize("NFKC", s).replace(" ", "").replace("平方米", "m2").lower()

    return norm(given) == norm(expected)


def _value(text: str, binary: bool) -> tuple[float | None, str | None]:
    if not text:
        return None, "缺少数值"
    if binary and text.lower() in POSITIVE_WORDS:
        return POSITIVE_WORDS[text.lower()], None
    number = _number(text)
    if not math.isfinite(number):
        return None, f"数值“{text}”不是数字"
    if number < 0:
        return None, f"数值 {text} 为负数"
    if binary and number not in (0.0, 1.0):
        return None, f"镜检结果须为 1(阳性)或 0(阴性),而不是 {text}"
    return number, None


def read_records(session: Session, path: Path, options: ReadOptions, *,
                 today: dt.date) -> tuple[list[dict[str, Any]], str]:  # fmt: skip
    """Check every row of a record sheet; returns the rows ready to store and the file's
    SHA-256, or raises one ValidationError naming every bad row (nothing is stored)."""
    config = load_config()
    frame = read_sheet(path)
    if frame.empty:
        raise InputFileError(path, "文件中没有监测记录")
    columns = list(frame.columns)
    cols = {k: find_column(columns, names) for k, names in RECORD_COLUMNS.items()}
    labels = {"species": "物种", "method": "监测方法", "date": "日期", "value": "数值"}
    missing = [labels[k] for k in labels if cols[k] is None]
    if cols["site"] is None and (cols["lon"] is None or cols["lat"] is None):
        missing.append("经度和纬度(或监测点编号)")
    if options.require_ids and cols["record_id"] is None:
        missing.insert(0, "记录编号(record_id)")
    if missing:
        raise InputFileError(
            path, f"缺少列: {'、'.join(missing)}; 现有列: {', '.join(map(str, columns))}"
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    raw = [{k: (str(row[c]).strip() if c is not None else "") for k, c in cols.items()}
           for row in frame.to_dict("records")]  # fmt: skip
    site_codes = sorted({r["site"] for r in raw if r["site"]})
    query = select(InvasiveSite).where(InvasiveSite.code.in_(site_codes))
    check = _RowCheck(config, SpeciesIndex(list_species(session)), {s.code: s for s in session.scalars(query)},
                      options, today)  # fmt: skip
    problems: list[str] = []
    good: list[dict[str, Any]] = []
    for i, r in enumerate(raw):
        n = i + 2  # the header is line 1
        record_id = r["record_id"] if cols["record_id"] is not None else f"{digest[:12]}-{n}"
        bad, checked = check(n, record_id, r)
        problems += [f"第 {n} 行: {b}" for b in bad]
        if checked is not None:
            good.append(checked)
    first_row = check.first_row
    known = _stored_ids(session, list(first_row))
    problems += [f"第 {first_row[k]} 行: 记录编号 {k} 已导入过" for k in known]
    stored = set(known)
    good = [g for g in good if g["record_id"] not in stored]
    if not problems:
        problems += _place(session, good)
    if not problems and options.scope is not None:
        problems += _out_of_scope(good, options.scope)
    if problems:
        problems.sort(key=_row_number)
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未导入任何记录: "
            + "; ".join(problems[:MAX_PROBLEMS_SHOWN]),
            problems,
        )
    return good, digest


@dataclass
class _RowCheck:
    """The checks of one record row, with what they need loaded once per file."""

    config: InvasiveConfig
    species: SpeciesIndex
    sites: dict[str, InvasiveSite]
    options: ReadOptions
    today: dt.date
    first_row: dict[str, int] = field(default_factory=dict)  # record ID -> line it was first on
    by_label: dict[str, str] = field(default_factory=dict)  # method label -> key

    def __post_init__(self) -> None:
        self.by_label = {spec.label: key for key, spec in self.config.methods.items()}

    def __call__(
        self, n: int, record_id: str, r: dict[str, str]
    ) -> tuple[list[str], dict[str, Any] | None]:
        """(problems, the row ready to store when there are none)."""
        config, options = self.config, self.options
        bad = self._record_id(n, record_id)
        species = self.species.find(r["species"])
        if species is None:
            bad.append(f"物种“{r['species']}”不在外来入侵物种名录中")
        method = self.by_label.get(r["method"], r["method"])
        spec = config.methods.get(method)
        if species is not None and method not in (species.methods or []):
            allowed = "、".join(
                f"{m}/{config.methods[m].label}" for m in species.methods if m in config.methods
            )
            bad.append(f"{species.name_cn}不用“{r['method']}”监测(可选: {allowed})")
        day = parse_date(r["date"])
        if day is None:
            bad.append(f"日期“{r['date']}”无法识别(应为 YYYY-MM-DD)")
        elif day > self.today:
            bad.append(f"日期 {day} 晚于今天({self.today})")
        elif day.year < 1900:
            bad.append(f"日期 {day} 不合理")
        value, why = _value(r["value"], spec.binary if spec else False)
        if why:
            bad.append(why)
        if spec is not None and r["unit"] and not _same_unit(r["unit"], spec.unit):
            bad.append(f"单位“{r['unit']}”与{spec.label}的单位“{spec.unit}”不符")
        effort = _number(r["effort"]) if r["effort"] else None
        if effort is not None and (not math.isfinite(effort) or effort <= 0):
            bad.append(f"努力量(天)“{r['effort']}”须为正数")
        # a partner's site codes are theirs: only Beijing records are linked to our sites
        local = options.exchange_province in (None, "北京")
        site = self.sites.get(r["site"]) if r["site"] and local else None
        if r["site"] and site is None and options.exchange_province is None:
            bad.append(f"监测点编号 {r['site']} 不存在(请先登记监测点)")
        if site is not None and species is not None and site.species_id != species.id:
            bad.append(f"监测点 {site.code} 不是{species.name_cn}的监测点")
        lon, lat = _number(r["lon"]), _number(r["lat"])
        if not (r["lon"] or r["lat"]) and site is not None:
            lon, lat = site.lon, site.lat  # the trap's own position
        where = position_problem(lon, lat, options.bbox, options.area)
        if where:
            bad.append(where)
        province = options.exchange_province or "北京"
        if options.exchange_province and r["province"] and province_name(r["province"]) != province:
            bad.append(f"省份“{r['province']}”与本次导入的来源“{province}”不符")
        if bad:
            return bad, None
        assert species is not None and spec is not None and day is not None and value is not None
        return [], {"n": n, "record_id": record_id, "species": species, "method": method, "value": value,
                    "unit": spec.unit, "effort": effort, "day": day, "lon": lon, "lat": lat, "site": site,
                    "site_code": r["site"], "province": province,
                    "township": r["township"] or (site.township if site else ""),  # the site's by default
                    "district_code": r["district_code"], "district_name": r["district_name"],
                    "host": r["host"], "recorded_by": r["recorded_by"], "remarks": r["remarks"]}  # fmt: skip

    def _record_id(self, n: int, record_id: str) -> list[str]:
        if not record_id:
            return ["缺少记录编号"]
        if len(record_id) > 120:
            return ["记录编号超过 120 个字符"]
        if record_id in self.first_row:
            return [f"记录编号 {record_id} 与第 {self.first_row[record_id]} 行重复"]
        self.first_row[record_id] = n
        return []


def _row_number(problem: str) -> int:
    match = re.match(r"第 (\d+) 行", problem)
    return int(match[1]) if match else 0


def province_name(text: str) -> str:
    """北京市 / 河北省 / 天津 → 北京 / 河北 / 天津."""
    return clean(text).removesuffix("省").removesuffix("市")


def _stored_ids(session: Session, ids: list[str]) -> list[str]:
    known: list[str] = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        known += session.scalars(
            select(InvasiveRecord.record_id).where(InvasiveRecord.record_id.in_(chunk))
        ).all()
    return sorted(known)


def _out_of_scope(rows: list[dict[str, Any]], scope: tuple[int, str]) -> list[str]:
    """Rows a unit may not record: not its species, not at its site, not in its district."""
    unit_id, code = scope
    return [f"第 {r['n']} 行: {r['species'].name_cn}在{r['district_name'] or '该处'}的记录不属本单位"
            "(既非物种责任单位、本单位监测点,也不在本辖区)"
            for r in rows
            if r["species"].unit_id != unit_id
            and (r["site"] is None or r["site"].unit_id != unit_id)
            and r["district_code"] != code]  # fmt: skip


def _place(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """District and township of each row. A Beijing record must lie in a district (the box has
    a margin); a partner's record keeps the district it was sent with."""
    if not rows:
        return []
    lon = np.asarray([r["lon"] for r in rows], dtype=float)
    lat = np.asarray([r["lat"] for r in rows], dtype=float)
    places = place_points(lon, lat)
    problems = []
    in_beijing = [i for i, r in enumerate(rows) if r["province"] == "北京"]
    for i in in_beijing:
        if places[i][0] is None:
            problems.append(
                f"第 {rows[i]['n']} 行: 位置({rows[i]['lon']:g}, {rows[i]['lat']:g})不在北京市任何一个区内"
            )
    if problems:
        return problems
    towns = townships(session, [rows[i]["lon"] for i in in_beijing], [rows[i]["lat"] for i in in_beijing],
                      [rows[i]["township"] for i in in_beijing])  # fmt: skip
    for i, town in zip(in_beijing, towns, strict=True):
        rows[i]["district_code"], rows[i]["district_name"] = places[i]
        rows[i]["township"] = town
    for r in rows:
        if r["province"] != "北京":
            r["district_code"] = r["district_code"] or None
            r["district_name"] = r["district_name"] or None
            r["township"] = clean(r["township"])
    return []


def store_records(
    session: Session, rows: list[dict[str, Any]], *, origin: str, actor: str
) -> list[InvasiveRecord]:
    """Write checked rows (from :func:`read_records`)."""
    records = []
    for r in rows:
        remarks = r["remarks"]
        if r["site"] is None and r["site_code"]:  # a partner's site: kept, not dropped
            remarks = f"[对方监测点 {r['site_code']}] {remarks}".strip()
        record = InvasiveRecord(
            record_id=r["record_id"], species_id=r["species"].id, site_id=r["site"].id if r["site"] else None,
            observed_on=r["day"], method=r["method"], value=r["value"], value_unit=r["unit"][:30],
            effort_days=r["effort"], lon=r["lon"], lat=r["lat"], province=r["province"],
            district_code=r["district_code"], district_name=r["district_name"], township=r["township"][:100],
            host=r["host"][:100], recorded_by=r["recorded_by"][:200], remarks=remarks, origin=origin[:200],
            created_by=actor,
        )  # fmt: skip
        session.add(record)
        records.append(record)
    session.flush()
    return records


def import_records(
    session: Session,
    path: Path,
    *,
    actor: str,
    today: dt.date | None = None,
    origin: str | None = None,
    scope: tuple[int, str] | None = None,
) -> RecordImport:
    """Import a monitoring sheet all or nothing, then run the alert rules on its records.
    ``scope`` (unit id, unit code): a unit's own import, refused row by row outside it.

    Columns (Chinese or English, any order): 记录编号 record_id (generated from the file's hash
    and row when the column is absent), 物种 species (key, 学名 or 中文名), 监测方法 method (key or
    label), 日期 date, 数值 value, [单位 value_unit: must agree with the method], [努力量(天)
    effort_days], 经度/纬度 lon/lat (or 监测点编号 site_code, whose position is used), [乡镇],
    [寄主], [记录人], [备注].
    """
    options = ReadOptions(origin=origin or "local", scope=scope)
    return import_file(session, path, options, actor=actor, today=today or clock_today(),
                       action="invasive_record.import", audit_extra={"origin": options.origin})  # fmt: skip


def import_file(session: Session, path: Path, options: ReadOptions, *, actor: str, today: dt.date,
                action: str, audit_extra: dict[str, Any]) -> RecordImport:  # fmt: skip
    """One record file, local or a partner's: check every row, store, run the alert rules on
    the new records, audit the import (``action``, with ``audit_extra``)."""
    from ecoplan.monitoring.invasive_alerts import evaluate  # the rules read what is stored

    config = load_config()
    rows, digest = read_records(session, path, options, today=today)
    records = store_records(session, rows, origin=options.origin, actor=actor)
    positives = sum(is_positive(config, r.method, r.value) for r in records)
    run = evaluate(session, records, today=today, actor=actor)
    audit.record(session, actor=actor, action=action, entity_type="invasive_import",
                 entity_id=digest[:16], after={"file": path.name, "sha256": digest, "records": len(records),
                                               "positives": positives, "alerts": len(run.alerts),
                                               **audit_extra},
                 context={"rules": config.key})  # fmt: skip
    return RecordImport(path.name, digest, records, positives, run)
