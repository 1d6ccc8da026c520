"""Sessions, CSRF, login throttling, hostile uploads and concurrent reviews."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ecoplan import db
from ecoplan.accounts.service import MAX_FAILURES
from ecoplan.plans.models import Measure
from ecoplan.supervision.models import Evidence, Report

from ..supervision.conftest import World
from .conftest import csrf_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")  # fmt: skip


def _m020(world: World) -> int:
    with db.session_scope(world.engine) as session:
        return int(session.scalar(select(Measure.id).where(Measure.uid == "M020")) or 0)


def _draft_report(client: TestClient, world: World) -> int:
    """朝阳区 saves a draft June report on 8.4 through the form; returns its id."""
    client.post("/measures/M020/report", data={"period": "2024-06", "status": "in_progress",
                                               "action": "save", "csrf": csrf_of(client)})  # fmt: skip
    with db.session_scope(world.engine) as session:
        return int(session.scalar(select(Report.id)) or 0)


def test_session_cookie_flags_and_logout(login: Callable[[str], TestClient]) -> None:
    client = login("chaoyang")
    cookie = next(c for c in client.cookies.jar if c.name == "ecoplan_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client)})
    assert client.get("/").status_code == 303  # back to the login page


def test_form_without_csrf_token_is_refused(
    login: Callable[[str], TestClient], world: World
) -> None:
    client = login("chaoyang")
    form = {"period": "2024-06", "status": "in_progress", "action": "submit"}
    refused = client.post("/measures/M020/report", data=form)
    assert refused.status_code == 403 and "CSRF" in refused.text
    with db.session_scope(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0
    accepted = client.post("/measures/M020/report", data=form | {"csrf": csrf_of(client)})
    assert accepted.status_code == 303


def test_login_is_throttled_after_repeated_failures(world: World, demo_clock: None) -> None:
    from ecoplan.web.app import create_app

    client = TestClient(create_app(world.engine))
    for _ in range(MAX_FAILURES):
        bad = client.post(
            "/api/v1/auth/login", json={"username": "coord", "password": "wrong-pass"}
        )
        assert bad.status_code == 401
    # even the right password is refused now: the guesser learns nothing
    from ..supervision.conftest import PASSWORD

    limited = client.post("/api/v1/auth/login", json={"username": "coord", "password": PASSWORD})
    assert limited.status_code == 429 and "过多" in limited.json()["detail"]


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"0" * (30 * 1024 * 1024))  # 30 MB of zeros
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("报告.pdf", PNG, "不符"),  # an image wearing a .pdf extension
        ("run.exe", b"MZ\x90\x00" + b"\x00" * 100, "只接受"),
        ("照片.jpg", b"", "为空"),
        ("../../etc/passwd.pdf", b"not a pdf at all", "不符"),
        ("炸弹.docx", _zip_bomb(), "压缩炸弹"),
        ("假表格.xlsx", b"PK\x03\x04garbage", "不符|损坏"),
    ],
)
def test_hostile_uploads_are_refused(world: World, login: Callable[[str], TestClient],
                                     name: str, content: bytes, problem: str) -> None:  # fmt: skip
    client = login("chaoyang")
    report_id = _draft_report(client, world)
    response = client.post(f"/api/v1/reports/{report_id}/evidence",
                           files={"file": (name, content, "application/pdf")},
                           headers={"X-CSRF-Token": csrf_of(client)})  # fmt: skip
    assert response.status_code == 422
    assert __import__("re").search(problem, response.json()["detail"]), response.json()
    with db.session_scope(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_oversized_upload_is_refused(world: World, login: Callable[[str], TestClient],
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from ecoplan.config import get_settings

    monkeypatch.setenv("ECOPLAN_EVIDENCE_MAX_BYTES", "1024")
    get_settings.cache_clear()
    client = login("chaoyang")
    report_id = _draft_report(client, world)
    big = PDF + b"%" * 2048
    response = client.post(f"/api/v1/reports/{report_id}/evidence",
                           files={"file": ("big.pdf", big, "application/pdf")},
                           headers={"X-CSRF-Token": csrf_of(client)})  # fmt: skip
    assert response.status_code == 422 and "大小上限" in response.json()["detail"]


def test_evidence_is_stored_by_hash_and_served_only_to_permitted_users(
    world: World, login: Callable[[str], TestClient], data_dir: object
) -> None:
    client = login("chaoyang")
    report_id = _draft_report(client, world)
    ok = client.post(f"/api/v1/reports/{report_id}/evidence",
                     files={"file": ("C:\\fakepath\\验收.pdf", PDF, "text/plain")},
                     headers={"X-CSRF-Token": csrf_of(client)})  # fmt: skip
    assert ok.status_code == 200
    (item,) = ok.json()["evidence"]
    # the name keeps only its last component; the type comes from the bytes, not the browser
    assert (item["name"], item["content_type"]) == ("验收.pdf", "application/pdf")
    download = client.get(f"/api/v1/evidence/{item['id']}")
    assert download.content == PDF and "attachment" in download.headers["content-disposition"]
    assert login("haidian").get(f"/api/v1/evidence/{item['id']}").status_code == 403
    assert (
        client.get(f"/static/../evidence/{item['sha256'][:2]}/{item['sha256']}").status_code == 404
    )


def test_two_reviewers_same_report_one_gets_conflict(world: World,
                                                     login: Callable[[str], TestClient]) -> None:  # fmt: skip
    district = login("chaoyang")
    district.post("/measures/M020/report", data={"period": "2024-06", "status": "in_progress",
                                                 "action": "submit", "csrf": csrf_of(district)})  # fmt: skip
    with db.session_scope(world.engine) as session:
        report = session.scalars(select(Report)).one()
        report_id, version = report.id, report.version
    first, second = login("ylljj"), login("ylljj")
    a = first.post(f"/reports/{report_id}/review", data={"decision": "accept", "version": version,
                                                         "csrf": csrf_of(first)})  # fmt: skip
    b = second.post(f"/reports/{report_id}/review", data={"decision": "return", "reason": "不全",
                                                          "version": version, "csrf": csrf_of(second)})  # fmt: skip
    assert (a.status_code, b.status_code) == (303, 409)
    assert "他人修改" in b.text
    with db.session_scope(world.engine) as session:
        assert session.get(Report, report_id).state == "accepted"  # type: ignore[union-attr]


def test_expired_sessions_and_old_attempts_are_purged(
    world: World, login: Callable[[str], TestClient]
) -> None:
    import datetime as dt

    from ecoplan.accounts.models import LoginAttempt, WebSession
    from ecoplan.accounts.service import purge_expired

    client = login("chaoyang")
    login("haidian")
    with db.session_scope(world.engine) as session:
        first = session.scalars(select(WebSession).order_by(WebSession.id)).first()
        assert first is not None
        first.expires_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        session.add(LoginAttempt(username="x", client="c", success=False,
                                 at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))  # fmt: skip
    with db.session_scope(world.engine) as session:
        assert purge_expired(session) == (1, 1)
    assert client.get("/").status_code == 303  # the expired session no longer signs in


def test_production_password_hashing_cost() -> None:
    """The product's hasher (the test run swaps in a cheap one, tests/conftest.py) is argon2id
    with the RFC 9106 low-memory profile: 3 passes over 64 MiB, 4 lanes."""
    from argon2 import Type

    from tests.conftest import PRODUCTION_HASHER

    hasher = PRODUCTION_HASHER
    assert hasher is not None
    assert (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        Type.ID, 3, 65536, 4,
    )  # fmt: skip
    assert hasher.hash("correct-horse-9").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
