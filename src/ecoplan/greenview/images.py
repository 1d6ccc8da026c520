"""Reading street-level images for the classifier: bytes → RGB ``uint8`` array.

JPEG and PNG (the formats in the method file) are decoded with Pillow, turned upright by their
EXIF orientation and converted to RGB (palette, grey, CMYK and alpha images alike). What is not
such an image, what is truncated or corrupt, and what would decode to more pixels than the
method's ``max_pixels`` (a "decompression bomb") is refused with a ValidationError naming the
file; nothing is decoded from an oversized header.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError

from ecoplan.errors import ValidationError
from ecoplan.greenview.classify import RGB
from ecoplan.greenview.method import ImageSpec


def decode_image(data: bytes, name: str, spec: ImageSpec) -> RGB:
    """Decode ``data`` (the bytes of the file called ``name``) to an upright H × W × 3 array."""
    if len(data) > spec.max_file_bytes:
        raise ValidationError(
            f"{name}: 文件过大({len(data) / 1048576:.1f} MiB,上限 "
            f"{spec.max_file_bytes / 1048576:.0f} MiB)"
        )
    if not data:
        raise ValidationError(f"{name}: 文件为空,不是图片")
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past 2× its own limit raises) on huge images; our limit is the
            # method's, checked from the header below before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ValidationError(f"{name}: 图像像素数过大,疑似解压炸弹,已拒收") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"{name}: 不是可读取的图片文件") from exc
    with image:
        if image.format not in spec.formats:
            raise ValidationError(
                f"{name}: 图片格式 {image.format or '未知'} 不受支持(只接受 {'、'.join(spec.formats)})"
            )
        width, height = image.size
        if width * height > spec.max_pixels:
            raise ValidationError(
                f"{name}: 图像 {width}×{height} 像素超过上限 {spec.max_pixels:,}(疑似解压炸弹),已拒收"
            )
        if width == 0 or height == 0:
            raise ValidationError(f"{name}: 图像为空(0 像素)")
        try:
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone switched Pillow's tolerance on
                raise ValidationError(
                    f"{name}: Pillow 的 LOAD_TRUNCATED_IMAGES 已开启,无法检查截断"
                )
            image.load()  # decodes now: a truncated or corrupt file fails here
            turned = image.getexif().get(ExifTags.Base.Orientation, 1) not in (1, None)
            upright = ImageOps.exif_transpose(image) if turned else image
            rgb = upright if upright.mode == "RGB" else _to_rgb(upright)
            array = np.asarray(rgb, dtype=np.uint8)
        except ValidationError:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise ValidationError(f"{name}: 图片已损坏或不完整(截断)") from exc
    return array


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB of any mode; transparent pixels are composited on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: 0–65535 to 0–255 (Pillow's RGB conversion would clip at 255)
        values = np.asarray(image, dtype=np.float64) / 257.0
        grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(grey[..., None], 3, axis=2))
    return image.convert("RGB")


def read_image(path: Path, spec: ImageSpec, name: str | None = None) -> RGB:
    """Read and decode an image file (see :func:`decode_image`)."""
    shown = name or path.name
    try:
        size = path.stat().st_size
        if size > spec.max_file_bytes:
            raise ValidationError(
                f"{shown}: 文件过大({size / 1048576:.1f} MiB,上限 "
                f"{spec.max_file_bytes / 1048576:.0f} MiB)"
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(f"{shown}: 图片文件不存在") from exc
    except IsADirectoryError as exc:
        raise ValidationError(f"{shown}: 是文件夹,不是图片") from exc
    except OSError as exc:
        raise ValidationError(f"{shown}: 无法读取({type(exc).__name__})") from exc
    return decode_image(data, shown, spec)
