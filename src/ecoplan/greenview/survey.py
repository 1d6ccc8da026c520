"""A street-level survey: manifest → green share per image → GVI per point → per district.

:func:`run_survey` reads and checks the manifest, keeps the green-season images, classifies
them in parallel (:mod:`ecoplan.greenview.batch`), places each point in its district
(:func:`ecoplan.cases.spatial.place_points`) and aggregates (:mod:`ecoplan.greenview.aggregate`).
Nothing is returned when a row or an image is bad: the error names every one.

The result is plain data (:class:`SurveyResult`: three DataFrames plus provenance) with
``to_records`` for whoever stores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecoplan.datafiles import file_record
from ecoplan.errors import ValidationError
from ecoplan.greenview.aggregate import district_summary, point_gvi
from ecoplan.greenview.batch import (
    ImageStore,
    Kind,
    classify_batch,
    open_store,
    raise_errors,
    worker_count,
)
from ecoplan.greenview.classify import MaskBackend, get_backend
from ecoplan.greenview.manifest import read_manifest
from ecoplan.greenview.method import GreenviewMethod

IMAGE_COLUMNS = ["line", "point_id", "year", "month", "date", "heading", "pitch", "lon", "lat",
                 "image", "width", "height", "green_pixels", "pixels", "green_percent", "sha256"]  # fmt: skip

Placer = Callable[[np.ndarray, np.ndarray], list[tuple[str | None, str | None]]]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (NaN → None)."""
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass
class SurveyResult:
    """Per image, per point (and year) and per district (and year) results of one survey.

    ``images``: :data:`IMAGE_COLUMNS`; ``points``: point_id, year, lon, lat, n_images, gvi (%),
    complete, missing_headings, district_code, district; ``districts``: year, district_code,
    district, n_points, mean_gvi, median_gvi (%), n_incomplete."""

    images: pd.DataFrame
    points: pd.DataFrame
    districts: pd.DataFrame
    method: str  # id@version
    method_sha256: str
    classifier: str
    manifest: dict[str, str]  # path and sha256
    months: tuple[int, ...]
    out_of_season: int  # manifest rows left out by the green-season filter
    incomplete: list[str] = field(default_factory=list)  # "point_id (year): reason"
    outside: list[str] = field(default_factory=list)  # point ids outside every district

    def provenance(self) -> dict[str, Any]:
        return {"method": self.method, "method_sha256": self.method_sha256,
                "classifier": self.classifier, "manifest": self.manifest,
                "months": list(self.months), "out_of_season": self.out_of_season}  # fmt: skip

    def to_records(self) -> dict[str, Any]:
        """Everything as JSON-ready lists of dicts, for storage."""
        return {
            "provenance": self.provenance(),
            "images": _records(self.images),
            "points": _records(self.points),
            "districts": _records(self.districts),
            "incomplete": list(self.incomplete),
            "outside": list(self.outside),
        }


def _default_placer(lon: np.ndarray, lat: np.ndarray) -> list[tuple[str | None, str | None]]:
    from ecoplan.cases.spatial import place_points

    return place_points(lon, lat)


def run_survey(
    manifest: Path,
    method: GreenviewMethod,
    *,
    images: Path | None = None,
    classifier: str | None = None,
    backend: MaskBackend | None = None,
    backend_name: str | None = None,
    months: Sequence[int] | None = None,
    workers: int | None = None,
    executor: Kind | None = None,
    placer: Placer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SurveyResult:
    """Compute a survey.

    ``images``: folder or zip holding the images (default: the manifest's folder);
    ``classifier``: a name from the method file or a registered backend (``backend`` given
    directly wins, recorded as ``backend_name``); ``months``: green season (default: the
    method's); ``workers`` and ``executor``: parallelism (default: the method's
    ``[parallel]``); ``placer``: district of each lon/lat (default: Beijing's 16 districts);
    ``progress(done, total)``: called after each image."""
    frame = read_manifest(manifest, method)
    store: ImageStore = open_store(images if images is not None else manifest.parent)
    missing = set(store.missing(list(frame["image"])))
    if missing:
        rows = [f"第 {r.line} 行: {r.image} 不存在(在 {store.label} 中)"
                for r in frame.itertuples() if r.image in missing]  # fmt: skip
        raise ValidationError(f"{manifest.name}: {len(rows)} 张图片找不到: {rows[0]}", rows)
    season = tuple(sorted(set(months if months is not None else method.season.months)))
    if not season or any(m < 1 or m > 12 for m in season):
        raise ValidationError("绿季月份应为 1–12 的整数")
    in_season = frame["month"].isin(season)
    kept = frame[in_season].reset_index(drop=True)
    if kept.empty:
        raise ValidationError(
            f"{manifest.name}: 没有在绿季({'、'.join(f'{m}月' for m in season)})拍摄的图片"
        )
    chosen = backend if backend is not None else get_backend(method, classifier)
    if backend is None:
        name = classifier or method.default_classifier
    else:
        name = backend_name or str(getattr(backend, "name", type(backend).__name__))
    total = len(kept)
    outcomes = classify_batch(
        list(kept["image"]), store, chosen, method.image,
        workers=worker_count(workers if workers is not None else method.parallel.workers),
        executor=executor or method.parallel.executor,
        progress=(lambda done: progress(done, total)) if progress else None,
    )  # fmt: skip
    raise_errors(outcomes, manifest.name, list(kept["line"]))
    table = kept.assign(
        width=[o.width for o in outcomes],
        height=[o.height for o in outcomes],
        green_pixels=[o.green_pixels for o in outcomes],
        pixels=[o.pixels for o in outcomes],
        green_percent=[o.fraction * 100 for o in outcomes],
        sha256=[o.sha256 for o in outcomes],
    )[IMAGE_COLUMNS]
    points = point_gvi(table, method.point)
    places = (placer or _default_placer)(
        points["lon"].to_numpy(float), points["lat"].to_numpy(float)
    )
    points["district_code"] = [p[0] for p in places]
    points["district"] = [p[1] for p in places]
    incomplete = [
        f"{r.point_id}({r.year}年): {r.n_images} 张图片"
        + (f",缺方位角 {r.missing_headings}" if r.missing_headings else "")
        for r in points.itertuples()
        if not r.complete
    ]
    outside = sorted(set(points.loc[points["district_code"].isna(), "point_id"]))
    return SurveyResult(
        images=table,
        points=points,
        districts=district_summary(points, method.point),
        method=method.key,
        method_sha256=method.sha256,
        classifier=name,
        manifest=file_record(manifest),
        months=season,
        out_of_season=int((~in_season).sum()),
        incomplete=incomplete,
        outside=outside,
    )
