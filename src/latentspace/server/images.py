"""Conversion of samples in (channels, height, width) layout to PNG bytes and data URLs."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Convert a (C, H, W) float image in [0, 1] to uint8 pixels for Pillow.

    Returns (H, W) for one channel and (H, W, C) for three or four channels. Values
    outside [0, 1] are clipped and NaN becomes 0, since decoders can overshoot.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"Expected an image of shape (C, H, W), got shape {image.shape}.")
    pixels = np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)
    pixels = np.rint(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)
    channels = pixels.shape[0]
    if channels in (3, 4):
        return np.ascontiguousarray(pixels.transpose(1, 2, 0))
    # NOTE: images with 2 or more than 4 channels are shown as their first channel in grey.
    return np.ascontiguousarray(pixels[0])


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode uint8 pixels, (H, W) or (H, W, 3|4), as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def png_data_url(image: np.ndarray) -> str:
    """Encode a (C, H, W) float image as a ``data:image/png;base64,...`` URL at native size."""
    encoded = base64.b64encode(encode_png(to_uint8(image))).decode("ascii")
    return f"data:image/png;base64,{encoded}"
