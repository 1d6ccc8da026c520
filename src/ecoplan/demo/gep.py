"""Demo GEP-R: two accounting years (2023, 2024) on synthetic inputs over Beijing's real
district boundaries, and a compensation allocation for the 生态涵养区 from the 2024 run.

Rasters are 250 m so the demo loads in seconds; everything is labelled 演示数据.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ecoplan.accounting.gep import compensation
from ecoplan.accounting.gep.config import GepConfig, Inputs
from ecoplan.accounting.gep.models import GepRun
from ecoplan.accounting.gep.pipeline import account
from ecoplan.accounting.gep.runs import store_run
from ecoplan.demo.geodata import DEMO_LABEL
from ecoplan.demo.gep_inputs import write_inputs, write_tables
from ecoplan.geo.regions import beijing_layers

DEMO_YEARS = (2023, 2024)
RESOLUTION_M = 250.0
ACTOR = "demo"
BUDGET_YUAN = 10e8  # 10 亿元, a demo figure
MOUNTAIN_SHARES = {"110111": 0.6, "110114": 0.5}  # demo guesses of the mountain share


def load_demo_gep(session: Session, folder: Path) -> list[GepRun] | None:
    if session.scalars(select(GepRun).where(GepRun.is_demo.is_(True)).limit(1)).first() is not None:
        return None
    city, districts = beijing_layers()
    made = []
    for year in DEMO_YEARS:
        rasters = write_inputs(folder, city, RESOLUTION_M, year)
        tables = write_tables(folder, districts, year)
        config = GepConfig(
            year=year, title=f"{year}年北京市GEP-R核算({DEMO_LABEL})", demo=True,
            output=folder / f"gep-{year}", chunk=1024,
            inputs=Inputs(
                **rasters, tables=[tables["emissions"]], reservoirs=tables["reservoirs"],
                lakes=tables["lakes"], weather=tables["weather"],
            ),
            scalars={"water_evaporation_mm": 1100.0},
        )  # fmt: skip
        result = account(config, layers=[city, districts])
        made.append(store_run(session, result, title=config.title, actor=ACTOR, is_demo=True))
    session.flush()
    latest = made[-1]
    plan = compensation.CompensationConfig(
        year=latest.year, title=f"{latest.year}年生态涵养区综合性生态保护补偿测算({DEMO_LABEL})",
        budget_yuan=BUDGET_YUAN, run=latest.id, previous_run=made[0].id,
        partial_shares=MOUNTAIN_SHARES, weights={"gep_level": 0.6, "gep_change": 0.2, "ei": 0.2},
        floor_yuan=0.5e8, cap_yuan=3e8,
    )  # fmt: skip
    compensation.store(session, plan, actor=ACTOR, is_demo=True)
    return made
