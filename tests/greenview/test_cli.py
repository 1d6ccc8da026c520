"""``ecoplan greenview …`` end to end on synthetic files (no database)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString, box
from typer.testing import CliRunner

from ecoplan.cli import app
from tests.conftest import run_cli
from tests.greenview.synth import banded, png_bytes, point_rows, shipped_method_text, write_manifest

runner = CliRunner()


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_classify(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(png_bytes(banded(10)))
    (tmp_path / "b.png").write_bytes(png_bytes(banded(20)))
    out = run_cli("greenview", "classify", str(tmp_path / "a.png"), str(tmp_path / "b.png"))
    # 10 and 20 of 40 rows: 25 % and 50 %
    assert "25.00" in out and "50.00" in out and "treepedia" in out
    out = run_cli("greenview", "classify", "--classifier", "hsv", str(tmp_path / "a.png"))
    assert "25.00" in out
    (tmp_path / "c.jpg").write_text("text", encoding="utf-8")
    bad = runner.invoke(
        app, ["greenview", "classify", str(tmp_path / "a.png"), str(tmp_path / "c.jpg")]
    )
    assert (
        bad.exit_code == 2
        and "c.jpg: 不是可读取的图片文件" in bad.output
        and "25.00" not in bad.output
    )


def survey(folder: Path, year: int, shares: dict[str, int]) -> Path:
    """One point per entry in 东城区, six images each with ``rows`` of 40 rows green."""
    folder.mkdir(parents=True)
    rows = []
    for k, (point, green_rows) in enumerate(shares.items()):
        names = []
        for h in range(6):
            name = f"{point}_{h}.png"
            (folder / name).write_bytes(png_bytes(banded(green_rows)))
            names.append(name)
        rows += point_rows(point, 116.40 + k * 0.001, 39.93, f"{year}-07-01", names)
    return write_manifest(folder / "manifest.csv", rows)


def test_survey_and_compare(tmp_path: Path) -> None:
    first = survey(tmp_path / "y2023", 2023, {"P1": 10, "P2": 20})
    second = survey(tmp_path / "y2024", 2024, {"P1": 12, "P2": 20, "P3": 40})
    out = run_cli(
        "greenview", "survey", str(first), "--out", str(tmp_path / "r2023.csv"), "--workers", "2"
    )
    # 东城区 2023: P1 25 %, P2 50 % → mean 37.50, median 37.50
    assert "东城区" in out and "37.50" in out
    points = rows_of(tmp_path / "r2023.csv")
    assert [(r["point_id"], float(r["gvi"]), r["district"]) for r in points] == [
        ("P1", 25.0, "东城区"),
        ("P2", 50.0, "东城区"),
    ]
    assert points[0]["method"] == "greenview-treepedia-pixel@2024.1"
    assert len(rows_of(tmp_path / "r2023.images.csv")) == 12
    assert rows_of(tmp_path / "r2023.districts.csv")[0]["district"] == "全市"
    run_cli("greenview", "survey", str(second), "--out", str(tmp_path / "r2024.csv"))
    # pairs P1 25 → 30 (+5), P2 50 → 50 (0): mean +2.5 > 0.5 → 升 (P3 is new: left out);
    # with the shipped minimum of 30 points per area there are too few points to judge
    out = run_cli("greenview", "compare", str(tmp_path / "r2023.csv"), str(tmp_path / "r2024.csv"))
    assert "样点不足" in out and "稳中有升: 否" in out and "只在 2024 年调查的 1 个" in out
    method = tmp_path / "m.toml"
    method.write_text(
        shipped_method_text().replace("min_points = 30", "min_points = 2"), encoding="utf-8"
    )
    out = run_cli("greenview", "compare", str(tmp_path / "r2023.csv"), str(tmp_path / "r2024.csv"),
                  "--method", str(method), "--out", str(tmp_path / "verdict.csv"))  # fmt: skip
    assert "+2.50" in out and "稳中有升: 是" in out
    assert rows_of(tmp_path / "verdict.csv")[0]["label"] == "升"


def test_survey_with_bad_manifest_writes_nothing(tmp_path: Path) -> None:
    manifest = survey(tmp_path / "s", 2024, {"P1": 10})
    (tmp_path / "s" / "P1_3.png").unlink()
    result = runner.invoke(
        app, ["greenview", "survey", str(manifest), "--out", str(tmp_path / "r.csv")]
    )
    assert result.exit_code == 2
    assert "错误: manifest.csv: 1 张图片找不到: 第 5 行: P1_3.png 不存在" in result.output
    assert not (tmp_path / "r.csv").exists() and not (tmp_path / "r.images.csv").exists()


def test_points(tmp_path: Path) -> None:
    x0, y0 = 450_000.0, 4_420_000.0
    gpd.GeoDataFrame(geometry=[LineString([(x0, y0), (x0 + 1000, y0)])], crs="EPSG:4548").to_crs(
        "EPSG:4326"
    ).to_file(tmp_path / "roads.geojson", driver="GeoJSON")
    gpd.GeoDataFrame(geometry=[box(x0 - 10, y0 - 10, x0 + 2000, y0 + 10)], crs="EPSG:4548").to_file(
        tmp_path / "builtup.gpkg"
    )
    out = run_cli("greenview", "points", str(tmp_path / "roads.geojson"), str(tmp_path / "builtup.gpkg"),
                  "--spacing", "50", "--out", str(tmp_path / "p.geojson"), "--template", str(tmp_path / "m.csv"))  # fmt: skip
    assert "已布设 21 个样点" in out
    features = json.loads((tmp_path / "p.geojson").read_text(encoding="utf-8"))["features"]
    assert len(features) == 21 and features[0]["properties"]["point_id"] == "GV450000_4420000"
    assert len(rows_of(tmp_path / "m.csv")) == 21 * 6
    bad = runner.invoke(app, ["greenview", "points", str(tmp_path / "roads.geojson"), str(tmp_path / "builtup.gpkg"),
                              "--out", str(tmp_path / "p.txt")])  # fmt: skip
    assert bad.exit_code == 2 and "输出格式只支持" in bad.output
