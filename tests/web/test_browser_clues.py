"""A clue from import to 销号 in Debian chromium on a phone-sized screen (Playwright, no
downloaded browser): 市规划自然资源委 imports a batch, 朝阳区 verifies on site with a camera
photo, files a rectification plan and reports it done with another photo, 市规划自然资源委
accepts and closes it. Screenshots go to ``test-artifacts/screenshots/clue-*.png``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecoplan import db
from ecoplan.accounts.service import create_account
from ecoplan.cases.photos import make_photo

from ..supervision.conftest import PASSWORD, build_world
from .conftest import CHROMIUM, serving
from .test_browser import SHOTS

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (make test installs it)"
    )
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}  # fmt: skip
SITE = (116.52, 39.93)  # in 朝阳区


@pytest.fixture
def clue_server(data_dir: Path, demo_clock: None) -> Iterator[str]:
    engine = db.make_engine(f"sqlite:///{data_dir / 'live.db'}")
    db.upgrade(engine)
    world = build_world(engine)
    with db.session_scope(engine) as session:
        create_account(session, username="ghzrzyw", password=PASSWORD, role="unit", unit_code="ghzrzyw",
                       actor="test")  # fmt: skip
    with serving(world.engine) as url:
        yield url
    engine.dispose()


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"clue-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _phone(browser: object, base: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(**PHONE)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/", timeout=15000)
    return page


def _act(page: object, label: str, fields: dict[str, str], photo: Path | None = None) -> None:
    """Open the action's panel, fill it in and submit it; wait for the page to come back."""
    details = page.locator("details", has=page.locator(f"summary:text-is('{label}')"))  # type: ignore[attr-defined]
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    for name, value in fields.items():
        details.locator(f"[name={name}]").fill(value)
    if photo is not None:
        details.locator("input[type=file]").set_input_files(str(photo))
    with page.expect_navigation():  # type: ignore[attr-defined]
        details.locator("button[type=submit]").click()


def test_clue_from_import_to_closure_on_a_phone(
    browser: object, clue_server: str, tmp_path: Path
) -> None:
    base = clue_server
    batch = tmp_path / "2024年第二季度红线线索.geojson"
    square = [[SITE[0] - 0.001, SITE[1] - 0.001], [SITE[0] + 0.001, SITE[1] - 0.001],
              [SITE[0] + 0.001, SITE[1] + 0.001], [SITE[0] - 0.001, SITE[1] + 0.001], [SITE[0] - 0.001, SITE[1] - 0.001]]  # fmt: skip
    batch.write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4326"}},
        "features": [{"type": "Feature", "properties": {"线索编号": "HX-2024Q2-001", "活动类型": "建筑/违建"},
                      "geometry": {"type": "Polygon", "coordinates": [square]}}],
    }, ensure_ascii=False), encoding="utf-8")  # fmt: skip
    taken = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    photos = []
    for i, offset in enumerate((0.0001, 0.0002)):
        path = tmp_path / f"现场{i + 1}.jpg"
        path.write_bytes(make_photo(SITE[0] + offset, SITE[1], taken, size=(640, 480)))
        photos.append(path)

    verifier = _phone(browser, base, "ghzrzyw")
    verifier.goto(f"{base}/clues")
    verifier.select_option("#i-kind", "redline_activity")
    verifier.fill("#i-title", "2024年第二季度生态保护红线人类活动问题线索")
    verifier.set_input_files("#i-file", str(batch))
    with verifier.expect_navigation():
        verifier.click("form[action='/clues/import'] button[type=submit]")
    assert "已导入批次" in verifier.inner_text(".msg")
    _shot(verifier, "1-imported")

    district = _phone(browser, base, "chaoyang")
    district.add_init_script(
        "window._errs = []; window.addEventListener('error', e => window._errs.push(e.message));"
    )
    district.goto(f"{base}/clues")
    try:
        district.wait_for_function(
            "document.getElementById('map-note').textContent.includes('1 条')", timeout=15000
        )
    except Exception:
        _shot(district, "failed-map")
        raise AssertionError(
            district.inner_text("#map-note") + " | " + str(district.evaluate("window._errs || []"))
        ) from None
    _shot(district, "2-list-phone")
    district.click("text=HX-2024Q2-001")
    assert "待核实" in district.inner_text("h1")
    _act(district, "开始核实", {})
    assert "核实中" in district.inner_text("h1")
    _act(
        district, "核实属实", {"reason": "现场有新建彩钢板房约 300 平方米,无审批手续。"}, photos[0]
    )
    assert "属实" in district.inner_text("h1")
    _shot(district, "3-confirmed-with-photo")
    deadline = (dt.date(2024, 7, 10) + dt.timedelta(days=45)).isoformat()
    _act(
        district,
        "提交整改方案",
        {"responsible": "某村委会", "measures": "拆除彩钢板房,覆土复绿", "deadline": deadline},
    )
    assert "整改中" in district.inner_text("h1")
    _act(district, "整改完成,申请验收", {"reason": "已拆除并复绿。"}, photos[1])
    assert "待验收" in district.inner_text("h1")
    assert district.locator(".actions").count() == 0  # nothing left for the district to do
    _shot(district, "4-awaiting-acceptance")

    verifier.goto(district.url)
    _act(verifier, "验收通过,销号", {"reason": "现场验收合格。"})
    assert "已销号" in verifier.inner_text("h1")
    timeline = verifier.inner_text(".timeline")
    for step in ("开始核实", "核实属实", "提交整改方案", "整改完成,申请验收", "验收通过,销号"):
        assert step in timeline
    assert verifier.locator(".photos img").count() == 2
    _shot(verifier, "5-closed")
