"""The shipped method file and a user's replacement."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecoplan.errors import InputFileError, ValidationError
from ecoplan.greenview.method import ExgOtsuSpec, load_method
from tests.greenview.synth import shipped_method_text


def test_shipped_method() -> None:
    method = load_method()
    assert method.key == "greenview-treepedia-pixel@2024.1" and len(method.sha256) == 64
    tree = method.classifiers["treepedia"]
    # the Treepedia constants, read in GreenView_Calculate.py
    assert isinstance(tree, ExgOtsuSpec) and tree.verified
    assert (tree.rgb_max, tree.shadow_max, tree.shadow_exg) == ((0.6, 0.9, 0.6), 0.3, 0.05)
    assert (tree.threshold_min, tree.threshold_max, tree.threshold_fallback) == (0.05, 0.10, 0.1)
    assert method.point.headings == (0.0, 60.0, 120.0, 180.0, 240.0, 300.0)
    # the alternatives and the working defaults are marked unverified
    assert not method.classifiers["exg_exr"].verified and not method.classifiers["hsv"].verified
    assert not (method.season.verified or method.sampling.verified or method.verdict.verified)


def test_user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = shipped_method_text()
    mine = tmp_path / "mine.toml"
    mine.write_text(text.replace('version = "2024.1"', 'version = "bj-2025"'), encoding="utf-8")
    monkeypatch.setenv("ECOPLAN_GREENVIEW_METHOD", str(mine))
    assert load_method().key == "greenview-treepedia-pixel@bj-2025"
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("threshold_min = 0.05", "threshold_min = 0.5"), encoding="utf-8")
    with pytest.raises(ValidationError, match="threshold_min 不能大于 threshold_max"):
        load_method(bad)
    with pytest.raises(InputFileError, match="绿视率方法文件不存在"):
        load_method(tmp_path / "none.toml")
    (tmp_path / "broken.toml").write_text("id = ", encoding="utf-8")
    with pytest.raises(InputFileError, match="不是有效的 TOML"):
        load_method(tmp_path / "broken.toml")
