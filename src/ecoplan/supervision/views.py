"""Plain-data views of the board for the dashboard and the measure list, cached.

Building a board reads every share of a plan; on a large plan that is the cost of a page.
Every write in EcoPlan adds an audit entry, so the newest audit id is a change counter: a view
is cached under (plan, what the viewer may see, the supervision date, newest audit id) and is
rebuilt only after something changed. The cached values are plain dicts and lists, never ORM
objects, so they are safe to share between requests.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Pool, func, select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.audit import AuditEntry
from ecoplan.config import today
from ecoplan.plans.models import Plan
from ecoplan.supervision import access, dashboard, queries
from ecoplan.supervision.rollup import reporting_trend, target_progress
from ecoplan.web import charts

# One cache per connection pool, i.e. per database: two databases (tests run SQLite and
# PostgreSQL side by side) can hold the same plan id and audit counter, while engines that
# share a pool (the read-only autocommit view of the web app) share the cache.
_CACHES: WeakKeyDictionary[Pool, OrderedDict[tuple[Any, ...], Any]] = WeakKeyDictionary()
_LOCK = threading.Lock()
CACHE_SIZE = 256


def _scope(account: Account) -> str:
    return "all" if account.role in access.READ_ALL_ROLES else f"unit:{account.unit_id}"


def cached(session: Session, account: Account, plan: Plan, name: str,
           build: Callable[[], Any]) -> Any:  # fmt: skip
    version = session.scalar(select(func.max(AuditEntry.id)))
    key = (name, plan.id, _scope(account), today(), version)
    pool = session.get_bind().engine.pool
    with _LOCK:
        cache = _CACHES.setdefault(pool, OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = build()
    with _LOCK:
        cache[key] = value
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return value


def dashboard_view(session: Session, account: Account, plan: Plan) -> dict[str, Any]:
    def build() -> dict[str, Any]:
        board = queries.board_for(session, account, plan)
        sections = dashboard.by_section(board)
        districts = dashboard.by_district(board)
        trend = reporting_trend(session, plan, board.due_period)
        return {
            "summary": dashboard.summary(board),
            "sections": [t.as_dict() for t in sections],
            "tasks": [t.as_dict() for t in dashboard.by_task(board)],
            "districts": [t.as_dict() for t in districts],
            "units": [t.as_dict() for t in dashboard.by_unit(board)],
            "overdue": [
                {
                    "uid": s.measure.uid,
                    "doc_id": s.measure.doc_id,
                    "unit": s.unit.name,
                    "reasons": s.reasons,
                }
                for s in dashboard.overdue(board)
            ],  # fmt: skip
            "targets": [
                {
                    "uid": t.measure.uid,
                    "doc_id": t.measure.doc_id,
                    "indicator": t.indicator,
                    "unit": t.unit,
                    "target": t.target,
                    "value": t.value,
                    "percent": t.percent,
                    "rule": t.rule,
                }
                for t in target_progress(session, board.measures, board.due_period)
            ],  # fmt: skip
            "trend": [{**row, "due": row["due"].isoformat()} for row in trend],
            "chart_sections": json.dumps(charts.lights_by_group(sections)),
            "chart_trend": json.dumps(charts.trend(trend)),
            "district_tiles": charts.district_tiles(districts),
        }

    result: dict[str, Any] = cached(session, account, plan, "dashboard", build)
    return result


def measure_rows(session: Session, account: Account, plan: Plan) -> list[dict[str, Any]]:
    def build() -> list[dict[str, Any]]:
        board = queries.board_for(session, account, plan)
        grouped = board.by_measure()
        rows = []
        for measure in board.measures:
            shares = grouped.get(measure.id, [])
            rows.append({
                "uid": measure.uid, "doc_id": measure.doc_id, "text": measure.text,
                "deadline": measure.deadline_raw or "", "light": board.measure_light(measure),
                "shares": len(shares), "closed": sum(s.closed for s in shares),
                "filed": sum(s.filed for s in shares),
                "units": " ".join(dict.fromkeys(a.written for a in measure.assignments)),
            })  # fmt: skip
        return rows

    result: list[dict[str, Any]] = cached(session, account, plan, "measures", build)
    return result
