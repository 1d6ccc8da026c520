"""``ecoplan bio invasive …`` on a fresh SQLite file: species, sites, records with their alerts,
a control action in 亩, the summary, the exchange out and a bad file that exits 2."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from ecoplan.cli import app
from tests.conftest import run_cli
from tests.monitoring.invasive_fixtures import YANQING, row, sheet


def test_invasive_commands(cli_home: Path, tmp_path: Path) -> None:
    assert "新增 6 个" in run_cli("bio", "invasive", "sync")
    assert "新增 0 个、更新 0 个" in run_cli("bio", "invasive", "sync")
    sites = sheet(tmp_path / "sites.csv", [["YQ-T1", "延庆诱捕器1", "美国白蛾", "诱捕器", str(YANQING[0]),
                                            str(YANQING[1]), "康庄镇"]],
                  header=["监测点编号", "名称", "物种", "类型", "经度", "纬度", "乡镇"])  # fmt: skip
    assert "已登记 1 个监测点" in run_cli("bio", "invasive", "sites", str(sites))
    records = sheet(tmp_path / "r.csv", [
        row("w1", "美国白蛾", "trap_catch", "2024-06-01", "0", site="YQ-T1"),
        row("w2", "美国白蛾", "trap_catch", "2024-06-08", "42", site="YQ-T1"),  # 42 ÷ 7 = 6 > 5 a day
    ])  # fmt: skip
    out = run_cli("bio", "invasive", "import", str(records), "--today", "2024-07-10")
    # w2: first positive in 康庄镇 (new township) and above the threshold
    assert "已导入 2 条记录(阳性 1 条),新预警 2 条" in out and "超过阈值 5 头/日" in out
    assert "新预警 0 条" in run_cli("bio", "invasive", "alerts", "--today", "2024-07-10")
    out = run_cli("bio", "invasive", "control", "--species", "hyphantria_cunea", "--date", "2024-06-20",
                  "--method", "生物", "--area", "30", "--area-unit", "亩", "--site", "YQ-T1")  # fmt: skip
    assert "2 公顷(延庆区)" in out  # 30 亩 ÷ 15 = 2 公顷
    run_cli("bio", "invasive", "summary", "--year", "2024", "--out", str(tmp_path / "s.csv"))
    with (tmp_path / "s.csv").open(encoding="utf-8-sig") as f:
        white = next(r for r in csv.DictReader(f) if r["物种"] == "美国白蛾")
    assert (white["记录"], white["阳性"], white["预警"], white["防治面积(公顷)"]) == (
        "2",
        "1",
        "2",
        "2.0",
    )
    out = run_cli("bio", "invasive", "export", str(tmp_path / "x.csv"), "--species", "hyphantria_cunea",
                  "--year", "2024")  # fmt: skip
    assert "已写出 2 条记录" in out
    result = CliRunner().invoke(app, ["bio", "invasive", "exchange-import", str(tmp_path / "x.csv"), "--province",
                                      "北京", "--today", "2024-07-10"])  # fmt: skip
    assert result.exit_code == 2 and "已导入过" in result.output
