"""Image figures built from tiled decoded images: reconstructions, walks, samples, grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from latentspace.errors import InvalidParameterError
from latentspace.figures.common import (
    format_offset,
    mosaic_figure,
    plain_text,
    save_figure,
    tile_images,
    to_rgb,
)
from latentspace.store import atomic_path

GIF_MIN_HEIGHT = 112
GIF_FRAME_MS = 90
GIF_HOLD_MS = 600


def _check_images(images: np.ndarray, leading: int, name: str) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != leading + 3 or 0 in images.shape:
        raise InvalidParameterError(
            f"{name} must have {leading} leading axes followed by (C, H, W), "
            f"got shape {images.shape}."
        )
    return images


def _label_rows(ax, mosaic, labels: Sequence[str], fontsize: float = 9) -> None:
    ax.set_yticks(mosaic.row_centres(), [plain_text(label, 40) for label in labels],
                  fontsize=fontsize)
    ax.tick_params(axis="y", length=0)


def _label_cols(ax, mosaic, labels: Sequence[str], axis_title: str | None = None) -> None:
    ax.set_xticks(mosaic.col_centres(), [plain_text(label, 12) for label in labels],
                  fontsize=8)
    ax.tick_params(axis="x", length=0)
    if axis_title:
        ax.set_xlabel(plain_text(axis_title, 80))


def plot_reconstructions(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    path: str | Path,
    *,
    item_labels: Sequence[str] | None = None,
    title: str = "Originals and reconstructions",
) -> Path:
    """Write originals (top row) above their reconstructions (bottom row) as a PNG.

    Parameters
    ----------
    originals, reconstructions : ndarray, shape (n_items, C, H, W)
        Images in [0, 1]; values outside are clipped for display.
    path : path
        PNG file to write (atomically).
    item_labels : sequence of str, optional
        Text under each column, for example the class of each item.
    title : str
        Figure title.
    """
    originals = _check_images(originals, 1, "originals")
    reconstructions = _check_images(reconstructions, 1, "reconstructions")
    if originals.shape != reconstructions.shape:
        raise InvalidParameterError(
            f"originals and reconstructions must have the same shape, got {originals.shape} "
            f"and {reconstructions.shape}."
        )
    mosaic = tile_images(np.stack([originals, reconstructions]))
    figure, ax = mosaic_figure(mosaic, title, label_width=1.3)
    _label_rows(ax, mosaic, ["original", "reconstruction"])
    if item_labels is not None:
        _label_cols(ax, mosaic, item_labels)
    return save_figure(figure, path)


def plot_interpolations(
    lerp: np.ndarray,
    slerp: np.ndarray,
    path: str | Path,
    *,
    pair_labels: Sequence[str] | None = None,
    title: str = "Interpolations: lerp rows above slerp rows",
) -> Path:
    """Write interpolation strips, linear (lerp) rows above spherical (slerp) rows, as a PNG.

    Parameters
    ----------
    lerp, slerp : ndarray, shape (n_pairs, n_steps, C, H, W)
        Decoded images along each pair's path; row ``i`` of both is the same pair.
    path : path
        PNG file to write (atomically).
    pair_labels : sequence of str, optional
        One label per pair, for example ``"3 → 8"``.
    title : str
        Figure title.
    """
    lerp = _check_images(lerp, 2, "lerp")
    slerp = _check_images(slerp, 2, "slerp")
    if lerp.shape != slerp.shape:
        raise InvalidParameterError(
            f"lerp and slerp must have the same shape, got {lerp.shape} and {slerp.shape}."
        )
    n_pairs, n_steps = lerp.shape[:2]
    pair_labels = list(pair_labels) if pair_labels else [f"pair {i + 1}" for i in range(n_pairs)]
    mosaic = tile_images(np.concatenate([lerp, slerp]))
    figure, ax = mosaic_figure(mosaic, title, label_width=1.6)
    row_labels = [f"lerp  {label}" for label in pair_labels]
    row_labels += [f"slerp  {label}" for label in pair_labels]
    _label_rows(ax, mosaic, row_labels)
    steps = np.linspace(0.0, 1.0, n_steps)
    _label_cols(ax, mosaic, [f"{t:.2g}" for t in steps], "position t along the path")
    boundary = mosaic.pad / 2 + n_pairs * (mosaic.tile_height + mosaic.pad)
    ax.axhline(boundary - 0.5, color="#d62728", linewidth=2.0)
    return save_figure(figure, path)


def plot_image_grid(
    images: np.ndarray,
    path: str | Path,
    *,
    n_cols: int | None = None,
    title: str = "Samples decoded from the prior",
) -> Path:
    """Write images as a grid, filled row by row, as a PNG.

    Parameters
    ----------
    images : ndarray, shape (n_images, C, H, W)
        Images in [0, 1].
    path : path
        PNG file to write (atomically).
    n_cols : int, optional
        Grid width; defaults to the ceiling of the square root of `n_images`.
    title : str
        Figure title.
    """
    images = _check_images(images, 1, "images")
    n_cols = n_cols or int(np.ceil(np.sqrt(len(images))))
    n_rows = int(np.ceil(len(images) / n_cols))
    # Empty cells are filled with white, the mosaic's background.
    grid = np.ones((n_rows * n_cols, *images.shape[1:]), dtype=np.float32)
    grid[: len(images)] = images
    mosaic = tile_images(grid.reshape(n_rows, n_cols, *images.shape[1:]))
    figure, _ = mosaic_figure(mosaic, title, max_width=9.0)
    return save_figure(figure, path)


def plot_traversal(
    images: np.ndarray,
    path: str | Path,
    *,
    dims: Sequence[int],
    offsets: Sequence[float],
    dim_stds: Sequence[float] | None = None,
    offset_unit: str = "standard deviations of that dimension",
    title: str = "Latent traversal",
) -> Path:
    """Write a traversal grid: one row per latent dimension, one column per value, as a PNG.

    Parameters
    ----------
    images : ndarray, shape (n_dims, n_values, C, H, W)
        Decoded images with one latent dimension changed per row.
    path : path
        PNG file to write (atomically).
    dims : sequence of int
        The latent dimension of each row.
    offsets : sequence of float
        The value of each column, as an offset from the start item's latent in units
        of `offset_unit`.
    dim_stds : sequence of float, optional
        Standard deviation of each row's dimension over the data, shown in the row label.
    offset_unit : str
        Unit of `offsets`, shown in the axis label.
    title : str
        Figure title.
    """
    images = _check_images(images, 2, "images")
    if len(dims) != images.shape[0] or len(offsets) != images.shape[1]:
        raise InvalidParameterError(
            f"dims ({len(dims)}) and offsets ({len(offsets)}) must match the first two axes "
            f"of images, shape {images.shape}."
        )
    if dim_stds is not None and len(dim_stds) != len(dims):
        raise InvalidParameterError(
            f"dim_stds must have one value per row ({len(dims)}), got {len(dim_stds)}."
        )
    mosaic = tile_images(images)
    figure, ax = mosaic_figure(mosaic, title, label_width=1.5)
    if dim_stds is None:
        row_labels = [f"z{dim}" for dim in dims]
    else:
        row_labels = [f"z{dim} (σ={std:.2g})" for dim, std in zip(dims, dim_stds, strict=True)]
    _label_rows(ax, mosaic, row_labels)
    _label_cols(ax, mosaic, [format_offset(o) for o in offsets],
                f"offset from the item's latent, in {offset_unit}")
    return save_figure(figure, path)


def plot_manifold_grid(
    images: np.ndarray,
    path: str | Path,
    *,
    x_values: Sequence[float],
    y_values: Sequence[float],
    axis_labels: tuple[str, str] = ("z0", "z1"),
    title: str = "Decoded latent manifold",
) -> Path:
    """Write a regular grid of images decoded over two latent directions, as a PNG.

    Parameters
    ----------
    images : ndarray, shape (n_y, n_x, C, H, W)
        Decoded images; row ``i`` is at `y_values[i]`, column ``j`` at `x_values[j]`.
        Rows run top to bottom, so pass `y_values` in decreasing order for a usual plot.
    path : path
        PNG file to write (atomically).
    x_values, y_values : sequence of float
        Grid coordinates along each direction, shown as tick labels.
    axis_labels : tuple of str
        Names of the horizontal and vertical directions.
    title : str
        Figure title.
    """
    images = _check_images(images, 2, "images")
    mosaic = tile_images(images)
    figure, ax = mosaic_figure(mosaic, title, label_width=0.9, max_width=11.0)
    step_x = max(1, len(x_values) // 8)
    step_y = max(1, len(y_values) // 8)
    ax.set_xticks(mosaic.col_centres()[::step_x],
                  [f"{v:.2g}" for v in list(x_values)[::step_x]], fontsize=8)
    ax.set_yticks(mosaic.row_centres()[::step_y],
                  [f"{v:.2g}" for v in list(y_values)[::step_y]], fontsize=8)
    ax.set_xlabel(plain_text(axis_labels[0], 80))
    ax.set_ylabel(plain_text(axis_labels[1], 80))
    return save_figure(figure, path)


def _to_frame(images: np.ndarray, scale: int) -> Image.Image:
    """Join images shaped (n, C, H, W) side by side into one upscaled Pillow frame."""
    rgb = to_rgb(images)
    gap = np.ones((rgb.shape[1], max(1, rgb.shape[2] // 8), 3), dtype=np.float32)
    pieces = []
    for image in rgb:
        pieces.extend([image, gap])
    strip = np.concatenate(pieces[:-1], axis=1)
    strip = np.repeat(np.repeat(strip, scale, axis=0), scale, axis=1)
    pixels = np.round(strip * 255).astype(np.uint8)
    if images.shape[1] == 1:
        return Image.fromarray(pixels[..., 0], mode="L")
    return Image.fromarray(pixels, mode="RGB")


def save_gif(frames: Sequence[Image.Image], path: str | Path, *, frame_ms: int = GIF_FRAME_MS,
             hold_ms: int = GIF_HOLD_MS) -> Path:
    """Write `frames` forwards then backwards as a looping GIF, holding both ends.

    The end frames are shown for `hold_ms` and the others for `frame_ms` milliseconds.
    """
    if len(frames) < 2:
        raise InvalidParameterError(
            f"An animation needs at least 2 frames, got {len(frames)}. Use more steps."
        )
    sequence = list(frames) + list(frames[-2:0:-1])
    durations = [frame_ms] * len(sequence)
    durations[0] = hold_ms
    durations[len(frames) - 1] = hold_ms
    path = Path(path)
    with atomic_path(path) as temporary:
        sequence[0].save(temporary, format="GIF", save_all=True, append_images=sequence[1:],
                         duration=durations, loop=0, optimize=False, disposal=1)
    return path


def write_interpolation_gif(
    frames: np.ndarray,
    path: str | Path,
    *,
    min_height: int = GIF_MIN_HEIGHT,
    frame_ms: int = GIF_FRAME_MS,
    hold_ms: int = GIF_HOLD_MS,
) -> Path:
    """Write an interpolation as a looping GIF that plays forwards, then backwards.

    Parameters
    ----------
    frames : ndarray, shape (n_steps, C, H, W) or (n_steps, n_pairs, C, H, W)
        Decoded images along the path; several pairs are shown side by side.
    path : path
        GIF file to write (atomically).
    min_height : int
        Images are enlarged by a whole factor (nearest neighbour) to at least this height.
    frame_ms, hold_ms : int
        Display time of the inner frames and of the two end frames, in milliseconds.
    """
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim == 4:
        frames = frames[:, None]
    frames = _check_images(frames, 2, "frames")
    scale = max(1, int(np.ceil(min_height / frames.shape[-2])))
    pictures = [_to_frame(step, scale) for step in frames]
    return save_gif(pictures, path, frame_ms=frame_ms, hold_ms=hold_ms)
