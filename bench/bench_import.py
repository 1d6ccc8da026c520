"""Import speed: text-layer parsing per 1,000 measures and PDF parsing per 100 pages.

Goals (issue 3): under 1 s per 1,000 measures of text, under 5 s per 100 PDF pages.
The inputs are generated from the packaged sample plan (renumbered repeats), so the
benchmark needs nothing outside the repository. Run: ``.venv/bin/python bench/bench_import.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.plans import builders

from ecoplan.demo import sample_plan_path
from ecoplan.plans.parsers import parse_bytes, parse_file


def _best_of(runs: int, func, *args):  # type: ignore[no-untyped-def]
    best = float("inf")
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = func(*args)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    seed = parse_file(sample_plan_path())
    # 1) the seed text itself
    data = sample_plan_path().read_bytes()
    seconds, doc = _best_of(5, parse_bytes, data, "seed.txt")
    print(f"seed text: {doc.counts()['measures']} measures in {seconds * 1000:.1f} ms")

    # 2) text layer with 32 × 32 = 1,024 measures
    text = builders.to_text(seed, repeat=32).encode("utf-8")
    seconds, doc = _best_of(3, parse_bytes, text, "long.txt")
    n = doc.counts()["measures"]
    per_1000 = seconds / n * 1000
    print(
        f"text: {n} measures in {seconds:.2f} s -> {per_1000:.2f} s per 1,000 measures (goal < 1 s, ratio {per_1000 / 1.0:.2f})"
    )

    # 3) ruled-table PDF of about 100 pages (36 rows × 14 repeats at 5 rows a page)
    pdf = builders.to_pdf(seed, per_page=5, repeat=14)
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(pdf))
    seconds, doc = _best_of(2, parse_bytes, pdf, "long.pdf")
    per_100 = seconds / pages * 100
    print(
        f"pdf: {pages} pages, {doc.counts()['measures']} measures in {seconds:.2f} s -> "
        f"{per_100:.2f} s per 100 pages (goal < 5 s, ratio {per_100 / 5.0:.2f})"
    )


if __name__ == "__main__":
    main()
