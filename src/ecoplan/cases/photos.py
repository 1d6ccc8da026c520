"""Field photos (现场核查照片): where and when the EXIF says they were taken, and how that
compares with the clue they are meant to document.

What is read (``read_exif``):

- **time**: EXIF ``DateTimeOriginal`` (falling back to ``DateTimeDigitized``), a wall-clock
  time without zone. It is placed in time with ``OffsetTimeOriginal`` (``OffsetTimeDigitized``)
  when the camera wrote one, else read as Beijing time (UTC+8, the zone of every phone set up
  in China). IFD0 ``DateTime`` is *not* used: editing software rewrites it on every save.
- **position**: the GPS IFD (0x8825) latitude / longitude, degrees-minutes-seconds as EXIF
  rationals, signed by the N/S and E/W references. EXIF GPS is WGS-84 by definition; only when
  ``GPSMapDatum`` names GCJ-02 is the position converted back to WGS-84. (0, 0) is what some
  cameras write without a fix and is treated as no position.
- anything odd on the way (unparseable time, zero denominators, assumed zone, …) is listed in
  ``PhotoFacts.problems`` in Chinese, for the reviewer.

Policy (``check_photo`` / ``require_position``):

- A photo **without EXIF GPS cannot be on-site verification evidence**: nothing ties it to the
  place, and photos forwarded through chat apps lose their EXIF. The workflow calls
  ``require_position`` and refuses the upload with a message telling the user to send the
  camera's original file. Rejecting is better than flagging here because a flag on a photo
  that proves nothing would still let a 不属实 finding through.
- A photo that is **far** from the clue, taken **before** the clue was issued, taken **after**
  the upload, or without a time is **accepted and flagged**: each has innocent causes (the
  photo shows the site from a ridge, the camera clock is wrong, the patrol saw the problem
  before the batch arrived), so the reviewing unit decides, seeing the flags.

Distances are in metres, measured from the photo position to the nearest point of the clue
geometry (0 inside a polygon) in an azimuthal equidistant projection centred on the photo:
distances from the centre of that projection are true geodesic distances, so no degree or
projection-scale error enters the comparison with ``photo_max_distance_m``.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from PIL import ExifTags, Image, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational
from pyproj import CRS, Transformer

from ecoplan.config import BEIJING_TZ
from ecoplan.errors import ValidationError
from ecoplan.geo.crs import WGS84, gcj02_to_wgs84, is_gcj02
from ecoplan.supervision.evidence import clean_name

# EXIF writes wall-clock times; a camera that gives no zone is taken to be on Beijing time.
BEIJING = BEIJING_TZ

# The fixed flag vocabulary, in the order flags are reported. ``far`` takes the limit in metres.
PHOTO_FLAGS: dict[str, str] = {
    "no_gps": "无拍摄位置",
    "far": "拍摄位置距线索超过 {max_distance_m:g} 米",
    "no_time": "无拍摄时间",
    "before_issue": "拍摄时间早于线索下发",
    "future": "拍摄时间晚于上传时间",
}

_EXIF_DATETIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
# pixels decoded to check that a JPEG is complete: ``draft`` lets libjpeg decode at 1/8 scale,
# so a 50-megapixel photo is checked without decoding 50 megapixels.
_CHECK_SIZE = (256, 256)


@dataclass
class PhotoFacts:
    """What a photo's EXIF says: ``taken_at`` is timezone-aware, ``lon``/``lat`` are WGS-84
    degrees; ``problems`` are notes in Chinese about what could not be read or was assumed."""

    taken_at: dt.datetime | None
    lon: float | None
    lat: float | None
    problems: list[str] = field(default_factory=list)

    @property
    def has_position(self) -> bool:
        return self.lon is not None and self.lat is not None


def read_exif(data: bytes, name: str) -> PhotoFacts:
    """Read the shooting time and GPS position of a photo (JPEG, PNG, WebP, …).

    Raises ValidationError naming the file when the bytes are not a readable image. A missing
    or damaged EXIF is not an error: the fields are None and ``problems`` says why.
    """
    shown = clean_name(name)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format == "JPEG":
                img.draft("RGB", _CHECK_SIZE)
            img.load()  # decode, so that a truncated or corrupt file is refused here
            exif = img.getexif()
    except Image.DecompressionBombError as exc:
        raise ValidationError(f"{shown}: 图像像素数过大,已拒收") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"{shown}: 不是可读取的图片文件(或文件已损坏)") from exc
    problems: list[str] = []
    taken_at = _taken_at(exif, problems)
    lon, lat = _position(exif, problems)
    return PhotoFacts(taken_at=taken_at, lon=lon, lat=lat, problems=problems)


def _exif_value(exif: Image.Exif, tag: int) -> Any:
    """A tag from the Exif sub-IFD, or from IFD0 where some writers misplace it."""
    value = exif.get_ifd(ExifTags.IFD.Exif).get(tag)
    return exif.get(tag) if value is None else value


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return str(value).strip("\x00 ") if value is not None else ""


def _taken_at(exif: Image.Exif, problems: list[str]) -> dt.datetime | None:
    pairs = (
        (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal, "原始拍摄时间"),
        (ExifTags.Base.DateTimeDigitized, ExifTags.Base.OffsetTimeDigitized, "数字化时间"),
    )
    for time_tag, offset_tag, label in pairs:
        raw = _text(_exif_value(exif, time_tag))
        if not raw:
            continue
        match = _EXIF_DATETIME.match(raw)
        try:
            if not match:
                raise ValueError(raw)
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            wall = dt.datetime(year, month, day, hour, minute, second)
        except ValueError:
            # "0000:00:00 00:00:00" and blanks are what cameras write for "unknown"
            problems.append(f"EXIF {label}无法解析: “{raw}”")
            continue
        if label != "原始拍摄时间":
            problems.append("EXIF 无可用的原始拍摄时间,使用数字化时间")
        return wall.replace(tzinfo=_offset(_text(_exif_value(exif, offset_tag)), problems))
    return None


def _offset(raw: str, problems: list[str]) -> dt.tzinfo:
    match = _EXIF_OFFSET.match(raw)
    if match:
        sign, hours, minutes = match.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        if delta <= dt.timedelta(hours=14):  # the widest real UTC offset is +14:00
            return dt.timezone(-delta if sign == "-" else delta)
    if raw:
        problems.append(f"EXIF 时区“{raw}”无法解析,拍摄时间按北京时间(UTC+8)理解")
    else:
        problems.append("拍摄时间未注明时区,按北京时间(UTC+8)理解")
    return BEIJING


def _degrees(value: Any) -> float | None:
    """EXIF degrees: (deg, min, sec) rationals; some writers give (deg,) or a bare number."""
    parts: Sequence[Any] = value if isinstance(value, tuple | list) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    try:
        numbers = [float(p) for p in parts]  # IFDRational with a zero denominator gives nan
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if any(not math.isfinite(n) or n < 0 for n in numbers):
        return None
    return sum(n / 60.0**i for i, n in enumerate(numbers))


def _position(exif: Image.Exif, problems: list[str]) -> tuple[float | None, float | None]:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if not gps:
        return None, None
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude))
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude))
    if lat is None or lon is None:
        problems.append("EXIF GPS 坐标缺失或无法解析")
        return None, None
    signs = {"N": 1, "S": -1, "E": 1, "W": -1}
    lat_ref = _text(gps.get(ExifTags.GPS.GPSLatitudeRef)).upper()[:1]
    lon_ref = _text(gps.get(ExifTags.GPS.GPSLongitudeRef)).upper()[:1]
    if lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        # a missing reference happens on some writers; in Beijing the answer is N/E
        problems.append("EXIF GPS 缺少南北纬/东西经标志,按北纬、东经理解")
    lat *= signs.get(lat_ref, 1)
    lon *= signs.get(lon_ref, 1)
    if abs(lat) > 90 or abs(lon) > 180:
        problems.append(f"EXIF GPS 坐标超出范围: {lon:.6f}, {lat:.6f}")
        return None, None
    if lat == 0 and lon == 0:
        problems.append("EXIF GPS 坐标为 (0, 0),视为未定位")
        return None, None
    if is_gcj02(_text(gps.get(ExifTags.GPS.GPSMapDatum))):
        wlon, wlat = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
        lon, lat = float(wlon[0]), float(wlat[0])
        problems.append("EXIF GPS 为 GCJ-02 坐标,已换算为 WGS-84")
    return lon, lat


def require_position(facts: PhotoFacts, name: str) -> tuple[float, float]:
    """The photo's (lon, lat), or ValidationError: without EXIF GPS a photo is no evidence of
    having been on site (see the module docstring)."""
    if facts.lon is None or facts.lat is None:
        why = f"({';'.join(facts.problems)})" if facts.problems else ""
        raise ValidationError(
            f"{clean_name(name)}: 照片缺少拍摄位置(EXIF GPS){why},不能作为现场核查照片;"
            "请上传手机相机拍摄的原图(拍摄时开启定位,不要使用经微信等转发或编辑后的图片)"
        )
    return facts.lon, facts.lat


def distance_m(lon: float, lat: float, geometry: dict[str, Any]) -> float:
    """Geodesic distance in metres from (lon, lat) to a GeoJSON geometry in WGS-84 (0 inside a
    polygon, or on a line or point), rounded to 0.1 m."""
    try:
        geom = shapely.geometry.shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ValidationError("线索几何无效,无法计算照片距离") from exc
    if geom.is_empty:
        raise ValidationError("线索几何为空,无法计算照片距离")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    local = CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat!r} +lon_0={lon!r} +ellps=WGS84 +units=m +no_defs"
    )
    forward = Transformer.from_crs(WGS84, local, always_xy=True)

    def to_local(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = forward.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    # the photo is the projection's centre, (0, 0)
    meters = float(shapely.distance(shapely.Point(0.0, 0.0), shapely.transform(geom, to_local)))
    return round(meters, 1)


def check_photo(
    facts: PhotoFacts,
    clue_geometry: dict[str, Any],
    issued_at: dt.datetime,
    *,
    max_distance_m: float,
    min_days_after_issue: int,
    uploaded_at: dt.datetime | None = None,
) -> tuple[float | None, list[str]]:
    """Compare a photo with its clue: (distance in metres or None without GPS, flags).

    Flags are keys of :data:`PHOTO_FLAGS`, in its order: ``far`` when the distance exceeds
    ``max_distance_m`` (metres); ``before_issue`` when the photo was taken earlier than
    ``issued_at + min_days_after_issue`` days (−1 tolerates a day of clock or zone error);
    ``future`` when it was taken after ``uploaded_at`` (default: now). Datetimes must be aware.
    """
    if issued_at.tzinfo is None or (uploaded_at is not None and uploaded_at.tzinfo is None):
        raise ValueError("issued_at and uploaded_at must be timezone-aware")
    uploaded = uploaded_at or dt.datetime.now(dt.UTC)
    raised: set[str] = set()
    distance: float | None = None
    if facts.lon is None or facts.lat is None:
        raised.add("no_gps")
    else:
        distance = distance_m(facts.lon, facts.lat, clue_geometry)
        if distance > max_distance_m:
            raised.add("far")
    if facts.taken_at is None:
        raised.add("no_time")
    else:
        if facts.taken_at < issued_at + dt.timedelta(days=min_days_after_issue):
            raised.add("before_issue")
        if facts.taken_at > uploaded:
            raised.add("future")
    return distance, [flag for flag in PHOTO_FLAGS if flag in raised]


def flag_labels(flags: Sequence[str], *, max_distance_m: float) -> list[str]:
    """The Chinese labels of flags, e.g. ``["拍摄位置距线索超过 300 米"]``."""
    return [PHOTO_FLAGS[flag].format(max_distance_m=max_distance_m) for flag in flags]


# ---------------------------------------------------------------------------------------------
# Sample photos for tests and demo data


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """|value| degrees as EXIF (deg, min, sec) rationals, seconds to 1/10 000″ (≈ 3 mm)."""
    scale = 10_000
    total = round(abs(value) * 3600 * scale)
    degrees, rest = divmod(total, 3600 * scale)
    minutes, rest = divmod(rest, 60 * scale)
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(rest, scale)


def _offset_text(moment: dt.datetime) -> str:
    offset = moment.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def make_photo(
    lon: float | None,
    lat: float | None,
    taken_at: dt.datetime | None,
    size: tuple[int, int] = (64, 48),
    *,
    write_offset: bool = True,
) -> bytes:
    """A small JPEG whose EXIF holds GPS (WGS-84, negative = S/W) and DateTimeOriginal.

    ``taken_at`` must be aware; its wall-clock time is written, with OffsetTimeOriginal unless
    ``write_offset`` is False (as older phones do). None leaves the position or time out.
    The bytes depend only on the arguments, so demo data is reproducible.
    """
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "EcoPlan"
    exif[ExifTags.Base.Model] = "sample"
    if taken_at is not None:
        if taken_at.tzinfo is None:
            raise ValueError("taken_at must be timezone-aware")
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        sub[ExifTags.Base.DateTimeOriginal] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        if write_offset:
            sub[ExifTags.Base.OffsetTimeOriginal] = _offset_text(taken_at)
    if lon is not None and lat is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
        gps[ExifTags.GPS.GPSMapDatum] = "WGS-84"
    # a plain green field, shaded by position so that demo photos do not all look alike
    shade = int(abs((lon or 0.0) * 1000 + (lat or 0.0) * 1000)) % 80
    image = Image.new("RGB", size, (70 + shade, 130, 60))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()
