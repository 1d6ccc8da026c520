"""Green view benchmark (issue 9): classify 1,000 street-like 640×640 images with the colour
method (Treepedia ExG + clamped Otsu) on 2 workers.

Images (fixed seed, one generator per image): a sky band with a gradient, façades, a grey road
with noise, and 2–7 green crowns (ellipses) with leaf texture, shadowed undersides and sensor
noise, so the Otsu threshold, the shadow rule and the caps all do work. The share of crown
pixels is kept as the "drawn" green share for a sanity check (noise and JPEG make the
classified share differ a little).

Phases, each with its own peak memory (VmHWM reset through /proc/self/clear_refs):
1. decode + classify from JPEG files in a temp dir (the product's path: ``classify_batch``
   over a folder), on threads and on processes, 2 workers; also 1 worker for scale;
2. classify only, the 1,000 decoded arrays in memory (1.2 GB of pixels), on 2 threads.

Each configuration runs ``--repeat`` times, interleaved; the best and the median rate are
shown (other work on the machine only ever slows a run down). Goal: ≥ 200 images/s on 2 cores.

Run: ``.venv/bin/python bench/bench_greenview.py [--n 1000] [--size 640] [--workers 2]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

GOAL = 200.0  # images per second


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # Linux: "5" resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def street_image(index: int, size: int = 640, seed: int = 2024) -> tuple[np.ndarray, float]:
    """A street-like RGB image and the share of pixels drawn as foliage."""
    rng = np.random.default_rng((seed, index))
    h = w = size
    img = np.empty((h, w, 3), dtype=np.float32)
    sky = int(h * rng.uniform(0.15, 0.4))
    road = int(h * rng.uniform(0.62, 0.85))
    # sky: blue to pale towards the horizon
    t = (np.arange(sky, dtype=np.float32) / max(sky, 1))[:, None]
    img[:sky] = (np.array([110, 170, 230]) * (1 - t) + np.array([200, 215, 230]) * t)[:, None, :]
    # façades: blocks of grey / brick / beige between sky and road
    edges = np.sort(rng.integers(0, w, 6))
    palette = np.array([[150, 150, 150], [160, 110, 90], [200, 190, 160], [90, 90, 100]])
    colours = palette[rng.integers(0, len(palette), 7)]
    img[sky:road] = colours[np.searchsorted(edges, np.arange(w))][None, :, :]
    # road: asphalt grey with a lane marking
    img[road:] = (95, 95, 98)
    mid = road + (h - road) // 2
    img[mid : mid + 4, w // 3 : 2 * w // 3] = (235, 235, 235)
    # crowns: ellipses of foliage with leaf texture and a darker underside
    foliage = np.zeros((h, w), dtype=bool)
    texture = rng.uniform(0.75, 1.2, (h, w)).astype(np.float32)
    for _ in range(int(rng.integers(2, 8))):
        cy, cx = rng.uniform(0.1 * h, 0.8 * h), rng.uniform(0, w)
        ry, rx = rng.uniform(0.06, 0.22) * h, rng.uniform(0.06, 0.25) * w
        top, bottom = max(0, int(cy - ry)), min(h, int(cy + ry) + 1)
        left, right = max(0, int(cx - rx)), min(w, int(cx + rx) + 1)
        y = np.arange(top, bottom, dtype=np.float32)[:, None]
        x = np.arange(left, right, dtype=np.float32)[None, :]
        inside = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1
        base = np.array(
            [rng.uniform(40, 90), rng.uniform(100, 160), rng.uniform(30, 70)], dtype=np.float32
        )
        shade = np.clip(0.45 + 0.55 * (cy + ry - y) / (2 * ry), 0.35, 1.0)  # darker below
        leaf = base * (shade * texture[top:bottom, left:right])[:, :, None]
        window = img[top:bottom, left:right]
        window[inside] = leaf[inside]
        foliage[top:bottom, left:right] |= inside
    img += rng.standard_normal(img.shape, dtype=np.float32) * 6  # sensor noise
    return np.clip(img, 0, 255).astype(np.uint8), float(foliage.mean())


def write_images(folder: Path, n: int, size: int) -> tuple[list[str], np.ndarray]:
    names, drawn = [], np.empty(n)
    for i in range(n):
        rgb, drawn[i] = street_image(i, size)
        name = f"img_{i:05d}.jpg"
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
        (folder / name).write_bytes(buffer.getvalue())
        names.append(name)
    return names, drawn


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--size", type=int, default=640)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each configuration (best and median shown)"
    )
    args = parser.parse_args()

    from ecoplan.greenview.batch import FolderStore, Kind, classify_batch
    from ecoplan.greenview.classify import classify_array, get_backend, green_fraction
    from ecoplan.greenview.images import decode_image
    from ecoplan.greenview.method import load_method

    method = load_method()
    backend = get_backend(method)  # the method's default: treepedia
    print(f"{method.key}, classifier {method.default_classifier}; {os.cpu_count()} CPUs; "
          f"{args.n} images of {args.size}×{args.size}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        names, drawn = write_images(folder, args.n, args.size)
        megabytes = sum((folder / n).stat().st_size for n in names) / 1e6
        print(
            f"generated {args.n} JPEGs ({megabytes:.0f} MB) in {time.perf_counter() - start:.1f} s"
        )

        store = FolderStore(folder)
        runs: list[tuple[Kind, int]] = [
            ("process", args.workers),
            ("thread", args.workers),
            ("thread", 1),
        ]
        rates: dict[tuple[Kind, int], list[float]] = {run: [] for run in runs}
        peaks: dict[tuple[Kind, int], float] = {}
        results = {}
        for _ in range(args.repeat):  # interleaved, so that load from elsewhere hits all alike
            for executor, workers in runs:
                _reset_peak()
                start = time.perf_counter()
                outcomes = classify_batch(
                    names, store, backend, method.image, workers=workers, executor=executor
                )
                rates[(executor, workers)].append(args.n / (time.perf_counter() - start))
                peaks[(executor, workers)] = max(peaks.get((executor, workers), 0.0), _peak_mb())
                assert not any(o.error for o in outcomes)
                results[(executor, workers)] = np.array([o.fraction for o in outcomes])
        for run in runs:
            executor, workers = run
            best, median = max(rates[run]), float(np.median(rates[run]))
            goal = (
                f" (goal ≥ {GOAL:.0f}/s: {'PASS' if best >= GOAL else 'MISS'})"
                if workers == args.workers
                else ""
            )
            children = ""
            if executor == "process":  # ru_maxrss: the largest worker process so far (KiB)
                children = f", largest worker {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB"
            print(f"decode + classify, {workers} {executor} worker(s): best {best:.0f} images/s "
                  f"({args.n / best:.2f} s), median {median:.0f}/s of {args.repeat}, "
                  f"peak {peaks[run]:.0f} MB{children}{goal}")  # fmt: skip
        assert np.array_equal(results[("thread", args.workers)], results[("process", args.workers)])
        classified = results[("thread", args.workers)]
        error = np.abs(classified - drawn)
        print(f"green share: drawn mean {drawn.mean() * 100:.1f} %, classified mean {classified.mean() * 100:.1f} %, "
              f"mean |difference| {error.mean() * 100:.2f} points (max {error.max() * 100:.2f})")  # fmt: skip

        arrays = [decode_image((folder / n).read_bytes(), n, method.image) for n in names]
        _reset_peak()
        memory_rates = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                shares = list(
                    pool.map(lambda a: green_fraction(classify_array(a, backend)), arrays)
                )
            memory_rates.append(args.n / (time.perf_counter() - start))
            assert np.allclose(shares, classified)
        print(f"classify only (arrays in memory), {args.workers} threads: best {max(memory_rates):.0f} images/s, "
              f"median {np.median(memory_rates):.0f}/s, peak {_peak_mb():.0f} MB "
              f"(holds {sum(a.nbytes for a in arrays) / 1e6:.0f} MB of pixels)")  # fmt: skip
        print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
