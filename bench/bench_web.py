"""Web load benchmark: dashboard and list pages under 50 concurrent clients.

Data: 20 plans × 32 measures × 17 responsible units × 12 monthly periods = 130,560 reports
(each plan is the sample plan with every measure assigned to the 17 district units). The
reports are bulk-inserted (this measures reading, not filing). A real uvicorn server with two
workers serves the app; 50 asyncio clients request the pages for a fixed number of rounds.
Goal (issue 4): p95 under 200 ms and zero errors, on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/bench_web.py [--db sqlite|postgresql|both] [--requests 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from sqlalchemy import create_engine, insert, select, text

from ecoplan import db
from ecoplan.accounts.service import create_account
from ecoplan.demo import sample_plan_path
from ecoplan.plans.models import Measure, Plan
from ecoplan.plans.parsers import PARSER_VERSION, parse_file
from ecoplan.plans.store import import_document
from ecoplan.supervision.access import share_unit_ids
from ecoplan.supervision.models import Period, Report
from ecoplan.supervision.periods import configure_cycle
from ecoplan.units import service

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-password-1"
ALL_DISTRICTS = "各区政府(含北京经济技术开发区管委会)"


def load(url: str, plans: int) -> int:
    engine = db.make_engine(url)
    db.upgrade(engine)
    seed = parse_file(sample_plan_path())
    started = time.perf_counter()
    rows = 0
    with db.session_scope(engine) as session:
        service.sync_builtin(session, actor="bench")
        directory = service.directory(session)
        for number in range(1, plans + 1):
            doc = seed.model_copy(deep=True)
            doc.title = f"生态保护2024年行动计划(压测{number:02d})"
            for measure in doc.measures():
                measure.responsible = [ALL_DISTRICTS]
            plan = import_document(session, doc, actor="bench", directory=directory,
                                   parser_version=PARSER_VERSION).plan  # fmt: skip
            configure_cycle(session, plan, actor="bench")
        create_account(
            session, username="coord", password=PASSWORD, role="coordinator", actor="bench"
        )
        create_account(session, username="chaoyang", password=PASSWORD, role="unit",
                       unit_code="110105", actor="bench")  # fmt: skip
        session.flush()
        rng = random.Random(1)
        now = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
        for plan in session.scalars(select(Plan)):
            periods = list(session.scalars(select(Period).where(Period.plan_id == plan.id)))
            batch = []
            for measure in session.scalars(select(Measure).where(Measure.plan_id == plan.id)):
                for unit_id in share_unit_ids(measure):
                    for period in periods:
                        state = rng.choices(["accepted", "submitted", "returned"], [8, 1, 1])[0]
                        batch.append({
                            "measure_id": measure.id, "unit_id": unit_id, "period_id": period.id,
                            "role": "responsible", "status": rng.choice(["in_progress", "done", "late"]),
                            "narrative": "压测数据", "reasons": "", "remedy": "", "progress": {},
                            "state": state, "times_returned": int(state == "returned"),
                            "submitted_at": now, "updated_at": now, "updated_by": "bench", "version": 1,
                        })  # fmt: skip
            session.execute(insert(Report), batch)
            rows += len(batch)
    print(f"  loaded {plans} plans, {rows:,} reports in {time.perf_counter() - started:.1f} s")
    engine.dispose()
    return rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _login(client: httpx2.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["token"])


async def bench_pages(base: str, plans: int) -> list[tuple[str, str, dict[str, str]]]:
    async with httpx2.AsyncClient(base_url=base, timeout=60) as client:
        coord = {"Authorization": f"Bearer {await _login(client, 'coord')}"}
        district = {"Authorization": f"Bearer {await _login(client, 'chaoyang')}"}
    a, b, c, d = (min(n, plans) for n in (7, 12, 3, 15))
    return [
        ("dashboard page (coordinator)", f"/?plan={a}", coord),
        ("measure list page (coordinator)", f"/measures?plan={a}", coord),
        ("dashboard page (district)", f"/?plan={b}", district),
        ("dashboard API", f"/api/v1/plans/{c}/dashboard", coord),
        ("measure list API", f"/api/v1/plans/{d}/measures", coord),
        # a detail page, built per request (not cached); reported, not part of the goal. Last,
        # because its backlog, still being served when wrk stops, would slow the next page.
        ("measure page 8.4 (district)", f"/measures/M020?plan={b}", district),
    ]


async def run_clients(base: str, requests: int, clients: int, plans: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    async with httpx2.AsyncClient(base_url=base, timeout=60) as client:
        coord = {"Authorization": f"Bearer {await _login(client, 'coord')}"}
        district = {"Authorization": f"Bearer {await _login(client, 'chaoyang')}"}
        a, b, c, d = (min(n, plans) for n in (7, 12, 3, 15))
        pages = [
            ("dashboard page (coordinator)", f"/?plan={a}", coord),
            ("measure list page (coordinator)", f"/measures?plan={a}", coord),
            ("dashboard page (district)", f"/?plan={b}", district),
            ("dashboard API", f"/api/v1/plans/{c}/dashboard", coord),
            ("measure list API", f"/api/v1/plans/{d}/measures", coord),
        ]
        queue: asyncio.Queue[tuple[str, str, dict[str, str]]] = asyncio.Queue()
        for i in range(requests):
            queue.put_nowait(pages[i % len(pages)])

        async def worker() -> None:
            while not queue.empty():
                name, path, headers = queue.get_nowait()
                start = time.perf_counter()
                try:
                    response = await client.get(path, headers=headers)
                    if response.status_code != 200:
                        errors.append(f"{path}: {response.status_code}")
                except httpx2.HTTPError as exc:
                    errors.append(f"{path}: {exc!r}")
                timings.setdefault(name, []).append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    print(
        f"  {requests} requests by {clients} clients in {wall:.1f} s = {requests / wall:.0f} req/s; errors: {len(errors)}"
    )
    for error in errors[:5]:
        print("   ", error)
    timings["_errors"] = [float(len(errors))]
    return timings


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %.1f %.1f %.1f %.1f\\n", summary.requests, errors,
           latency:percentile(50) / 1000, latency:percentile(95) / 1000,
           latency.max / 1000, summary.requests / (summary.duration / 1e6)))
end
"""


def run_wrk(base: str, pages: list[tuple[str, str, dict[str, str]]], clients: int,
            seconds: int) -> dict[str, list[float]]:  # fmt: skip
    """wrk (C, from Debian) per page: the load generator costs little CPU of its own."""
    results: dict[str, list[float]] = {}
    errors = 0
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    for name, path, headers in pages:
        header_args = [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
        out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
                              "-s", script.name, *header_args, base + path],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
        line = next(x for x in out.splitlines() if x.startswith("RESULT"))
        n, err, p50, p95, worst, rate = (float(v) for v in line.split()[1:])
        errors += int(err)
        print(f"  {name:34} {int(n):6d} req {rate:7.0f} req/s  errors {int(err)}")
        results[name] = [p50, p95, worst, n]
    results["_errors"] = [float(errors)]
    results["_wrk"] = [1.0]
    return results


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"ECOPLAN_DATABASE_URL": url, "ECOPLAN_TODAY": "2024-07-10",
                        "ECOPLAN_REMIND_INTERVAL_MINUTES": "0", "ECOPLAN_AUTO_MIGRATE": "false"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "ecoplan.web.app:create_app", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        env=env,
        start_new_session=True,  # its own process group: stopping it stops the workers too
    )  # fmt: skip
    for _ in range(200):
        try:
            health = httpx2.get(f"http://127.0.0.1:{port}/health", timeout=1)
            if health.status_code == 200:
                # the server must be on the database we loaded, not some other process
                assert health.json()["database"] == url.split(":")[0].split("+")[0]
                return process
        except httpx2.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def report(timings: dict[str, list[float]]) -> bool:
    ok = timings.pop("_errors")[0] == 0
    if timings.pop("_wrk", None):
        print(f"  {'page':34} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  p95/goal")
        for name, (p50, p95, worst, n) in timings.items():
            print(f"  {name:34} {int(n):6d} {p50:8.1f} {p95:8.1f} {worst:8.1f}  {p95 / 200:.2f}")
            ok = ok and (p95 < 200 or name.startswith("measure page"))
        return ok
    print(f"  {'page':34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  p95/goal")
    for name, values in timings.items():
        values.sort()
        p95 = values[int(0.95 * (len(values) - 1))] * 1000
        print(f"  {name:34} {len(values):5d} {statistics.median(values) * 1000:8.1f} {p95:8.1f} "
              f"{values[-1] * 1000:8.1f}  {p95 / 200:.2f}")  # fmt: skip
        ok = ok and p95 < 200
    return ok


def bench(kind: str, plans: int, requests: int, clients: int, seconds: int) -> bool:
    print(f"== {kind}")
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            admin = create_engine(PG_ADMIN)
            with admin.begin() as conn:
                conn.execute(
                    text("DROP SCHEMA IF EXISTS bench_web CASCADE; CREATE SCHEMA bench_web")
                )
            url = f"{PG_ADMIN}?options=-csearch_path%3Dbench_web"
        load(url, plans)
        port = free_port()
        server = serve(url, port)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(
                run_clients(base, 50, 5, plans)
            )  # warm-up: first requests compile templates
            if shutil.which("wrk"):
                pages = asyncio.run(bench_pages(base, plans))
                return report(run_wrk(base, pages, clients, seconds))
            return report(asyncio.run(run_clients(base, requests, clients, plans)))
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
            if kind != "sqlite":
                with admin.begin() as conn:
                    conn.execute(text("DROP SCHEMA bench_web CASCADE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10, help="per page, with wrk")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {kind: bench(kind, args.plans, args.requests, args.clients, args.seconds)
               for kind in kinds}  # fmt: skip
    print("goal met:", results)


if __name__ == "__main__":
    main()
