"""Demo biodiversity monitoring (合成数据, labelled as such) for tasks 3, 4, 5.1, 5.2, 9, 10.2:

- a Beijing species list (``data/beijing_species_demo.csv``: 87 birds with their 2021 national
  protection levels, 24 fish, 17 large fungi, 16 native trees for the germplasm register and
  the six invasive species of task 3);
- bird surveys 2022–2024 by seven district governments (transects in 密云、延庆、怀柔、门头沟、
  房山、海淀, point counts in 朝阳), a fish survey 2023/2024 and a large-fungi plot survey 2023.
  The indicator species' yearly totals are set so the trends read 黑鹳 上升, 勺鸡 下降 and
  鸳鸯/大天鹅/白枕鹤 稳定 (the effort is the same every year); four flawed rows in 2024 show
  the quality flags (a swapped coordinate, an unknown name, a misspelt Latin name, a missing
  count); the 2023 延庆 survey is published to the public species page;
- invasive-species monitoring 2023–2024: sites of the six species, trap checks, surveys and lab
  results imported month by month. 2023's first finds were raised and handled; in 2024 each
  alert rule fires once (苹果蠹蛾's first catch: 检疫性有害生物 and 新发生乡镇; 福寿螺 above its
  density threshold; 牛蛙 calling 300 m from the demo reserve of ``demo.cases``, which must be
  loaded first for that one); control actions (two given in 亩) and two introduction
  applications, one in 风险评估 with its report;
- 296 林草 germplasm accessions collected January–June 2024 by 市园林绿化局, 门头沟区 and 怀柔区,
  a little behind the even pace toward the 600 of measure 4.2;
- the 密云水库 station with June 2024 hourly 气温, 相对湿度, 水温, 溶解氧 and PM2.5 on diurnal
  cycles, with two spikes, a stuck sensor, a 6-hour gap, a value out of range and a missing one.

Everything is generated from fixed seeds into CSV files under ``workdir`` and imported through
the domain functions (validated, flagged and audited like a real import), by the demo accounts
of the units concerned when they exist, with the clock set to the day each thing happened.
Nothing is fetched and nothing outside the package is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.db import frozen_now
from ecoplan.demo.files import acceptance_pdf
from ecoplan.demo.geodata import DEMO_LABEL
from ecoplan.demo.history import DEMO_TODAY, at_beijing
from ecoplan.monitoring import germplasm, introduction, invasive_control, observations, stations
from ecoplan.monitoring.invasive import add_site, import_records, sync_species
from ecoplan.monitoring.invasive_alerts import handle_alert, run_alerts
from ecoplan.monitoring.invasive_config import load_config
from ecoplan.monitoring.invasive_models import InvasiveAlert, InvasiveRecord, InvasiveSpecies
from ecoplan.monitoring.models import Survey, Taxon, TaxonName
from ecoplan.monitoring.register_models import Station
from ecoplan.monitoring.surveys import import_survey
from ecoplan.monitoring.taxa import clean, latin_key, load_taxa_csv

LABEL = DEMO_LABEL
SEED = 8
ACTOR = "demo"
SPECIES_FILE = "beijing_species_demo.csv"
YEARS = (2022, 2023, 2024)
OBSERVERS = ["张建国", "李晓燕", "王海涛", "刘芳", "陈志强", "赵丽", "孙宏伟", "周婷"]


def _now(day: dt.date, hour: int = 10) -> None:
    """Set the demo clock (the caller resets the outer token)."""
    frozen_now.set(at_beijing(day, hour))


def _write(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _split(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` shared out in proportion to ``weights`` (largest remainder: the sum is exact)."""
    whole = sum(weights)
    if whole <= 0:
        return [0] * len(weights)
    raw = [total * w / whole for w in weights]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


@dataclass
class _People:
    """The demo accounts (``ecoplan.demo.history``): one unit account per unit, a coordinator.
    Without them imports are made by ``demo`` and the steps that need an account are skipped."""

    units: dict[str, Account]
    coordinator: Account | None

    @classmethod
    def load(cls, session: Session) -> _People:
        units: dict[str, Account] = {}
        query = select(Account).where(Account.role == "unit", Account.active.is_(True))
        for account in session.scalars(query.order_by(Account.id)):
            if account.unit is not None:
                code = account.unit.code
                if code not in units or account.username == f"u{code}":
                    units[code] = account
        coordinator = session.scalar(
            select(Account)
            .where(Account.role == "coordinator", Account.active.is_(True))
            .order_by(Account.id)
            .limit(1)
        )
        return cls(units, coordinator)

    def actor(self, unit_code: str) -> str:
        account = self.units.get(unit_code)
        return account.actor if account else ACTOR


def load_demo_biodiversity(session: Session, workdir: Path) -> dict[str, int] | None:
    """Load once; the counts of what was made, or None when the demo surveys are there."""
    if session.scalar(select(Survey.id).where(Survey.title.contains(LABEL)).limit(1)) is not None:
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    counts: dict[str, int] = {}
    token = frozen_now.set(at_beijing(dt.date(2022, 3, 1)))
    try:
        counts["taxa"] = _load_taxa(session, workdir)
        people = _People.load(session)
        counts |= _surveys(session, people, workdir, rng)
        counts |= _invasive(session, people, workdir, rng)
        counts["accessions"] = _germplasm(session, people, workdir, rng)
        counts["station_values"] = _station(session, people, workdir)
    finally:
        frozen_now.reset(token)
    return counts


# --------------------------------------------------------------------------- species list


def species_rows() -> list[dict[str, str]]:
    """The demo species list as shipped (学名, 中文名, 类群, 界, 国家保护级别, 三有, IUCN, 外来入侵, 异名)."""
    text = resources.files("ecoplan.demo").joinpath("data", SPECIES_FILE).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _load_taxa(session: Session, workdir: Path) -> int:
    """Load the list through ``load_taxa_csv``, leaving alone what an administrator already
    loaded: a species already listed (by scientific or Chinese name) is not overwritten, and a
    synonym another taxon answers to is dropped."""
    taxa = list(session.scalars(select(Taxon)))
    known = {latin_key(t.scientific_name) for t in taxa}
    used = {clean(t.scientific_name).lower() for t in taxa} | {t.name_cn for t in taxa}
    used |= {n.name for n in session.scalars(select(TaxonName))}
    rows = []
    for row in species_rows():
        if latin_key(row["学名"]) in known or row["中文名"] in used:
            continue
        kept = [s for s in row["异名"].split(";") if s and s not in used and s.lower() not in used]
        rows.append({**row, "异名": ";".join(kept)})
    if not rows:
        return 0
    header = list(rows[0])
    path = _write(workdir / "taxa.csv", header, [[r[h] for h in header] for r in rows])
    return load_taxa_csv(session, path, actor=ACTOR).added


# --------------------------------------------------------------------------- surveys


@dataclass(frozen=True)
class Site:
    code: str
    place: str
    lon: float
    lat: float
    effort: float  # km of transect, minutes at a point, net-hours, m² of plot
    habitat: str
    indicators: dict[str, float] = field(default_factory=dict)  # species -> share weight


@dataclass(frozen=True)
class District:
    code: str  # unit code of the district government (= its division code)
    name: str
    protocol: str
    sites: tuple[Site, ...]


BIRD_DISTRICTS = (
    District("110118", "密云区", "bird_transect", (
        Site("MY-T1", "密云区白河(石城段)", 116.80, 40.55, 4.0, "river", {"黑鹳": 2.0, "鸳鸯": 1.0}),
        Site("MY-T2", "密云区清水河", 117.05, 40.40, 3.5, "forest"),
        Site("MY-T3", "密云水库北岸(不老屯)", 116.97, 40.57, 4.5, "wetland", {"大天鹅": 2.0, "黑鹳": 1.0}),
    )),
    District("110119", "延庆区", "bird_transect", (
        Site("YQ-T1", "延庆区野鸭湖湿地", 115.82, 40.42, 4.0, "wetland", {"大天鹅": 3.0, "白枕鹤": 1.0}),
        Site("YQ-T2", "延庆区松山", 115.80, 40.51, 3.0, "forest", {"勺鸡": 1.0}),
        Site("YQ-T3", "延庆区白河(白河堡)", 116.20, 40.60, 3.5, "river", {"鸳鸯": 1.0}),
    )),
    District("110116", "怀柔区", "bird_transect", (
        Site("HR-T1", "怀柔区喇叭沟门", 116.62, 40.92, 4.0, "forest", {"勺鸡": 2.0}),
        Site("HR-T2", "怀柔区怀九河", 116.50, 40.42, 3.5, "river", {"鸳鸯": 2.0, "黑鹳": 0.5}),
        Site("HR-T3", "怀柔区汤河口", 116.63, 40.73, 3.0, "forest", {"勺鸡": 1.0}),
    )),
    District("110109", "门头沟区", "bird_transect", (
        Site("MTG-T1", "门头沟区百花山", 115.58, 39.84, 3.5, "forest", {"勺鸡": 2.0}),
        Site("MTG-T2", "门头沟区小龙门", 115.43, 39.97, 3.0, "forest", {"勺鸡": 1.5}),
        Site("MTG-T3", "门头沟区永定河(珠窝段)", 115.85, 40.00, 4.0, "river", {"黑鹳": 1.5}),
    )),
    District("110111", "房山区", "bird_transect", (
        Site("FS-T1", "房山区十渡拒马河", 115.60, 39.63, 4.5, "river", {"黑鹳": 4.0, "鸳鸯": 0.5}),
        Site("FS-T2", "房山区蒲洼", 115.52, 39.73, 3.0, "forest", {"勺鸡": 1.0}),
        Site("FS-T3", "房山区上方山", 115.80, 39.67, 2.5, "forest"),
    )),
    District("110108", "海淀区", "bird_transect", (
        Site("HD-T1", "海淀区颐和园", 116.27, 39.99, 3.0, "park", {"鸳鸯": 4.0}),
        Site("HD-T2", "海淀区圆明园", 116.30, 40.01, 2.5, "park", {"鸳鸯": 2.0}),
        Site("HD-T3", "海淀区翠湖湿地", 116.17, 40.09, 2.5, "park"),
    )),
    District("110105", "朝阳区", "bird_point", (
        Site("CY-P1", "奥林匹克森林公园南园", 116.392, 40.012, 10, "park"),
        Site("CY-P2", "奥林匹克森林公园北园", 116.386, 40.030, 10, "park"),
        Site("CY-P3", "奥林匹克森林公园湿地", 116.396, 40.021, 10, "park"),
        Site("CY-P4", "温榆河公园(朝阳段)南", 116.515, 40.035, 10, "park"),
        Site("CY-P5", "温榆河公园(朝阳段)北", 116.525, 40.045, 10, "park"),
    )),
)  # fmt: skip
HABITATS = {"forest": "山地森林", "river": "山区河流", "wetland": "湿地/水库", "park": "城市公园",
            "reservoir": "水库", "stream": "山区溪流", "lowland": "平原河流"}  # fmt: skip
# Indicator species (data/indicators.toml): the yearly totals of 2022, 2023, 2024, shared out
# over the sites' weights. Same effort each year, so the rate follows the totals: 黑鹳 +64 %,
# 勺鸡 −38 %, the others within the ±10 % band.
INDICATOR_TOTALS = {"黑鹳": (14, 18, 23), "勺鸡": (21, 17, 13), "鸳鸯": (58, 61, 60),
                    "大天鹅": (86, 92, 89), "白枕鹤": (9, 8, 9)}  # fmt: skip
# share of each visit (March: migration and winter; May: breeding)
VISIT_FACTOR = {"黑鹳": (1.0, 1.0), "勺鸡": (0.6, 1.0), "鸳鸯": (0.8, 1.0),
                "大天鹅": (1.0, 0.0), "白枕鹤": (1.0, 0.0)}  # fmt: skip
# (species, season R resident / W March only / S May only, chance of being recorded, mean count)
Pool = tuple[tuple[str, str, float, float], ...]
BIRD_POOLS: dict[str, Pool] = {
    "forest": (
        ("红嘴蓝鹊", "R", .8, 4), ("松鸦", "R", .5, 2), ("大嘴乌鸦", "R", .7, 3), ("远东山雀", "R", .9, 5),
        ("沼泽山雀", "R", .6, 3), ("黄腹山雀", "R", .5, 3), ("银喉长尾山雀", "R", .5, 6), ("普通䴓", "R", .5, 2),
        ("大斑啄木鸟", "R", .6, 2), ("星头啄木鸟", "R", .5, 2), ("三道眉草鹀", "R", .8, 4), ("黄喉鹀", "R", .6, 3),
        ("山斑鸠", "R", .6, 3), ("雉鸡", "R", .6, 2), ("石鸡", "R", .4, 4), ("大杜鹃", "S", .6, 1),
        ("黑枕黄鹂", "S", .4, 2), ("北红尾鸲", "R", .5, 2), ("红尾伯劳", "S", .4, 1), ("戴胜", "R", .4, 1),
        ("金翅雀", "R", .5, 4), ("燕雀", "W", .5, 12), ("黄腰柳莺", "W", .4, 3), ("普通鵟", "R", .3, 1),
        ("雀鹰", "R", .25, 1), ("苍鹰", "W", .08, 1), ("红隼", "R", .3, 1), ("金雕", "R", .05, 1),
        ("秃鹫", "W", .05, 2), ("红喉歌鸲", "S", .1, 1),
    ),
    "river": (
        ("褐河乌", "R", .6, 2), ("白鹡鸰", "R", .8, 3), ("灰鹡鸰", "R", .6, 2), ("普通翠鸟", "R", .5, 1),
        ("鹮嘴鹬", "S", .3, 2), ("苍鹭", "R", .6, 2), ("白鹭", "S", .5, 3), ("普通秋沙鸭", "W", .5, 8),
        ("绿头鸭", "R", .6, 6), ("斑嘴鸭", "R", .6, 5), ("小䴙䴘", "R", .5, 3), ("北红尾鸲", "R", .6, 2),
        ("红嘴蓝鹊", "R", .6, 3), ("山斑鸠", "R", .5, 2), ("家燕", "S", .7, 6), ("金腰燕", "S", .5, 4),
        ("燕隼", "S", .15, 1), ("红隼", "R", .3, 1), ("黑鸢", "W", .1, 1), ("三道眉草鹀", "R", .5, 3),
        ("远东山雀", "R", .6, 3), ("中华秋沙鸭", "W", .08, 3),
    ),
    "wetland": (
        ("灰鹤", "W", .6, 25), ("鸿雁", "W", .4, 30), ("绿头鸭", "R", .9, 40), ("斑嘴鸭", "R", .8, 25),
        ("凤头䴙䴘", "R", .6, 8), ("小䴙䴘", "R", .6, 6), ("白骨顶", "R", .7, 30), ("黑水鸡", "R", .5, 4),
        ("苍鹭", "R", .7, 6), ("大白鹭", "R", .6, 8), ("白鹭", "S", .5, 5), ("白琵鹭", "W", .25, 6),
        ("红嘴鸥", "W", .6, 40), ("普通鸬鹚", "R", .6, 15), ("白尾鹞", "W", .3, 1), ("鹊鹞", "S", .15, 1),
        ("东方大苇莺", "S", .8, 10), ("震旦鸦雀", "R", .3, 6), ("棕头鸦雀", "R", .6, 10), ("花脸鸭", "W", .15, 6),
        ("东方白鹳", "W", .1, 3), ("青头潜鸭", "W", .05, 2), ("大鸨", "W", .03, 2), ("黄胸鹀", "S", .05, 1),
        ("蓝喉歌鸲", "S", .15, 1), ("云雀", "W", .3, 4), ("麻雀", "R", .6, 20), ("家燕", "S", .6, 10),
    ),
    "park": (
        ("麻雀", "R", 1.0, 30), ("喜鹊", "R", .95, 8), ("灰喜鹊", "R", .9, 12), ("白头鹎", "R", .8, 8),
        ("珠颈斑鸠", "R", .8, 6), ("远东山雀", "R", .8, 5), ("乌鸫", "R", .8, 4), ("灰椋鸟", "R", .6, 10),
        ("普通雨燕", "S", .8, 20), ("家燕", "S", .5, 4), ("黑尾蜡嘴雀", "R", .5, 6), ("棕头鸦雀", "R", .5, 8),
        ("银喉长尾山雀", "R", .5, 6), ("大斑啄木鸟", "R", .4, 1), ("星头啄木鸟", "R", .4, 1), ("戴胜", "R", .3, 1),
        ("绿头鸭", "R", .6, 10), ("黑水鸡", "R", .5, 3), ("小䴙䴘", "R", .5, 3), ("夜鹭", "R", .4, 5),
        ("池鹭", "S", .3, 1), ("苍鹭", "R", .3, 1), ("红隼", "R", .3, 1), ("燕隼", "S", .15, 1),
        ("雀鹰", "W", .2, 1), ("长耳鸮", "W", .15, 2), ("纵纹腹小鸮", "R", .05, 1), ("燕雀", "W", .3, 6),
        ("黄腰柳莺", "W", .3, 2), ("金翅雀", "R", .4, 3), ("大嘴乌鸦", "R", .3, 2), ("红脚隼", "S", .05, 2),
    ),
}  # fmt: skip
FISH_SITES = (
    Site("FI-MY1", "密云水库白河库区", 116.92, 40.53, 12, "reservoir"),
    Site("FI-MY2", "密云水库潮河库区", 117.02, 40.50, 12, "reservoir"),
    Site("FI-HR1", "怀柔水库", 116.58, 40.32, 12, "reservoir"),
    Site("FI-FS1", "房山区拒马河(十渡)", 115.60, 39.64, 12, "stream"),
    Site("FI-MTG1", "门头沟区永定河(珠窝)", 115.86, 40.00, 12, "stream"),
    Site("FI-YQ1", "延庆区白河", 116.20, 40.60, 12, "stream"),
    Site("FI-SY1", "顺义区潮白河", 116.70, 40.15, 12, "lowland"),
)
FISH_POOLS: dict[str, Pool] = {
    "reservoir": (
        ("鲫", "R", .9, 18), ("鲤", "R", .6, 4), ("鲢", "R", .6, 5), ("鳙", "R", .5, 3), ("草鱼", "R", .3, 2),
        ("红鳍原鲌", "R", .6, 6), ("䱗", "R", .8, 25), ("麦穗鱼", "R", .7, 15), ("黄颡鱼", "R", .6, 6),
        ("鲇", "R", .3, 2), ("棒花鱼", "R", .5, 6), ("乌鳢", "R", .2, 1), ("波氏吻虾虎鱼", "R", .6, 10),
        ("小黄黝鱼", "R", .5, 8),
    ),
    "stream": (
        ("宽鳍鱲", "R", .9, 20), ("马口鱼", "R", .7, 8), ("麦穗鱼", "R", .7, 12), ("棒花鱼", "R", .6, 6),
        ("泥鳅", "R", .5, 4), ("大鳞副泥鳅", "R", .3, 3), ("中华花鳅", "R", .4, 4), ("波氏吻虾虎鱼", "R", .8, 15),
        ("小黄黝鱼", "R", .5, 6), ("高体鳑鲏", "R", .5, 8), ("中华鳑鲏", "R", .3, 5), ("中华青鳉", "R", .4, 10),
        ("黑鳍鳈", "R", .4, 3), ("中华多刺鱼", "R", .15, 3), ("鲫", "R", .6, 5),
    ),
    "lowland": (
        ("鲫", "R", .95, 25), ("鲤", "R", .6, 4), ("麦穗鱼", "R", .9, 30), ("棒花鱼", "R", .6, 8),
        ("䱗", "R", .8, 20), ("泥鳅", "R", .6, 6), ("黄颡鱼", "R", .5, 5), ("乌鳢", "R", .3, 1),
        ("高体鳑鲏", "R", .6, 10), ("中华青鳉", "R", .5, 12), ("鲇", "R", .3, 1),
    ),
}  # fmt: skip
FUNGI_SITES = (
    Site("FU-MTG1", "门头沟区百花山", 115.58, 39.84, 400, "forest"),
    Site("FU-MTG2", "门头沟区百花山(阴坡)", 115.60, 39.85, 400, "forest"),
    Site("FU-HR1", "怀柔区喇叭沟门", 116.62, 40.92, 400, "forest"),
    Site("FU-HR2", "怀柔区喇叭沟门(桦树林)", 116.60, 40.90, 400, "forest"),
    Site("FU-YQ1", "延庆区松山", 115.80, 40.51, 400, "forest"),
    Site("FU-MY1", "密云区云蒙山", 116.70, 40.55, 400, "forest"),
)
FUNGI_POOL: Pool = (
    ("黑木耳", "R", .5, 12), ("毛木耳", "R", .3, 8), ("裂褶菌", "R", .7, 25), ("硫色绊孔菌", "R", .15, 2),
    ("云芝栓孔菌", "R", .7, 30), ("桦褶孔菌", "R", .35, 10), ("蜜环菌", "R", .35, 20), ("晶粒小鬼伞", "R", .3, 15),
    ("毛头鬼伞", "R", .15, 4), ("网纹马勃", "R", .35, 6), ("大秃马勃", "R", .05, 1), ("糙皮侧耳", "R", .2, 6),
    ("树舌灵芝", "R", .3, 2), ("点柄乳牛肝菌", "R", .3, 8), ("红汁乳菇", "R", .25, 5), ("火木层孔菌", "R", .25, 2),
    ("长根小奥德蘑", "R", .3, 3),
)  # fmt: skip
TRANSECT_HEADER = ["记录编号", "样线编号", "调查日期", "经度", "纬度", "物种", "数量", "记录人",
                   "样线长度(km)", "生境", "地点"]  # fmt: skip
EFFORT_HEADERS = {"bird_transect": ("样线编号", "样线长度(km)"), "bird_point": ("样点编号", "观测时长(min)"),
                  "fish_gear": ("样点编号", "网时"), "fungi_plot": ("样方编号", "样方面积(m2)")}  # fmt: skip


def _header(protocol: str) -> list[str]:
    place, effort = EFFORT_HEADERS[protocol]
    return [
        place if h == "样线编号" else effort if h == "样线长度(km)" else h for h in TRANSECT_HEADER
    ]


def _pick(pool: Pool, visit: int | None, rng: random.Random) -> list[tuple[str, int]]:
    """Species recorded on one visit (0: March, 1: May, None: no season) and their counts."""
    season = {0: "RW", 1: "RS", None: "RWS"}[visit]
    out = []
    for name, when, chance, mean in pool:
        if when in season and rng.random() < chance:
            out.append((name, max(1, round(rng.expovariate(1 / mean)))))
    return out


def _event(prefix: str, site: Site, day: dt.date, found: list[tuple[str, int | str]],
           rng: random.Random, start: int) -> list[list[object]]:  # fmt: skip
    """The rows of one visit: positions along the transect (the first at its start)."""
    spread = 0.003 if site.habitat == "park" else 0.008
    observer = "、".join(rng.sample(OBSERVERS, 2))
    rows: list[list[object]] = []
    for k, (name, count) in enumerate(found):
        lon = site.lon if k == 0 else round(site.lon + rng.uniform(-spread, spread), 5)
        lat = site.lat if k == 0 else round(site.lat + rng.uniform(-spread, spread), 5)
        rows.append([f"{prefix}-{start + k:04d}", site.code, day.isoformat(), lon, lat, name, count, observer,
                     site.effort, HABITATS[site.habitat], site.place])  # fmt: skip
    return rows


def _indicator_counts(
    year_index: int, rng: random.Random
) -> dict[tuple[int, int, int], dict[str, int]]:
    """(district, site, visit) -> indicator species -> count, summing to the year's totals."""
    slots = [(d, s, v) for d, district in enumerate(BIRD_DISTRICTS)
             for s in range(len(district.sites)) for v in (0, 1)]  # fmt: skip
    out: dict[tuple[int, int, int], dict[str, int]] = {}
    for name, totals in INDICATOR_TOTALS.items():
        weights = [BIRD_DISTRICTS[d].sites[s].indicators.get(name, 0.0) * VISIT_FACTOR[name][v]
                   * rng.uniform(0.7, 1.3) for d, s, v in slots]  # fmt: skip
        for slot, n in zip(slots, _split(totals[year_index], weights), strict=True):
            if n:
                out.setdefault(slot, {})[name] = n
    return out


def _surveys(
    session: Session, people: _People, workdir: Path, rng: random.Random
) -> dict[str, int]:
    made = {"surveys": 0, "events": 0, "occurrences": 0}
    published: int | None = None

    def load(rows: list[list[object]], protocol: str, title: str, year: int, unit: str,
             day: dt.date, name: str) -> int:  # fmt: skip
        _now(day, 15)
        path = _write(workdir / name, _header(protocol), rows)
        result = import_survey(session, path, protocol=protocol, title=f"{title}({LABEL})", year=year,
                               actor=people.actor(unit), unit_code=unit, today=day)  # fmt: skip
        made["surveys"] += 1
        made["events"] += result.events
        made["occurrences"] += result.occurrences
        return result.survey.id

    for year_index, year in enumerate(YEARS):
        indicators = _indicator_counts(year_index, rng)
        for d, district in enumerate(BIRD_DISTRICTS):
            rows: list[list[object]] = []
            prefix = f"BJ{year}-{district.sites[0].code.split('-')[0]}"
            for s, site in enumerate(district.sites):
                for v, first_day in enumerate((dt.date(year, 3, 12), dt.date(year, 5, 6))):
                    day = first_day + dt.timedelta(days=2 * d + s)
                    found: list[tuple[str, int | str]] = list(
                        _pick(BIRD_POOLS[site.habitat], v, rng)
                    )
                    for name, n in indicators.get((d, s, v), {}).items():
                        found.insert(rng.randint(1, len(found)) if found else 0, (name, n))
                    found += _flaws(year, district.code, s, v)
                    rows += _event(prefix, site, day, found, rng, len(rows) + 1)
            if year == 2024 and district.code == "110109":  # a pair typed the wrong way round
                row = next(r for r in rows[1:] if r[5] not in INDICATOR_TOTALS)
                row[3], row[4] = row[4], row[3]
            kind = "鸟类样线调查" if district.protocol == "bird_transect" else "鸟类样点调查"
            survey_id = load(rows, district.protocol, f"{year}年{district.name}{kind}", year, district.code,
                             dt.date(year, 6, 10) + dt.timedelta(days=d), f"birds-{year}-{district.code}.csv")  # fmt: skip
            if year == 2023 and district.code == "110119":
                published = survey_id
    for year, first_day, submitted in ((2023, dt.date(2023, 6, 5), dt.date(2023, 7, 10)),
                                       (2024, dt.date(2024, 5, 20), dt.date(2024, 6, 28))):  # fmt: skip
        rows = []
        for i, site in enumerate(FISH_SITES):
            day = first_day + dt.timedelta(days=2 * i)
            rows += _event(f"BJ{year}-FISH", site, day, list(_pick(FISH_POOLS[site.habitat], None, rng)),
                           rng, len(rows) + 1)  # fmt: skip
        load(
            rows,
            "fish_gear",
            f"{year}年重点水域鱼类调查",
            year,
            "nyncj",
            submitted,
            f"fish-{year}.csv",
        )
    rows = []
    for visit, day in enumerate((dt.date(2023, 7, 20), dt.date(2023, 8, 15), dt.date(2023, 9, 10))):
        for i, site in enumerate(FUNGI_SITES):
            rows += _event(f"BJ2023-FUNGI{visit + 1}", site, day + dt.timedelta(days=i // 2),
                           list(_pick(FUNGI_POOL, None, rng)), rng, len(rows) + 1)  # fmt: skip
    load(rows, "fungi_plot", "2023年山区大型真菌样方调查", 2023, "ylljj", dt.date(2023, 10, 20),
         "fungi-2023.csv")  # fmt: skip
    if published is not None and people.coordinator is not None:
        when = at_beijing(dt.date(2023, 12, 20), 15)
        frozen_now.set(when)
        observations.set_published(session, people.coordinator, published, True, now=when)
    return made


def _flaws(year: int, district: str, site: int, visit: int) -> list[tuple[str, int | str]]:
    """Rows written as they come in from the field, in 2024: a colloquial name that is on no
    list (白头翁 for 白头鹎), a misspelt Latin name, a count left blank."""
    if year != 2024 or site != 0 or visit != 1:
        return []
    flawed: dict[str, list[tuple[str, int | str]]] = {
        "110108": [("白头翁", 3)], "110105": [("Passer montanu", 6), ("喜鹊", "")]}  # fmt: skip
    return flawed.get(district, [])


# --------------------------------------------------------------------------- invasive species

# code, species key, kind, name, lon, lat, township
INVASIVE_SITES = (
    ("HC-TZ-01", "hyphantria_cunea", "trap", "通州区宋庄镇林带性诱监测点", 116.73, 39.96, "宋庄镇"),
    ("HC-SY-01", "hyphantria_cunea", "trap", "顺义区赵全营镇林带性诱监测点", 116.58, 40.18, "赵全营镇"),
    ("HC-DX-01", "hyphantria_cunea", "trap", "大兴区庞各庄镇林带性诱监测点", 116.32, 39.62, "庞各庄镇"),
    ("HC-CY-01", "hyphantria_cunea", "trap", "朝阳区孙河地区林带性诱监测点", 116.52, 40.04, "孙河地区"),
    ("HC-PG-01", "hyphantria_cunea", "trap", "平谷区马坊镇林带性诱监测点", 117.03, 40.07, "马坊镇"),
    ("AP-CP-01", "cydia_pomonella", "trap", "昌平区崔村镇苹果园诱捕点", 116.37, 40.22, "崔村镇"),
    ("AP-YQ-01", "cydia_pomonella", "trap", "延庆区旧县镇苹果园诱捕点", 116.05, 40.52, "旧县镇"),
    ("AP-HD-01", "cydia_pomonella", "trap", "海淀区苏家坨镇苹果园诱捕点", 116.12, 40.08, "苏家坨镇"),
    ("SF-DX-01", "spodoptera_frugiperda", "light_trap", "大兴区礼贤镇玉米田测报灯", 116.45, 39.55, "礼贤镇"),
    ("SF-FS-01", "spodoptera_frugiperda", "light_trap", "房山区琉璃河镇玉米田测报灯", 116.05, 39.60, "琉璃河镇"),
    ("PC-TZ-01", "pomacea_canaliculata", "water", "通州区张家湾镇运河湿地", 116.72, 39.87, "张家湾镇"),
    ("BX-MTG-01", "bursaphelenchus_xylophilus", "plot", "门头沟区潭柘寺镇油松林样地", 116.03, 39.90, "潭柘寺镇"),
    ("BX-MY-01", "bursaphelenchus_xylophilus", "plot", "密云区不老屯镇油松林样地", 116.90, 40.60, "不老屯镇"),
    ("LC-CY-01", "lithobates_catesbeianus", "transect", "奥林匹克森林公园湖区样线", 116.393, 40.022, "奥运村街道"),
)  # fmt: skip
HC_ABUNDANCE = {"HC-TZ-01": 1.0, "HC-SY-01": 0.8, "HC-DX-01": 0.9, "HC-CY-01": 0.5, "HC-PG-01": 0.6}
RECORD_HEADER = ["记录编号", "物种", "监测方法", "日期", "数值", "诱捕天数", "经度", "纬度", "乡镇",
                 "监测点编号", "记录人", "备注"]  # fmt: skip
# 2023 was imported month by month and its first finds handled in October; 2024 up to the clock
IMPORT_DAYS = (dt.date(2023, 5, 31), dt.date(2023, 6, 30), dt.date(2023, 7, 31), dt.date(2023, 8, 31),
               dt.date(2023, 10, 8), dt.date(2024, 5, 6), dt.date(2024, 6, 3), dt.date(2024, 6, 14),
               dt.date(2024, 6, 26), dt.date(2024, 7, 9))  # fmt: skip
NEAR_RESERVE = (115.808, 40.427)  # a pond 0.3 km outside the demo reserve of demo.cases


@dataclass
class _Rec:
    key: str  # species key
    method: str
    day: dt.date
    value: float | str
    effort: float | None = None
    site: str = ""
    at: tuple[float, float] | None = None
    township: str = ""
    note: str = ""
    number: int = 0  # its place in the year's sequence of records: the record ID


def _weekly(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=7 * i) for i in range((last - first).days // 7 + 1)]


def _hc_catch(day: dt.date) -> float:
    """美国白蛾 males a trap takes in a week: three flights in Beijing (overwintered moths in
    May, then late July and early September)."""
    doy = day.timetuple().tm_yday
    return sum(a * math.exp(-0.5 * ((doy - peak) / width) ** 2)
               for a, peak, width in ((24, 136, 10), (26, 206, 10), (20, 248, 12)))  # fmt: skip


def _invasive_records(rng: np.random.Generator) -> list[_Rec]:
    recs: list[_Rec] = []
    for year, first, last in ((2023, dt.date(2023, 5, 1), dt.date(2023, 9, 25)),
                              (2024, dt.date(2024, 4, 22), dt.date(2024, 7, 8))):  # fmt: skip
        for site, scale in HC_ABUNDANCE.items():
            for day in _weekly(first, last):  # under 5 a day (35 a week): no threshold alert
                recs.append(_Rec("hyphantria_cunea", "trap_catch", day, min(33, int(rng.poisson(scale * _hc_catch(day)))),
                                 7, site))  # fmt: skip
        nest_days = (
            (dt.date(2023, 6, 20), dt.date(2023, 8, 22))
            if year == 2023
            else (dt.date(2024, 6, 18),)
        )
        for day in nest_days:
            for code, _, _, _, lon, lat, town in INVASIVE_SITES[:5]:
                recs.append(_Rec("hyphantria_cunea", "nest_trees", day, int(rng.integers(0, 6)),
                                 at=(round(lon + 0.004, 4), round(lat - 0.003, 4)), township=town,
                                 note=f"{code}周边林带网幕调查"))  # fmt: skip
        apple_first = dt.date(year, 4, 17) if year == 2023 else dt.date(2024, 4, 15)
        for site in ("AP-CP-01", "AP-YQ-01", "AP-HD-01"):
            for day in _weekly(apple_first, last):
                caught = 1 if (site, day) == ("AP-CP-01", dt.date(2024, 6, 24)) else 0
                recs.append(_Rec("cydia_pomonella", "trap_catch", day, caught, 7, site))
    for site in ("SF-DX-01", "SF-FS-01"):  # none yet this year
        recs += [_Rec("spodoptera_frugiperda", "light_trap", day, 0, 7, site)
                 for day in _weekly(dt.date(2024, 5, 6), dt.date(2024, 7, 8))]  # fmt: skip
    for day, density, eggs in ((dt.date(2023, 6, 15), 0.6, 3), (dt.date(2023, 7, 15), 1.2, 6),
                               (dt.date(2023, 8, 15), 1.5, 8), (dt.date(2023, 9, 15), 0.9, 4),
                               (dt.date(2024, 5, 15), 0.8, 2), (dt.date(2024, 6, 12), 2.6, 9),  # above 2 /m²
                               (dt.date(2024, 7, 5), 0.4, 1)):  # fmt: skip
        recs += [_Rec("pomacea_canaliculata", "density", day, density, site="PC-TZ-01"),
                 _Rec("pomacea_canaliculata", "egg_masses", day, eggs, site="PC-TZ-01")]  # fmt: skip
    for site, counts in (("BX-MTG-01", (3, 5, 4)), ("BX-MY-01", (1, 2, 2))):
        for day, dead in zip((dt.date(2023, 4, 20), dt.date(2023, 9, 20), dt.date(2024, 4, 22)), counts,
                             strict=True):  # fmt: skip
            recs += [_Rec("bursaphelenchus_xylophilus", "dead_trees", day, dead, site=site),
                     _Rec("bursaphelenchus_xylophilus", "positive_sample", day + dt.timedelta(days=6), "阴性",
                          site=site, note=f"枯死松树取样 {dead} 株,镜检未分离到松材线虫")]  # fmt: skip
    for day, seen, calling in ((dt.date(2023, 5, 20), 12, 6), (dt.date(2023, 6, 20), 18, 14),
                               (dt.date(2023, 7, 20), 22, 16), (dt.date(2023, 8, 20), 15, 9),
                               (dt.date(2023, 9, 10), 8, 3), (dt.date(2024, 5, 20), 16, 10),
                               (dt.date(2024, 6, 20), 9, 7)):  # fmt: skip
        recs += [_Rec("lithobates_catesbeianus", "sighting", day, seen, site="LC-CY-01"),
                 _Rec("lithobates_catesbeianus", "call_count", day, calling, site="LC-CY-01")]  # fmt: skip
    recs.append(_Rec("lithobates_catesbeianus", "sighting", dt.date(2023, 7, 12), 3, at=(115.83, 40.41),
                     township="康庄镇", note="野鸭湖湿地边缘坑塘目击成体"))  # fmt: skip
    recs.append(_Rec("lithobates_catesbeianus", "call_count", dt.date(2024, 6, 16), 2, at=NEAR_RESERVE,
                     note="夜间鸣声调查,松山保护区外围坑塘"))  # fmt: skip
    recs.sort(key=lambda r: r.day)
    for number, rec in enumerate(recs, start=1):
        rec.number = number
    return recs


def _invasive(
    session: Session, people: _People, workdir: Path, rng: random.Random
) -> dict[str, int]:
    config = load_config()
    bureau = {key: spec.unit for key, spec in config.species.items()}
    _now(dt.date(2023, 4, 10))
    sync_species(session, actor=ACTOR)
    for code, key, kind, name, lon, lat, town in INVASIVE_SITES:
        add_site(session, code=code, name=name, species_key=key, kind=kind, lon=lon, lat=lat,
                 actor=people.actor(bureau[key]), township=town)  # fmt: skip
    recs = _invasive_records(np.random.default_rng(SEED))
    made = {"invasive_sites": len(INVASIVE_SITES), "invasive_records": 0, "controls": 0,
            "applications": 0}  # fmt: skip
    names = {key: spec.name_cn for key, spec in config.species.items()}
    steps: list[tuple[dt.date, int, Callable[[], None]]] = []
    previous = dt.date(2023, 1, 1)
    for n, upto in enumerate(IMPORT_DAYS):
        batch = [r for r in recs if previous < r.day <= upto]
        previous = upto
        for unit in sorted({bureau[r.key] for r in batch}):
            rows = [[f"BJ{r.day.year}-IAS-{r.number:04d}", names[r.key], r.method, r.day.isoformat(),
                     r.value, "" if r.effort is None else r.effort, *(r.at or ("", "")), r.township, r.site,
                     rng.choice(OBSERVERS), f"{r.note};{LABEL}" if r.note else LABEL]
                    for r in batch if bureau[r.key] == unit]  # fmt: skip
            path = _write(workdir / f"invasive-{upto.isoformat()}-{unit}.csv", RECORD_HEADER, rows)
            made["invasive_records"] += len(rows)
            steps.append((upto, n, _importer(session, path, people.actor(unit), upto)))
    steps.append((dt.date(2023, 10, 16), 0, lambda: _handle_open(
        session, people, dt.date(2023, 12, 31), "已核实:为既有发生点,纳入常规监测与综合防控。")))  # fmt: skip
    controls = _controls(session, people, bureau)
    steps += [(day, 1, action) for day, action in controls]
    made["controls"] = len(controls)
    steps.append((dt.date(2024, 6, 21), 2, lambda: _handle_open(
        session, people, DEMO_TODAY, "已组织属地人工捡螺、摘除卵块30亩,7月复查密度降至0.4头/m²以下。",
        rule="threshold")))  # fmt: skip
    applications, made["applications"] = _applications(session, people)
    steps += applications
    for day, _, action in sorted(steps, key=lambda s: (s[0], s[1])):
        _now(day, 16)
        action()
    _now(DEMO_TODAY, 8)
    run_alerts(session, today=DEMO_TODAY, actor=ACTOR, year=2024)
    made["alerts"] = len(session.scalars(select(InvasiveAlert.id)).all())
    return made


def _importer(session: Session, path: Path, actor: str, day: dt.date) -> Callable[[], None]:
    def run() -> None:
        import_records(session, path, actor=actor, today=day)

    return run


def _handle_open(session: Session, people: _People, until: dt.date, note: str,
                 rule: str | None = None) -> None:  # fmt: skip
    """The species' bureau marks the open alerts on records up to ``until`` handled."""
    query = (select(InvasiveAlert, InvasiveSpecies.key).join(InvasiveSpecies)
             .join(InvasiveRecord, InvasiveRecord.id == InvasiveAlert.record_id)
             .where(InvasiveAlert.state == "open", InvasiveRecord.observed_on <= until)
             .order_by(InvasiveAlert.id))  # fmt: skip
    if rule:
        query = query.where(InvasiveAlert.rule == rule)
    bureau = {key: spec.unit for key, spec in load_config().species.items()}
    for alert, key in session.execute(query).all():
        account = people.units.get(bureau[key])
        if account is not None:
            handle_alert(session, account, alert.id, f"{note}({LABEL})")


def _controls(session: Session, people: _People,
              bureau: dict[str, str]) -> list[tuple[dt.date, Callable[[], None]]]:  # fmt: skip
    """Five control actions of 2024 (two with the area in 亩)."""
    plans = [
        ("lithobates_catesbeianus", dt.date(2024, 5, 28), "物理", 6.0, "公顷", "LC-CY-01",
         "夜间灯光诱捕与地笼清除成蛙、捞除卵块", 16.0, 9.0, "6月复查目击成体由16只降至9只,继续清除"),
        ("hyphantria_cunea", dt.date(2024, 6, 5), "生物", 120.0, "公顷", "HC-TZ-01",
         "释放白蛾周氏啮小蜂,按1:3蜂虫比分两次放蜂", None, None, "第一代幼虫网幕期防治完成"),
        ("hyphantria_cunea", dt.date(2024, 6, 19), "物理", 35.0, "公顷", "HC-DX-01",
         "人工剪除网幕并集中销毁", 4.0, 0.0, "监测线路网幕株数由4株降至0"),
        ("pomacea_canaliculata", dt.date(2024, 6, 20), "物理", 30.0, "亩", "PC-TZ-01",
         "人工捡螺、摘除岸边卵块,排水口设拦网", 2.6, 0.4, "7月5日复查密度0.4头/m²"),
        ("cydia_pomonella", dt.date(2024, 6, 27), "综合", 45.0, "亩", "AP-CP-01",
         "加密性诱捕器至每亩1个、剪除虫果、树干绑草把诱集越冬幼虫", None, None, "7月8日前未再诱到成虫"),
    ]  # fmt: skip
    out: list[tuple[dt.date, Callable[[], None]]] = []
    for key, day, method, area, unit, site, detail, before, after, result in plans:

        def act(key: str = key, day: dt.date = day, method: str = method, area: float = area,
                unit: str = unit, site: str = site, detail: str = detail, before: float | None = before,
                after: float | None = after, result: str = result) -> None:  # fmt: skip
            invasive_control.add_control(
                session, species_key=key, done_on=day, method=method, area=area, area_unit=unit,
                site_code=site, detail=f"{detail}({LABEL})", before_value=before, after_value=after,
                result=result, actor=people.actor(bureau[key]), today=day)  # fmt: skip

        out.append((day, act))
    return out


Step = tuple[dt.date, int, Callable[[], None]]
RISK_SUMMARY = (
    "北美红栎在华北有多年栽培,未见逸生成片;种子可被鸟兽搬运,须隔离种植并监测周边实生苗。"
    "评估为中等风险,建议有条件批准。"
)


def _applications(session: Session, people: _People) -> tuple[list[Step], int]:
    """Two 外来物种引入审批 applications: 北美红栎 (林草) in 风险评估 with its report, and
    罗氏沼虾 (水产) just submitted. Skipped when the demo accounts are not there."""
    forms = [
        ("110113", dt.date(2024, 5, 20), introduction.ApplicationForm(
            applicant=f"北京某苗木有限公司({LABEL})", scientific_name="Quercus rubra", name_cn="北美红栎",
            category="林草", purpose="城市绿化彩叶树种引种试验", origin_country="美国",
            quantity="种子 200 kg", destination="顺义区某苗圃隔离试验地(约2公顷)",
            containment="隔离种植,周边设50 m缓冲带,种苗不得外流"),
         [("submit", dt.date(2024, 5, 22)), ("accept", dt.date(2024, 5, 27)), ("assess", dt.date(2024, 6, 28))]),
        ("110112", dt.date(2024, 7, 5), introduction.ApplicationForm(
            applicant=f"通州区某水产养殖场({LABEL})", scientific_name="Macrobrachium rosenbergii",
            name_cn="罗氏沼虾", category="水产", purpose="室内工厂化养殖", origin_country="马来西亚",
            quantity="虾苗 50 万尾", destination="通州区某水产养殖场室内车间",
            containment="室内循环水养殖,进排水口设40目拦网"),
         [("submit", dt.date(2024, 7, 8))]),
    ]  # fmt: skip
    reviewers = load_config().introduction.reviewers
    steps: list[Step] = []
    count = 0
    for applicant_code, created, form, actions in forms:
        applicant = people.units.get(applicant_code)
        reviewer = people.units.get(reviewers[form.category])
        if applicant is None or reviewer is None:
            continue
        count += 1
        app = _Application(session, applicant, reviewer, form)
        steps.append((created, 3, app.creator(created)))
        steps += [(day, 3, app.stepper(action, day)) for action, day in actions]
    return steps, count


@dataclass
class _Application:
    session: Session
    applicant: Account
    reviewer: Account
    form: introduction.ApplicationForm
    id: int = 0

    def creator(self, day: dt.date) -> Callable[[], None]:
        def run() -> None:
            self.id = introduction.create_application(
                self.session, self.applicant, self.form, today=day
            ).id

        return run

    def stepper(self, action: str, day: dt.date) -> Callable[[], None]:
        def run() -> None:
            who = self.applicant if action in ("submit", "resubmit", "withdraw") else self.reviewer
            if action != "assess":
                introduction.step(self.session, who, self.id, action, today=day)
                return
            report = introduction.ReportFile(
                acceptance_pdf("Quercus rubra introduction: risk assessment (demo, synthetic)"),
                "北美红栎引种风险评估报告.pdf")  # fmt: skip
            introduction.step(self.session, who, self.id, action, today=day, risk_level="中",
                              risk_summary=f"{RISK_SUMMARY}({LABEL})", risk_report=report)  # fmt: skip

        return run


# --------------------------------------------------------------------------- germplasm

# (site, district, lon, lat, altitude range m)
GERMPLASM_SITES = {
    "ylljj": [("门头沟区百花山", 115.58, 39.84, (1100, 1900)), ("延庆区松山", 115.80, 40.51, (700, 1500)),
              ("怀柔区喇叭沟门", 116.62, 40.92, (800, 1500)), ("密云区云蒙山", 116.70, 40.55, (600, 1400)),
              ("房山区上方山", 115.80, 39.67, (300, 800)), ("海淀区西山", 116.18, 39.99, (100, 500)),
              ("昌平区十三陵", 116.22, 40.28, (100, 600))],
    "110109": [("门头沟区百花山", 115.58, 39.84, (1100, 1900)), ("门头沟区小龙门", 115.43, 39.97, (1000, 1700)),
               ("门头沟区妙峰山", 116.03, 40.06, (400, 1200))],
    "110116": [("怀柔区喇叭沟门", 116.62, 40.92, (800, 1500)), ("怀柔区汤河口", 116.63, 40.73, (500, 1200))],
}  # fmt: skip
# month -> (accessions, [(material, species …)])
GERMPLASM_MONTHS = {
    1: (18, [("穗条", "油松 白皮松 侧柏 华北落叶松"), ("种子", "油松 白皮松 侧柏")]),
    2: (26, [("穗条", "油松 白皮松 侧柏 元宝槭 槐 紫丁香"), ("种子", "油松 华北落叶松")]),
    3: (52, [("穗条", "油松 白皮松 元宝槭 毛白杨 槐 山杏 山桃 黄栌 紫丁香"), ("花粉", "毛白杨"),
             ("苗木", "侧柏 元宝槭 黄栌")]),
    4: (60, [("穗条", "毛白杨 山杏 山桃 黄栌"), ("花粉", "毛白杨"), ("种子", "榆树"),
             ("苗木", "油松 侧柏 栓皮栎 蒙古栎 元宝槭 臭椿")]),
    5: (66, [("种子", "榆树"), ("花粉", "油松"), ("组织", "蒙古栎 栓皮栎 槲树 元宝槭 臭椿 黄栌"),
             ("苗木", "油松 白皮松 栓皮栎 槲树")]),
    6: (74, [("种子", "山杏"), ("组织", "蒙古栎 栓皮栎 槲树 元宝槭 臭椿 黄栌 山桃 紫丁香"),
             ("苗木", "元宝槭 黄栌 槐")]),
}  # fmt: skip
GERMPLASM_UNITS = (("ylljj", "YL", 0.70), ("110109", "MTG", 0.17), ("110116", "HR", 0.13))
GERMPLASM_HEADER = ["种质编号", "资源类别", "中文名", "材料类型", "采集地点", "经度", "纬度", "海拔",
                    "采集日期", "采集人", "单位代码", "保存库", "数量", "状态", "生活力(%)", "备注"]  # fmt: skip
QUANTITY = {"穗条": (20, 60), "种子": (200, 2000), "花粉": (2, 20), "苗木": (5, 30), "组织": (1, 3)}


def _germplasm(session: Session, people: _People, workdir: Path, rng: random.Random) -> int:
    _now(dt.date(2024, 1, 2))
    germplasm.seed_repositories(session, actor=ACTOR)
    numbers = {code: 0 for code, _, _ in GERMPLASM_UNITS}
    added = 0
    for month, (count, kinds) in GERMPLASM_MONTHS.items():
        rows: dict[str, list[list[object]]] = {code: [] for code, _, _ in GERMPLASM_UNITS}
        days = (
            (dt.date(2024, month % 12 + 1, 1) - dt.date(2024, month, 1)).days if month < 12 else 31
        )
        for _ in range(count):
            code, prefix, _ = rng.choices(
                GERMPLASM_UNITS, weights=[w for _, _, w in GERMPLASM_UNITS]
            )[0]
            material, names = rng.choice(kinds)
            name = rng.choice(names.split())
            place, lon, lat, (low, high) = rng.choice(GERMPLASM_SITES[code])
            day = dt.date(2024, month, rng.randint(3, days - 2))
            numbers[code] += 1
            low_q, high_q = QUANTITY[material]
            status = "入库" if month <= 4 or rng.random() < 0.5 else "采集"
            viability = ""
            if material == "种子" and status == "入库" and rng.random() < 0.6:
                status, viability = "检测", str(rng.randint(62, 96))
            bank: tuple[str, ...] = (
                ("GJLZJD-1", "GJLZJD-2")
                if material in ("穗条", "苗木")
                else ("GJLMK-1", "GJLMK-2", "GJLMK-3")
            )
            rows[code].append([f"{prefix}2024-{numbers[code]:04d}", "林草", name, material, place,
                               round(lon + rng.uniform(-0.03, 0.03), 4), round(lat + rng.uniform(-0.03, 0.03), 4),
                               rng.randint(low, high), day.isoformat(), "、".join(rng.sample(OBSERVERS, 2)), code,
                               rng.choice(bank), rng.randint(low_q, high_q), status, viability, LABEL])  # fmt: skip
        submitted = dt.date(2024, month, days) + dt.timedelta(days=3)
        for code, batch in rows.items():
            if not batch:
                continue
            _now(submitted, 11)
            path = _write(workdir / f"germplasm-2024-{month:02d}-{code}.csv", GERMPLASM_HEADER,
                          sorted(batch, key=lambda r: str(r[0])))  # fmt: skip
            added += germplasm.import_accessions(session, path, actor=people.actor(code), unit_code=code,
                                                 today=submitted).added  # fmt: skip
    return added


# --------------------------------------------------------------------------- station

STATION_CODE = "MIYUN-NEQMS"
STATION_PARAMETERS = ["气温(℃)", "相对湿度(%)", "水温(℃)", "溶解氧(mg/L)", "PM2.5(μg/m³)"]


def station_frame(seed: int = SEED) -> list[list[object]]:
    """June 2024, hourly (Beijing time): diurnal cycles with noise and the faults QC must find:
    a water-temperature spike (9 June 03:00), a PM2.5 spike (18 June 20:00), dissolved oxygen
    stuck at 8.37 (14 June 10:00–19:00), humidity missing (5 June 14:00) and out of range
    (27 June 05:00: 104 %, a spike as well), and no rows 22 June 01:00–06:00 (the logger lost
    power)."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 6, 1)
    hours = 30 * 24
    t = np.arange(hours)
    hour, day = t % 24, t / 24
    air = 23.5 + 0.12 * day + 5.5 * np.cos(2 * np.pi * (hour - 15) / 24) + rng.normal(0, 0.4, hours)
    rh = 62 - 18 * np.cos(2 * np.pi * (hour - 15) / 24) + rng.normal(0, 3, hours)
    water = (
        21.0 + 0.15 * day + 0.6 * np.cos(2 * np.pi * (hour - 16) / 24) + rng.normal(0, 0.05, hours)
    )
    oxygen = (
        8.6 - 0.03 * day + 0.8 * np.cos(2 * np.pi * (hour - 15) / 24) + rng.normal(0, 0.08, hours)
    )
    pm = np.empty(hours)
    level = 0.0
    for i in range(hours):  # a slowly varying log-concentration around 28 μg/m³
        level = 0.92 * level + rng.normal(0, 0.08)
        pm[i] = 28 * math.exp(level) * (1 + 0.25 * math.cos(2 * math.pi * (hour[i] - 21) / 24))
    columns: list[list[object]] = [
        [round(float(v), 1) for v in air], [round(float(min(v, 95.0)), 1) for v in rh],
        [round(float(v), 2) for v in water], [round(float(v), 2) for v in oxygen], [round(float(v), 1) for v in pm],
    ]  # fmt: skip

    def at(day_: int, hour_: int) -> int:
        return (day_ - 1) * 24 + hour_

    columns[2][at(9, 3)] = round(float(water[at(9, 3)]) + 4.5, 2)  # SPIKE
    columns[4][at(18, 20)] = round(float(pm[at(18, 20)]) + 240.0, 1)  # SPIKE
    for i in range(at(14, 10), at(14, 20)):  # FLAT: 10 identical values
        columns[3][i] = 8.37
    columns[1][at(5, 14)] = ""  # MISSING
    columns[1][at(27, 5)] = 104.0  # RANGE (max 100 %)
    gap = set(range(at(22, 1), at(22, 7)))
    return [[(start + dt.timedelta(hours=i)).strftime("%Y-%m-%d %H:%M"), *(c[i] for c in columns)]
            for i in range(hours) if i not in gap]  # fmt: skip


def _station(session: Session, people: _People, workdir: Path) -> int:
    _now(dt.date(2024, 5, 28))
    existing = session.scalar(select(Station).where(Station.code == STATION_CODE))
    if existing is None:
        stations.add_station(session, code=STATION_CODE, name=f"密云水库国家生态质量综合监测站({LABEL})",
                             kind="国家生态质量综合监测站", lon=116.90, lat=40.48, unit_code="sthjj",
                             actor=people.actor("sthjj"))  # fmt: skip
    rows = station_frame()
    path = _write(workdir / "miyun-2024-06.csv", ["时间", *STATION_PARAMETERS], rows)
    _now(dt.date(2024, 7, 2), 9)
    result = stations.import_series(
        session, path, station_code=STATION_CODE, actor=people.actor("sthjj")
    )
    return result.added
