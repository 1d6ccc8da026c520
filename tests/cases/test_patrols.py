"""Patrol tracks and patrol frequency (src/ecoplan/cases/patrols.py).

GPX files are written in code. The reserve is a 0.02° × 0.02° square with its south-west
corner at 116.0 E, 40.0 N; the standard track runs along 40.01° N from 115.99° to 116.03° E,
half of it inside the square.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from ecoplan import audit, db
from ecoplan.cases.models import RefFeature, RefLayer
from ecoplan.cases.patrols import AreaMonth, import_patrol, patrol_frequency, read_gpx
from ecoplan.cases.register_models import Patrol
from ecoplan.errors import NotFoundError, ValidationError
from ecoplan.supervision.evidence import path_of

UTC = dt.UTC
BJ = dt.timezone(dt.timedelta(hours=8))
# 41 points 0.001° apart along 40.01° N, 115.99° → 116.03° E
EAST_WEST = [(round(115.99 + 0.001 * i, 3), 40.01) for i in range(41)]
# the same walk 0.03° further north (40.04° N): in Beijing, but outside the square
NORTH = [(lon, 40.04) for lon, _ in EAST_WEST]
# 0.04° of longitude at 40.01° N: N·cos φ·π/180 = 85 381.4 m per degree (WGS-84), so
# 0.04 × 85 381.4 = 3 415.3 m = 3.415 km
TRACK_KM = 3.415


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def gpx(
    segments: Sequence[Sequence[tuple[float, float]]],
    start: dt.datetime | None,
    *,
    step_s: int = 30,
    creator: str = "test",
    tracks: int = 1,
) -> bytes:
    """A GPX 1.1 file; points ``step_s`` seconds apart from ``start`` (no times when None);
    the segments are spread over ``tracks`` <trk> elements."""
    n = 0
    trks: list[list[str]] = [[] for _ in range(tracks)]
    for k, seg in enumerate(segments):
        pts = []
        for lon, lat in seg:
            time = ""
            if start is not None:
                moment = (start + dt.timedelta(seconds=step_s * n)).astimezone(UTC)
                time = f"<time>{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
            pts.append(f'<trkpt lat="{lat}" lon="{lon}">{time}</trkpt>')
            n += 1
        trks[k % tracks].append(f"<trkseg>{''.join(pts)}</trkseg>")
    body = "".join(f"<trk><name>巡查</name>{''.join(s)}</trk>" for s in trks)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1">'
        f"{body}</gpx>"
    ).encode()


def add_area(
    session: Any, *, code: str = "SS", name: str = "松山自然保护区", kind: str = "reserve",
    layer: str = "自然保护区", version: int = 1, props: dict[str, Any] | None = None,
    geometry: dict[str, Any] | None = None,
) -> RefFeature:  # fmt: skip
    """A one-feature layer, inserted directly."""
    ref = RefLayer(kind=kind, name=layer, version=version, active=True, source={},
                   created_by="test")  # fmt: skip
    # 0.02° × 0.02° at 40° N ≈ 1.708 km × 2.221 km ≈ 3.79 km²
    feature = RefFeature(layer=ref, code=code, name=name, zone=None, props=props or {},
                         area_km2=3.79, geometry=geometry or box(116.0, 40.0, 116.02, 40.02))  # fmt: skip
    session.add(ref)
    session.flush()
    return feature


def walk(session: Any, feature: RefFeature, start: dt.datetime, **kw: Any) -> Patrol:
    data = gpx([EAST_WEST], start, creator=kw.pop("creator", "test"))
    return import_patrol(session, data, "track.gpx", area_feature_id=feature.id,
                         patroller=kw.pop("patroller", "张三"), unit_id=None, actor="test", **kw)  # fmt: skip


# --- reading GPX ------------------------------------------------------------------------------


def test_read_gpx_joins_tracks_and_segments_in_time_order() -> None:
    start = dt.datetime(2024, 3, 5, 8, 0, tzinfo=BJ)
    first, second = EAST_WEST[:20], EAST_WEST[20:]
    # the later segment is written first, in another <trk>
    late = gpx([second], start + dt.timedelta(hours=1))
    early = gpx([first], start)
    body = early.split(b"<trk>", 1)[1].rsplit(b"</gpx>", 1)[0]
    data = late.replace(b"</gpx>", b"<trk>" + body + b"</gpx>")
    track = read_gpx(data, "two.gpx")
    assert track.segments == 2
    assert [(p.lon, p.lat) for p in track.points] == first + second
    assert track.started_at == dt.datetime(2024, 3, 5, 0, 0, tzinfo=UTC)  # 08:00 +08:00
    # the late segment has points 20..40, 21 of them: the last is 20 × 30 s = 10 min after
    # 09:00 +08:00 = 01:00 UTC
    assert track.ended_at == dt.datetime(2024, 3, 5, 1, 10, tzinfo=UTC)
    assert track.length_km() == pytest.approx(TRACK_KM, abs=0.001)


def test_read_gpx_several_segments_in_one_file() -> None:
    data = gpx([EAST_WEST[:10], EAST_WEST[10:]], dt.datetime(2024, 3, 5, tzinfo=UTC), tracks=2)
    assert len(read_gpx(data, "t.gpx").points) == 41


def test_times_without_zone_are_utc() -> None:
    data = gpx([EAST_WEST[:2]], dt.datetime(2024, 3, 5, 8, 0, tzinfo=UTC)).replace(b"Z<", b"<")
    assert read_gpx(data, "t.gpx").started_at == dt.datetime(2024, 3, 5, 8, 0, tzinfo=UTC)


def test_gpx_without_times_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"^notime\.gpx: 41/41 个轨迹点没有时间"):
        read_gpx(gpx([EAST_WEST], None), "notime.gpx")


def test_some_points_without_time_are_refused() -> None:
    data = gpx([EAST_WEST], dt.datetime(2024, 3, 5, tzinfo=UTC))
    data = data.replace(b"<time>2024-03-05T00:00:00Z</time>", b"", 1)
    with pytest.raises(ValidationError, match="1/41 个轨迹点没有时间"):
        read_gpx(data, "t.gpx")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        (b"%PDF-1.7", "不是 GPX"),
        (b'<?xml version="1.0"?><kml><Document/></kml>', "不是 GPX"),
        (b'<gpx version="1.1"><trk><trkseg><trkpt lat="40"', "不是有效的 GPX"),
        (b'<gpx version="1.1"><trk><trkseg><trkpt lat="x" lon="116"/></trkseg></trk></gpx>',
         "不是有效的 GPX"),
        (b'<gpx version="1.1"></gpx>', "没有轨迹点"),
        (b'<gpx version="1.1"><wpt lat="40" lon="116"/></gpx>', "只有航线或航点"),
        (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx version="1.1"></gpx>',
         "DOCTYPE"),
    ],
)  # fmt: skip
def test_bad_gpx_is_refused_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=rf"^bad\.gpx: .*{message}"):
        read_gpx(data, "/tmp/bad.gpx")


def test_single_point_is_refused() -> None:
    with pytest.raises(ValidationError, match="只有 1 个点"):
        read_gpx(gpx([EAST_WEST[:1]], dt.datetime(2024, 3, 5, tzinfo=UTC)), "t.gpx")


def test_points_outside_beijing_are_refused() -> None:
    # Shanghai, 121.47 E 31.23 N: far outside 115.4–117.6 E, 39.4–41.1 N
    data = gpx([[*EAST_WEST[:3], (121.47, 31.23)]], dt.datetime(2024, 3, 5, tzinfo=UTC))
    with pytest.raises(ValidationError, match=r"1 个轨迹点不在北京范围内.*第 4 个点"):
        read_gpx(data, "sh.gpx")


def test_gbk_encoded_gpx() -> None:
    text = gpx([EAST_WEST[:2]], dt.datetime(2024, 3, 5, tzinfo=UTC)).decode()
    data = text.replace('encoding="UTF-8"', 'encoding="GBK"').encode("gbk")
    assert len(read_gpx(data, "gbk.gpx").points) == 2


# --- importing a patrol -----------------------------------------------------------------------


def test_import_patrol(engine: Engine, data_dir: Path) -> None:
    start = dt.datetime(2024, 3, 5, 8, 0, tzinfo=BJ)
    data = gpx([EAST_WEST], start)
    with db.session_scope(engine) as session:
        area = add_area(session)
        patrol = import_patrol(session, data, "松山0305.gpx", area_feature_id=area.id,
                               patroller=" 张三 ", unit_id=None, actor="ranger1")  # fmt: skip
        patrol_id, sha = patrol.id, patrol.sha256
    with db.session_scope(engine) as session:
        patrol = session.get_one(Patrol, patrol_id)
        assert patrol.area_name == "松山自然保护区"
        assert patrol.patroller == "张三"
        assert patrol.started_at == dt.datetime(2024, 3, 5, 0, 0, tzinfo=UTC)
        # 41 points 30 s apart: 40 × 30 s = 20 min
        assert patrol.ended_at == dt.datetime(2024, 3, 5, 0, 20, tzinfo=UTC)
        assert patrol.length_km == pytest.approx(TRACK_KM, abs=0.001)
        # inside from 116.00° to 116.02° of 115.99°–116.03°: 0.02 / 0.04 = 0.5
        assert patrol.inside_share == pytest.approx(0.5, abs=0.001)
        # the 41 points lie on a parallel, which the equal-area projection bends by a
        # sagitta of c²/8R ≈ 3415² / (8 × 6.5e6 m) ≈ 0.2 m < 5 m: two vertices are left
        assert patrol.geometry == {"type": "LineString",
                                   "coordinates": [[115.99, 40.01], [116.03, 40.01]]}  # fmt: skip
        entries = audit.entries(session, entity_type="patrol", entity_id=str(patrol_id))
        assert [e.action for e in entries] == ["patrol.import"]
        assert entries[0].actor == "ranger1"
        assert entries[0].after["file"] == "松山0305.gpx"
        assert entries[0].after["points"] == 41
    assert path_of(sha).read_bytes() == data  # the original kept as evidence


def test_a_zigzag_keeps_its_corners(engine: Engine, data_dir: Path) -> None:
    # every other point 0.0002° north: 0.0002 × 111 035 m = 22 m, far above the 5 m tolerance
    zigzag = [(lon, lat + (0.0002 if i % 2 else 0.0)) for i, (lon, lat) in enumerate(EAST_WEST)]
    with db.session_scope(engine) as session:
        area = add_area(session)
        patrol = import_patrol(session, gpx([zigzag], dt.datetime(2024, 3, 5, tzinfo=UTC)),
                               "z.gpx", area_feature_id=area.id, patroller="李四", unit_id=None,
                               actor="test")  # fmt: skip
        assert len(patrol.geometry["coordinates"]) == 41


def test_inside_share_is_measured_on_the_ellipsoid(engine: Engine, data_dir: Path) -> None:
    # an L: north along 116.01° E from 40.01° to 40.03° N (the square ends at 40.02°), then
    # east along 40.03° N to 116.02° E.
    #   inside : 0.01° of latitude  × 111 034.9 m/° = 1 110.3 m
    #   outside: 0.01° of latitude  × 111 035.1 m/° = 1 110.4 m
    #          + 0.01° of longitude ×  85 356.5 m/° =   853.6 m  (N·cos φ·π/180 at 40.03°)
    #   share  = 1 110.3 / (1 110.3 + 1 964.0) = 0.3612
    # Measured in the equal-area CRS it would be 0.3646 (north–south stretched by 1.017,
    # east–west shrunk by 0.983 at 40° N), hence the tight tolerance.
    ell = [(116.01, 40.01), (116.01, 40.02), (116.01, 40.03), (116.02, 40.03)]
    with db.session_scope(engine) as session:
        area = add_area(session)
        patrol = import_patrol(session, gpx([ell], dt.datetime(2024, 3, 5, tzinfo=UTC)), "l.gpx",
                               area_feature_id=area.id, patroller="李四", unit_id=None,
                               actor="test")  # fmt: skip
        assert patrol.inside_share == pytest.approx(0.3612, abs=2e-4)
        assert patrol.length_km == pytest.approx(3.074, abs=0.001)  # 1.1103 + 1.1104 + 0.8536


def test_the_same_file_twice_is_refused(engine: Engine, data_dir: Path) -> None:
    start = dt.datetime(2024, 3, 5, 8, 0, tzinfo=BJ)
    with db.session_scope(engine) as session:
        area = add_area(session)
        first = walk(session, area, start)
        with pytest.raises(ValidationError, match=rf"该轨迹已导入\(同一文件:巡查记录 #{first.id}"):
            walk(session, area, start)
        # the same walk exported again by another app: other bytes, same patroller and times
        with pytest.raises(ValidationError, match="该轨迹已导入\\(同一巡查人、相同起止时间"):
            walk(session, area, start, creator="另一个软件")
        # a colleague on the same walk with their own phone is a patrol of their own
        walk(session, area, start, creator="另一个软件", patroller="王五")
        assert len(session.scalars(select(Patrol)).all()) == 2


def test_a_track_outside_the_area_is_refused(engine: Engine, data_dir: Path) -> None:
    with db.session_scope(engine) as session:
        area = add_area(session)
        with pytest.raises(ValidationError, match="轨迹没有进入“松山自然保护区”范围"):
            import_patrol(session, gpx([NORTH], dt.datetime(2024, 3, 5, tzinfo=UTC)), "n.gpx",
                          area_feature_id=area.id, patroller="张三", unit_id=None,
                          actor="test")  # fmt: skip
        assert session.scalars(select(Patrol)).all() == []


def test_only_active_reserves_and_protected_areas(engine: Engine, data_dir: Path) -> None:
    data = gpx([EAST_WEST], dt.datetime(2024, 3, 5, tzinfo=UTC))
    kw: dict[str, Any] = {"patroller": "张三", "unit_id": None, "actor": "test"}
    with db.session_scope(engine) as session:
        redline = add_area(session, kind="redline", layer="生态保护红线", name="红线")
        with pytest.raises(ValidationError, match="不是自然保护区或自然保护地图层"):
            import_patrol(session, data, "t.gpx", area_feature_id=redline.id, **kw)
        retired = add_area(session, layer="旧保护区")
        retired.layer.active = False
        with pytest.raises(ValidationError, match="已停用的图层版本"):
            import_patrol(session, data, "t.gpx", area_feature_id=retired.id, **kw)
        with pytest.raises(NotFoundError):
            import_patrol(session, data, "t.gpx", area_feature_id=999_999, **kw)
        other = add_area(session, kind="protected_area", layer="其他保护地", name="湿地公园")
        with pytest.raises(NotFoundError, match="单位"):
            import_patrol(session, data, "t.gpx", area_feature_id=other.id,
                          **{**kw, "unit_id": 999_999})  # fmt: skip
        assert import_patrol(session, data, "t.gpx", area_feature_id=other.id, **kw).id


# --- frequency --------------------------------------------------------------------------------


def months(rows: list[AreaMonth], code: str) -> dict[int, AreaMonth]:
    return {r.month: r for r in rows if r.code == code}


def test_patrol_frequency(engine: Engine, data_dir: Path) -> None:
    today = dt.date(2024, 3, 15)
    with db.session_scope(engine) as session:
        ss = add_area(session, props={"patrols_per_month": 2})
        wet = add_area(session, code="YH", name="野鸭湖湿地", kind="protected_area",
                       layer="湿地保护地")  # fmt: skip
        add_area(session, code="HX", name="红线", kind="redline", layer="生态保护红线")
        walk(session, ss, dt.datetime(2024, 1, 10, 9, 0, tzinfo=BJ))
        walk(session, ss, dt.datetime(2024, 1, 20, 9, 0, tzinfo=BJ))
        # 2024-01-31 17:30 UTC is 2024-02-01 01:30 in Beijing: a February patrol
        walk(session, ss, dt.datetime(2024, 1, 31, 17, 30, tzinfo=UTC))
        walk(session, ss, dt.datetime(2024, 3, 2, 9, 0, tzinfo=BJ))
        walk(session, ss, dt.datetime(2024, 3, 9, 9, 0, tzinfo=BJ))
        walk(session, wet, dt.datetime(2024, 2, 3, 9, 0, tzinfo=BJ))
        walk(session, ss, dt.datetime(2023, 12, 31, 9, 0, tzinfo=BJ))  # another year

        rows = patrol_frequency(session, 2024, required_per_month=1, today=today)
        assert {r.code for r in rows} == {"SS", "YH"}  # the red line is not patrolled here
        assert len(rows) == 2 * 12
        ss_m, wet_m = months(rows, "SS"), months(rows, "YH")

        # 松山: 2 a month from its own props
        assert [ss_m[m].patrols for m in (1, 2, 3, 4)] == [2, 1, 2, 0]
        assert {r.required for r in ss_m.values()} == {2}
        assert ss_m[1].required_from == "props"
        assert ss_m[1].met is True
        assert ss_m[2].met is False  # February ended with 1 of 2
        assert ss_m[3].met is True  # running, but already 2 of 2
        assert ss_m[4].met is None  # after today: not judged
        assert ss_m[1].km == pytest.approx(2 * TRACK_KM, abs=0.002)  # two 3.415 km walks

        # 野鸭湖: no props, so the argument: 1 a month
        assert wet_m[1].required_from == "argument"
        assert [wet_m[m].met for m in (1, 2, 3, 12)] == [False, True, None, None]

        # without an argument the shipped default, [patrols] patrols_per_month = 4
        default = months(patrol_frequency(session, 2024, today=today), "YH")
        assert (default[2].required, default[2].required_from) == (4, "default")
        assert default[2].met is False

        # the whole year 2024 judged from 2025: December ended with 0 of 2
        assert (
            months(patrol_frequency(session, 2024, today=dt.date(2025, 1, 1)), "SS")[12].met
            is False
        )


def test_frequency_survives_a_new_layer_version(engine: Engine, data_dir: Path) -> None:
    with db.session_scope(engine) as session:
        old = add_area(session)
        walk(session, old, dt.datetime(2024, 1, 10, 9, 0, tzinfo=BJ))
        old.layer.active = False
        new = add_area(session, version=2, geometry=box(116.0, 40.0, 116.025, 40.02))
        rows = months(patrol_frequency(session, 2024, today=dt.date(2024, 6, 1)), "SS")
        # the January patrol was recorded on version 1; it counts for the same code in version 2
        assert rows[1].patrols == 1
        assert rows[1].feature_id == new.id


def test_bad_required_count_in_props(engine: Engine, data_dir: Path) -> None:
    with db.session_scope(engine) as session:
        add_area(session, props={"patrols_per_month": "每周一次"})
        with pytest.raises(ValidationError, match="patrols_per_month 应为非负整数"):
            patrol_frequency(session, 2024, today=dt.date(2024, 6, 1))
        with pytest.raises(ValidationError, match="不能为负数"):
            patrol_frequency(session, 2024, required_per_month=-1)
