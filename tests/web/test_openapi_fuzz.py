"""Schemathesis against /openapi.json: generated requests to every operation, as the
coordinator, must never produce a 5xx (bad input gets a 4xx with a Chinese message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from ecoplan import db
from ecoplan.web.app import create_app

from ..supervision.conftest import PASSWORD, build_world

SKIP = {"/api/v1/auth/logout"}  # would end the session the other cases use


def test_no_server_errors(data_dir: Path, demo_clock: None) -> None:
    engine = db.make_engine(f"sqlite:///{data_dir / 'fuzz.db'}")
    db.upgrade(engine)
    build_world(engine)
    app = create_app(engine)
    with TestClient(app) as client:
        login = client.post("/api/v1/auth/login", json={"username": "coord", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def no_5xx(case: Any) -> None:
            response = case.call(headers=auth)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])

        no_5xx()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 18, checked  # every API operation was exercised
    engine.dispose()
