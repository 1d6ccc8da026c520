"""Every (role, action) pair through the REST API, on SQLite and PostgreSQL.

Accounts (see tests/supervision/conftest.py): admin, coord(inator), leader, ylljj (市园林绿化局,
lead of 8.4 = M020 and of 4.2 = M006), chaoyang and haidian (two of the 17 districts
responsible for M020), swj (市水务局, not named in M020), and anonymous. A refused call must
answer 401/403 and leave the audit log exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoplan import audit, db
from ecoplan.plans.models import Measure

from ..supervision.conftest import PASSWORD, World

ROLES = ["admin", "coord", "leader", "ylljj", "chaoyang", "haidian", "swj", None]


@dataclass
class Ctx:
    world: World
    clients: dict[str | None, TestClient]
    ids: dict[str, int]
    period: int = 0

    def next_period(self) -> str:
        self.period += 1
        return f"2024-{self.period:02d}"


def _audit_count(world: World) -> int:
    with db.session_scope(world.engine) as session:
        return int(session.scalar(select(func.count()).select_from(audit.AuditEntry)) or 0)


def _report(ctx: Ctx, username: str = "chaoyang") -> int:
    response = ctx.clients[username].put(
        f"/api/v1/measures/{ctx.ids['M020']}/reports/{ctx.next_period()}",
        json={"status": "in_progress", "narrative": "进展", "submit": True},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def _closure(ctx: Ctx, state: str) -> int:
    client = ctx.clients["chaoyang" if ctx.period % 2 else "haidian"]
    ctx.period += 1
    response = client.post(f"/api/v1/measures/{ctx.ids['M020']}/closure", json={"note": "完成"})
    assert response.status_code == 200, response.text
    closure_id = int(response.json()["id"])
    if state == "closed":
        decided = ctx.clients["coord"].post(f"/api/v1/closures/{closure_id}/decision",
                                            json={"approve": True})  # fmt: skip
        assert decided.status_code == 200, decided.text
    return closure_id


def _undesignated(ctx: Ctx) -> str:
    """4.2 (M006) and 8.5 (M021): led by 市园林绿化局, responsible 相关区政府 until designated."""
    with db.session_scope(ctx.world.engine) as session:
        for uid in ("M006", "M021"):
            measure = session.get(Measure, ctx.ids[uid])
            if measure is not None and any(a.placeholder for a in measure.assignments):
                return uid
    raise AssertionError("no measure left to designate")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# action → (prepare(ctx) → value, call(client, ctx, value) → response, roles allowed)
Action = tuple[Callable[[Ctx], Any], Callable[[TestClient, Ctx, Any], Any], set[str | None]]
ACTIONS: dict[str, Action] = {
    "view measure": (lambda c: None,
                     lambda cl, c, _: cl.get(f"/api/v1/measures/{c.ids['M020']}"),
                     {"admin", "coord", "leader", "ylljj", "chaoyang", "haidian"}),
    "view report": (_report, lambda cl, c, rid: cl.get(f"/api/v1/measures/{c.ids['M020']}/reports",
                                                       params={"period": f"2024-{c.period:02d}"}),
                    set()),  # listed separately below: the list is filtered, never refused
    "file report": (lambda c: c.next_period(),
                    lambda cl, c, p: cl.put(f"/api/v1/measures/{c.ids['M020']}/reports/{p}",
                                            json={"status": "in_progress", "submit": True}),
                    {"ylljj", "chaoyang", "haidian"}),
    "review report": (_report, lambda cl, c, rid: cl.post(f"/api/v1/reports/{rid}/review",
                                                          json={"accept": True}), {"ylljj"}),
    "upload evidence": (_report, lambda cl, c, rid: cl.post(
        f"/api/v1/reports/{rid}/evidence", files={"file": ("a.pdf", PDF, "application/pdf")}),
        {"chaoyang"}),
    "request closure": (lambda c: None, lambda cl, c, _: cl.post(
        f"/api/v1/measures/{c.ids['M020']}/closure", json={"note": "完成"}),
        {"chaoyang", "haidian"}),
    "decide closure": (lambda c: _closure(c, "requested"), lambda cl, c, cid: cl.post(
        f"/api/v1/closures/{cid}/decision", json={"approve": True}), {"coord"}),
    "reopen closure": (lambda c: _closure(c, "closed"), lambda cl, c, cid: cl.post(
        f"/api/v1/closures/{cid}/reopen", json={"note": "复核不实"}), {"coord"}),
    "run reminders": (lambda c: None, lambda cl, c, _: cl.post(
        f"/api/v1/plans/{c.world.plan_id}/reminders/run"), {"admin", "coord"}),
    "publish": (lambda c: None, lambda cl, c, _: cl.post(
        f"/api/v1/measures/{c.ids['M020']}/publish", json={"summary": "进展顺利"}), {"coord"}),
    "designate": (_undesignated, lambda cl, c, uid: cl.post(
        f"/api/v1/measures/{c.ids[uid]}/designate",
        json={"role": "responsible", "units": ["密云区政府"]}), {"coord", "ylljj"}),
}  # fmt: skip


@pytest.fixture
def ctx(world: World, demo_clock: None) -> Ctx:
    from ecoplan.web.app import create_app

    app = create_app(world.engine)
    clients: dict[str | None, TestClient] = {None: TestClient(app)}
    for username in ROLES:
        if username:
            client = TestClient(app)
            token = client.post("/api/v1/auth/login",
                                json={"username": username, "password": PASSWORD}).json()["token"]  # fmt: skip
            client.headers["Authorization"] = f"Bearer {token}"
            clients[username] = client
    with db.session_scope(world.engine) as session:
        ids = {m.uid: m.id for m in session.scalars(select(Measure))}
    return Ctx(world, clients, ids)


@pytest.mark.parametrize("action", [a for a in ACTIONS if a != "view report"])
def test_role_matrix(ctx: Ctx, action: str) -> None:
    prepare, call, allowed = ACTIONS[action]
    value = prepare(ctx)  # refused calls change nothing, so they can share one prepared object
    for role in ROLES:
        if role in allowed:
            continue
        before = _audit_count(ctx.world)
        response = call(ctx.clients[role], ctx, value)
        expected = 401 if role is None else 403
        assert response.status_code == expected, (action, role, response.text)
        assert "detail" in response.json()
        assert _audit_count(ctx.world) == before, (action, role)
    for n, role in enumerate(sorted(allowed, key=str)):
        response = call(ctx.clients[role], ctx, value if n == 0 else prepare(ctx))
        assert response.status_code == 200, (action, role, response.text)


def test_reports_are_filtered_by_role(ctx: Ctx) -> None:
    """A district sees its own report only; the lead unit and readers see all of them."""
    _report(ctx, "chaoyang")
    _report(ctx, "haidian")
    period = f"2024-{ctx.period:02d}"
    seen = {}
    for role in ROLES:
        response = ctx.clients[role].get(f"/api/v1/measures/{ctx.ids['M020']}/reports")
        seen[role] = response.status_code if response.status_code != 200 else sorted(
            r["unit"] for r in response.json())  # fmt: skip
    both = ["朝阳区政府", "海淀区政府"]
    assert seen == {"admin": both, "coord": both, "leader": both, "ylljj": both,
                    "chaoyang": ["朝阳区政府"], "haidian": ["海淀区政府"], "swj": 403,
                    None: 401}, period  # fmt: skip
