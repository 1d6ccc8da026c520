"""The optional ONNX backend. Models are tiny graphs built for the test (a 1×1 convolution
whose output is ExG = −R + 2G − B); they run only where onnxruntime is installed (it is not a
dependency). The clear error without onnxruntime is tested everywhere."""

from __future__ import annotations

import base64
import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

from ecoplan.errors import EcoplanError, InputFileError
from ecoplan.greenview.classify import (
    classify_array,
    get_backend,
    green_fraction,
    unregister_backend,
)
from ecoplan.greenview.method import load_method
from tests.greenview.synth import LEAF, banded, solid

METHOD = load_method()
HAVE_ORT = importlib.util.find_spec("onnxruntime") is not None
needs_ort = pytest.mark.skipif(
    not HAVE_ORT, reason="onnxruntime 未安装(可选依赖),跳过 ONNX 模型测试"
)

# Made with onnx.helper (onnx 1.23, opset 13, IR 8): Conv(image, w) with w = [−1, 2, −1] as a
# 1×3×1×1 kernel, input 'image' 1×3×H×W (any size) / fixed 1×3×8×8, output 'score' 1×1×H×W.
# The generator is in test_models_match_their_recipe (runs where the onnx package is installed).
ANY_SIZE = (
    "CAgSDGVjb3BsYW4tdGVzdDqMAQouCgVpbWFnZQoBdxIFc2NvcmUiBENvbnYqFQoMa2VybmVsX3NoYXBlQAFAAaABBxID"
    "ZXhnKhsIAQgDCAEIARABQgF3SgwAAIC/AAAAQAAAgL9aGwoFaW1hZ2USEgoQCAESDAoCCAEKAggDCgAKAGIbCgVzY29y"
    "ZRISChAIARIMCgIIAQoCCAEKAAoAQgQKABAN"
)
FIXED_8 = (
    "CAgSDGVjb3BsYW4tdGVzdDqUAQouCgVpbWFnZQoBdxIFc2NvcmUiBENvbnYqFQoMa2VybmVsX3NoYXBlQAFAAaABBxID"
    "ZXhnKhsIAQgDCAEIARABQgF3SgwAAIC/AAAAQAAAgL9aHwoFaW1hZ2USFgoUCAESEAoCCAEKAggDCgIICAoCCAhiHwoF"
    "c2NvcmUSFgoUCAESEAoCCAEKAggBCgIICAoCCAhCBAoAEA0="
)


def model_file(tmp_path: Path, blob: str, name: str = "exg.onnx") -> Path:
    path = tmp_path / name
    path.write_bytes(base64.b64decode(blob))
    return path


def test_models_match_their_recipe() -> None:
    if importlib.util.find_spec("onnx") is None:
        pytest.skip("onnx 未安装,跳过模型生成核对")
    import numpy as np

    onnx = importlib.import_module("onnx")
    helper, numpy_helper, TensorProto = onnx.helper, onnx.numpy_helper, onnx.TensorProto

    for blob, dims in ((ANY_SIZE, [None, None]), (FIXED_8, [8, 8])):
        weight = numpy_helper.from_array(np.array([[[[-1.0]], [[2.0]], [[-1.0]]]], np.float32), "w")
        graph = helper.make_graph(
            [helper.make_node("Conv", ["image", "w"], ["score"], kernel_shape=[1, 1])], "exg",
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, *dims])],
            [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, 1, *dims])], [weight],
        )  # fmt: skip
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="ecoplan-test"
        )
        model.ir_version = 8
        onnx.checker.check_model(model)
        assert model.SerializeToString() == base64.b64decode(blob)


def test_missing_onnxruntime_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ecoplan.greenview.onnx_backend as module

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(EcoplanError, match="未安装 onnxruntime.*pip install onnxruntime"):
        module.onnx_backend(model_file(tmp_path, ANY_SIZE), METHOD)
    with pytest.raises(InputFileError, match="ONNX 模型文件不存在"):
        module.onnx_backend(tmp_path / "none.onnx", METHOD)


@needs_ort
def test_onnx_model_as_backend(tmp_path: Path) -> None:
    from ecoplan.greenview.onnx_backend import onnx_backend, register_onnx

    # score = ExG; green where > 0: LEAF (ExG 0.667) yes, GREY (0) no → 10 of 40 rows = 25 %
    backend = onnx_backend(model_file(tmp_path, ANY_SIZE), METHOD)
    assert green_fraction(classify_array(banded(10), backend)) == 0.25
    # a model with a fixed 8×8 input: the 40×40 image is resized (bilinear) to 8×8 and the mask
    # back (nearest), 5 image rows per mask row. LEAF rows 0–9 fill mask rows 0–1; mask row 2
    # blends some LEAF in (ExG > 0) → 2 or 3 of 8 mask rows: 25 % or 37.5 %
    fixed = onnx_backend(model_file(tmp_path, FIXED_8, "fixed.onnx"), METHOD)
    mask = classify_array(banded(10), fixed)
    assert mask.shape == (40, 40) and green_fraction(mask) in (0.25, 0.375)
    assert mask[:10].all() and not mask[15:].any()
    assert green_fraction(classify_array(solid(LEAF, 30, 50), fixed)) == 1.0
    register_onnx("test-onnx", model_file(tmp_path, ANY_SIZE))
    try:
        assert green_fraction(classify_array(banded(20), get_backend(METHOD, "test-onnx"))) == 0.5
    finally:
        unregister_backend("test-onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(InputFileError, match="不是可用的 ONNX 模型"):
        onnx_backend(tmp_path / "junk.onnx", METHOD)


@needs_ort
def test_onnx_backend_survives_pickling(tmp_path: Path) -> None:
    import pickle

    from ecoplan.greenview.onnx_backend import onnx_backend

    backend = pickle.loads(pickle.dumps(onnx_backend(model_file(tmp_path, ANY_SIZE), METHOD)))
    assert green_fraction(classify_array(banded(30), backend)) == 0.75
