"""Germplasm accessions (task 4): repositories, accession import, the 4.2 collection target and
the 4.3 annual report (种质资源保护年度报告).

- Repositories: ``data/germplasm.toml`` seeds the 3 国家林木种质资源库 and 2 国家重点林木良种
  基地 of measure 4.2 under **placeholder** names (the plan does not name them);
  :func:`load_repositories` replaces or extends them from a CSV keyed by code.
- :func:`import_accessions`: a CSV (UTF-8 or GBK) or xlsx with Chinese or English headers in
  any order, stored whole or refused whole with every bad row named.
- :func:`progress`: accessions collected in a year against the target read from the loaded
  plan's measure text ("收集林草种质资源600份"), else from the parameter file.
- :func:`annual_report_docx`: the annual report as a Word document.

Categories (林草 / 农作物 / 畜禽 / 水产), materials and statuses come from the parameter file;
statuses are stored by English key (``collected`` …) and shown by Chinese label (采集 …).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import io
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import RGBColor
from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.importing import find_column
from ecoplan.cases.spatial import in_bbox, place_points
from ecoplan.config import today as default_today
from ecoplan.datafiles import load_toml_model, read_csv_text
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.monitoring.models import Taxon
from ecoplan.monitoring.register_models import Accession, GermplasmRepository
from ecoplan.monitoring.taxa import NameMatcher
from ecoplan.plans.models import Measure, Plan
from ecoplan.reports.documents import add_table, set_fonts, to_bytes
from ecoplan.units.models import Unit
from ecoplan.units.service import unit_index

MAX_ROWS = 200_000


# --------------------------------------------------------------------------- parameters


class CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target_words: list[str]


class TargetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    category: str
    value: float
    unit: str
    source: str


class RepositorySeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: str
    kind: str
    category: str
    verified: bool = False


class GermplasmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: str
    verified: bool
    lost_statuses: list[str]
    categories: dict[str, CategorySpec]
    materials: dict[str, str]  # material → default quantity unit
    statuses: dict[str, str]  # key → label
    targets: list[TargetSpec] = []
    repositories: list[RepositorySeed] = []
    sha256: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> GermplasmConfig:
        if not set(self.lost_statuses) <= set(self.statuses):
            raise ValueError("lost_statuses 中有未定义的状态")
        used = {t.category for t in self.targets} | {r.category for r in self.repositories}
        if not used <= set(self.categories):
            raise ValueError(f"未定义的类别: {', '.join(sorted(used - set(self.categories)))}")
        return self


@lru_cache(maxsize=1)
def config() -> GermplasmConfig:
    """The built-in parameter file ``data/germplasm.toml``."""
    return load_toml_model(GermplasmConfig, "ecoplan.monitoring", "data", "germplasm",
                           ["germplasm"], "种质资源参数")  # fmt: skip


def status_key(text: str) -> str | None:
    """A status written as key or label (``stored`` / ``入库``) → its key."""
    statuses = config().statuses
    text = text.strip()
    if text.lower() in statuses:
        return text.lower()
    return next((k for k, label in statuses.items() if label == text), None)


# --------------------------------------------------------------------------- reading files


def read_table(path: Path, what: str) -> pd.DataFrame:
    """A CSV (UTF-8 or GBK) or xlsx sheet as text cells, blank rows dropped, headers stripped."""
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            text = read_csv_text(path)
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        elif suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        else:
            raise InputFileError(path, f"只接受 CSV 或 XLSX {what}")
    except (ValueError, OSError, pd.errors.ParserError, zipfile.BadZipFile) as exc:
        raise InputFileError(path, f"无法读取{what}({type(exc).__name__})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.apply(lambda c: c.astype(str).str.strip())
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # the line numbers a user sees
    frame = frame[(frame != "").any(axis=1)]
    if frame.empty:
        raise InputFileError(path, f"{what}中没有数据")
    if len(frame) > MAX_ROWS:
        raise InputFileError(path, f"行数超过上限 {MAX_ROWS}")
    return frame


def _mapped(frame: pd.DataFrame, names: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    found = {ours: find_column(list(frame.columns), spelled) for ours, spelled in names.items()}
    return {ours: str(col) for ours, col in found.items() if col is not None}


def _number(text: str) -> float | None:
    """A finite number, or None for text that is not one."""
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _date(text: str) -> dt.date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:  # an Excel date cell read as text: "2024-05-12 00:00:00"
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        return None


# --------------------------------------------------------------------------- repositories

REPO_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("编码", "代码", "库编码", "code"),
    "name": ("名称", "库名称", "name"),
    "kind": ("类型", "kind", "type"),
    "category": ("资源类别", "类别", "category"),
    "unit": ("主管单位", "单位", "单位代码", "unit", "unit_code"),
    "district": ("所在区", "区", "district"),
    "lon": ("经度", "lon", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "capacity": ("保存容量", "容量", "capacity"),
    "active": ("启用", "active"),
}
YES = {"是", "yes", "true", "1", "y", ""}
NO = {"否", "no", "false", "0", "n"}


@dataclass
class RepositoryLoad:
    added: int = 0
    updated: int = 0
    deactivated: int = 0


def _repo_snapshot(repo: GermplasmRepository) -> dict[str, Any]:
    return {"code": repo.code, "name": repo.name, "kind": repo.kind, "category": repo.category,
            "unit_id": repo.unit_id, "district_name": repo.district_name, "lon": repo.lon,
            "lat": repo.lat, "capacity": repo.capacity, "active": repo.active}  # fmt: skip


def load_repositories(session: Session, source: Path | Sequence[Mapping[str, Any]], *,
                      actor: str, replace: bool = False) -> RepositoryLoad:  # fmt: skip
    """Add or update repositories by code from a CSV / xlsx or from rows (dicts keyed by our
    field names or by the file's headers). ``replace``: repositories not in the source are
    deactivated (never deleted: accessions point at them). All or nothing."""
    if isinstance(source, Path):
        frame, where = read_table(source, "种质库名录"), source.name
    else:
        records = [{k: "" if v is None else str(v).strip() for k, v in r.items()} for r in source]
        frame = pd.DataFrame(records).fillna("")  # a key some rows lack is blank
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        where = "种质库名录"
    cols = _mapped(frame, REPO_COLUMNS)
    missing = [REPO_COLUMNS[k][0] for k in ("code", "name", "kind", "category") if k not in cols]
    if missing:
        raise InputFileError(
            where, f"缺少{'、'.join(missing)}列; 现有列: {', '.join(frame.columns)}"
        )
    units = unit_index(session)
    categories = config().categories
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    for line, cells in frame.iterrows():

        def get(ours: str, cells: pd.Series = cells) -> str:
            return str(cells[cols[ours]]).strip() if ours in cols else ""

        code, name, kind, category = get("code"), get("name"), get("kind"), get("category")
        at = f"第 {line} 行"
        if not code or not name or not kind:
            problems.append(f"{at}: 编码、名称和类型不能为空")
        if code in seen:
            problems.append(f"{at}: 编码 {code} 与第 {seen[code]} 行重复")
        seen[code] = int(str(line))
        if name in seen_names:
            problems.append(f"{at}: 名称“{name}”与第 {seen_names[name]} 行重复")
        seen_names[name] = int(str(line))
        if category not in categories:
            problems.append(f"{at}: 类别“{category}”无法识别(可选: {'、'.join(categories)})")
        unit = None
        if get("unit"):
            unit = units.get(get("unit"))
            if unit is None:
                problems.append(f"{at}: 单位“{get('unit')}”不在单位名录中")
        lon, lat = _number(get("lon")), _number(get("lat"))
        if (get("lon") or get("lat")) and (lon is None or lat is None or not in_bbox(lon, lat)):
            problems.append(f"{at}: 坐标({get('lon')}, {get('lat')})不在北京范围内")
        capacity = _number(get("capacity")) if get("capacity") else None
        if get("capacity") and (
            capacity is None or capacity < 0 or not float(capacity).is_integer()
        ):
            problems.append(f"{at}: 保存容量“{get('capacity')}”应为非负整数")
        active = get("active").lower()
        if active not in YES | NO:
            problems.append(f"{at}: 启用“{get('active')}”应为 是 或 否")
        rows.append({"code": code[:40], "name": name[:200], "kind": kind[:40], "category": category,
                     "unit_id": unit.id if unit else None, "district_name": get("district")[:60],
                     "lon": lon, "lat": lat, "capacity": int(capacity) if capacity is not None else None,
                     "active": active not in NO})  # fmt: skip
    existing = {r.code: r for r in session.scalars(select(GermplasmRepository))}
    names = {r.name: r.code for r in existing.values()}
    for row in rows:
        owner = names.get(row["name"])
        if owner is not None and owner != row["code"] and owner not in seen:
            problems.append(f"名称“{row['name']}”已被编码为 {owner} 的种质库使用")
    if problems:
        raise ValidationError(
            f"{where}: {len(problems)} 处错误,未导入: " + "; ".join(problems[:8]), problems
        )
    result = RepositoryLoad()
    befores = {code: _repo_snapshot(repo) for code, repo in existing.items()}
    # free the names that change first, so that two repositories may swap names in one file
    for row in rows:
        repo = existing.get(row["code"])
        if repo is not None and repo.name != row["name"]:
            repo.name = f"~{repo.code}"
    session.flush()
    for row in rows:
        repo = existing.get(row["code"])
        if repo is None:
            repo = GermplasmRepository(**row)
            session.add(repo)
            result.added += 1
        else:
            for key, value in row.items():
                setattr(repo, key, value)
            result.updated += 1
        session.flush()
        audit.record(session, actor=actor, action="germplasm.repository", entity_type="germplasm_repository",
                     entity_id=repo.id, before=befores.get(row["code"]), after=_repo_snapshot(repo))  # fmt: skip
    if replace:
        for code, repo in existing.items():
            if code not in seen and repo.active:
                before = _repo_snapshot(repo)
                repo.active = False
                result.deactivated += 1
                audit.record(session, actor=actor, action="germplasm.repository", entity_type="germplasm_repository",
                             entity_id=repo.id, before=before, after=_repo_snapshot(repo))  # fmt: skip
    session.flush()
    return result


def seed_repositories(session: Session, *, actor: str) -> RepositoryLoad:
    """Add the placeholder repositories of the parameter file whose codes are not stored yet
    (so an administrator's replacements are never reverted)."""
    stored = set(session.scalars(select(GermplasmRepository.code)))
    rows = [{"code": r.code, "name": r.name, "kind": r.kind, "category": r.category}
            for r in config().repositories if r.code not in stored]  # fmt: skip
    return load_repositories(session, rows, actor=actor) if rows else RepositoryLoad()


def is_placeholder(repo: GermplasmRepository) -> bool:
    """Still carries a placeholder name from the parameter file (to be replaced)."""
    return any(r.name == repo.name and not r.verified for r in config().repositories)


def repositories(session: Session, *, active_only: bool = False) -> list[GermplasmRepository]:
    query = select(GermplasmRepository).order_by(
        GermplasmRepository.category, GermplasmRepository.code
    )
    if active_only:
        query = query.where(GermplasmRepository.active.is_(True))
    return list(session.scalars(query))


# --------------------------------------------------------------------------- accessions

ACCESSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "accession_no": ("种质编号", "资源编号", "统一编号", "库编号", "编号", "accession_no",
                     "accession number", "accessionnumber", "accession"),
    "category": ("资源类别", "类别", "category"),
    "name_cn": ("中文名", "种名", "物种", "作物名称", "物种名称", "name_cn", "species"),
    "scientific_name": ("学名", "拉丁名", "scientific_name", "scientificname"),
    "variety": ("品种", "品种名称", "品系", "variety", "cultivar"),
    "material": ("材料类型", "种质类型", "材料", "material", "material_type"),
    "origin": ("来源地", "原产地", "采集地点", "采集地", "origin", "provenance"),
    "lon": ("经度", "lon", "longitude", "decimallongitude"),
    "lat": ("纬度", "lat", "latitude", "decimallatitude"),
    "altitude": ("海拔", "海拔(m)", "altitude", "elevation"),
    "district": ("所在区", "区", "行政区", "district"),
    "collected_on": ("采集日期", "收集日期", "collection_date", "collected_on", "date"),
    "collector": ("采集人", "收集人", "collector", "collected_by"),
    "unit": ("保存单位", "收集单位", "填报单位", "单位代码", "unit", "unit_code"),
    "repository": ("保存库", "种质库", "保存库编码", "repository", "bank"),
    "quantity": ("数量", "quantity"),
    "quantity_unit": ("数量单位", "计量单位", "quantity_unit"),
    "status": ("状态", "保存状态", "status"),
    "viability": ("生活力(%)", "发芽率(%)", "生活力", "发芽率", "viability", "viability_pct"),
    "remarks": ("备注", "remarks", "note"),
}  # fmt: skip
REQUIRED = ("accession_no", "collected_on", "material", "quantity")


@dataclass
class AccessionImport:
    added: int
    file: str
    sha256: str
    by_category: dict[str, int] = field(default_factory=dict)
    unmatched: dict[str, int] = field(default_factory=dict)  # name → rows, kept unmatched
    fuzzy: dict[str, str] = field(default_factory=dict)  # name as written → list name


def import_accessions(session: Session, path: Path, *, actor: str, unit_code: str | None = None,
                      today: dt.date | None = None, own_unit: bool = False) -> AccessionImport:  # fmt: skip
    """Store every accession of a sheet, or none: each bad row is named in one
    ``ValidationError``. ``unit_code`` is the unit of rows that name none; with ``own_unit``
    (a unit's user importing) a row naming another unit is refused, so that a unit cannot
    book accessions to another unit's count. Species names are matched to the species list;
    unmatched names are stored as written and reported."""
    cfg = config()
    today = today or default_today()
    frame = read_table(path, "种质资源登记表")
    cols = _mapped(frame, ACCESSION_COLUMNS)
    missing = [ACCESSION_COLUMNS[k][0] for k in REQUIRED if k not in cols]
    if "name_cn" not in cols and "scientific_name" not in cols:
        missing.append("中文名或学名")
    if missing:
        raise InputFileError(
            path, f"缺少{'、'.join(missing)}列; 现有列: {', '.join(frame.columns)}"
        )
    units = unit_index(session)
    default_unit = None
    if unit_code:
        default_unit = units.get(unit_code)
        if default_unit is None:
            raise ValidationError(f"单位代码 {unit_code} 不在名录中")
    elif own_unit:
        raise ValidationError("只导入本单位的种质时须指明本单位")
    repos: dict[str, GermplasmRepository] = {}
    for known in session.scalars(select(GermplasmRepository)):
        repos[known.code], repos[known.name] = known, known
    matcher = NameMatcher.from_db(session)
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, cells in frame.iterrows():

        def get(ours: str, cells: pd.Series = cells) -> str:
            return str(cells[cols[ours]]).strip() if ours in cols else ""

        at, bad = f"第 {line} 行", len(problems)
        number = get("accession_no")
        if not number:
            problems.append(f"{at}: 缺少种质编号")
        elif number in seen:
            problems.append(f"{at}: 种质编号 {number} 与第 {seen[number]} 行重复")
        else:
            seen[number] = int(str(line))
        repo = None
        if get("repository"):
            repo = repos.get(get("repository"))
            if repo is None:
                problems.append(f"{at}: 保存库“{get('repository')}”不在种质库名录中")
            elif not repo.active:
                problems.append(f"{at}: 保存库“{repo.name}”已停用")
        category = get("category") or (repo.category if repo else "")
        if not category:
            problems.append(f"{at}: 缺少资源类别(林草/农作物/畜禽/水产),也未指定保存库")
        elif category not in cfg.categories:
            problems.append(
                f"{at}: 资源类别“{category}”无法识别(可选: {'、'.join(cfg.categories)})"
            )
        collected = _date(get("collected_on"))
        if not get("collected_on"):
            problems.append(f"{at}: 缺少采集日期")
        elif collected is None:
            problems.append(f"{at}: 采集日期“{get('collected_on')}”无法识别(应为 YYYY-MM-DD)")
        elif collected > today or collected.year < 1900:
            problems.append(
                f"{at}: 采集日期 {collected.isoformat()} 不合理(晚于 {today.isoformat()} 或早于 1900 年)"
            )
        quantity = _number(get("quantity"))
        if not get("quantity"):
            problems.append(f"{at}: 缺少数量")
        elif quantity is None:
            problems.append(f"{at}: 数量“{get('quantity')}”不是数字")
        elif quantity <= 0:
            problems.append(f"{at}: 数量 {get('quantity')} 应大于 0")
        material = get("material")
        if material not in cfg.materials:
            problems.append(f"{at}: 材料类型“{material}”无法识别(可选: {'、'.join(cfg.materials)})")
        status = status_key(get("status")) if get("status") else "collected"
        if status is None:
            problems.append(f"{at}: 状态“{get('status')}”无法识别(可选: "
                            f"{'、'.join(f'{v}/{k}' for k, v in cfg.statuses.items())})")  # fmt: skip
        lon, lat = _number(get("lon")), _number(get("lat"))
        if (get("lon") or get("lat")) and (lon is None or lat is None or not in_bbox(lon, lat)):
            problems.append(f"{at}: 坐标({get('lon')}, {get('lat')})不在北京范围内")
        altitude = _number(get("altitude"))
        if get("altitude") and altitude is None:
            problems.append(f"{at}: 海拔“{get('altitude')}”不是数字")
        viability = _number(get("viability"))
        if get("viability") and (viability is None or not 0 <= viability <= 100):
            problems.append(f"{at}: 生活力“{get('viability')}”应为 0–100 之间的百分数")
        unit = default_unit
        if get("unit"):
            unit = units.get(get("unit"))
            if unit is None:
                problems.append(f"{at}: 单位“{get('unit')}”不在单位名录中")
            elif own_unit and default_unit is not None and unit.id != default_unit.id:
                problems.append(f"{at}: 单位“{get('unit')}”不是本单位({default_unit.name}),"
                                "只能导入本单位收集的种质")  # fmt: skip
        name_cn, sci = get("name_cn"), get("scientific_name")
        if not name_cn and not sci:
            problems.append(f"{at}: 缺少物种名称(中文名或学名)")
        if len(problems) > bad:
            continue
        rows.append({"line": int(str(line)), "accession_no": number[:60], "category": category,
                     "name_cn": name_cn, "scientific_name": sci, "variety": get("variety")[:100],
                     "material": material, "origin": get("origin")[:200], "lon": lon, "lat": lat,
                     "altitude_m": altitude, "district_name": get("district")[:60],
                     "collected_on": collected, "collector": get("collector")[:200],
                     "unit": unit, "repository_id": repo.id if repo else None,
                     "quantity": quantity,
                     "quantity_unit": (get("quantity_unit") or cfg.materials.get(material, "份"))[:12],
                     "status": status, "viability_pct": viability,
                     "remarks": get("remarks")})  # fmt: skip
    stored = _stored_numbers(session, list(seen))
    for number in stored:
        problems.append(f"第 {seen[number]} 行: 种质编号 {number} 已登记")
    if problems:
        problems.sort(key=_line_of)
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未导入: " + "; ".join(problems[:8]), problems
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = AccessionImport(0, path.name, digest)
    _fill_districts(rows)
    taxa = {t.id: t for t in session.scalars(select(Taxon))}
    now = dt.datetime.now(dt.UTC)
    records: list[dict[str, Any]] = []
    for row in rows:
        match = matcher.match(row["scientific_name"]) if row["scientific_name"] else None
        if (match is None or match.kind == "none") and row["name_cn"]:
            match = matcher.match(row["name_cn"])
        written = row["scientific_name"] or row["name_cn"]
        taxon = taxa.get(match.taxon_id) if match and match.taxon_id else None
        if taxon is None:
            result.unmatched[written] = result.unmatched.get(written, 0) + 1
        elif match is not None and match.kind == "fuzzy":
            result.fuzzy[written] = taxon.scientific_name
        unit = row.pop("unit")
        line = row.pop("line")
        if not row["district_name"] and unit is not None and unit.kind == "district_gov":
            row["district_name"] = unit.name.removesuffix("政府")
        row.update({
            "taxon_id": taxon.id if taxon else None,
            "name_cn": (row["name_cn"] or (taxon.name_cn if taxon else "") or row["scientific_name"])[:100],
            "scientific_name": (row["scientific_name"] or (taxon.scientific_name if taxon else ""))[:200],
            "unit_id": unit.id if unit else None, "source": {"file": path.name, "sha256": digest, "row": line},
            "created_by": actor, "created_at": now,
        })  # fmt: skip
        records.append(row)
        result.by_category[row["category"]] = result.by_category.get(row["category"], 0) + 1
    for start in range(0, len(records), 5000):
        session.execute(insert(Accession), records[start : start + 5000])
    result.added = len(records)
    audit.record(session, actor=actor, action="germplasm.import", entity_type="germplasm_accession",
                 entity_id=digest[:16],
                 after={"file": path.name, "sha256": digest, "added": len(records),
                        "by_category": result.by_category,
                        "accession_nos": [r["accession_no"] for r in records]},
                 context={"unmatched": result.unmatched, "fuzzy": result.fuzzy})  # fmt: skip
    return result


def _line_of(problem: str) -> int:
    head = problem.removeprefix("第 ").split(" ", 1)[0]
    return int(head) if head.isdigit() else 0


def _stored_numbers(session: Session, numbers: list[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(numbers), 5000):
        chunk = numbers[start : start + 5000]
        found += session.scalars(
            select(Accession.accession_no).where(Accession.accession_no.in_(chunk))
        )
    return sorted(found)


def _fill_districts(rows: list[dict[str, Any]]) -> None:
    """The district of rows with coordinates and no district (Beijing's 16 districts)."""
    todo = [r for r in rows if not r["district_name"] and r["lon"] is not None]
    if not todo:
        return
    places = place_points(np.asarray([r["lon"] for r in todo], dtype=float),
                          np.asarray([r["lat"] for r in todo], dtype=float))  # fmt: skip
    for row, (_code, name) in zip(todo, places, strict=True):
        if name is not None:
            row["district_name"] = name


# --------------------------------------------------------------------------- progress


@dataclass
class Progress:
    """Accessions of one category collected in one year against the year's target."""

    year: int
    category: str
    as_of: dt.date
    target: float | None
    target_source: str
    collected: int
    by_unit: list[tuple[str, int]]  # unit name → accessions, most first
    by_month: list[int]  # 12 values, January first
    cumulative: list[int]  # running total at each month's end
    share: float | None  # collected / target (1.0 = done)
    expected: float | None  # what a linear schedule asks for by ``as_of``
    on_track: bool | None
    verdict: str


def collection_target(session: Session, year: int, category: str) -> tuple[float, str] | None:
    """The year's collection target for a category, in 份, and where it was read.

    First from the targets the plan importer extracted from measure text (a target in 份 whose
    indicator names 种质 and one of the category's words: "收集林草种质资源600份"), in the
    newest plan of that year; else from the parameter file; else None."""
    words = config().categories[category].target_words
    query = (select(Measure, Plan).join(Plan, Measure.plan_id == Plan.id)
             .where(Plan.year == year, Measure.removed.is_(False))
             .order_by(Plan.id.desc(), Measure.position))  # fmt: skip
    for measure, plan in session.execute(query).all():
        for target in measure.targets or []:
            indicator = str(target.get("indicator", ""))
            if (
                target.get("unit") == "份"
                and "种质" in indicator
                and any(w in indicator for w in words)
            ):
                return float(
                    target["value"]
                ), f"{plan.title} 措施{measure.doc_id}: {target.get('text') or indicator}"
    for spec in config().targets:
        if spec.year == year and spec.category == category:
            return spec.value, spec.source
    return None


def progress(
    session: Session, year: int, *, category: str = "林草", today: dt.date | None = None
) -> Progress:
    """Collection progress of ``category`` in ``year`` as of ``today`` (the supervision clock)."""
    if category not in config().categories:
        raise ValidationError(
            f"资源类别“{category}”无法识别(可选: {'、'.join(config().categories)})"
        )
    today = today or default_today()
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    # as of ``today``: an accession collected later is not counted yet (a roll-up replayed for a
    # past day, e.g. by the demo, would otherwise date the whole year's count to that day)
    query = (select(Accession.collected_on, Unit.name).outerjoin(Unit, Accession.unit_id == Unit.id)
             .where(Accession.category == category, Accession.collected_on >= first,
                    Accession.collected_on <= min(last, today)))  # fmt: skip
    rows = session.execute(query).all()
    by_month = [0] * 12
    units: dict[str, int] = {}
    for collected_on, unit_name in rows:
        by_month[collected_on.month - 1] += 1
        name = unit_name or "未填单位"
        units[name] = units.get(name, 0) + 1
    cumulative = np.cumsum(by_month).tolist()
    collected = len(rows)
    found = collection_target(session, year, category)
    as_of = min(max(today, first - dt.timedelta(days=1)), last)
    if found is None:
        return Progress(year, category, as_of, None, "", collected, _ranked(units), by_month,
                        cumulative, None, None, None, "无量化目标")  # fmt: skip
    target, source = found
    # The schedule is linear in days: the plan gives one figure due 年底前 and no milestones,
    # so the only schedule it implies is an even pace over the year (elapsed days / days in
    # the year). Collection is seasonal (most seed ripens in autumn), so a unit behind the line
    # in spring is not necessarily late: the verdict says "behind the even pace", the
    # supervisor judges. Monthly weights from real collection seasons were rejected until
    # Beijing's own figures exist to set them (docs/monitoring-registers.md).
    elapsed = (as_of - first).days + 1 if as_of >= first else 0
    expected = target * elapsed / (366 if calendar.isleap(year) else 365)
    on_track = collected >= expected
    if collected >= target:
        verdict = "已完成"
    elif elapsed == 0:
        verdict = "未开始"
    else:
        verdict = "符合进度" if on_track else "落后于进度"
    return Progress(year, category, as_of, target, source, collected, _ranked(units), by_month,
                    cumulative, collected / target, expected, on_track, verdict)  # fmt: skip


def pace_by_month(p: Progress) -> list[float] | None:
    """What the even pace of :func:`progress` asks for by each month's end (January first), the
    schedule ``expected`` is read from; None without a target."""
    if p.target is None:
        return None
    days = 366 if calendar.isleap(p.year) else 365
    ends = [dt.date(p.year, m, calendar.monthrange(p.year, m)[1]) for m in range(1, 13)]
    return [p.target * end.timetuple().tm_yday / days for end in ends]


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# --------------------------------------------------------------------------- annual report

BODY_FONT = "宋体"
HEADING_FONT = "黑体"


def _new_document() -> Any:
    doc = Document()
    set_fonts(doc.styles["Normal"], BODY_FONT, 12)
    for name, size in (("Title", 20), ("Heading 1", 16), ("Heading 2", 14)):
        style = doc.styles[name]
        set_fonts(style, HEADING_FONT, size)
        style.font.color.rgb = RGBColor(0, 0, 0)
    return doc


def _table(doc: Any, header: list[str], rows: list[list[Any]]) -> None:
    if not rows:
        doc.add_paragraph("(无)")
        return
    add_table(doc, header, rows)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _accession_table(session: Session, where: Any) -> list[list[Any]]:
    labels = config().statuses
    query = (select(Accession, Unit.name, GermplasmRepository.name)
             .outerjoin(Unit, Accession.unit_id == Unit.id)
             .outerjoin(GermplasmRepository, Accession.repository_id == GermplasmRepository.id)
             .where(where).order_by(Accession.collected_on, Accession.accession_no))  # fmt: skip
    return [[a.accession_no, a.category, a.name_cn, a.variety, a.material,
             f"{_fmt(a.quantity)} {a.quantity_unit}", a.collected_on.isoformat(), unit or "",
             repo or "", labels.get(a.status, a.status)]
            for a, unit, repo in session.execute(query).all()]  # fmt: skip


ACCESSION_HEADER = [
    "种质编号",
    "类别",
    "名称",
    "品种",
    "材料",
    "数量",
    "采集日期",
    "单位",
    "保存库",
    "状态",
]


def annual_report_docx(session: Session, year: int, *, today: dt.date | None = None) -> bytes:
    """The 种质资源保护年度报告 (measure 4.3, with the 林草 collection of 4.2) for ``year``.

    The holdings are the accessions collected up to the year's end (or ``today`` if earlier),
    each with the status recorded now."""
    cfg = config()
    today = today or default_today()
    end = min(dt.date(year, 12, 31), today)
    first = dt.date(year, 1, 1)
    query = (select(Accession, Unit.name).outerjoin(Unit, Accession.unit_id == Unit.id)
             .where(Accession.collected_on <= end))  # fmt: skip
    holdings = list(session.execute(query).all())
    accessions = [a for a, _ in holdings]
    new = [a for a in accessions if a.collected_on >= first]
    lost = [a for a in accessions if a.status in cfg.lost_statuses]
    tested = [a for a in accessions if a.viability_pct is not None]
    by_category = Counter(a.category for a in accessions)
    new_by_category = Counter(a.category for a in new)
    forest = progress(session, year, category="林草", today=today)

    doc = _new_document()
    doc.add_paragraph(
        f"北京市{year}年度种质资源保护年度报告", style="Title"
    ).alignment = WD_ALIGN_PARAGRAPH.CENTER
    date_line = doc.add_paragraph(f"(数据截至 {end.isoformat()},生成于 {today.isoformat()})")
    date_line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_heading("一、总体情况", level=1)
    parts = "、".join(f"{c} {by_category[c]} 份" for c in cfg.categories if by_category[c])
    new_parts = "、".join(
        f"{c} {new_by_category[c]} 份" for c in cfg.categories if new_by_category[c]
    )
    summary = (f"截至 {end.isoformat()},全市登记保存种质资源 {len(accessions)} 份"
               f"{f'(其中{parts})' if parts else ''};{year} 年新收集 {len(new)} 份"
               f"{f'(其中{new_parts})' if new_parts else ''}。")  # fmt: skip
    if forest.target is not None:
        summary += (f"林草种质资源收集目标 {forest.target:g} 份,已完成 {forest.collected} 份,"
                    f"完成率 {100 * (forest.share or 0):.1f}%,{forest.verdict}。")  # fmt: skip
    summary += (f"失活或丢失 {len(lost)} 份;开展生活力检测 {len(tested)} 份"
                + (f",平均生活力 {np.mean([a.viability_pct for a in tested]):.1f}%。" if tested else "。"))  # fmt: skip
    doc.add_paragraph(summary)

    doc.add_heading("二、林草种质资源收集(措施4.2)", level=1)
    _progress_section(doc, forest)
    doc.add_heading("三、农作物、畜禽、水产种质资源(措施4.3)", level=1)
    others = [c for c in cfg.categories if c != "林草"]
    _table(doc, ["类别", "保存总数(份)", f"{year}年新收集(份)", "失活或丢失(份)"],
           [[c, by_category[c], new_by_category[c], sum(1 for a in lost if a.category == c)] for c in others])  # fmt: skip

    doc.add_heading("四、按类别、材料和状态统计", level=1)
    statuses = list(cfg.statuses)
    counts = Counter((a.category, a.material, a.status) for a in accessions)
    pairs = sorted(
        {(c, m) for c, m, _ in counts}, key=lambda p: (list(cfg.categories).index(p[0]), p[1])
    )
    rows = [[c, m, *(counts[(c, m, s)] for s in statuses), sum(counts[(c, m, s)] for s in statuses)]
            for c, m in pairs]  # fmt: skip
    if rows:
        rows.append(
            [
                "合计",
                "",
                *(sum(counts[(c, m, s)] for c, m in pairs) for s in statuses),
                len(accessions),
            ]
        )
    _table(doc, ["类别", "材料", *(cfg.statuses[s] for s in statuses), "合计"], rows)

    doc.add_heading("五、保存库(圃)", level=1)
    in_repo = Counter(a.repository_id for a in accessions)
    new_in_repo = Counter(a.repository_id for a in new)
    repo_rows = [[r.name, r.kind, r.category, r.district_name, in_repo[r.id], new_in_repo[r.id],
                  "" if r.capacity is None else r.capacity] for r in repositories(session) if r.active or in_repo[r.id]]  # fmt: skip
    if in_repo[None]:
        repo_rows.append(
            ["未入库(原地保存或其他)", "", "", "", in_repo[None], new_in_repo[None], ""]
        )
    _table(
        doc,
        ["保存库", "类型", "类别", "所在区", "保存(份)", f"{year}年新增(份)", "设计容量(份)"],
        repo_rows,
    )
    if any(is_placeholder(r) for r in repositories(session)):
        doc.add_paragraph(
            "注: 名称标有“占位,待核实”的种质库为系统预置的占位记录,须由管理员替换为实际名称。"
        )

    doc.add_heading("六、按区和单位统计", level=1)
    places = Counter((a.district_name or "未填", unit or "未填单位") for a, unit in holdings)
    new_places = Counter(
        (a.district_name or "未填", unit or "未填单位")
        for a, unit in holdings
        if a.collected_on >= first
    )
    _table(doc, ["区", "单位", "保存(份)", f"{year}年新收集(份)"],
           [[d, u, n, new_places[(d, u)]] for (d, u), n in sorted(places.items())])  # fmt: skip

    doc.add_heading(f"七、{year}年新收集种质", level=1)
    _table(doc, ACCESSION_HEADER,
           _accession_table(session, (Accession.collected_on >= first) & (Accession.collected_on <= end)))  # fmt: skip
    doc.add_heading("八、失活和丢失种质", level=1)
    _table(doc, ACCESSION_HEADER,
           _accession_table(session, Accession.status.in_(cfg.lost_statuses) & (Accession.collected_on <= end)))  # fmt: skip
    doc.add_heading("九、生活力检测", level=1)
    groups: dict[tuple[str, str], list[float]] = {}
    for a in tested:
        groups.setdefault((a.category, a.material), []).append(float(a.viability_pct or 0))
    _table(doc, ["类别", "材料", "检测(份)", "平均生活力(%)", "最低(%)", "最高(%)"],
           [[c, m, len(v), f"{np.mean(v):.1f}", f"{min(v):g}", f"{max(v):g}"]
            for (c, m), v in sorted(groups.items())])  # fmt: skip
    doc.add_paragraph(f"说明: 状态为生成报告时的登记状态;参数文件 {cfg.id} {cfg.version}。")
    return to_bytes(doc)


def _progress_section(doc: Any, p: Progress) -> None:
    if p.target is None:
        doc.add_paragraph(f"{p.year} 年未设林草种质资源收集量化目标;已收集 {p.collected} 份。")
    else:
        doc.add_paragraph(f"目标来源: {p.target_source}。按全年均匀进度,截至 {p.as_of.isoformat()} "
                          f"应完成 {p.expected or 0:.0f} 份,实际 {p.collected} 份,{p.verdict}。")  # fmt: skip
        _table(doc, ["目标(份)", "已收集(份)", "完成率", "应完成(份)", "判断"],
               [[f"{p.target:g}", p.collected, f"{100 * (p.share or 0):.1f}%", f"{p.expected or 0:.0f}", p.verdict]])  # fmt: skip
    _table(doc, ["月份", *(f"{m}月" for m in range(1, 13))],
           [["当月(份)", *p.by_month], ["累计(份)", *p.cumulative]])  # fmt: skip
    _table(doc, ["单位", "收集(份)"], [[u, n] for u, n in p.by_unit])
