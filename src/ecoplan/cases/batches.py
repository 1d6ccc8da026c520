"""Filing a clue batch: check every geometry, place each clue (district, township, the
reference features it touches), link it to earlier clues at the same place, give it to its
district and its verifying unit, and store the whole batch in one transaction.

Rows are written with one multi-row INSERT rather than one ORM object per clue: a national
remote-sensing batch can hold tens of thousands of patches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ecoplan import audit
from ecoplan.cases.importing import ClueRecords, read_clue_file
from ecoplan.cases.layers import active_features, touches
from ecoplan.cases.models import Clue, ClueBatch
from ecoplan.cases.rules import ClueRules, load_rules
from ecoplan.cases.spatial import (
    Districts,
    Prepared,
    assign,
    beijing,
    prepare,
    project,
    same_place,
)
from ecoplan.datafiles import file_record
from ecoplan.db import utcnow
from ecoplan.errors import ValidationError
from ecoplan.units.models import Unit


@dataclass
class BatchResult:
    batch: ClueBatch
    count: int
    by_district: dict[str, int] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)
    duplicates: int = 0  # clues at the same place as an earlier clue
    in_redline: int = 0


def import_file(session: Session, path: Path, *, kind: str, title: str, actor: str,
                crs: str | None = None, today: dt.date | None = None,
                districts: Districts | None = None, display_name: str | None = None) -> BatchResult:  # fmt: skip
    """Read a clue file and file it as a batch; refuses a file already imported.
    ``display_name`` replaces the path in the provenance (an upload's temporary path)."""
    rules = load_rules()
    rules.kind(kind)
    record = file_record(path) | ({"path": display_name} if display_name else {})
    for old in session.scalars(select(ClueBatch).where(ClueBatch.kind == kind)):
        if (old.source or {}).get("file", {}).get("sha256") == record["sha256"]:
            raise ValidationError(f"{path.name}: 该文件已作为批次 {old.id}“{old.title}”导入")
    records = read_clue_file(path, rules, crs=crs)
    return file_batch(session, records, kind=kind, title=title, actor=actor, today=today,
                      source={"file": record, "crs": crs or "declared"}, districts=districts)  # fmt: skip


def file_batch(session: Session, records: ClueRecords, *, kind: str, title: str, actor: str,
               source: dict[str, Any], today: dt.date | None = None,
               districts: Districts | None = None, rules: ClueRules | None = None) -> BatchResult:  # fmt: skip
    rules = rules or load_rules()
    rule = rules.kind(kind)
    today = today or utcnow().date()
    districts = districts or beijing()
    verifier = session.scalar(select(Unit).where(Unit.code == rule.verifier))
    if verifier is None:
        raise ValidationError(f"核销单位 {rule.verifier} 不在单位名录中(见线索规则 kinds.{kind})")
    _refuse_known_codes(session, kind, records.codes)
    prepared = prepare(records.codes, records.geoms, districts.city)
    region = assign(prepared.metric, districts.metric)
    units = {u.district_code: u.id for u in session.scalars(
        select(Unit).where(Unit.kind == "district_gov", Unit.district_code.is_not(None)))}  # fmt: skip
    zone_unit = session.scalar(select(Unit.id).where(Unit.kind == "econ_zone").limit(1))
    refs = touches(prepared.metric, active_features(session))
    towns = [next((r["name"] for r in sorted(rs, key=lambda r: -r["overlap_m2"])
                   if r["kind"] == "township"), None) for rs in refs]  # fmt: skip
    related = _related(session, prepared, records.codes, rules)
    area = shapely.area(prepared.metric) / 1e6
    points = shapely.point_on_surface(prepared.geoms)
    bounds = shapely.bounds(prepared.geoms)
    due = today + dt.timedelta(days=int(rules.deadline_days.get("pending", 30)))
    now = utcnow()
    batch = ClueBatch(
        kind=kind, title=title, source=source | {"rules": rules.key}, created_by=actor
    )
    session.add(batch)
    session.flush()
    rows: list[dict[str, Any]] = []
    for i, code in enumerate(records.codes):
        d = int(region[i])
        district_code = districts.codes[d] if d >= 0 else None
        links = related.get(i, [])
        rows.append({
            "batch_id": batch.id, "code": code, "kind": kind, "district_code": district_code,
            "district_name": districts.names[d] if d >= 0 else None, "township": towns[i],
            "area_km2": float(area[i]), "geometry": shapely.geometry.mapping(prepared.geoms[i]),
            "lon": float(shapely.get_x(points[i])), "lat": float(shapely.get_y(points[i])),
            "bbox": [float(v) for v in bounds[i]], "facts": records.facts[i],
            "activity_type": records.attrs[i]["activity_type"],
            "source": records.attrs[i]["source"] or _default_source(kind),
            "period": records.attrs[i]["period"], "legal_basis": records.attrs[i]["legal_basis"],
            "note": records.attrs[i]["note"], "refs": refs[i], "related": links,
            "duplicate_of_id": _best_earlier(links),
            "unit_id": _acting_unit(refs[i], float(area[i]) * 1e6, zone_unit) or units.get(district_code), "verifier_unit_id": verifier.id,
            "state": "pending", "state_since": now, "due_on": due, "plan": {},
            "created_at": now, "version": 1,
        })  # fmt: skip
    for start in range(0, len(rows), 5000):  # bounded statement size on both databases
        session.execute(insert(Clue), rows[start : start + 5000])
    by_district: dict[str, int] = {}
    for row in rows:
        name = row["district_name"] or "未落区"
        by_district[name] = by_district.get(name, 0) + 1
    result = BatchResult(
        batch, len(rows), by_district, prepared.repaired,
        duplicates=sum(1 for r in rows if r["related"]),
        in_redline=sum(1 for r in rows if any(x["kind"] == "redline" for x in r["refs"])),
    )  # fmt: skip
    audit.record(session, actor=actor, action="clue.batch.create", entity_type="clue_batch",
                 entity_id=batch.id, after={"kind": kind, "title": title, "clues": len(rows),
                 "by_district": by_district, "repaired": prepared.repaired,
                 "same_place": result.duplicates}, context=source)  # fmt: skip
    return result


def _acting_unit(
    touched: list[dict[str, Any]], area_m2: float, zone_unit: int | None
) -> int | None:
    """The 经开区管委会 acts on clues lying mostly inside a loaded 经开区 layer (task 11.2 names
    各区政府(含北京经济技术开发区管委会)); the district government acts on all others."""
    zone = [r for r in touched if r["kind"] == "econ_zone"]
    if zone_unit is None or not zone:
        return None
    inside = any(r["inside"] for r in zone) or sum(r["overlap_m2"] for r in zone) > 0.5 * area_m2
    return zone_unit if inside else None


def _best_earlier(links: list[dict[str, Any]]) -> int | None:
    earlier = [r for r in links if "id" in r]
    return int(max(earlier, key=lambda r: r["score"])["id"]) if earlier else None


def _default_source(kind: str) -> str:
    return {
        "eco_land_change": "ei_change",
        "temp_land": "temp_land",
        "patrol_finding": "patrol",
    }.get(kind, "city_rs")


def _refuse_known_codes(session: Session, kind: str, codes: list[str]) -> None:
    """A clue code is unique per kind: the same 图斑 issued twice is a re-import, not a new clue."""
    known: set[str] = set()
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        known.update(
            session.scalars(select(Clue.code).where(Clue.kind == kind, Clue.code.in_(chunk)))
        )
    if known:
        listed = "、".join(sorted(known)[:10])
        raise ValidationError(
            f"{len(known)} 个线索编号已在以前的批次中导入: {listed}", sorted(known)
        )


def _related(session: Session, prepared: Prepared, codes: list[str],
             rules: ClueRules) -> dict[int, list[dict[str, Any]]]:  # fmt: skip
    """Earlier clues (any kind, any batch) and earlier rows of this batch at the same place."""
    out: dict[int, list[dict[str, Any]]] = {}
    earlier = _earlier_near(session, prepared.geoms)
    if earlier:
        ids, ecodes, batches, states, geoms = zip(*earlier, strict=True)
        shapes = np.asarray([shapely.geometry.shape(g) for g in geoms], dtype=object)
        for i, j, score in same_place(prepared.metric, project(shapes), iou=rules.duplicate_iou,
                                      point_m=rules.duplicate_point_m):  # fmt: skip
            out.setdefault(i, []).append({"id": ids[j], "code": ecodes[j], "batch_id": batches[j],
                                          "state": states[j], "score": score})  # fmt: skip
    for i, j, score in same_place(prepared.metric, prepared.metric, iou=rules.duplicate_iou,
                                  point_m=rules.duplicate_point_m, within=True):  # fmt: skip
        out.setdefault(i, []).append({"code": codes[j], "same_batch": True, "score": score})
    return out


# Earlier clues are found by their stored centroid; a clue polygon reaching farther than this
# from its centroid (about 5 km) could be missed, which no remote-sensing patch does.
NEAR_DEGREES = 0.05


def _earlier_near(session: Session, geoms: Any) -> list[tuple[Any, ...]]:
    """Stored clues whose centroid lies within the batch's extent plus NEAR_DEGREES."""
    bounds = shapely.bounds(geoms)
    minx, miny = bounds[:, 0].min() - NEAR_DEGREES, bounds[:, 1].min() - NEAR_DEGREES
    maxx, maxy = bounds[:, 2].max() + NEAR_DEGREES, bounds[:, 3].max() + NEAR_DEGREES
    query = select(Clue.id, Clue.code, Clue.batch_id, Clue.state, Clue.geometry).where(
        Clue.lon.between(float(minx), float(maxx)), Clue.lat.between(float(miny), float(maxy))
    )
    return [tuple(row) for row in session.execute(query)]
