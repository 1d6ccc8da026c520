"""Biodiversity benchmark (issue 8): import 1,000,000 occurrences and compute every diversity
index per site and year.

Synthetic bird-transect sheets (fixed seed): 1,000 transects across Beijing, five survey years
(one sheet of 200,000 records per year), species drawn from the shared Beijing bird list (435
species) when ``../shared/data`` is there, else from generated names; counts geometric. Goals:
import < 60 s, indices < 10 s, peak memory < 2 GB (VmHWM of this process).

Run: ``.venv/bin/python bench/bench_biodiversity.py [--n 1000000] [--database-url URL]``
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

BIRDS = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "species"
    / "beijing_birds_birdle_435.csv"
)
YEARS = (2020, 2021, 2022, 2023, 2024)


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def species() -> list[tuple[str, str]]:
    if BIRDS.exists():
        with BIRDS.open(encoding="utf-8") as f:
            return [(r["scientific_name"], r["chinese_name"]) for r in csv.DictReader(f)]
    return [(f"Avis species{i}", f"鸟{i}") for i in range(435)]


def write_sheets(folder: Path, n: int, names: list[tuple[str, str]]) -> list[Path]:
    rng = np.random.default_rng(2024)
    sites = 1000
    lon0 = rng.uniform(115.9, 117.2, sites)
    lat0 = rng.uniform(39.6, 40.8, sites)
    weights = 1.0 / np.arange(1, len(names) + 1)  # a few common species, many rare ones
    weights /= weights.sum()
    paths = []
    per_year = n // len(YEARS)
    for year in YEARS:
        site = rng.integers(0, sites, per_year)
        visit = rng.integers(0, 4, per_year)  # four visits a season per transect
        sp = rng.choice(len(names), per_year, p=weights)
        count = rng.geometric(0.35, per_year)
        path = folder / f"birds_{year}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(
                [
                    "样线编号",
                    "调查日期",
                    "经度",
                    "纬度",
                    "物种",
                    "数量",
                    "记录人",
                    "样线长度(km)",
                    "记录编号",
                ]
            )
            for i in range(per_year):
                s = int(site[i])
                day = dt.date(year, 4 + int(visit[i]), 10 + s % 15)
                w.writerow([f"T{s:04d}", day.isoformat(), f"{lon0[s]:.5f}", f"{lat0[s]:.5f}", names[int(sp[i])][1],
                            int(count[i]), "调查员", "2.0", f"{year}-{i}"])  # fmt: skip
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from ecoplan import db
    from ecoplan.monitoring.summaries import diversity_table
    from ecoplan.monitoring.surveys import import_survey
    from ecoplan.monitoring.taxa import load_taxa_csv

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = species()
        start = time.perf_counter()
        sheets = write_sheets(folder, args.n, names)
        print(
            f"wrote {len(sheets)} sheets, {args.n:,} records, {len(names)} species in {time.perf_counter() - start:.1f} s"
        )
        engine = db.make_engine(args.database_url or f"sqlite:///{folder / 'bench.db'}")
        db.upgrade(engine)
        taxa = folder / "taxa.csv"
        taxa.write_text(
            "学名,中文名\n" + "\n".join(f"{a},{b}" for a, b in names) + "\n", encoding="utf-8"
        )
        with db.session_scope(engine) as session:
            load_taxa_csv(session, taxa, actor="bench")
        start = time.perf_counter()
        flagged = 0
        for year, sheet in zip(YEARS, sheets, strict=True):
            with db.session_scope(engine) as session:
                result = import_survey(session, sheet, protocol="bird_transect", title=f"{year} 鸟类样线", year=year,
                                       actor="bench", today=dt.date(2025, 1, 1))  # fmt: skip
                flagged += sum(result.flags.values())
        imported = time.perf_counter() - start
        print(f"import: {imported:.1f} s for {args.n:,} records ({args.n / imported:,.0f}/s), {flagged} flags "
              f"(goal < 60 s: {'PASS' if imported < 60 else 'MISS'})")  # fmt: skip
        start = time.perf_counter()
        with db.session_scope(engine) as session:
            table = diversity_table(session, by="location")
        indexed = time.perf_counter() - start
        print(f"indices: {indexed:.1f} s for {len(table):,} site-years (reading the records included) "
              f"(goal < 10 s: {'PASS' if indexed < 10 else 'MISS'})")  # fmt: skip
        peak = _peak_mb()
        print(f"peak memory {peak:.0f} MB (goal < 2048 MB: {'PASS' if peak < 2048 else 'MISS'})")
        engine.dispose()
        if args.database_url:
            print(
                "(the records stay in the given database; drop them by hand if it is not a scratch one)"
            )


if __name__ == "__main__":
    main()
