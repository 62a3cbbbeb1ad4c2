"""Maps of a projection: coloured by label, in 3-D, and with image thumbnails at their points."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from latentspace.errors import InvalidParameterError
from latentspace.figures.common import (
    label_colour_of,
    new_figure,
    plain_text,
    save_figure,
    scatter_labelled,
    to_rgb,
)

THUMBNAIL_FRACTION = 0.045
MAX_THUMBNAILS = 400
MAP_3D_VIEWS = ((22.0, -60.0), (22.0, 30.0))


def _check_coords(coords: np.ndarray, dims: int, name: str = "coords") -> np.ndarray:
    coords = np.asarray(coords, dtype=np.float32)
    if coords.ndim != 2 or coords.shape[1] != dims or len(coords) == 0:
        raise InvalidParameterError(
            f"{name} must have shape (n_points, {dims}) with at least one point, "
            f"got shape {coords.shape}. Pass a {dims}-D projection."
        )
    return coords


def plot_map(
    coords: np.ndarray,
    path: str | Path,
    *,
    labels: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    label_title: str = "label",
    title: str = "Latent map",
    axis_labels: tuple[str, str] = ("dimension 1", "dimension 2"),
) -> Path:
    """Write a 2-D scatter map of a projection, coloured by label, as a PNG.

    Parameters
    ----------
    coords : ndarray, shape (n_points, 2)
        Projected coordinates.
    path : path
        PNG file to write (atomically).
    labels : ndarray, shape (n_points,), optional
        Integer class codes (legend) or floats (colorbar).
    label_names : sequence of str, optional
        Name of each class code; None means `labels` is continuous when it is float.
    label_title, title : str
        Legend or colorbar title, and figure title.
    axis_labels : tuple of str
        Names of the two projection axes.

    Returns
    -------
    Path
        The written file.
    """
    coords = _check_coords(coords, 2)
    figure = new_figure(8.5, 7.0)
    ax = figure.add_subplot()
    scatter_labelled(figure, ax, coords, labels, label_names, label_title)
    ax.set_title(plain_text(title, 120))
    ax.set_xlabel(plain_text(axis_labels[0], 60))
    ax.set_ylabel(plain_text(axis_labels[1], 60))
    ax.grid(True, alpha=0.25)
    return save_figure(figure, path)


def plot_map_3d(
    coords: np.ndarray,
    path: str | Path,
    *,
    labels: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    label_title: str = "label",
    title: str = "Latent map in 3-D",
    axis_labels: tuple[str, str, str] = ("dimension 1", "dimension 2", "dimension 3"),
) -> Path:
    """Write a 3-D scatter of a projection, seen from two angles, coloured by label, as a PNG.

    Parameters are those of `plot_map`, with `coords` of shape (n_points, 3) and three
    axis labels.
    """
    coords = _check_coords(coords, 3)
    figure = new_figure(13.0, 6.2)
    figure.suptitle(plain_text(title, 120))
    for i, (elevation, azimuth) in enumerate(MAP_3D_VIEWS):
        ax = figure.add_subplot(1, 2, i + 1, projection="3d")
        last = i == len(MAP_3D_VIEWS) - 1
        scatter_labelled(figure, ax, coords, labels, label_names, label_title, legend=last)
        ax.view_init(elev=elevation, azim=azimuth)
        ax.set_title(f"view from azimuth {azimuth:g}°", fontsize=9)
        ax.set_xlabel(plain_text(axis_labels[0], 40))
        ax.set_ylabel(plain_text(axis_labels[1], 40))
        ax.set_zlabel(plain_text(axis_labels[2], 40))
    return save_figure(figure, path)


def select_spread(coords: np.ndarray, spacing: float, max_count: int, seed: int = 0) -> np.ndarray:
    """Pick points at least `spacing` apart (Chebyshev distance in axis-scaled units).

    Coordinates are scaled so each axis spans [0, 1]. Points are visited in a fixed random
    order, and a point is selected when no selected point lies within `spacing`, so
    squares of side `spacing` centred on the selected points never overlap.
    """
    coords = np.asarray(coords, dtype=np.float64)
    low = coords.min(axis=0)
    span = np.maximum(coords.max(axis=0) - low, 1e-12)
    scaled = (coords - low) / span
    cells: dict[tuple[int, int], list[int]] = {}
    selected: list[int] = []
    for index in np.random.default_rng(seed).permutation(len(coords)):
        point = scaled[index]
        cell = (int(point[0] // spacing), int(point[1] // spacing))
        neighbours = (
            other
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for other in cells.get((cell[0] + dx, cell[1] + dy), ())
        )
        if any(np.max(np.abs(scaled[other] - point)) < spacing for other in neighbours):
            continue
        cells.setdefault(cell, []).append(int(index))
        selected.append(int(index))
        if len(selected) >= max_count:
            break
    return np.asarray(selected, dtype=np.int64)


def plot_thumbnail_map(
    coords: np.ndarray,
    images: np.ndarray,
    path: str | Path,
    *,
    labels: np.ndarray | None = None,
    label_names: Sequence[str] | None = None,
    label_title: str = "label",
    title: str = "Latent map with thumbnails",
    axis_labels: tuple[str, str] = ("dimension 1", "dimension 2"),
    thumbnail_fraction: float = THUMBNAIL_FRACTION,
    max_thumbnails: int = MAX_THUMBNAILS,
) -> Path:
    """Write a 2-D map with image thumbnails drawn at a non-overlapping subset of points.

    Parameters
    ----------
    coords : ndarray, shape (n_points, 2)
        Projected coordinates.
    images : ndarray, shape (n_points, C, H, W)
        The image of each point, in [0, 1]; one channel is grey, three are RGB.
    path : path
        PNG file to write (atomically).
    labels, label_names, label_title, title, axis_labels
        As in `plot_map`. Each thumbnail gets a frame in its point's label colour.
    thumbnail_fraction : float
        Thumbnail side as a fraction of the axes side.
    max_thumbnails : int
        Upper bound on the number of thumbnails drawn.

    Returns
    -------
    Path
        The written file.
    """
    coords = _check_coords(coords, 2)
    images = np.asarray(images)
    if images.ndim != 4 or len(images) != len(coords):
        raise InvalidParameterError(
            f"images must have shape (n_points, C, H, W) with n_points = {len(coords)}, "
            f"got shape {images.shape}."
        )
    chosen = select_spread(coords, thumbnail_fraction, max_thumbnails)
    frame_colours = label_colour_of(labels, label_names, chosen)

    figure = new_figure(10.0, 9.0)
    ax = figure.add_subplot()
    ax.set_box_aspect(1)
    scatter_labelled(figure, ax, coords, labels, label_names, label_title, alpha=0.35,
                     zorder=1)
    low = coords.min(axis=0)
    span = np.maximum(coords.max(axis=0) - low, 1e-6)
    half = span * thumbnail_fraction / 2
    thumbnails = to_rgb(images[chosen])
    for thumbnail, (x, y), colour in zip(thumbnails, coords[chosen], frame_colours, strict=True):
        extent = (x - half[0], x + half[0], y - half[1], y + half[1])
        ax.imshow(thumbnail, extent=extent, interpolation="nearest", zorder=3, aspect="auto")
        ax.add_patch(Rectangle((extent[0], extent[2]), 2 * half[0], 2 * half[1], fill=False,
                               edgecolor=colour, linewidth=1.2, zorder=4))
    margin = span * (thumbnail_fraction + 0.02)
    ax.set_xlim(low[0] - margin[0], low[0] + span[0] + margin[0])
    ax.set_ylim(low[1] - margin[1], low[1] + span[1] + margin[1])
    ax.set_title(plain_text(f"{title} ({len(chosen)} of {len(coords)} shown)", 120))
    ax.set_xlabel(plain_text(axis_labels[0], 60))
    ax.set_ylabel(plain_text(axis_labels[1], 60))
    return save_figure(figure, path)
