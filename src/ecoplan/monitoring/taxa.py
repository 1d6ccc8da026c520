"""The species list: loading it from an admin's CSV, and matching the names people write in
survey sheets to it.

CSV columns (Chinese or English headers): 学名 scientific_name, 中文名 name_cn, 分类阶元 rank,
上级学名 parent, 界 kingdom, 类群 group, 国家保护级别 national_level (国家一级/一级/I, 国家二级/
二级/II), 北京保护级别 beijing_level, 三有 sanyou (是/否), IUCN iucn, 外来入侵 invasive (是/否),
异名 synonyms (separated by ; or 、). A load is all or nothing and updates taxa already there
(by scientific name), so the list can be corrected and reloaded.

Matching, in order (``NameMatcher.match``): the scientific name (authorship and case removed),
the Chinese name, a synonym, then a fuzzy match for Latin names only (similarity ≥ 0.9: a typo or
a missing letter). Chinese names are never matched fuzzily: 白鹳 and 黑鹳, 大山雀 and 小山雀 are
one character apart and different species; an unmatched Chinese name comes back with the list
names one character away as suggestions. Whatever does not match is reported, never dropped.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.datafiles import read_csv_text
from ecoplan.errors import InputFileError, ValidationError
from ecoplan.monitoring.models import Taxon, TaxonName

HEADERS = {
    "scientific_name": ("学名", "scientific_name", "scientificname"),
    "name_cn": ("中文名", "name_cn", "chinese_name", "vernacularname"),
    "rank": ("分类阶元", "rank", "taxonrank"),
    "parent": ("上级学名", "parent", "parent_scientific_name"),
    "kingdom": ("界", "kingdom"),
    "group": ("类群", "group", "class_zh"),
    "national_level": ("国家保护级别", "national_level", "china_protection"),
    "beijing_level": ("北京保护级别", "beijing_level"),
    "sanyou": ("三有", "sanyou"),
    "iucn": ("iucn", "IUCN", "红色名录"),
    "invasive": ("外来入侵", "invasive"),
    "synonyms": ("异名", "synonyms"),
}
LEVELS = {"国家一级": "I", "一级": "I", "i": "I", "国家二级": "II", "二级": "II", "ii": "II"}
IUCN = {"LC", "NT", "VU", "EN", "CR", "EW", "EX", "DD", "NE"}
YES = {"是", "yes", "true", "1", "y"}
NO = {"否", "no", "false", "0", "n", ""}
RANKS = {
    "kingdom",
    "phylum",
    "class",
    "order",
    "family",
    "genus",
    "species",
    "subspecies",
    "variety",
}


def clean(name: str) -> str:
    """NFKC, single spaces, no surrounding space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name or "")).strip()


def latin_key(name: str) -> str:
    """A scientific name without authorship, in lower case: "Aix galericulata (Linnaeus,
    1758)" → "aix galericulata"; keeps a third word when it is an infraspecific epithet."""
    words = clean(name).replace("(", " (").split(" ")
    kept = [words[0]]
    for word in words[1:3]:  # epithets are lower-case words; an author or a year ends them
        if not (word[:1].isalpha() and word[:1].islower()):
            break
        kept.append(word)
    return " ".join(kept).lower()


def _is_latin(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z×][A-Za-z.\- ()&,0-9'×]*", clean(name)))


@dataclass
class LoadResult:
    added: int = 0
    updated: int = 0
    names: int = 0


def _column(header: list[str], ours: str) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in HEADERS[ours]:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None


def _level(value: str, row: int, what: str, problems: list[str]) -> str | None:
    text = clean(value).lower().replace(" ", "")
    if text in ("", "无", "未列入", "none", "三有"):
        return None
    if text not in LEVELS:
        problems.append(
            f"第 {row} 行: {what}“{value}”无法识别(可填 国家一级/国家二级 或 一级/二级)"
        )
        return None
    return LEVELS[text]


def _flag(value: str, row: int, what: str, problems: list[str]) -> bool:
    text = clean(value).lower()
    if text in YES:
        return True
    if text not in NO:
        problems.append(f"第 {row} 行: {what}“{value}”应为 是 或 否")
    return False


def read_taxa_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of the species list, checked; raise ValidationError listing every bad row."""
    if not path.is_file():
        raise InputFileError(path, "文件不存在")
    text = read_csv_text(path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputFileError(path, "文件为空")
    header, body = rows[0], rows[1:]
    cols = {ours: _column(header, ours) for ours in HEADERS}
    missing = [HEADERS[k][0] for k in ("scientific_name", "name_cn") if cols[k] is None]
    if missing:
        raise InputFileError(path, f"缺少{'、'.join(missing)}列; 现有列: {', '.join(header)}")
    problems: list[str] = []
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for n, cells in enumerate(body, start=2):
        if not any(c.strip() for c in cells):
            continue

        def get(ours: str, cells: list[str] = cells) -> str:
            i = cols[ours]
            return clean(cells[i]) if i is not None and i < len(cells) else ""

        name, cn = get("scientific_name"), get("name_cn")
        if not name or not cn:
            problems.append(f"第 {n} 行: 缺少学名或中文名")
            continue
        key = latin_key(name)
        if key in seen:
            problems.append(f"第 {n} 行: 学名 {name} 与第 {seen[key]} 行重复")
        seen[key] = n
        rank = (get("rank") or "species").lower()
        if rank not in RANKS:
            problems.append(f"第 {n} 行: 分类阶元“{rank}”无法识别")
        iucn = get("iucn").upper() or None
        if iucn and iucn not in IUCN:
            problems.append(f"第 {n} 行: IUCN 等级“{iucn}”无法识别")
        national = get("national_level")
        out.append({
            "row": n, "scientific_name": name, "name_cn": cn, "rank": rank, "parent": get("parent"),
            "kingdom": get("kingdom") or "Animalia", "group": get("group") or "",
            "national_level": _level(national, n, "国家保护级别", problems),
            "beijing_level": _level(get("beijing_level"), n, "北京保护级别", problems),
            "sanyou": national == "三有" or _flag(get("sanyou"), n, "三有", problems),
            "iucn": iucn, "invasive": _flag(get("invasive"), n, "外来入侵", problems),
            "synonyms": [s for s in re.split(r"[;；、|]", get("synonyms")) if clean(s)],
        })  # fmt: skip
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未导入: " + "; ".join(problems[:8]), problems
        )
    return out


def load_taxa_csv(session: Session, path: Path, *, actor: str) -> LoadResult:
    rows = read_taxa_csv(path)
    existing = {latin_key(t.scientific_name): t for t in session.scalars(select(Taxon))}
    result = LoadResult()
    by_key: dict[str, Taxon] = dict(existing)
    for row in rows:
        taxon = existing.get(latin_key(row["scientific_name"]))
        if taxon is None:
            taxon = Taxon(scientific_name=row["scientific_name"], source=path.name)
            session.add(taxon)
            result.added += 1
        else:
            result.updated += 1
        for attr in ("name_cn", "rank", "kingdom", "group", "national_level", "beijing_level", "sanyou", "iucn",
                     "invasive"):  # fmt: skip
            setattr(taxon, attr, row[attr])
        by_key[latin_key(row["scientific_name"])] = taxon
    session.flush()
    problems: list[str] = []
    for row in rows:
        if row["parent"]:
            parent = by_key.get(latin_key(row["parent"]))
            if parent is None:
                problems.append(f"第 {row['row']} 行: 上级学名 {row['parent']} 不在名录中")
            else:
                by_key[latin_key(row["scientific_name"])].parent_id = parent.id
    taken = {clean(t.scientific_name).lower(): t.id for t in by_key.values()} | {
        t.name_cn: t.id for t in by_key.values()
    }
    loaded = [by_key[latin_key(r["scientific_name"])].id for r in rows]
    session.execute(delete(TaxonName).where(TaxonName.taxon_id.in_(loaded)))
    others = {n.name: n.taxon_id for n in session.scalars(select(TaxonName))}
    for row in rows:
        taxon = by_key[latin_key(row["scientific_name"])]
        for name in row["synonyms"]:
            key = name.lower() if _is_latin(name) else name
            owner = taken.get(key, others.get(name))
            if owner is not None and owner != taxon.id:
                problems.append(f"第 {row['row']} 行: 异名“{name}”已是另一物种的名称")
                continue
            others[name] = taxon.id
            session.add(
                TaxonName(taxon_id=taxon.id, name=name, lang="la" if _is_latin(name) else "zh")
            )
            result.names += 1
    if problems:
        raise ValidationError(
            f"{path.name}: {len(problems)} 处错误,未导入: " + "; ".join(problems[:8]), problems
        )
    session.flush()
    audit.record(session, actor=actor, action="taxa.load", entity_type="taxon", entity_id="*",
                 after={"file": path.name, "added": result.added, "updated": result.updated,
                        "names": result.names})  # fmt: skip
    return result


@dataclass(frozen=True)
class Match:
    taxon_id: int | None
    kind: str  # exact | synonym | fuzzy | none
    matched: str = ""
    score: float = 1.0
    suggestions: tuple[
        str, ...
    ] = ()  # list names one character away from an unmatched Chinese name


@dataclass
class NameMatcher:
    """Built once per import from the whole list (a few thousand names)."""

    latin: dict[str, int] = field(default_factory=dict)
    chinese: dict[str, int] = field(default_factory=dict)
    synonyms: dict[str, int] = field(default_factory=dict)
    _cache: dict[str, Match] = field(default_factory=dict)

    @classmethod
    def from_db(cls, session: Session) -> NameMatcher:
        m = cls()
        for t in session.scalars(select(Taxon)):
            m.latin[latin_key(t.scientific_name)] = t.id
            m.chinese[clean(t.name_cn)] = t.id
        for n in session.scalars(select(TaxonName)):
            m.synonyms[latin_key(n.name) if n.lang == "la" else clean(n.name)] = n.taxon_id
        return m

    def match(self, name: str) -> Match:
        if name in self._cache:
            return self._cache[name]
        found = self._match(clean(name))
        self._cache[name] = found
        return found

    def _match(self, name: str) -> Match:
        if not name:
            return Match(None, "none")
        if _is_latin(name):
            key = latin_key(name)
            if key in self.latin:
                return Match(self.latin[key], "exact", key)
            if key in self.synonyms:
                return Match(self.synonyms[key], "synonym", key)
            close = difflib.get_close_matches(key, list(self.latin), n=1, cutoff=0.9)
            if close:
                return Match(
                    self.latin[close[0]],
                    "fuzzy",
                    close[0],
                    round(difflib.SequenceMatcher(None, key, close[0]).ratio(), 3),
                )
            return Match(None, "none")
        if name in self.chinese:
            return Match(self.chinese[name], "exact", name)
        if name in self.synonyms:
            return Match(self.synonyms[name], "synonym", name)
        near = tuple(c for c in self.chinese if _one_edit(name, c))[:3]
        return Match(None, "none", suggestions=near)


def _one_edit(a: str, b: str) -> bool:
    """True when b is a with one character replaced, added or removed (Levenshtein distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
