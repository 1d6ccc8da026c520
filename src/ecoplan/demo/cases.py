"""Demo clues (合成数据, labelled as such): a synthetic red line and nature reserve with zones on
the real district boundaries, three clue batches, and a half-year of work on them (verification
with EXIF-positioned photos, rectification plans, acceptance and 销号) done by the demo accounts,
so the clue pages, statistics, reminders and measure evidence show a plan in mid-year.

Everything is generated from a fixed seed; nothing is fetched.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
import shapely.geometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.cases.batches import file_batch
from ecoplan.cases.importing import ClueRecords
from ecoplan.cases.layers import load_layer
from ecoplan.cases.models import Clue, ClueBatch
from ecoplan.cases.photos import make_photo
from ecoplan.cases.reminders import run_clue_reminders
from ecoplan.cases.spatial import beijing
from ecoplan.cases.workflow import PhotoUpload, RectificationPlan, step
from ecoplan.db import frozen_now
from ecoplan.demo.history import DEMO_TODAY, at_beijing
from ecoplan.geo.crs import EQUAL_AREA, WGS84

LABEL = "演示数据(合成，非实测)"
SEED = 7
ACTOR = "demo"
# mountain areas that carry most of Beijing's red line: (lon, lat, radius km); synthetic shapes
REDLINE_BLOBS = [(115.62, 40.02, 18), (115.95, 40.47, 14), (116.55, 40.62, 20), (117.02, 40.52, 17),
                 (115.78, 39.72, 11), (117.25, 40.22, 9)]  # fmt: skip
RESERVE = (
    115.80,
    40.52,
)  # centre of the synthetic reserve; zones: core 4 km, buffer 7 km, experiment 10 km
ACTIVITIES = ["housing", "farming", "transport", "tourism", "mining", "industry", "other"]


def _circle(lon: float, lat: float, radius_km: float) -> shapely.Geometry:
    centre = gpd.GeoSeries([shapely.Point(lon, lat)], crs=WGS84).to_crs(EQUAL_AREA)
    return gpd.GeoSeries(centre.buffer(radius_km * 1000, 64), crs=EQUAL_AREA).to_crs(WGS84).iloc[0]


def write_layers(folder: Path) -> tuple[Path, Path]:
    city = beijing().city
    redline = [shapely.intersection(_circle(*blob), city) for blob in REDLINE_BLOBS]
    red = gpd.GeoDataFrame({"code": [f"HX-{i + 1:02d}" for i in range(len(redline))],
                            "name": [f"生态保护红线片区{i + 1}({LABEL})" for i in range(len(redline))]},
                           geometry=redline, crs=WGS84)  # fmt: skip
    core, buffer, outer = (shapely.intersection(_circle(*RESERVE, r), city) for r in (4, 7, 10))
    reserve = gpd.GeoDataFrame({"code": ["ZR-core", "ZR-buffer", "ZR-exp"], "name": ["演示自然保护区"] * 3,
                                "功能区": ["核心区", "缓冲区", "实验区"], "patrols_per_month": [4, 4, 2]},
                               geometry=[core, buffer.difference(core), outer.difference(buffer)], crs=WGS84)  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    red_path, reserve_path = folder / "redline_demo.geojson", folder / "reserve_demo.geojson"
    red.to_file(red_path, driver="GeoJSON")
    reserve.to_file(reserve_path, driver="GeoJSON")
    return red_path, reserve_path


def _sample(area: shapely.Geometry, n: int, rng: np.random.Generator) -> list[shapely.Geometry]:
    """n small irregular patches (about 40–120 m across) inside ``area``."""
    minx, miny, maxx, maxy = area.bounds
    out: list[shapely.Geometry] = []
    while len(out) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not area.contains(shapely.Point(x, y)):
            continue
        k = int(rng.integers(5, 8))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.uniform(0.0003, 0.0010, k)
        out.append(
            shapely.Polygon(
                np.column_stack([x + radius * np.cos(angles) * 1.3, y + radius * np.sin(angles)])
            )
        )
    return out


def _records(prefix: str, geoms: list[shapely.Geometry], period: str, rng: random.Random,
             source: str) -> ClueRecords:  # fmt: skip
    return ClueRecords(
        codes=[f"{prefix}-{i + 1:03d}" for i in range(len(geoms))], geoms=np.asarray(geoms, dtype=object),
        attrs=[{"activity_type": rng.choice(ACTIVITIES), "source": source, "period": period, "legal_basis": "",
                "note": ""} for _ in geoms],
        facts=[{"数据说明": LABEL} for _ in geoms],
    )  # fmt: skip


def load_demo_cases(session: Session, folder: Path) -> int:
    """Load once; returns the number of clues made (0 when already there)."""
    if (
        session.scalar(select(ClueBatch.id).where(ClueBatch.kind == "redline_activity").limit(1))
        is not None
    ):
        return 0
    rng, prng = random.Random(SEED), np.random.default_rng(SEED)
    red_path, reserve_path = write_layers(folder)
    token = frozen_now.set(at_beijing(dt.date(2024, 3, 20)))
    try:
        red_layer = load_layer(
            session, red_path, kind="redline", name=f"北京市生态保护红线({LABEL})", actor=ACTOR
        )
        load_layer(
            session, reserve_path, kind="reserve", name=f"演示自然保护区({LABEL})", actor=ACTOR
        )
        redline = shapely.union_all(
            [shapely.geometry.shape(f.geometry) for f in red_layer.features]
        )
        q1 = _sample(redline, 90, prng)
        frozen_now.set(at_beijing(dt.date(2024, 4, 8)))
        file_batch(session, _records("HX24Q1", q1, "2024Q1", rng, "national_rs"), kind="redline_activity",
                   title=f"2024年第一季度生态保护红线人类活动问题线索({LABEL})", actor=ACTOR,
                   source={"demo": LABEL}, today=dt.date(2024, 4, 8))  # fmt: skip
        reserve = shapely.intersection(_circle(*RESERVE, 10), beijing().city)
        frozen_now.set(at_beijing(dt.date(2024, 5, 6)))
        file_batch(session, _records("ZRQ-2024H1", _sample(reserve, 30, prng), "2024H1", rng, "city_rs"),
                   kind="reserve_activity", title=f"2024年上半年自然保护区人类活动遥感监测线索({LABEL})",
                   actor=ACTOR, source={"demo": LABEL}, today=dt.date(2024, 5, 6))  # fmt: skip
        # Q2: new patches plus six at the places of Q1 patches (shifted a few metres): re-found
        q2 = _sample(redline, 34, prng) + [
            shapely.affinity.translate(g, 0.00003, 0.00002) for g in q1[:6]
        ]
        frozen_now.set(at_beijing(dt.date(2024, 7, 3)))
        file_batch(session, _records("HX24Q2", q2, "2024Q2", rng, "national_rs"), kind="redline_activity",
                   title=f"2024年第二季度生态保护红线人类活动问题线索({LABEL})", actor=ACTOR,
                   source={"demo": LABEL}, today=dt.date(2024, 7, 3))  # fmt: skip
        _work(session, rng)
        _patrols(session, rng)
        _temp_land(session, folder, redline)
        _enforcement(session)
        frozen_now.set(at_beijing(DEMO_TODAY, 8))
        run_clue_reminders(session, DEMO_TODAY, actor=ACTOR)
    finally:
        frozen_now.reset(token)
    return len(q1) + 30 + len(q2)


def _work(session: Session, rng: random.Random) -> None:
    """Half a year of work on the first two batches, day by day, by the demo accounts."""
    accounts = {
        a.unit_id: a for a in session.scalars(select(Account).where(Account.role == "unit"))
    }
    clues = session.scalars(select(Clue).where(Clue.kind.in_(("redline_activity", "reserve_activity")),
                                               Clue.period != "2024Q2").order_by(Clue.id)).all()  # fmt: skip
    for clue in clues:
        district, verifier = (
            accounts.get(clue.unit_id or 0),
            accounts.get(clue.verifier_unit_id or 0),
        )
        if district is None or verifier is None:
            continue
        issued = clue.created_at.date()
        depth = rng.random()
        day = issued + dt.timedelta(days=rng.randint(2, 9))
        if depth < 0.12:
            continue  # still 待核实 (some of them late by now)
        _step(session, district, clue, "start", day)
        if depth < 0.3:
            continue
        day += dt.timedelta(days=rng.randint(5, 25))
        if rng.random() < 0.25:
            _step(
                session,
                district,
                clue,
                "reject",
                day,
                "现场核实为已批复的林业管护设施,手续齐全。",
                photo=True,
            )
            if depth > 0.6:
                _step(
                    session,
                    verifier,
                    clue,
                    "close",
                    day + dt.timedelta(days=rng.randint(3, 12)),
                    "核销单位复核同意,不属实销号。",
                )
            continue
        _step(
            session,
            district,
            clue,
            "confirm",
            day,
            "现场核实存在未经批准的人类活动,与遥感图斑一致。",
            photo=True,
        )
        if depth < 0.45:
            continue
        day += dt.timedelta(days=rng.randint(3, 12))
        plan = RectificationPlan(rng.choice(["属地乡镇政府", "相关建设单位", "村委会"]),
                                 rng.choice(["拆除违建设施,清运垃圾,覆土复绿", "停止开垦,恢复植被", "补办用地手续并恢复原状"]),
                                 day + dt.timedelta(days=rng.randint(30, 75)))  # fmt: skip
        _step(session, district, clue, "plan", day, plan=plan)
        if depth < 0.7 or plan.deadline > dt.date(2024, 7, 5):
            continue
        day = min(plan.deadline, dt.date(2024, 7, 5)) - dt.timedelta(days=rng.randint(0, 6))
        _step(session, district, clue, "submit", day, "已按方案完成整改,现场已复绿。", photo=True)
        if depth > 0.85:
            _step(
                session,
                verifier,
                clue,
                "close",
                day + dt.timedelta(days=rng.randint(2, 4)),
                "现场验收合格,同意销号。",
            )


def _step(session: Session, account: Account, clue: Clue, action: str, day: dt.date, reason: str = "", *,
          photo: bool = False, plan: RectificationPlan | None = None) -> None:  # fmt: skip
    day = min(day, DEMO_TODAY - dt.timedelta(days=1))
    frozen_now.set(at_beijing(day, 15))
    photos = []
    if photo:  # taken on site an hour earlier, a few metres from the patch's centre
        taken = at_beijing(day, 14)
        photos = [
            PhotoUpload(
                make_photo(clue.lon + 0.00005, clue.lat - 0.00004, taken), f"{clue.code}-现场.jpg"
            )
        ]
    step(session, account, clue.id, action, reason=reason, plan=plan, photos=photos, today=day)


def _gpx(
    points: list[tuple[float, float, dt.datetime]], marks: list[tuple[float, float, str, str]]
) -> bytes:
    """A GPX 1.1 file: one track and its waypoints (times in UTC)."""
    pts = "".join(f'<trkpt lat="{y:.6f}" lon="{x:.6f}"><time>{t:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
                  for x, y, t in points)  # fmt: skip
    wpts = "".join(
        f'<wpt lat="{y:.6f}" lon="{x:.6f}"><name>{n}</name><desc>{d}</desc></wpt>'
        for x, y, n, d in marks
    )
    return ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="EcoPlan demo" '
            f'xmlns="http://www.topografix.com/GPX/1/1">{wpts}<trk><name>巡查</name><trkseg>{pts}</trkseg></trk></gpx>'
            ).encode()  # fmt: skip


def _patrols(session: Session, rng: random.Random) -> None:
    """Patrols of the demo reserve's zones, January to early July: most months meet the
    required frequency, some fall short; two patrols mark findings (waypoints → clues)."""
    from ecoplan.cases.models import RefFeature, RefLayer
    from ecoplan.cases.patrol_findings import import_patrol_with_findings
    from ecoplan.units.models import Unit

    zones = session.scalars(
        select(RefFeature).join(RefLayer).where(RefLayer.kind == "reserve")
    ).all()
    unit = session.scalar(
        select(Unit).where(Unit.district_code == "110119")
    )  # 延庆区 holds the demo reserve
    marked = 0
    for z, zone in enumerate(zones):
        area = shapely.geometry.shape(zone.geometry)
        for month in range(1, 7):
            for k in range(rng.choice([2, 3, 4, 4, 5])):
                day = dt.date(2024, month, 3 + 6 * k)
                start = at_beijing(day, 9) + dt.timedelta(
                    minutes=37 * z
                )  # one walk per zone and day
                centre = area.representative_point()
                points = [(centre.x + 0.004 * np.cos(a) + 0.001 * i, centre.y + 0.003 * np.sin(a),
                           start + dt.timedelta(minutes=6 * i))
                          for i, a in enumerate(np.linspace(0, 2 * np.pi, 24))]  # fmt: skip
                marks = []
                if marked < 2 and month == 6 and k == 0:
                    marks = [
                        (
                            centre.x + 0.002,
                            centre.y + 0.001,
                            f"发现{marked + 1}",
                            "发现新建简易房一处,疑似未经批准",
                        )
                    ]
                    marked += 1
                frozen_now.set(start + dt.timedelta(hours=3))
                import_patrol_with_findings(session, _gpx(points, marks), f"{zone.code}-{day}.gpx",
                                            area_feature_id=zone.id, patroller=rng.choice(["王巡护", "李巡护", "张巡护"]),
                                            unit_id=unit.id if unit else None, actor=ACTOR, today=day)  # fmt: skip


def _temp_land(session: Session, folder: Path, redline: shapely.Geometry) -> None:
    """Three temporary-land permits partly inside the red line: one in order, one used beyond
    its polygon, one still in use after its term; the check files the two violations."""
    from ecoplan.cases.templand import add_observation, check_permits, import_permits

    sites = _sample(redline, 3, np.random.default_rng(SEED + 1))
    boxes = [shapely.box(*g.centroid.buffer(0.0015).bounds) for g in sites]
    frame = gpd.GeoDataFrame({
        "批准文号": ["京规自临〔2023〕11号", "京规自临〔2023〕27号", "京规自临〔2022〕08号"],
        "申请人": ["某输变电工程指挥部", "某公路改建项目部", "某地质勘查队"], "用途": ["施工便道", "材料堆场", "地质勘查"],
        "批准机关": ["区规划自然资源分局"] * 3, "批准文件": ["临时用地批复"] * 3,
        "开始日期": ["2023-05-01", "2023-09-01", "2022-06-01"], "结束日期": ["2025-04-30", "2025-08-31", "2024-05-31"],
        "长周期": ["否", "否", "否"],
    }, geometry=boxes, crs=WGS84)  # fmt: skip
    path = folder / "temp_land_demo.geojson"
    frame.to_file(path, driver="GeoJSON")
    frozen_now.set(at_beijing(dt.date(2024, 3, 1)))
    import_permits(session, path, actor=ACTOR, today=dt.date(2024, 3, 1))
    frozen_now.set(at_beijing(dt.date(2024, 6, 25)))
    add_observation(session, "京规自临〔2023〕27号", shapely.affinity.scale(boxes[1], 1.3, 1.3),
                    observed_on=dt.date(2024, 6, 20), source="2024年6月遥感监测", actor=ACTOR)  # fmt: skip
    add_observation(session, "京规自临〔2022〕08号", boxes[2], observed_on=dt.date(2024, 6, 20),
                    source="2024年6月遥感监测", actor=ACTOR)  # fmt: skip
    check_permits(session, dt.date(2024, 6, 26), actor=ACTOR)


def _enforcement(session: Session) -> None:
    """A few wildlife cases and market inspections for 5.3 / 5.4 at different stages."""
    from ecoplan.cases.enforcement import advance_case, open_case, record_inspection

    by_unit = {
        a.unit.code: a
        for a in session.scalars(select(Account).where(Account.role == "unit"))
        if a.unit
    }
    forest, farm = by_unit.get("ylljj"), by_unit.get("nyncj")
    if forest is None or farm is None:
        return
    cases = [
        (forest, "京园执〔2024〕3号", "terrestrial", "非法收购/运输/出售野生动物及制品", "网络平台非法出售鸣禽",
         (116.35, 39.87), "inspection", [{"name": "黑鹳", "quantity": 1}], ["inquiry", "decided", "closed"]),
        (forest, "京园执〔2024〕7号", "terrestrial", "破坏野生动物栖息地", "擅自清理湿地芦苇",
         (116.05, 40.40), "patrol", [], ["inquiry", "decided"]),
        (forest, "京园执〔2024〕9号", "terrestrial", "破坏野生动物资源", "非法猎捕野鸟",
         (116.90, 40.45), "report", [{"name": "鸳鸯", "quantity": 4}], ["inquiry"]),
        (farm, "京农执〔2024〕2号", "aquatic", "非法引进/释放/丢弃外来物种", "公园水体放生牛蛙",
         (116.30, 39.98), "report", [{"name": "牛蛙", "quantity": 120}], ["inquiry", "decided", "closed"]),
        (farm, "京农执〔2024〕5号", "aquatic", "破坏野生动物资源", "禁渔期非法捕捞",
         (116.85, 40.48), "patrol", [], []),
    ]  # fmt: skip
    for i, (account, no, domain, kind, title, (lon, lat), found, species, stages) in enumerate(
        cases
    ):
        day = dt.date(2024, 2, 5) + dt.timedelta(days=23 * i)
        frozen_now.set(at_beijing(day))
        case = open_case(session, account, case_no=no, domain=domain, case_type=kind, title=f"{title}({LABEL})",
                         filed_on=day, lon=lon, lat=lat, discovered_by=found, species=species)  # fmt: skip
        for stage in stages:
            day += dt.timedelta(days=12)
            frozen_now.set(at_beijing(day))
            decided = stage == "decided"
            advance_case(session, account, case.id, to_stage=stage, on=day,
                         decision="没收违法所得并处罚款" if decided else "",
                         penalty_yuan=5000.0 * (i + 1) if decided else None)  # fmt: skip
    for i, (account, domain, venue) in enumerate([(forest, "terrestrial", "某花鸟鱼虫市场"),
                                                   (forest, "terrestrial", "某二手交易平台"),
                                                   (farm, "aquatic", "某水产批发市场")]):  # fmt: skip
        day = dt.date(2024, 3, 12) + dt.timedelta(days=30 * i)
        frozen_now.set(at_beijing(day))
        record_inspection(session, account, domain=domain, venue=venue,
                          venue_type="online" if "平台" in venue else "market", inspected_on=day,
                          items_checked=40 + 10 * i, violations=i)  # fmt: skip
