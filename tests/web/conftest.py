"""Web fixtures: an app on the seeded ``world`` (SQLite and PostgreSQL), a logged-in client
per account, and a live uvicorn server for the browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from ecoplan import db
from ecoplan.web.app import create_app

from ..supervision.conftest import PASSWORD, World, build_world, data_dir, world

__all__ = ["data_dir", "world"]  # fixtures shared with the supervision tests


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian chromium driven by Playwright (no downloaded browser), headless."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def demo_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mid-2024 on the supervision clock; no background reminder job."""
    from ecoplan.config import get_settings

    monkeypatch.setenv("ECOPLAN_TODAY", "2024-07-10")
    monkeypatch.setenv("ECOPLAN_REMIND_INTERVAL_MINUTES", "0")
    get_settings.cache_clear()


@pytest.fixture
def login(world: World, demo_clock: None) -> Iterator[Callable[[str], TestClient]]:
    """``login(username)`` → a TestClient holding that account's session cookie."""
    app = create_app(world.engine)
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        page = client.get("/login")
        token = page.cookies.get("ecoplan_login_csrf") or client.cookies.get("ecoplan_login_csrf")
        response = client.post("/login", data={"username": username, "password": PASSWORD,
                                               "csrf": token, "next": "/"})  # fmt: skip
        assert response.status_code == 303, response.text
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def csrf_of(client: TestClient, path: str = "/inbox") -> str:
    """The CSRF token the server put into this session's forms."""
    html = client.get(path).text
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """A real uvicorn server for ``engine`` on a free port, for as long as the block runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(data_dir: Path, demo_clock: None) -> Iterator[str]:
    """A real uvicorn server on a free port over a fresh SQLite world (the browser tests)."""
    engine = db.make_engine(f"sqlite:///{data_dir / 'live.db'}")
    db.upgrade(engine)
    world = build_world(engine)
    with serving(world.engine) as url:
        yield url
    engine.dispose()
