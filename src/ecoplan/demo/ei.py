"""Demo EI: two assessment years (2023 published, 2024 draft) and the 2023→2024 ecological-land
change clues, computed on synthetic rasters over Beijing's real district boundaries.

Runs once per database (skipped when demo runs exist). Rasters are 100 m so the demo loads
in seconds; everything is labelled 演示数据.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.ei.changes import find_changes, provenance, store_batch
from ecoplan.accounting.ei.mapping import load_mapping
from ecoplan.accounting.ei.models import EIRun
from ecoplan.accounting.ei.pipeline import RunConfig, RunInputs, run_assessment
from ecoplan.accounting.ei.runs import publish_run
from ecoplan.db import frozen_now
from ecoplan.demo.geodata import DEMO_LABEL, write_rasters, write_region_table, write_rivers
from ecoplan.geo.regions import beijing_layers

DEMO_YEARS = (2023, 2024)
RESOLUTION_M = 100.0
ACTOR = "demo"


def load_demo_ei(session: Session, folder: Path) -> list[EIRun] | None:
    """Create the demo runs and clue batch; None when they already exist."""
    if session.scalars(select(EIRun).where(EIRun.is_demo.is_(True)).limit(1)).first() is not None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    city, districts = beijing_layers()
    rivers = write_rivers(folder / "rivers.geojson")
    made: list[EIRun] = []
    for year in DEMO_YEARS:
        landuse, ndvi = write_rasters(folder, city, RESOLUTION_M, year=year)
        table = write_region_table(folder / f"regions_{year}.csv", [city, districts], year)
        config = RunConfig(
            year=year, title=f"{year}年生态环境质量评价({DEMO_LABEL})", demo=True,
            inputs=RunInputs(landuse=landuse, ndvi=ndvi, tables=[table], rivers=rivers),
        )  # fmt: skip
        run = run_assessment(session, config, actor=ACTOR, layers=[city, districts]).run
        if year != DEMO_YEARS[-1]:
            publish_run(session, run.id, ACTOR)
        session.flush()
        made.append(run)
    mapping = load_mapping("cas25")
    before, after = (folder / f"landuse_{y}_{RESOLUTION_M:g}m.tif" for y in DEMO_YEARS)
    patches = find_changes(
        before, after, mapping, districts, min_area_m2=20_000.0, year=DEMO_YEARS[-1]
    )
    # issued in June of the demo year, so deadlines and lateness agree with the demo clock
    token = frozen_now.set(dt.datetime(2024, 6, 20, 2, tzinfo=dt.UTC))
    try:
        store_batch(
            session, patches, title=f"{DEMO_YEARS[-1]}年生态用地变化线索({DEMO_LABEL})",
            source=provenance(before, after, mapping, 20_000.0), actor=ACTOR,
        )  # fmt: skip
    finally:
        frozen_now.reset(token)
    return made
