"""Decoding one image file into a float array in [0, 1], in one channel layout and size.

Mode rules (Pillow modes):

- EXIF orientation is applied first (`PIL.ImageOps.exif_transpose`).
- Multi-frame files (animated GIF, WebP, multi-page TIFF) use their first frame.
- Transparent images (``RGBA``, ``LA``, ``P`` or ``RGB``/``L`` with a transparency key) are
  composited over a background, white by default.
- 16-bit images (``I;16*``) are divided by 65535. 32-bit integer images (``I``) are divided
  by 65535 when their values fit in 0..65535, which is how Pillow opens some 16-bit PNG and
  TIFF files, and otherwise scaled by their own minimum and maximum. Float images (``F``)
  in [0, 1] are kept, others scaled by their own minimum and maximum.
- ``CMYK``, ``YCbCr``, ``HSV`` and other colour modes are converted to RGB by Pillow.
- An image counts as grayscale when its mode has one channel or when its R, G and B
  channels differ by at most `GRAY_TOLERANCE` everywhere (grayscale content saved as RGB,
  including JPEG noise).
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np
from PIL import EpsImagePlugin, ExifTags, Image, ImageFile, ImageOps

logger = logging.getLogger(__name__)

GRAY_TOLERANCE = 2 / 255
# ITU-R BT.601 luma weights, the ones Pillow's convert("L") uses.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
FITS = ("pad", "crop", "stretch")
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
# Formats Pillow can identify but not decode without extra software, or never decodes.
UNDECODABLE_FORMATS = {"MPEG", "IPTC"}
# Exceptions Pillow raises for unreadable, truncated or unsupported files. Besides OSError
# and ValueError, some format plugins let struct.error, IndexError, KeyError or TypeError
# escape on corrupt input.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError,
                 struct.error, IndexError, KeyError, TypeError)


def readable_extensions() -> frozenset[str]:
    """Return the lower-case file extensions of the formats this Pillow can decode."""
    Image.init()
    extensions = set()
    for extension, image_format in Image.registered_extensions().items():
        opener = Image.OPEN.get(image_format, (None,))[0]
        if opener is None or image_format in UNDECODABLE_FORMATS:
            continue
        if isinstance(opener, type) and issubclass(opener, ImageFile.StubImageFile):
            continue
        if image_format == "EPS" and not EpsImagePlugin.has_ghostscript():
            continue
        extensions.add(extension.lower())
    return frozenset(extensions)


def oriented_size(path: Path) -> tuple[int, int]:
    """Return an image's (height, width) after EXIF orientation, reading only its header.

    PNG files keep EXIF data either before or after the pixel data, and Pillow decodes the
    whole image to find the latter, so only EXIF data before the pixels counts here.
    """
    with Image.open(path) as image:
        width, height = image.size
        if image.format == "PNG":
            exif = Image.Exif()
            if "exif" in image.info:
                exif.load(image.info["exif"])
        else:
            exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
    # Orientations 5 to 8 rotate by 90 degrees, which swaps width and height.
    return (width, height) if orientation in (5, 6, 7, 8) else (height, width)


def decode_image(path: Path, background: float = 1.0) -> tuple[np.ndarray, bool]:
    """Decode an image file's first frame.

    Returns
    -------
    pixels : ndarray of float32, shape (1, H, W) or (3, H, W)
        Values in [0, 1]: one channel for single-channel modes, else RGB.
    is_gray : bool
        True when the image is grayscale (see the module docstring).

    Raises
    ------
    OSError, ValueError, SyntaxError, EOFError, PIL.Image.DecompressionBombError
        For unreadable, truncated or unsupported files (see `DECODE_ERRORS`).
    """
    with Image.open(path) as image:
        image.load()
        if getattr(image, "n_frames", 1) > 1:
            logger.debug("%s has %d frames; using the first.", path, image.n_frames)
        try:
            image = ImageOps.exif_transpose(image)
        except (OSError, ValueError, KeyError, TypeError, SyntaxError) as error:
            logger.warning("Ignoring unreadable EXIF orientation of %s (%s).", path, error)
        return image_to_array(image, background)


def image_to_array(image: Image.Image, background: float = 1.0) -> tuple[np.ndarray, bool]:
    """Convert a Pillow image to a float32 (C, H, W) array in [0, 1] and a grayscale flag."""
    mode = image.mode
    if mode in ("P", "PA") or (mode in ("RGB", "L") and "transparency" in image.info):
        image = image.convert("LA" if mode == "L" else "RGBA")
        mode = image.mode
    if mode == "1":
        image, mode = image.convert("L"), "L"
    if mode in ("RGBa", "La"):
        image = image.convert("RGBA" if mode == "RGBa" else "LA")
        mode = image.mode
    if mode in SIXTEEN_BIT_MODES:
        return np.asarray(image, dtype=np.float32)[None] / 65535.0, True
    if mode == "I":
        return _scale_wide_integers(np.asarray(image))[None], True
    if mode == "F":
        return _scale_floats(np.asarray(image, dtype=np.float32))[None], True
    if mode == "L":
        return np.asarray(image, dtype=np.float32)[None] / 255.0, True
    if mode in ("LA", "RGBA"):
        pixels = np.asarray(image, dtype=np.float32) / 255.0
        alpha = pixels[..., -1:]
        color = pixels[..., :-1] * alpha + background * (1.0 - alpha)
        return _channels_first(color)
    if mode != "RGB":
        image = image.convert("RGB")
    return _channels_first(np.asarray(image, dtype=np.float32) / 255.0)


def _channels_first(pixels: np.ndarray) -> tuple[np.ndarray, bool]:
    pixels = np.ascontiguousarray(np.moveaxis(pixels, -1, 0))
    if pixels.shape[0] == 1:
        return pixels, True
    spread = pixels.max(axis=0) - pixels.min(axis=0)
    return pixels, bool(spread.max() <= GRAY_TOLERANCE)


def _scale_wide_integers(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    if values.min() >= 0 and values.max() <= 65535:
        return (values / 65535.0).astype(np.float32)
    return _min_max(values)


def _scale_floats(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        return values
    return _min_max(values)


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = np.nanmin(values), np.nanmax(values)
    span = high - low if high > low else 1.0
    return ((values - low) / span).astype(np.float32)


def to_channels(pixels: np.ndarray, channels: int) -> np.ndarray:
    """Convert a (1, H, W) or (3, H, W) array to `channels` channels (RGB to gray by luma)."""
    if pixels.shape[0] == channels:
        return pixels
    if channels == 1:
        return np.tensordot(LUMA_WEIGHTS, pixels, axes=1)[None].astype(np.float32)
    return np.repeat(pixels, 3, axis=0)


def fit_image(pixels: np.ndarray, size: tuple[int, int], fit: str = "pad") -> np.ndarray:
    """Resize a (C, H, W) array to `size` = (height, width).

    ``pad`` scales the image to fit inside `size`, keeping its aspect ratio, and fills the
    margins with the median colour of the scaled image's border pixels (black for digits on
    black, white for objects on white). ``crop`` scales it to cover `size` and cuts the
    centre. ``stretch`` ignores the aspect ratio. Resampling is Lanczos, clipped to [0, 1].
    """
    height, width = pixels.shape[1:]
    target_height, target_width = size
    if (height, width) == (target_height, target_width):
        return pixels
    if fit == "stretch":
        return _resize(pixels, (target_height, target_width))
    if fit == "pad":
        scale = min(target_height / height, target_width / width)
    else:
        scale = max(target_height / height, target_width / width)
    scaled = (max(1, round(height * scale)), max(1, round(width * scale)))
    if fit == "pad":
        scaled = (min(scaled[0], target_height), min(scaled[1], target_width))
    resized = _resize(pixels, scaled)
    if fit == "crop":
        top = (resized.shape[1] - target_height) // 2
        left = (resized.shape[2] - target_width) // 2
        return np.ascontiguousarray(
            resized[:, top : top + target_height, left : left + target_width]
        )
    border = np.concatenate(
        [resized[:, 0, :], resized[:, -1, :], resized[:, :, 0], resized[:, :, -1]], axis=1
    )
    fill = np.median(border, axis=1).astype(np.float32)
    canvas = np.empty((pixels.shape[0], target_height, target_width), dtype=np.float32)
    canvas[:] = fill[:, None, None]
    top = (target_height - scaled[0]) // 2
    left = (target_width - scaled[1]) // 2
    canvas[:, top : top + scaled[0], left : left + scaled[1]] = resized
    return canvas


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if pixels.shape[1:] == size:
        return pixels
    channels = [
        np.asarray(
            Image.fromarray(channel).resize((size[1], size[0]), Image.Resampling.LANCZOS),
            dtype=np.float32,
        )
        for channel in pixels
    ]
    return np.clip(np.stack(channels), 0.0, 1.0)
