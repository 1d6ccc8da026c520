"""Reading clues: filtered lists, statistics by kind / district / state / lateness, the map
layer (clustered on the server when a view holds many clues) and the 台账 in xlsx.

Every query goes through ``workflow.visible`` so that a district sees its own clues only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.cases.models import CLUE_STATES, Clue
from ecoplan.cases.rules import load_rules
from ecoplan.cases.workflow import Q, visible
from ecoplan.config import BEIJING_TZ
from ecoplan.errors import ValidationError
from ecoplan.units.models import Unit

OPEN_STATES = tuple(s for s in CLUE_STATES if s != "closed")
MAP_POINT_LIMIT = 3000  # above this many clues in view, the map gets clusters
CLUSTER_CELLS = 48  # clusters per view width, about 20 px apart on a phone


@dataclass
class ClueFilter:
    kind: str | None = None
    state: str | None = None
    district_code: str | None = None
    late: bool = False
    batch_id: int | None = None
    text: str | None = None

    def apply(self, query: Q, today: dt.date) -> Q:
        if self.kind:
            query = query.where(Clue.kind == self.kind)
        if self.state:
            if self.state not in CLUE_STATES:
                raise ValidationError(f"未知的线索状态“{self.state}”")
            query = query.where(Clue.state == self.state)
        if self.district_code:
            query = query.where(Clue.district_code == self.district_code)
        if self.late:
            query = query.where(Clue.state != "closed", Clue.due_on < today)
        if self.batch_id:
            query = query.where(Clue.batch_id == self.batch_id)
        if self.text:
            query = query.where(Clue.code.contains(self.text.strip()))
        return query


def list_clues(session: Session, account: Account, flt: ClueFilter, today: dt.date, *,
               offset: int = 0, limit: int = 50) -> tuple[int, list[Clue]]:  # fmt: skip
    base = flt.apply(visible(select(Clue), account), today)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(
        base.order_by(Clue.due_on.asc().nulls_last(), Clue.id).offset(offset).limit(limit)
    )
    return total, list(rows)


@dataclass
class Stats:
    total: int = 0
    late: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> state -> n
    by_district: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> state -> n
    late_by_district: dict[str, int] = field(default_factory=dict)


def stats(
    session: Session, account: Account, today: dt.date, flt: ClueFilter | None = None
) -> Stats:
    flt = flt or ClueFilter()
    late = (Clue.state != "closed") & (Clue.due_on < today)
    query = select(Clue.kind, func.coalesce(Clue.district_name, "未落区"), Clue.state,
                   func.count(), func.sum(func.cast(late, Integer())))  # fmt: skip
    query = flt.apply(visible(query, account), today)
    out = Stats()
    for kind, district, state, n, n_late in session.execute(
        query.group_by(Clue.kind, Clue.district_name, Clue.state)
    ):
        n_late = int(n_late or 0)
        out.total += n
        out.late += n_late
        out.by_state[state] = out.by_state.get(state, 0) + n
        out.by_kind.setdefault(kind, {})[state] = out.by_kind.get(kind, {}).get(state, 0) + n
        out.by_district.setdefault(district, {})[state] = (
            out.by_district.get(district, {}).get(state, 0) + n
        )
        out.late_by_district[district] = out.late_by_district.get(district, 0) + n_late
    return out


def map_layer(session: Session, account: Account, today: dt.date, bbox: tuple[float, float, float, float],
              flt: ClueFilter | None = None) -> dict[str, Any]:  # fmt: skip
    """Clues in view: points when few, else clusters on a CLUSTER_CELLS grid with their
    count per state. Both use the indexed centroid columns only (no geometry is read)."""
    minx, miny, maxx, maxy = bbox
    if not (minx < maxx and miny < maxy):
        raise ValidationError("地图范围无效")
    flt = flt or ClueFilter()

    def in_view(query: Q) -> Q:
        # the filters go on each query itself: an IN (subquery) made PostgreSQL's grouping slow
        return flt.apply(visible(query, account), today).where(
            Clue.lon.between(minx, maxx), Clue.lat.between(miny, maxy))  # fmt: skip

    count = session.scalar(in_view(select(func.count(Clue.id)))) or 0
    if count <= MAP_POINT_LIMIT:
        query = in_view(select(Clue.id, Clue.code, Clue.kind, Clue.state, Clue.lon, Clue.lat,
                               Clue.due_on, Clue.district_name))  # fmt: skip
        points = [{"id": i, "code": c, "kind": k, "state": s, "lon": x, "lat": y,
                   "late": bool(d and s != "closed" and d < today), "district": n}
                  for i, c, k, s, x, y, d, n in session.execute(query)]  # fmt: skip
        return {"mode": "points", "count": count, "points": points}
    cell = (maxx - minx) / CLUSTER_CELLS
    col = _floor(session, (Clue.lon - minx) / cell)
    row = _floor(session, (Clue.lat - miny) / cell)
    grid = in_view(select(col.label("c"), row.label("r"), Clue.state, func.count(), func.avg(Clue.lon),
                          func.avg(Clue.lat))).group_by(col, row, Clue.state)  # fmt: skip
    cells: dict[tuple[int, int], dict[str, Any]] = {}
    for c, r, state, n, x, y in session.execute(grid):
        item = cells.setdefault((int(c), int(r)), {"count": 0, "states": {}, "sx": 0.0, "sy": 0.0})
        item["count"] += n
        item["states"][state] = n
        item["sx"] += float(x) * n
        item["sy"] += float(y) * n
    clusters = [{"lon": v["sx"] / v["count"], "lat": v["sy"] / v["count"], "count": v["count"],
                 "states": v["states"]} for v in cells.values()]  # fmt: skip
    return {"mode": "clusters", "count": count, "clusters": clusters}


def _floor(session: Session, expr: Any) -> Any:
    """floor() on PostgreSQL; SQLite truncates a CAST, which equals floor for x ≥ 0 (the grid
    starts at the view's lower-left corner, so every x here is ≥ 0)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(expr)
    return func.cast(expr, Integer())


def unit_names(session: Session) -> dict[int, str]:
    return {unit.id: unit.name for unit in session.scalars(select(Unit))}


LEDGER_HEADERS = ["线索编号", "类型", "批次", "来源", "监测期", "所在区", "乡镇街道", "活动类型", "面积(平方米)",
                  "经度", "纬度", "涉及红线/保护地", "状态", "办理时限", "是否逾期", "承办单位", "核销单位",
                  "整改责任主体", "整改措施", "整改时限", "同位置早期线索", "销号时间"]  # fmt: skip


def export_ledger(session: Session, account: Account, path: Path | BinaryIO, today: dt.date,
                  flt: ClueFilter | None = None) -> int:  # fmt: skip
    """The 台账: one row per visible clue, Chinese headers; returns the row count."""
    rules = load_rules()
    units = unit_names(session)
    query = (
        (flt or ClueFilter())
        .apply(visible(select(Clue), account), today)
        .order_by(Clue.kind, Clue.code)
    )
    book = Workbook(write_only=True)
    sheet = book.create_sheet("线索台账")
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for i, width in enumerate(
        (18, 22, 6, 12, 10, 10, 12, 14, 12, 11, 11, 28, 8, 12, 8, 14, 16, 16, 24, 12, 18, 17), 1
    ):
        sheet.column_dimensions[get_column_letter(i)].width = width
    header = []
    for text in LEDGER_HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    n = 0
    for clue in session.scalars(query):
        refs = "、".join(sorted({f"{r['layer']}{('(' + r['name'] + ')') if r['name'] != r['layer'] else ''}"
                                 for r in clue.refs or []}))  # fmt: skip
        plan = clue.plan or {}
        sheet.append([
            clue.code, rules.kinds[clue.kind].label if clue.kind in rules.kinds else clue.kind, clue.batch_id,
            rules.sources.get(clue.source, clue.source), clue.period, clue.district_name or "未落区",
            clue.township or "", rules.activity_types.get(clue.activity_type, clue.activity_type),
            round(clue.area_km2 * 1e6, 1), round(clue.lon, 6), round(clue.lat, 6), refs,
            CLUE_STATES[clue.state], clue.due_on, "是" if clue.due_on and clue.state != "closed" and clue.due_on < today else "否",
            units.get(clue.unit_id or 0, ""), units.get(clue.verifier_unit_id or 0, ""),
            plan.get("responsible", ""), plan.get("measures", ""), plan.get("deadline", ""),
            "、".join(r["code"] for r in clue.related or []),
            clue.closed_at.astimezone(BEIJING_TZ).strftime("%Y-%m-%d %H:%M") if clue.closed_at else "",
        ])  # fmt: skip
        n += 1
    book.save(path)
    return n
