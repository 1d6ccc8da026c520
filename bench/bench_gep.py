"""GEP-R benchmark (issue 6).

(a) the full default service set on a Beijing-sized 30 m grid (~18 M pixels, synthetic inputs
    from ``ecoplan.demo.gep_inputs``): time and peak memory (goals: < 2 min on 2 cores, < 3 GB);
(b) soil retention against natcap.invest SDR's ``avoided_erosion`` on the same DEM, erosivity,
    erodibility and land cover (C and P per class on both sides): time ratio and per-district
    totals (goals: ≥ 5× faster, within 5 % or a documented reason). Needs a separate Python
    with natcap.invest and GDAL (``--invest-python``; the bench extra, not a runtime dependency);
(c) the same run as (a) on a 10 m grid (~165 M pixels) to show that memory stays bounded.

Each measured run is a fresh process; peak memory is its VmHWM.

Run: ``.venv/bin/python bench/bench_gep.py [--res 30 10] [--invest-python /tmp/invest-venv/bin/python]``
(the first run writes the inputs: ~1 GB at 30 m, ~8 GB at 10 m, in ``--workdir``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# C and P per CAS class for the SDR comparison: the bench's land-cover NDVI is set per class so
# that our C (蔡崇法 from fc) equals the table value InVEST reads.
SDR_NDVI = {
    21: 0.75,
    22: 0.6,
    23: 0.5,
    24: 0.5,
    31: 0.55,
    32: 0.45,
    33: 0.3,
    11: 0.4,
    12: 0.4,
    65: 0.1,
    66: 0.08,
}
SDR_P = {11: 0.35, 12: 0.35}


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _config(workdir: Path, res: float, services: list[str] | None, ndvi: Path | None = None) -> Any:
    from ecoplan.accounting.gep.config import GepConfig, Inputs

    tag = f"{res:g}m"
    rasters = {n: workdir / f"{n}_2024_{tag}.tif" for n in
               ("landcover", "ndvi", "dem", "precipitation", "et", "erosivity", "erodibility", "npp", "storm_rain")}  # fmt: skip
    if ndvi is not None:
        rasters["ndvi"] = ndvi
    return GepConfig(
        year=2024, title="bench", output=workdir / f"out-{tag}-{'-'.join(services or ['all'])}",
        services=services, variants={"soil_retention": "mccool"} if services == ["soil_retention"] else {},
        inputs=Inputs(**rasters, tables=[workdir / "emissions_2024.csv"],  # type: ignore[arg-type]
                      reservoirs=workdir / "reservoirs.csv", lakes=workdir / "lakes.csv",
                      weather=workdir / "weather_2024.csv"),
        scalars={"water_evaporation_mm": 1100.0},
    )  # fmt: skip


def _child(
    workdir: str, res: float, services: list[str] | None, ndvi: str | None, queue: Any
) -> None:
    from ecoplan.accounting.gep.pipeline import account
    from ecoplan.geo.regions import beijing_layers

    layers = list(beijing_layers())
    config = _config(Path(workdir), res, services, Path(ndvi) if ndvi else None)
    start = time.perf_counter()
    result = account(config, layers=layers)
    elapsed = time.perf_counter() - start
    totals: dict[str, dict[str, float]] = {}
    for r in result.rows:
        totals.setdefault(r.service, {})[r.region_code] = r.quantity
    queue.put((elapsed, _peak_mb(), totals))


def run_ecoplan(
    workdir: Path, res: float, services: list[str] | None = None, ndvi: Path | None = None
) -> tuple[float, float, dict[str, dict[str, float]]]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_child, args=(str(workdir), res, services, str(ndvi) if ndvi else None, queue)
    )
    proc.start()
    result = queue.get()
    proc.join()
    return result  # type: ignore[no-any-return]


def ensure_inputs(workdir: Path, res: float) -> None:
    from ecoplan.demo.gep_inputs import write_inputs, write_tables
    from ecoplan.geo.regions import beijing_layers

    if (workdir / f"storm_rain_2024_{res:g}m.tif").exists():
        return
    city, districts = beijing_layers()
    start = time.perf_counter()
    write_inputs(workdir, city, res, 2024)
    write_tables(workdir, districts, 2024)
    print(f"(wrote {res:g} m inputs in {time.perf_counter() - start:.0f} s)", flush=True)


def class_ndvi(workdir: Path, res: float) -> Path:
    """An NDVI raster constant per land-cover class (so C is a per-class value, as in InVEST)."""
    import rasterio

    path = workdir / f"ndvi_by_class_{res:g}m.tif"
    if path.exists():
        return path
    lookup = np.zeros(256, np.float32)
    for cls, value in SDR_NDVI.items():
        lookup[cls] = value
    with rasterio.open(workdir / f"landcover_2024_{res:g}m.tif") as src:
        profile = src.profile | {"dtype": "float32", "nodata": np.nan}
        with rasterio.open(path, "w", **profile) as dst:
            for _, window in src.block_windows(1):
                dst.write(lookup[src.read(1, window=window)], 1, window=window)
    return path


def invest_table(workdir: Path) -> Path:
    from ecoplan.accounting.gep.services.soil_retention import c_factor, vegetation_cover_percent
    from ecoplan.accounting.gep.tables import load_parameters

    p = load_parameters()
    get = lambda name: p.get(f"soil_retention.{name}", year=2024).value  # noqa: E731
    rows = ["lucode,usle_c,usle_p"]
    for cls in range(1, 100):
        ndvi = np.asarray([SDR_NDVI.get(cls, 0.0)])
        fc = vegetation_cover_percent(ndvi, get("ndvi_soil"), get("ndvi_veg"))
        counted = cls // 10 in (1, 2, 3, 6)  # crop, forest, grass, bare: P rows in the table
        c = float(c_factor(fc, get("c_a"), get("c_b"), get("c_full_cover"))[0]) if counted else 1.0
        rows.append(f"{cls},{c:.6f},{SDR_P.get(cls, 1.0) if counted else 1.0}")
    path = workdir / "sdr_biophysical.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


INVEST_SCRIPT = r"""
import json, sys, time, pathlib
from natcap.invest import sdr
from natcap.invest.sdr import sdr as sdr_model
args = json.loads(sys.argv[1])
t = time.perf_counter()
sdr_model.execute(args)
elapsed = time.perf_counter() - t
peak = next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:'))
print(json.dumps({"elapsed": elapsed, "peak_mb": peak}))
"""


def run_invest(
    python: str, workdir: Path, res: float, table: Path, flow: str
) -> tuple[float, float, Path]:
    import geopandas as gpd

    from ecoplan.geo.crs import EQUAL_AREA
    from ecoplan.geo.regions import beijing_layers

    _, districts = beijing_layers()
    watersheds = workdir / "districts_albers.gpkg"
    gpd.GeoDataFrame({"ws_id": range(len(districts)), "code": list(districts.codes)},
                     geometry=list(districts.geometries_in(EQUAL_AREA)), crs=EQUAL_AREA).to_file(watersheds)  # fmt: skip
    out = workdir / f"invest-sdr-{res:g}m-{flow}"
    timing = out / "ecoplan-bench-timing.json"
    if timing.exists():  # InVEST takes minutes: reuse an earlier run on the same inputs
        stats = json.loads(timing.read_text())
        return stats["elapsed"], stats["peak_mb"], out / "avoided_erosion.tif"
    args = {
        "workspace_dir": str(out), "dem_path": str(workdir / f"dem_2024_{res:g}m.tif"),
        "erosivity_path": str(workdir / f"erosivity_2024_{res:g}m.tif"),
        "erodibility_path": str(workdir / f"erodibility_2024_{res:g}m.tif"),
        "lulc_path": str(workdir / f"landcover_2024_{res:g}m.tif"), "watersheds_path": str(watersheds),
        "biophysical_table_path": str(table), "threshold_flow_accumulation": 1000, "k_param": 2,
        "sdr_max": 0.8, "ic_0_param": 0.5, "l_max": 122, "flow_dir_algorithm": flow, "n_workers": -1,
    }  # fmt: skip
    done = subprocess.run(
        [python, "-c", INVEST_SCRIPT, json.dumps(args)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    timing.write_text(json.dumps(stats))
    return stats["elapsed"], stats["peak_mb"], out / "avoided_erosion.tif"


def district_sums(raster: Path) -> dict[str, float]:
    """Σ avoided erosion (t) per district of an InVEST output in t/ha (its spec's unit):
    the zonal value sum is Σ value × m², and 1 ha = 10⁴ m²."""
    from ecoplan.geo.rasters import open_raster
    from ecoplan.geo.regions import beijing_layers
    from ecoplan.geo.zonal import zonal_stats

    _, districts = beijing_layers()
    stats = zonal_stats(districts, values={"v": open_raster(raster)})
    return {c: float(s / 1e4) for c, s in zip(districts.codes, stats.value_sum["v"], strict=True)}


def with_invest_ls(
    workdir: Path, res: float, invest_dir: Path, ndvi: Path
) -> tuple[dict[str, float], dict[str, float]]:
    """Our R·K·LS·(1 − C·P) per district with InVEST's own LS raster, without and then with
    InVEST's stream mask (SDR leaves RKLS undefined on stream pixels, flow accumulation above
    ``threshold_flow_accumulation``, so they add nothing to its avoided erosion). The first
    isolates the LS method from everything else (C, P, units, zonal sums); the second also
    takes out the stream pixels, so what remains is our chain's own error."""
    import rasterio

    from ecoplan.accounting.gep.ecosystems import load_mapping, type_codes
    from ecoplan.accounting.gep.services.soil_retention import SoilRetention
    from ecoplan.accounting.gep.spec import Context
    from ecoplan.accounting.gep.tables import load_parameters, load_price_index, load_prices

    ctx = Context(2024, "mccool", load_parameters(), load_prices(), load_price_index())
    step = SoilRetention().pixel(ctx)
    out = workdir / f"retention_invest_ls_{res:g}m_{invest_dir.name}.tif"
    masked = out.with_name(out.stem + "_nostream.tif")
    names = {"erosivity": workdir / f"erosivity_2024_{res:g}m.tif", "erodibility": workdir / f"erodibility_2024_{res:g}m.tif",
             "ls": invest_dir / "intermediate_outputs" / "ls.tif", "ndvi": ndvi,
             "stream": invest_dir / "stream.tif"}  # fmt: skip
    lookup = load_mapping("cas25").lookup()
    handles = {k: rasterio.open(v) for k, v in names.items()}
    with rasterio.open(workdir / f"landcover_2024_{res:g}m.tif") as lc:
        profile = lc.profile | {"dtype": "float32", "nodata": np.nan}
        with (
            rasterio.open(out, "w", **profile) as dst,
            rasterio.open(masked, "w", **profile) as dst2,
        ):
            for _, window in lc.block_windows(1):
                arrays = {k: h.read(1, window=window).astype(np.float64)
                          for k, h in handles.items() if k not in ("ls", "stream")}  # fmt: skip
                for name in ("ls", "stream"):  # InVEST clips its grid to the inputs' overlap
                    arrays[name] = _read_by_bounds(handles[name], lc.window_bounds(window))
                types = type_codes(lc.read(1, window=window), lookup)
                retained = step[0](types, arrays, step[1]) * 1.0  # t/hm² = t/ha
                dst.write(retained, 1, window=window)
                dst2.write(np.where(arrays["stream"] == 1, 0.0, retained), 1, window=window)
    for h in handles.values():
        h.close()
    return district_sums(out), district_sums(masked)


def _read_by_bounds(handle: Any, bounds: tuple[float, float, float, float]) -> Any:
    """A block of ``handle`` at the given coordinates, NaN outside it and at its nodata."""
    from rasterio.windows import from_bounds

    window = from_bounds(*bounds, transform=handle.transform).round_offsets().round_lengths()
    block = handle.read(1, window=window, boundless=True, fill_value=np.nan).astype(np.float64)
    if handle.nodata is not None:
        block[block == handle.nodata] = np.nan
    return block


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--res", type=float, nargs="+", default=[30.0, 10.0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ecoplan-bench-gep"))
    parser.add_argument("--invest-python", default=None, help="Python with natcap.invest (part b)")
    parser.add_argument("--flow", nargs="+", default=["MFD", "D8"])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for res in args.res:
        ensure_inputs(args.workdir, res)
        elapsed, peak, totals = run_ecoplan(args.workdir, res)
        city = {s: next(iter(v.values())) for s, v in totals.items()}
        print(f"({'a' if res >= 30 else 'c'}) {res:g} m full service set: {elapsed:.1f} s, peak {peak:.0f} MB, "
              f"{len(totals)} services; city quantities: " + ", ".join(f"{s} {q:.3g}" for s, q in city.items()), flush=True)  # fmt: skip
        if args.invest_python and res >= 30:
            ndvi = class_ndvi(args.workdir, res)
            ours_t, ours_mb, ours = run_ecoplan(args.workdir, res, ["soil_retention"], ndvi)
            table = invest_table(args.workdir)
            for flow in args.flow:
                inv_t, inv_mb, raster = run_invest(
                    args.invest_python, args.workdir, res, table, flow
                )
                theirs = district_sums(raster)
                mine = {c: v for c, v in ours["soil_retention"].items() if c in theirs}
                diffs = {c: (mine[c] - theirs[c]) / theirs[c] for c in theirs if theirs[c] > 0}
                total_diff = (sum(mine.values()) - sum(theirs.values())) / sum(theirs.values())
                print(f"(b) {res:g} m soil retention: ecoplan {ours_t:.1f} s / {ours_mb:.0f} MB, InVEST SDR {flow} "
                      f"{inv_t:.1f} s / {inv_mb:.0f} MB → {inv_t / ours_t:.1f}× faster; city total diff {total_diff:+.1%}; "
                      f"per-district diff {min(diffs.values()):+.1%} … {max(diffs.values()):+.1%}", flush=True)  # fmt: skip
                same_ls, no_stream = with_invest_ls(args.workdir, res, raster.parent, ndvi)
                same = {c: (same_ls[c] - theirs[c]) / theirs[c] for c in theirs if theirs[c] > 0}
                bare = {c: (no_stream[c] - theirs[c]) / theirs[c] for c in theirs if theirs[c] > 0}
                print(f"    with InVEST's LS raster in our R·K·LS·(1 − C·P): per-district diff "
                      f"{min(same.values()):+.2%} … {max(same.values()):+.2%}; also without InVEST's "
                      f"stream pixels: {min(bare.values()):+.2%} … {max(bare.values()):+.2%}")  # fmt: skip
                for code in sorted(diffs):
                    print(f"    {code}: ecoplan {mine[code]:.4g} t, InVEST {theirs[code]:.4g} t ({diffs[code]:+.1%}); "
                          f"same LS {same_ls[code]:.4g} t ({same[code]:+.2%}); "
                          f"same LS, no streams {no_stream[code]:.4g} t ({bare[code]:+.2%})")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
