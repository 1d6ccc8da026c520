"""``ecoplan cases …`` end to end on a fresh SQLite file: layers, a batch, the overlay check,
statistics, the 台账, reminders; a bad batch exits 2 and writes nothing."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from openpyxl import load_workbook
from typer.testing import CliRunner

from ecoplan.cli import app
from tests.cases.conftest import geojson_file, square
from tests.conftest import run_cli

runner = CliRunner()
SITE = (116.22, 40.05)  # 海淀区


def test_cases_commands(cli_home: Path, tmp_path: Path) -> None:
    x, y = SITE
    red = tmp_path / "red.geojson"
    gpd.GeoDataFrame({"code": ["HX-1"], "name": ["西山片区"]}, geometry=[shapely.box(x - 0.01, y - 0.01, x, y + 0.01)],
                     crs="EPSG:4326").to_file(red)  # fmt: skip
    assert "第 1 版: 1 个要素" in run_cli(
        "cases", "layer", "load", str(red), "--kind", "redline", "--name", "红线"
    )
    batch = geojson_file(
        tmp_path / "q1.geojson",
        [("Q1-1", square(x - 0.005, y), {}), ("Q1-2", square(x + 0.005, y), {})],
    )
    out = run_cli(
        "cases",
        "import",
        str(batch),
        "--kind",
        "redline_activity",
        "--title",
        "一季度",
        "--today",
        "2024-04-01",
    )
    assert "2 条线索，1 条涉及生态保护红线" in out and "海淀区: 2" in out
    # Q1-1 (116.214–116.216 E) lies inside the red-line box 116.21–116.22 E; Q1-2 (116.224–116.226 E) east of it
    check = run_cli("cases", "check", str(batch))
    assert (
        "第 1 个要素" in check
        and "(全部在内)" in check
        and "第 2 个要素: 不涉及任何参照图层" in check
    )
    assert "共 2 条，逾期 0 条" in run_cli("cases", "stats", "--today", "2024-04-05")
    # due 2024-04-11 (10 days): late on 2024-04-20, one grouped message for 海淀区
    assert "通知 1 条" in run_cli("cases", "remind", "--today", "2024-04-20")
    run_cli("cases", "ledger", str(tmp_path / "l.xlsx"), "--today", "2024-04-20")
    rows = list(load_workbook(tmp_path / "l.xlsx").active.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[1][14] == "是"  # 是否逾期
    bad = geojson_file(tmp_path / "bad.geojson", [("B-1", square(121.47, 31.23), {})])
    result = runner.invoke(app, ["cases", "import", str(bad), "--kind", "mining", "--title", "t"])
    assert result.exit_code == 2 and "不在北京市范围内" in result.output
    assert "共 2 条" in run_cli("cases", "stats")
