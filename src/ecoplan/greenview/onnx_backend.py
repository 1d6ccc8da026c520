"""Optional segmentation backend: a user-supplied ONNX model run with ``onnxruntime``.

No model is shipped and ``onnxruntime`` is not a dependency (field.md §5.3: no package on the
registries ships vegetation-segmentation weights usable offline). A user with a model installs
``onnxruntime`` and selects it with ``--model model.onnx`` (or registers it under a name with
:func:`register_onnx`). The ``[onnx]`` table of the method file says how to feed and read it:

- input ``1 × 3 × H × W`` float32, ``(value / 255 − mean) / std`` per channel; H × W is the
  model's fixed input size (the image is resized to it) or the image's own when the model
  takes any size;
- output ``N × C × H × W`` scores (green where the arg-max class is in ``green_classes``),
  ``N × 1 × H × W`` (green where the score > ``score_threshold``), or ``N × H × W`` class ids;
  a mask of another size is resized to the image's (nearest neighbour).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ecoplan.errors import EcoplanError, InputFileError, ValidationError
from ecoplan.greenview.classify import RGB, Mask, check_rgb, register_backend
from ecoplan.greenview.method import GreenviewMethod, OnnxSpec

INSTALL_HINT = (
    "未安装 onnxruntime,无法使用 ONNX 分割模型。请先安装: pip install onnxruntime;"
    "或改用内置颜色法(--classifier treepedia)"
)


def _runtime() -> Any:
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as exc:
        raise EcoplanError(INSTALL_HINT) from exc


class OnnxBackend:
    """A :class:`~ecoplan.greenview.classify.MaskBackend` over an ONNX model. The session is
    created on first use in each process (the backend pickles as its path and settings)."""

    def __init__(self, model: Path, spec: OnnxSpec) -> None:
        self.model = Path(model)
        self.spec = spec
        if not self.model.is_file():
            raise InputFileError(self.model, "ONNX 模型文件不存在")
        self._lock = threading.Lock()
        self._session: Any = None
        self.session()  # fail now (missing onnxruntime, bad model), not inside a worker

    def __getstate__(self) -> dict[str, Any]:
        return {"model": self.model, "spec": self.spec}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.model, self.spec = state["model"], state["spec"]
        self._lock, self._session = threading.Lock(), None

    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                runtime = _runtime()
                try:
                    self._session = runtime.InferenceSession(
                        str(self.model), providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
                    raise InputFileError(
                        self.model, f"不是可用的 ONNX 模型({type(exc).__name__})"
                    ) from exc
                shape = self._session.get_inputs()[0].shape
                if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
                    raise ValidationError(f"{self.model.name}: 模型输入应为 N×3×H×W,实际为 {shape}")
            return self._session

    def _input_size(self, height: int, width: int) -> tuple[int, int]:
        shape = self.session().get_inputs()[0].shape
        fixed_h, fixed_w = shape[2], shape[3]
        if isinstance(fixed_h, int) and isinstance(fixed_w, int) and fixed_h > 0 and fixed_w > 0:
            return fixed_h, fixed_w
        return height, width

    def __call__(self, rgb: RGB, /) -> Mask:
        rgb = check_rgb(rgb)
        height, width = rgb.shape[:2]
        in_h, in_w = self._input_size(height, width)
        image = rgb
        if (in_h, in_w) != (height, width):
            image = np.asarray(Image.fromarray(rgb).resize((in_w, in_h), Image.Resampling.BILINEAR))
        mean = np.asarray(self.spec.mean, dtype=np.float32)
        std = np.asarray(self.spec.std, dtype=np.float32)
        tensor = ((image.astype(np.float32) / 255.0 - mean) / std).transpose(2, 0, 1)[None]
        session = self.session()
        name = session.get_inputs()[0].name
        output = np.asarray(session.run(None, {name: np.ascontiguousarray(tensor)})[0])
        mask = self._mask(output)
        if mask.shape != (height, width):
            resized = Image.fromarray(mask.astype(np.uint8) * 255).resize(
                (width, height), Image.Resampling.NEAREST
            )
            mask = np.asarray(resized) > 0
        return mask

    def _mask(self, output: np.ndarray) -> Mask:
        if output.ndim == 4 and output.shape[1] == 1:
            return np.asarray(output[0, 0] > self.spec.score_threshold)
        if output.ndim == 4:
            if not self.spec.green_classes:
                raise ValidationError(
                    "ONNX 模型输出多个类别,请在方法文件 [onnx] green_classes 中给出植被类别编号"
                )
            return np.isin(output[0].argmax(axis=0), self.spec.green_classes)
        if output.ndim == 3 and np.issubdtype(output.dtype, np.integer):
            if not self.spec.green_classes:
                raise ValidationError(
                    "ONNX 模型输出类别编号,请在方法文件 [onnx] green_classes 中给出植被类别编号"
                )
            return np.isin(output[0], self.spec.green_classes)
        raise ValidationError(f"无法解读 ONNX 模型输出(形状 {output.shape},类型 {output.dtype})")


def register_onnx(name: str, model: Path) -> None:
    """Make ``model`` selectable as classifier ``name``."""
    register_backend(name, lambda method: OnnxBackend(model, method.onnx))


def onnx_backend(model: Path, method: GreenviewMethod) -> OnnxBackend:
    return OnnxBackend(model, method.onnx)
