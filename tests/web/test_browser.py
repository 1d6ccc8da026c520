"""Browser walk-through in Debian chromium (Playwright, no downloaded browser):
a district files a report with evidence, the lead unit returns it, the district fixes it,
the lead accepts, the district asks to close, the coordinator closes, the dashboard shows it.
Screenshots go to ``test-artifacts/screenshots``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from ..supervision.conftest import PASSWORD
from .conftest import CHROMIUM

playwright_api = pytest.importorskip("playwright.sync_api")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (make test installs it)"
    ),
]


def _pdf(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Chaoyang green space acceptance record")
    page.save()
    path = tmp_path / "绿地验收照片.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def _login(browser: object, base: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    try:
        page.wait_for_url(f"{base}/", timeout=15000)
    except Exception:
        _shot(page, f"failed-login-{username}")
        raise AssertionError(page.inner_text("main")) from None
    return page


def _shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_report_return_fix_close_walkthrough(
    live_server: str, browser: object, tmp_path: Path
) -> None:
    base = live_server
    # 1. 朝阳区 files its June report on 8.4 (M020) with a PDF as evidence
    district = _login(browser, base, "chaoyang")
    _shot(district, "01-district-dashboard")
    district.goto(f"{base}/measures/M020?period=2024-06")
    district.select_option("#status", "in_progress")
    district.fill("#progress_0", "12.5")
    district.fill("#narrative", "完成朝阳区新增绿地 12.5 公顷")
    district.set_input_files("#evidence", str(_pdf(tmp_path)))
    district.click("button[value=submit]")
    district.wait_for_selector("text=已提交,等待牵头单位审核")
    _shot(district, "02-district-filed")

    # 2. 市园林绿化局 (lead) returns it with a reason
    lead = _login(browser, base, "ylljj")
    lead.goto(f"{base}/inbox")
    lead.click("a[href$='#review']")
    lead.fill("#reason", "请补充验收单位盖章文件")
    lead.click("button[value=return]")
    lead.wait_for_selector("text=已退回")
    _shot(lead, "03-lead-returned")

    # 3. the district sees the reason, fixes the report and submits again
    district.goto(f"{base}/measures/M020?period=2024-06")
    assert "请补充验收单位盖章文件" in district.inner_text("#my-report")
    district.fill("#narrative", "完成朝阳区新增绿地 12.5 公顷,已补充盖章验收文件")
    district.click("button[value=submit]")
    district.wait_for_selector("text=已提交,等待牵头单位审核")

    # 4. the lead accepts
    lead.goto(f"{base}/inbox")
    lead.click("a[href$='#review']")
    lead.click("button[value=accept]")
    lead.wait_for_selector("text=已通过")
    assert "绿地验收照片.pdf" in lead.inner_text("#evidence")

    # 5. the district asks to close its share; 6. the coordinator closes it
    district.goto(f"{base}/measures/M020")
    district.fill("#note", "朝阳区承担的新增绿地任务已完成")
    district.click("#my-closure button[type=submit]")
    district.wait_for_selector("text=已申请办结")
    coordinator = _login(browser, base, "coord")
    coordinator.goto(f"{base}/inbox")
    coordinator.click("button[value=approve]")
    coordinator.wait_for_selector("text=已办结销号")

    # 7. the dashboard counts the closed share and the measure page shows it
    coordinator.goto(f"{base}/")
    cards = coordinator.inner_text(".cards")
    assert "1\n已办结销号事项" in cards
    coordinator.wait_for_selector("#chart-sections .main-svg")  # plotly drew offline
    _shot(coordinator, "04-coordinator-dashboard")
    coordinator.goto(f"{base}/measures/M020")
    row = coordinator.locator("tr", has_text="朝阳区政府").first.inner_text()
    assert "已办结销号" in row
    _shot(coordinator, "05-measure-closed")


def test_ei_map_renders_offline(
    browser: object, live_server: str, data_dir: Path, tmp_path: Path
) -> None:
    """The district grade map is drawn by the bundled plotly.js with no base-map tiles."""
    from ecoplan import db
    from ecoplan.accounting.ei.pipeline import RunConfig, RunInputs, run_assessment

    from ..accounting.conftest import record, write_table

    codes = {"110000": "北京市", "110116": "怀柔区", "110105": "朝阳区"}
    table = write_table(tmp_path / "t.csv", [record(c, n, 2024) for c, n in codes.items()])
    engine = db.make_engine(f"sqlite:///{data_dir / 'live.db'}")
    with db.session_scope(engine) as session:
        run_assessment(session, RunConfig(year=2024, title="2024年评价", inputs=RunInputs(indicators=table)),
                       actor="test")  # fmt: skip
    engine.dispose()
    page = _login(browser, live_server, "coord")
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(f"{live_server}/ei")
    page.wait_for_selector("#ei-map .js-plotly-plot, #ei-map canvas", timeout=15000)
    assert page.locator("#ei-map").bounding_box()["height"] > 300  # type: ignore[index]
    _shot(page, "ei-results")
    assert not [u for u in failed if not u.startswith(live_server)]  # nothing fetched from outside
