"""Classifying a batch of images on threads or processes: order, errors, fallbacks."""

from __future__ import annotations

import threading
import zipfile
from pathlib import Path

import pytest

from ecoplan.errors import ValidationError
from ecoplan.greenview.batch import FolderStore, ZipStore, classify_batch, raise_errors
from ecoplan.greenview.classify import get_backend
from ecoplan.greenview.method import load_method
from tests.greenview.synth import banded, png_bytes

METHOD = load_method()


def test_batch_keeps_order_and_reports_every_error(tmp_path: Path) -> None:
    for k in range(8):
        (tmp_path / f"{k}.png").write_bytes(png_bytes(banded(5 * k)))
    (tmp_path / "bad.png").write_bytes(b"x")
    names = [*(f"{k}.png" for k in range(8)), "bad.png"]
    backend = get_backend(METHOD)
    outcomes = classify_batch(names, FolderStore(tmp_path), backend, METHOD.image, workers=3)
    assert [o.fraction for o in outcomes[:8]] == [k * 5 / 40 for k in range(8)]
    assert outcomes[8].error == "bad.png: 不是可读取的图片文件"


def test_unpicklable_backend_runs_on_threads(tmp_path: Path) -> None:
    for k in range(4):
        (tmp_path / f"{k}.png").write_bytes(png_bytes(banded(10 * k)))
    names = [f"{k}.png" for k in range(4)]
    # a lambda cannot go to a worker process: the batch runs on threads, same answers
    outcomes = classify_batch(names, FolderStore(tmp_path), lambda rgb: rgb[..., 1] > rgb[..., 0],
                              METHOD.image, workers=2, executor="process")  # fmt: skip
    assert [o.fraction for o in outcomes] == [0.0, 0.25, 0.5, 0.75]


def test_processes_start_safely_beside_other_threads(tmp_path: Path) -> None:
    for k in range(4):
        (tmp_path / f"{k}.png").write_bytes(png_bytes(banded(10 * k)))
    names = [f"{k}.png" for k in range(4)]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # e.g. a progress bar's refresh thread
    other.start()
    try:  # a fork server starts the workers instead of fork
        outcomes = classify_batch(names, FolderStore(tmp_path), get_backend(METHOD), METHOD.image,
                                  workers=2, executor="process")  # fmt: skip
    finally:
        stop.set()
        other.join()
    assert [o.fraction for o in outcomes] == [0.0, 0.25, 0.5, 0.75]


def test_zip_members_are_size_checked_before_reading(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.png", b"\0" * 5000)  # 5,000 bytes inflated from a few dozen
        z.writestr("ok.png", png_bytes(banded(10)))
    store = ZipStore(tmp_path / "a.zip")
    spec = METHOD.image.model_copy(update={"max_file_bytes": 1000})
    outcomes = classify_batch(["big.png", "ok.png"], store, get_backend(METHOD), spec, workers=1)
    assert outcomes[0].error is not None and outcomes[0].error.startswith("big.png: 文件过大")
    assert outcomes[1].fraction == 0.25
    assert store.missing(["ok.png", "./ok.png", "none.png"]) == ["none.png"]
    with pytest.raises(
        ValidationError, match="1 张图片无法使用: 第 7 行 big.png: 文件过大"
    ) as info:
        raise_errors(outcomes, "m.csv", [7, 8])
    assert len(info.value.rows) == 1
