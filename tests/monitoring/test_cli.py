"""``ecoplan bio …`` on a fresh SQLite file: species list, a sheet, its indices by district,
the archive out and into a second survey; a bad sheet exits 2 and writes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoplan.cli import app
from tests.conftest import run_cli
from tests.monitoring.test_surveys import HEADER, sheet

runner = CliRunner()


def test_bio_commands(cli_home: Path, tmp_path: Path) -> None:
    (tmp_path / "taxa.csv").write_text(
        "学名,中文名\nAix galericulata,鸳鸯\nParus minor,远东山雀\n", encoding="utf-8"
    )
    assert "新增 2 个" in run_cli("bio", "taxa", str(tmp_path / "taxa.csv"))
    rows = [["T1", "2024-05-12", "116.22", "40.05", "鸳鸯", "2", "王", "2.0", "a1"],
            ["T1", "2024-05-12", "116.22", "40.05", "远东山雀", "2", "王", "2.0", "a2"],
            ["T2", "2024-05-13", "116.22", "40.05", "白鹳", "1", "王", "2.0", "a3"]]  # fmt: skip
    out = run_cli("bio", "import", str(sheet(tmp_path / "s.csv", rows, HEADER)), "--protocol", "bird_transect",
              "--title", "样线", "--year", "2024", "--today", "2024-07-10")  # fmt: skip
    assert "2 个采样事件，3 条记录" in out and "未匹配物种 白鹳: 1 条" in out
    run_cli("bio", "indices", "--year", "2024", "--out", str(tmp_path / "i.csv"))
    with (tmp_path / "i.csv").open(encoding="utf-8-sig") as f:
        (row,) = list(csv.DictReader(f))
    # 海淀区 2024: 鸳鸯 2 + 远东山雀 2 (白鹳 unmatched, left out): S = 2, N = 4,
    # H' = −2 × 0.5 ln 0.5 = ln 2 = 0.693147
    assert (row["district"], row["S"], row["N"]) == ("海淀区", "2", "4")
    assert float(row["shannon"]) == pytest.approx(0.693147, abs=1e-6)
    run_cli(
        "bio",
        "export",
        "1",
        str(tmp_path / "a.zip"),
        "--publisher",
        "海淀区园林绿化局",
        "--contact",
        "王明",
    )
    bad = sheet(
        tmp_path / "bad.csv",
        [["T1", "2024-05-12", "116.22", "40.05", "鸳鸯", "2", "王"]],
        HEADER[:7],
    )
    result = runner.invoke(
        app,
        [
            "bio",
            "import",
            str(bad),
            "--protocol",
            "bird_transect",
            "--title",
            "t",
            "--year",
            "2024",
        ],
    )
    assert result.exit_code == 2 and "缺少列" in result.output
