"""What the indicator registry tells the supervision of measures 8.3 (森林覆盖率, 生态保育小区,
平原生态林养护经营示范区), 8.4 (新增城市绿地, 休闲公园和城市森林, 口袋公园及小微绿地), 8.5
(湿地保护率) and 14.1 (建成区绿视率稳中有升): each indicator's target, current value with its
source and date, and status. Which measure gets which evidence is data
(``accounting/data/measure_links.toml``).

``met`` is True only when every indicator of the group has reached its target (已达成), False
when one has missed it (未达成) after the year, None otherwise: on track is not done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ecoplan.accounting.feed import Evidence, Provider
from ecoplan.config import today
from ecoplan.indicators.models import ORIGINS
from ecoplan.indicators.registry import Status, for_kind, status

GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "targets:forest": ("森林覆盖率、生态保育小区、平原生态林养护经营示范区",
                       ("forest_coverage", "conservation_plots", "plain_forest_demo")),
    "targets:green_space": ("新增城市绿地、休闲公园和城市森林、口袋公园及小微绿地",
                            ("new_green_space", "leisure_parks", "pocket_parks")),
    "targets:wetland": ("湿地保护率", ("wetland_protection",)),
    "targets:green_view": ("建成区绿视率", ("green_view",)),
}  # fmt: skip
COLUMNS = [("indicator", "指标"), ("target", "目标"), ("value", "最新值"), ("status", "状态"),
           ("source", "来源"), ("as_of", "日期")]  # fmt: skip


def _row(s: Status) -> dict[str, Any]:
    ind = s.indicator
    target = (f"{ind.comparator} {ind.target:g}{ind.unit}" if ind.target is not None
              else ind.comparator)  # fmt: skip
    v = s.value
    return {"indicator": ind.name, "target": target,
            "value": f"{v.value:.4g}{ind.unit}" if v else "—", "status": s.label,
            "source": f"{ORIGINS.get(v.origin, v.origin)}: {v.source}" if v else s.reason,
            "as_of": v.as_of.isoformat() if v else "—"}  # fmt: skip


def _provider(kind: str) -> Provider:
    title, kinds = GROUPS[kind]

    def provide(session: Session) -> Evidence | None:
        year = today().year
        found = [ind for k in kinds if (ind := for_kind(session, k, year)) is not None]
        if not found:
            return None
        judged = [status(session, ind) for ind in found]
        lines = [f"{s.indicator.name}: {s.label}({s.reason})" for s in judged]
        labels = {s.label for s in judged}
        met = True if labels == {"已达成"} else (False if "未达成" in labels else None)
        key = found[0].key if len(found) == 1 else ""
        return Evidence(kind, f"系统记录:{year} 年指标 {title}", lines, met=met,
                        link=f"/targets/{key}" if key else f"/targets?year={year}",
                        table=[_row(s) for s in judged], columns=COLUMNS)  # fmt: skip

    return provide


def providers() -> dict[str, Provider]:
    return {kind: _provider(kind) for kind in GROUPS}
