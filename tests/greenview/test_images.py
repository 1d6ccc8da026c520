"""Decoding images: modes and EXIF orientation, and refusing what is not a usable image."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ecoplan.errors import ValidationError
from ecoplan.greenview.images import decode_image, read_image
from ecoplan.greenview.method import load_method
from tests.greenview.synth import LEAF, banded, jpeg_bytes, png_bytes

SPEC = load_method().image


def test_png_round_trip() -> None:
    rgb = banded(10, 20, 30)
    out = decode_image(png_bytes(rgb), "a.png", SPEC)
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
    assert np.array_equal(out, rgb)


@pytest.mark.parametrize("mode", ["RGBA", "P", "L", "CMYK", "I;16"])
def test_modes_become_rgb(mode: str) -> None:
    image = Image.fromarray(banded(5, 10, 10)).convert(mode if mode != "I;16" else "L")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype("<u2") * 257)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG" if mode == "CMYK" else "PNG")
    out = decode_image(buffer.getvalue(), f"x.{mode}", SPEC)
    assert out.shape == (10, 10, 3)
    if mode == "I;16":  # 16-bit grey scaled back to 8 bits: grey of GREY is 128
        assert int(out[9, 0, 0]) == 128


def test_exif_orientation_is_applied() -> None:
    # stored 40 wide × 20 high with the top 5 rows green; orientation 6 = "rotate 90° clockwise
    # to display" → shown 20 wide × 40 high, the green rows become the right-hand 5 columns
    rgb = banded(5, 20, 40)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = decode_image(jpeg_bytes(rgb, exif=exif), "turned.jpg", SPEC)
    assert out.shape == (40, 20, 3)
    assert np.abs(out[:, -3:].astype(int) - LEAF).max() < 12
    assert np.abs(out[:, :10].astype(int) - 128).max() < 12


def test_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"^notes\.jpg: 不是可读取的图片文件"):
        decode_image(b"just some text, not a JPEG", "notes.jpg", SPEC)
    with pytest.raises(ValidationError, match="empty.png: 文件为空"):
        decode_image(b"", "empty.png", SPEC)
    with pytest.raises(ValidationError, match="missing.jpg: 图片文件不存在"):
        read_image(tmp_path / "missing.jpg", SPEC)


def test_truncated_jpeg_is_refused() -> None:
    data = jpeg_bytes(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    with pytest.raises(ValidationError, match=r"cut\.jpg: 图片已损坏或不完整"):
        decode_image(data[: len(data) // 2], "cut.jpg", SPEC)


def test_formats_outside_the_method_are_refused() -> None:
    buffer = io.BytesIO()
    Image.fromarray(banded(5)).save(buffer, format="BMP")
    with pytest.raises(ValidationError, match="图片格式 BMP 不受支持"):
        decode_image(buffer.getvalue(), "a.bmp", SPEC)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width × height`` pixels, with one tiny IDAT chunk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))  # fmt: skip


def test_decompression_bombs_are_refused_before_decoding() -> None:
    # 100 000 × 100 000 = 10¹⁰ pixels declared in 100 bytes: Pillow itself refuses it at open
    with pytest.raises(ValidationError, match="bomb.png: 图像像素数过大"):
        decode_image(_png_header_only(100_000, 100_000), "bomb.png", SPEC)
    # 8 000 × 6 000 = 48 MP: under Pillow's limit, over the method's 40 MP: refused from the header
    with pytest.raises(ValidationError, match="8000×6000 像素超过上限"):
        decode_image(_png_header_only(8_000, 6_000), "big.png", SPEC)
    small = SPEC.model_copy(update={"max_pixels": 100})
    with pytest.raises(ValidationError, match="超过上限 100"):
        decode_image(png_bytes(banded(5, 20, 20)), "a.png", small)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(banded(5)))
    with pytest.raises(ValidationError, match="a.png: 文件过大"):
        read_image(path, SPEC.model_copy(update={"max_file_bytes": 10}))
