"""Every page renders for the roles that may see it, shows the right things, and publication
shows the public only what the coordinator published."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from ecoplan import db
from ecoplan.accounts.service import account_by_username
from ecoplan.db import frozen_now
from ecoplan.plans.models import Plan
from ecoplan.plans.store import measure_by_uid
from ecoplan.supervision import reports
from ecoplan.supervision.board import build_board
from ecoplan.supervision.periods import periods
from ecoplan.supervision.reports import ReportInput
from ecoplan.supervision.scoring import unit_scores
from ecoplan.web.app import create_app

from ..supervision.conftest import World
from .conftest import csrf_of

PAGES = ["/", "/measures", "/measures/M020", "/inbox", "/orders", "/units", "/public"]


def test_pages_render_for_each_role(login: Callable[[str], TestClient]) -> None:
    for username in ("coord", "leader", "admin", "ylljj", "chaoyang"):
        client = login(username)
        for path in PAGES:
            response = client.get(path)
            assert response.status_code == 200, (username, path, response.text[:300])
            assert "EcoPlan" in response.text
        review = client.get("/plan-review")
        assert review.status_code == (200 if username in ("coord", "leader", "admin") else 403)
        assert client.get("/ledger").status_code == 200
    # the district sees its own unit in the header and only measures it is named in
    district = login("chaoyang")
    listing = district.get("/measures").text
    assert "朝阳区政府" in district.get("/").text
    assert "/measures/M020" in listing and "/measures/M002" not in listing  # 2.1: city bureaus only
    assert district.get("/measures/M002").status_code == 403


def test_plan_review_page_shows_source_and_saves_a_revision(
    login: Callable[[str], TestClient],
) -> None:
    coord = login("coord")
    page = coord.get("/plan-review").text
    assert "review-M004" in page and "可信度" in page  # 3.1 is low-confidence in the seed
    saved = coord.post("/plan-review/M004", data={
        "text": "加强外来入侵物种防控。", "lead": "市农业农村局", "responsible": "市园林绿化局",
        "assisting": "", "deadline": "年底前", "action": "save", "csrf": csrf_of(coord, "/plan-review")})  # fmt: skip
    assert saved.status_code == 303 and "%E7%89%88" in saved.headers["location"]  # “版”
    assert "review-M004" not in coord.get("/plan-review").text  # edited → reviewed


def test_public_page_shows_only_published_measures(
    world: World, login: Callable[[str], TestClient]
) -> None:
    district = login("chaoyang")
    district.post("/measures/M020/report", data={"period": "2024-06", "status": "in_progress",
                                                 "narrative": "内部进展说明XYZ", "action": "submit",
                                                 "csrf": csrf_of(district)})  # fmt: skip
    coord = login("coord")
    published = coord.post("/measures/M020/publish", data={"summary": "新增绿地稳步推进",
                                                           "csrf": csrf_of(coord)})  # fmt: skip
    assert published.status_code == 303
    public = TestClient(create_app(world.engine)).get("/public").text
    assert "新增绿地稳步推进" in public and "8.4" in public
    assert "内部进展说明XYZ" not in public  # unit narratives are never public
    assert "措施 1.1" not in public  # not published


def test_unit_score_arithmetic(world: World) -> None:
    """朝阳区 files June for 8.4 on 3 July (deadline 5 July) and it is accepted first time."""
    with db.session_scope(world.engine) as session:
        plan = session.get(Plan, world.plan_id)
        assert plan is not None
        token = frozen_now.set(dt.datetime(2024, 7, 3, 2, tzinfo=dt.UTC))
        try:
            report = reports.save_report(session, account_by_username(session, "chaoyang"),
                                         measure_by_uid(session, plan, "M020"),
                                         periods(session, plan)[5], ReportInput(status="in_progress"),
                                         submit=True)  # fmt: skip
            reports.review_report(
                session, account_by_username(session, "ylljj"), report, accept=True
            )
        finally:
            frozen_now.reset(token)
        board = build_board(session, plan, dt.date(2024, 7, 10))
        (score,) = [s for s in unit_scores(session, board) if s.unit_name == "朝阳区政府"]
        shares = score.shares
        # due reports: 6 periods (Jan–Jun, all due before 10 July) × shares; 1 filed on time
        assert (score.due_reports, score.on_time, score.reviewed, score.first_pass) == (
            6 * shares,
            1,
            1,
            1,
        )
        # no completion deadline has passed: closed rate counts as 1; no orders
        # score = 100 × (0.4 × 1/(6 × shares) + 0.3 × 1/1 + 0.3 × 1) − 0
        assert score.score == round(100 * (0.4 / (6 * shares) + 0.3 + 0.3), 1)
        assert session.scalar(select(Plan.id)) == world.plan_id


def test_admin_manages_accounts(world: World, login: Callable[[str], TestClient]) -> None:
    admin = login("admin")
    created = admin.post("/admin/accounts", data={"username": "wang", "role": "unit",
                                                  "unit_code": "110105", "display_name": "王科长",
                                                  "csrf": csrf_of(admin, "/admin/accounts")})  # fmt: skip
    assert created.status_code == 200 and "初始密码" in created.text
    password = created.text.split("只显示这一次):")[1].split("<")[0].strip()
    new_user = TestClient(create_app(world.engine))
    ok = new_user.post("/api/v1/auth/login", json={"username": "wang", "password": password})
    assert ok.status_code == 200 and ok.json()["role"] == "unit"
    disabled = admin.post("/admin/accounts/wang/active", data={"active": "0",
                                                               "csrf": csrf_of(admin, "/admin/accounts")})  # fmt: skip
    assert disabled.status_code == 303
    again = new_user.post("/api/v1/auth/login", json={"username": "wang", "password": password})
    assert again.status_code == 401
    duplicate = admin.post("/admin/accounts", data={"username": "wang", "role": "unit", "unit_code": "110105",
                                                    "csrf": csrf_of(admin, "/admin/accounts")})  # fmt: skip
    assert duplicate.status_code == 409 and "已存在" in duplicate.text
    for username in ("coord", "chaoyang"):
        assert login(username).get("/admin/accounts").status_code == 403
