"""Reading and checking the image manifest: every problem reported, naming its line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.greenview.manifest import parse_date, read_manifest
from ecoplan.greenview.method import load_method
from tests.greenview.synth import HEADER, point_rows, write_manifest

METHOD = load_method()
IMAGES = [f"img/p1_{h}.png" for h in range(6)]


def test_reads_and_normalises(tmp_path: Path) -> None:
    rows = point_rows("P1", 116.41, 39.93, "2024-06-15", IMAGES)
    rows[0][3] = 360  # heading 360 is north
    rows[1][6] = "img\\p1_1.png"  # a Windows path
    frame = read_manifest(write_manifest(tmp_path / "m.csv", rows), METHOD)
    assert list(frame["line"]) == [2, 3, 4, 5, 6, 7]
    assert frame.loc[0, "heading"] == 0 and frame.loc[1, "image"] == "img/p1_1.png"
    assert (frame.loc[0, "year"], frame.loc[0, "month"], frame.loc[0, "date"]) == (
        2024,
        6,
        "2024-06-15",
    )


def test_chinese_headers_gbk_and_xlsx(tmp_path: Path) -> None:
    header = ["样点编号", "经度", "纬度", "方位角", "俯仰角", "拍摄日期", "图片"]
    rows = point_rows("P1", 116.41, 39.93, "2024年6月", IMAGES[:2])
    path = tmp_path / "gbk.csv"
    text = ",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    path.write_bytes(text.encode("gbk"))
    frame = read_manifest(path, METHOD)
    assert list(frame["date"]) == ["2024-06", "2024-06"]
    xlsx = tmp_path / "m.xlsx"
    pd.DataFrame(rows, columns=HEADER).to_excel(xlsx, index=False)
    assert len(read_manifest(xlsx, METHOD)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-06-15", ("2024-06-15", 2024, 6)), ("2024/6/5", ("2024-06-05", 2024, 6)),
     ("2024-06", ("2024-06", 2024, 6)), ("2024年7月3日", ("2024-07-03", 2024, 7)),
     ("2024-06-15 00:00:00", ("2024-06-15", 2024, 6)), ("2024-13-01", None), ("2024-02-30", None),
     ("June 2024", None)],
)  # fmt: skip
def test_dates(text: str, expected: tuple[str, int, int] | None) -> None:
    assert parse_date(text) == expected


def test_missing_column_names_it(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "m.csv", [["P1", 116.4, 39.9, 0, "2024-06-01", "a.png"]],
                          ["point_id", "lon", "lat", "heading", "date", "image"])  # fmt: skip
    with pytest.raises(ValidationError, match=r"m\.csv: 缺少列 pitch\(可写作 pitch/俯仰角\)"):
        read_manifest(path, METHOD)


def test_bad_rows_are_all_listed(tmp_path: Path) -> None:
    rows = point_rows("P1", 116.41, 39.93, "2024-06-15", IMAGES)
    rows[0][1] = "东经116"  # line 2
    rows[2][5] = "2024-15-01"  # line 4
    rows[3][6] = ""  # line 5
    rows[4][3] = 400  # line 6
    with pytest.raises(ValidationError) as info:
        read_manifest(write_manifest(tmp_path / "m.csv", rows), METHOD)
    assert str(info.value).startswith("m.csv: 4 处错误,未计算任何结果: 第 2 行: lon“东经116”")
    assert [r.split(":")[0] for r in info.value.rows] == [
        "第 2 行",
        "第 4 行",
        "第 5 行",
        "第 6 行",
    ]
    assert "缺少 image" in info.value.rows[2] and "方位角应为 0~360 度" in info.value.rows[3]


def test_duplicates_and_scattered_points(tmp_path: Path) -> None:
    rows = point_rows("P1", 116.41, 39.93, "2024-06-15", IMAGES)
    rows[1][6] = rows[0][6]  # the same file twice (lines 2 and 3)
    rows[5][3] = 0  # heading 0 twice on the same day (lines 2 and 7)
    with pytest.raises(ValidationError) as info:
        read_manifest(write_manifest(tmp_path / "m.csv", rows), METHOD)
    assert info.value.rows == [
        "第 2、3 行: 同一图片出现在多行(img/p1_0.png)",
        "第 2、7 行: 同一样点、日期、方位角和俯仰角出现多次(img/p1_0.png)",
    ]
    rows = point_rows("P1", 116.41, 39.93, "2024-06-15", IMAGES)
    rows[3][2] = 39.931  # 0.001° of latitude ≈ 111 m from the point's first row
    with pytest.raises(
        ValidationError, match="第 5 行: 样点 P1 的位置与该样点2024 年的第一行相距 111 米"
    ):
        read_manifest(write_manifest(tmp_path / "m.csv", rows), METHOD)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="清单文件不存在"):
        read_manifest(tmp_path / "none.csv", METHOD)
    (tmp_path / "m.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputFileError, match="只接受 CSV 或 XLSX"):
        read_manifest(tmp_path / "m.txt", METHOD)
    (tmp_path / "fake.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="无法读取清单"):
        read_manifest(tmp_path / "fake.xlsx", METHOD)
    write_manifest(tmp_path / "empty.csv", [])
    with pytest.raises(InputFileError, match="没有数据行"):
        read_manifest(tmp_path / "empty.csv", METHOD)
