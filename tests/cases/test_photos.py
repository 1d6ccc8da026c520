"""Field-photo EXIF reading and checks (src/ecoplan/cases/photos.py).

Photos are built in code: ``make_photo`` for ordinary ones, ``_jpeg`` with hand-set EXIF tags
for the odd ones real cameras write.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from ecoplan.cases.photos import (
    PHOTO_FLAGS,
    PhotoFacts,
    check_photo,
    distance_m,
    flag_labels,
    make_photo,
    read_exif,
    require_position,
)
from ecoplan.errors import ValidationError
from ecoplan.geo.crs import gcj02_to_wgs84

UTC = dt.UTC
BJ = dt.timezone(dt.timedelta(hours=8))
# the clue: a 0.01° × 0.01° square with its south-west corner at 116.0 E, 40.0 N
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[116.0, 40.0], [116.01, 40.0], [116.01, 40.01], [116.0, 40.01], [116.0, 40.0]]
    ],
}
ISSUED = dt.datetime(2024, 5, 1, 9, 0, tzinfo=BJ)
UPLOADED = dt.datetime(2024, 5, 20, 9, 0, tzinfo=BJ)
# the shipped clue_rules.toml values: photo_max_distance_m = 300, photo_min_days_after_issue = -1
RULES: dict[str, Any] = {"max_distance_m": 300.0, "min_days_after_issue": -1}


def _jpeg(gps: dict[int, Any] | None = None, sub: dict[int, Any] | None = None) -> bytes:
    """A JPEG with exactly the given GPS-IFD and Exif-IFD tags."""
    exif = Image.Exif()
    if sub:
        exif.get_ifd(ExifTags.IFD.Exif).update(sub)
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(gps)
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 128, 0)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _facts(lon: float | None = 116.005, lat: float | None = 40.005,
           taken_at: dt.datetime | None = dt.datetime(2024, 5, 10, 10, 0, tzinfo=BJ)) -> PhotoFacts:  # fmt: skip
    return PhotoFacts(taken_at=taken_at, lon=lon, lat=lat)


# --- reading EXIF -----------------------------------------------------------------------------


def test_make_photo_round_trip() -> None:
    taken = dt.datetime(2024, 5, 6, 10, 20, 30, tzinfo=BJ)
    facts = read_exif(make_photo(116.397128, 39.916527, taken), "天安门.jpg")
    # positions are written to 1/10 000 of an arc second (≈ 3 mm), so 1e-7° is ample
    assert facts.lon == pytest.approx(116.397128, abs=1e-7)
    assert facts.lat == pytest.approx(39.916527, abs=1e-7)
    assert facts.taken_at == taken
    assert facts.problems == []


def test_make_photo_is_deterministic() -> None:
    taken = dt.datetime(2024, 5, 6, 10, 0, tzinfo=BJ)
    assert make_photo(116.1, 40.1, taken) == make_photo(116.1, 40.1, taken)


def test_gps_rationals_and_south_west_references() -> None:
    data = _jpeg(gps={
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (IFDRational(39, 1), IFDRational(54, 1), IFDRational(2751, 100)),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (IFDRational(116, 1), IFDRational(23, 1), IFDRational(4525, 100)),
    })  # fmt: skip
    facts = read_exif(data, "sw.jpg")
    # 39° 54′ 27.51″ = 39 + 54/60 + 27.51/3600 = 39.907641 67°, south → negative
    assert facts.lat == pytest.approx(-39.90764167, abs=1e-8)
    # 116° 23′ 45.25″ = 116 + 23/60 + 45.25/3600 = 116.395902 78°, west → negative
    assert facts.lon == pytest.approx(-116.39590278, abs=1e-8)


def test_make_photo_writes_south_west() -> None:
    facts = read_exif(make_photo(-70.25, -33.45, None), "santiago.jpg")
    assert (facts.lon, facts.lat) == pytest.approx((-70.25, -33.45))
    assert facts.taken_at is None


def test_decimal_degrees_in_one_rational() -> None:
    # some writers put the whole angle in the degrees rational: 4000125/100000 = 40.00125°
    data = _jpeg(gps={
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (IFDRational(4000125, 100000),),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (IFDRational(116, 1),),
    })  # fmt: skip
    facts = read_exif(data, "one.jpg")
    assert (facts.lon, facts.lat) == pytest.approx((116.0, 40.00125))


def test_zero_denominator_means_no_position() -> None:
    data = _jpeg(gps={
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (IFDRational(40, 0), IFDRational(0, 1), IFDRational(0, 1)),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (IFDRational(116, 1), IFDRational(0, 1), IFDRational(0, 1)),
    })  # fmt: skip
    facts = read_exif(data, "bad.jpg")
    assert facts.lon is None and facts.lat is None
    assert any("GPS" in p for p in facts.problems)


def test_zero_zero_is_no_fix() -> None:
    facts = read_exif(make_photo(0.0, 0.0, None), "nofix.jpg")
    assert facts.lon is None and facts.lat is None
    assert any("(0, 0)" in p for p in facts.problems)


def test_gcj02_datum_is_converted_back_to_wgs84() -> None:
    data = _jpeg(gps={
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (IFDRational(40, 1),),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (IFDRational(116, 1),),
        ExifTags.GPS.GPSMapDatum: "GCJ-02",
    })  # fmt: skip
    facts = read_exif(data, "gcj.jpg")
    lon, lat = gcj02_to_wgs84(np.array([116.0]), np.array([40.0]))
    assert (facts.lon, facts.lat) == pytest.approx((float(lon[0]), float(lat[0])))
    # the GCJ-02 shift near Beijing is some hundreds of metres: well above 1e-3°
    assert abs(facts.lon - 116.0) > 1e-3  # type: ignore[operator]
    assert any("GCJ-02" in p for p in facts.problems)


def test_offset_time_places_the_wall_clock_in_time() -> None:
    new_york = dt.timezone(dt.timedelta(hours=-5))
    taken = dt.datetime(2024, 5, 6, 22, 0, tzinfo=new_york)
    facts = read_exif(make_photo(116.0, 40.0, taken), "ny.jpg")
    # 22:00 at −05:00 is 03:00 UTC the next day
    assert facts.taken_at == dt.datetime(2024, 5, 7, 3, 0, tzinfo=UTC)
    assert facts.problems == []


def test_no_offset_is_read_as_beijing_time() -> None:
    # the wall clock "10:00" is written without a zone; read as UTC+8 it is 02:00 UTC
    facts = read_exif(make_photo(116.0, 40.0, dt.datetime(2024, 5, 6, 10, 0, tzinfo=UTC),
                                 write_offset=False), "old.jpg")  # fmt: skip
    assert facts.taken_at == dt.datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    assert any("UTC+8" in p for p in facts.problems)


def test_unreadable_offset_falls_back_to_beijing_time() -> None:
    data = _jpeg(sub={ExifTags.Base.DateTimeOriginal: "2024:05:06 10:00:00",
                      ExifTags.Base.OffsetTimeOriginal: "+25:00"})  # fmt: skip
    facts = read_exif(data, "tz.jpg")
    assert facts.taken_at == dt.datetime(2024, 5, 6, 10, 0, tzinfo=BJ)
    assert any("+25:00" in p for p in facts.problems)


def test_blank_original_time_falls_back_to_digitized() -> None:
    data = _jpeg(sub={ExifTags.Base.DateTimeOriginal: "0000:00:00 00:00:00",
                      ExifTags.Base.DateTimeDigitized: "2024:05:06 10:00:00",
                      ExifTags.Base.OffsetTimeDigitized: "+08:00"})  # fmt: skip
    facts = read_exif(data, "digitized.jpg")
    assert facts.taken_at == dt.datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    assert len(facts.problems) == 2  # unparseable original time; digitized time used


def test_photo_without_exif() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    facts = read_exif(out.getvalue(), "screenshot.png")
    assert (facts.taken_at, facts.lon, facts.lat) == (None, None, None)


@pytest.mark.parametrize("data", [b"%PDF-1.7 not an image", b""])
def test_not_an_image_is_refused_naming_the_file(data: bytes) -> None:
    with pytest.raises(ValidationError, match=r"^现场\.jpg: 不是可读取的图片"):
        read_exif(data, "C:\\照片\\现场.jpg")


def test_truncated_jpeg_is_refused() -> None:
    data = make_photo(116.0, 40.0, None, size=(320, 240))
    with pytest.raises(ValidationError, match="cut.jpg"):
        read_exif(data[: len(data) // 2], "cut.jpg")


# --- the position policy ----------------------------------------------------------------------


def test_require_position() -> None:
    assert require_position(_facts(), "a.jpg") == (116.005, 40.005)
    with pytest.raises(ValidationError) as info:
        require_position(_facts(lon=None, lat=None), "微信图片.jpg")
    message = str(info.value)
    assert message.startswith("微信图片.jpg: 照片缺少拍摄位置(EXIF GPS)")
    assert "请上传手机相机拍摄的原图" in message


# --- distance ---------------------------------------------------------------------------------


def test_distance_is_zero_inside_the_polygon() -> None:
    assert distance_m(116.005, 40.005, SQUARE) == 0.0


def test_distance_outside_by_hand() -> None:
    # 0.003° north of the top edge (40.01°). One degree of latitude at 40° N is
    # M·π/180 with M = a(1−e²)/(1−e²·sin²φ)^1.5 = 6 361 803 m (WGS-84), i.e. 111 034.6 m;
    # 0.003 × 111 034.6 = 333.1 m.
    assert distance_m(116.005, 40.013, SQUARE) == pytest.approx(333.1, abs=0.2)
    # 0.001° east of the east edge (116.01°). One degree of longitude at 40° N is
    # N·cos φ·π/180 with N = a/√(1−e²·sin²φ) = 6 386 976 m, i.e. 85 393.9 m; × 0.001 = 85.4 m.
    assert distance_m(116.011, 40.005, SQUARE) == pytest.approx(85.4, abs=0.2)


def test_distance_to_a_point_clue() -> None:
    point = {"type": "Point", "coordinates": [116.0, 40.0]}
    # 0.002° of latitude: 2 × 111.0346 m = 222.1 m
    assert distance_m(116.0, 40.002, point) == pytest.approx(222.1, abs=0.2)


def test_bad_clue_geometry() -> None:
    with pytest.raises(ValidationError, match="线索几何"):
        distance_m(116.0, 40.0, {"type": "Polygon"})


# --- flags ------------------------------------------------------------------------------------


def test_a_good_photo_raises_no_flag() -> None:
    distance, flags = check_photo(_facts(), SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)
    assert (distance, flags) == (0.0, [])


def test_no_gps() -> None:
    distance, flags = check_photo(_facts(lon=None, lat=None), SQUARE, ISSUED,
                                  uploaded_at=UPLOADED, **RULES)  # fmt: skip
    assert (distance, flags) == (None, ["no_gps"])


def test_no_time() -> None:
    _, flags = check_photo(_facts(taken_at=None), SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)
    assert flags == ["no_time"]


def test_far() -> None:
    # 333.1 m north of the square (see test_distance_outside_by_hand) > 300 m
    distance, flags = check_photo(_facts(lat=40.013), SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)
    assert flags == ["far"]
    assert distance == pytest.approx(333.1, abs=0.2)
    # 0.002° north is 222.1 m: within 300 m
    _, flags = check_photo(_facts(lat=40.012), SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)
    assert flags == []


def test_before_issue_with_one_day_of_tolerance() -> None:
    # min_days_after_issue = −1: the photo may be up to 24 h older than the issue time
    hours_23 = _facts(taken_at=ISSUED - dt.timedelta(hours=23))
    hours_25 = _facts(taken_at=ISSUED - dt.timedelta(hours=25))
    assert check_photo(hours_23, SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)[1] == []
    flags = check_photo(hours_25, SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)[1]
    assert flags == ["before_issue"]


def test_future() -> None:
    later = _facts(taken_at=UPLOADED + dt.timedelta(minutes=1))
    assert check_photo(later, SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)[1] == ["future"]


def test_future_defaults_to_now() -> None:
    tomorrow = _facts(taken_at=dt.datetime.now(UTC) + dt.timedelta(days=1))
    assert check_photo(tomorrow, SQUARE, ISSUED, **RULES)[1] == ["future"]


def test_flags_come_in_vocabulary_order() -> None:
    _, flags = check_photo(
        _facts(lat=40.02, taken_at=ISSUED - dt.timedelta(days=3)), SQUARE, ISSUED,
        uploaded_at=UPLOADED, **RULES,
    )  # fmt: skip
    assert flags == ["far", "before_issue"]
    assert list(PHOTO_FLAGS) == ["no_gps", "far", "no_time", "before_issue", "future"]


def test_flag_labels() -> None:
    assert flag_labels(["no_gps", "far"], max_distance_m=300.0) == [
        "无拍摄位置", "拍摄位置距线索超过 300 米",
    ]  # fmt: skip


def test_naive_datetimes_are_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check_photo(_facts(), SQUARE, dt.datetime(2024, 5, 1), **RULES)
    with pytest.raises(ValueError):
        make_photo(116.0, 40.0, dt.datetime(2024, 5, 1))


def test_end_to_end_from_bytes() -> None:
    data = make_photo(116.005, 40.013, dt.datetime(2024, 4, 20, 15, 0, tzinfo=BJ))
    facts = read_exif(data, "现场1.jpg")
    distance, flags = check_photo(facts, SQUARE, ISSUED, uploaded_at=UPLOADED, **RULES)
    # 333.1 m away (see above), and taken 10 days 18 h before the issue
    assert distance == pytest.approx(333.1, abs=0.2)
    assert flags == ["far", "before_issue"]
