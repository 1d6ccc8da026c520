"""Bad indicator tables and method files get a clear error; the CLI writes json/csv/xlsx."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from ecoplan.accounting.ei.method import Method, load_method
from ecoplan.accounting.ei.table import read_table
from ecoplan.cli import app
from ecoplan.errors import InputFileError, ValidationError

from .conftest import record, write_table

runner = CliRunner()


def test_reads_a_good_table(tmp_path: Path, hj192: Method) -> None:
    path = write_table(tmp_path / "t.csv", [record("110116", "怀柔区"), record("110000", "北京市")])
    rows = read_table(path, hj192)
    assert [r.level for r in rows] == ["district", "city"]
    assert rows[0].region_name == "怀柔区" and rows[0].values["area_km2"] == 100.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"area_km2": 0}, "区域面积 area_km2 为 0"),
        ({"cod_t": -5}, "cod_t 为 -5"),
        ({"ndvi_mean": None}, "ndvi_mean 为空"),
        ({"river_length_km": "abc"}, "不是数字"),
        ({"lu_crop_dry_km2": 500}, "超过区域面积"),
    ],
)
def test_bad_rows_are_refused_with_row_and_column(
    tmp_path: Path, hj192: Method, changes: dict[str, object], message: str
) -> None:
    path = write_table(
        tmp_path / "t.csv", [record("110116", "怀柔区"), {**record("110117", "平谷区"), **changes}]
    )
    with pytest.raises(ValidationError, match=message) as info:
        read_table(path, hj192)
    assert "第 3 行" in str(info.value)


def test_missing_column_is_named(tmp_path: Path, hj192: Method) -> None:
    path = write_table(tmp_path / "t.csv", [record("110116", "怀柔区")])
    text = path.read_text(encoding="utf-8").replace("precip_mm", "rain")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="缺少列 precip_mm"):
        read_table(path, hj192)


def test_corrupt_file(tmp_path: Path, hj192: Method) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputFileError):
        read_table(path, hj192)


def _method_text() -> str:
    from importlib import resources

    return (
        resources.files("ecoplan.accounting.ei")
        .joinpath("methods/hj192-2015.toml")
        .read_text("utf-8")
    )


def test_method_file_with_missing_weight(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(_method_text().replace("vegetation_cover = 0.25\n", ""), encoding="utf-8")
    with pytest.raises(ValidationError, match="weights.vegetation_cover"):
        load_method(path)


def test_method_weights_must_sum_to_one(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        _method_text().replace("vegetation_cover = 0.25", "vegetation_cover = 0.35"),
        encoding="utf-8",
    )
    with pytest.raises(ValidationError, match="之和应为 1"):
        load_method(path)


def test_user_method_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "db11.toml"
    text = (
        _method_text()
        .replace('id = "hj192-2015"', 'id = "db11-1877-local"')
        .replace('version = "2015"', 'version = "2021-trial"')
    )
    path.write_text(text, encoding="utf-8")
    method = load_method(path)
    assert method.key == "db11-1877-local@2021-trial"
    assert method.sha256 != load_method().sha256


def test_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("weights = [", encoding="utf-8")
    with pytest.raises(InputFileError, match="TOML"):
        load_method(path)


def test_cli_compute_json_csv_xlsx(tmp_path: Path) -> None:
    table = write_table(tmp_path / "2024.csv", [record("110116", "怀柔区")])
    previous = write_table(
        tmp_path / "2023.csv", [record("110116", "怀柔区", 2023, ndvi_mean=0.75)]
    )
    result = runner.invoke(
        app, ["ei", "compute", "--indicators", str(table), "--previous", str(previous)]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["method"]["id"] == "hj192-2015"
    assert "植被覆盖系数 121.165" in payload["method"]["unverified"]
    [row] = payload["results"]
    # EI 69.3 against 70.8 the year before (see test_ei_compute): ΔEI −1.5, 略微变差
    assert (row["ei"], row["grade"], row["delta"], row["change_grade"]) == (
        69.3,
        "良",
        -1.5,
        "略微变差",
    )

    result = runner.invoke(app, ["ei", "compute", "--indicators", str(table), "--format", "csv"])
    assert result.exit_code == 0
    header, line = result.stdout.strip().splitlines()
    assert header.startswith("region_code,region_name,year,biological_abundance")
    assert ",69.3,良," in line

    out = tmp_path / "ei.xlsx"
    result = runner.invoke(
        app, ["ei", "compute", "--indicators", str(table), "--format", "xlsx", "--out", str(out)]
    )
    assert result.exit_code == 0
    sheet = load_workbook(out)["EI"]
    assert sheet["B1"].value == "区域" and sheet["B2"].value == "怀柔区"


def test_cli_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    table = write_table(tmp_path / "t.csv", [record("110116", "怀柔区", area_km2=0)])
    result = runner.invoke(app, ["ei", "compute", "--indicators", str(table)])
    assert result.exit_code == 2
    assert "区域面积 area_km2 为 0" in result.output and "Traceback" not in result.output
