"""Figures for vector data (3-D manifolds, table rows), drawn in the input space.

Image figures show decoded pictures; for vectors the same walks are drawn as points and
paths over the data. Data with at most three features is drawn in its own axes, and wider
data in the plane of its first two principal components.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from latentspace.errors import InvalidParameterError
from latentspace.figures.common import (
    BACKGROUND_GREY,
    PAIR_COLOURS,
    new_figure,
    plain_text,
    point_size,
    save_figure,
)
from latentspace.figures.grids import GIF_FRAME_MS, GIF_HOLD_MS, save_gif

MAX_FEATURE_PANELS = 12
MAX_BACKGROUND_POINTS = 5000
MARKER_RED = (214, 39, 40)
MANIFOLD_LINES = 15


class InputView:
    """Coordinates for drawing input-space vectors in 2-D or 3-D axes.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_features)
        The data set; with more than three features its first two principal components
        define the drawing plane.
    feature_names : sequence of str, optional
        Names of the features, used as axis labels when the features are drawn directly.
    """

    def __init__(self, data: np.ndarray, feature_names: Sequence[str] | None = None) -> None:
        data = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
        self.n_features = data.shape[1]
        names = list(feature_names) if feature_names is not None else None
        if names is None or len(names) != self.n_features:
            names = [f"feature {i}" for i in range(self.n_features)]
        self.mean = np.zeros(self.n_features)
        self.components: np.ndarray | None = None
        if self.n_features <= 3:
            self.dims = max(self.n_features, 2)
            self.axis_labels = names + ["(constant)"] * (self.dims - self.n_features)
            return
        self.mean = data.mean(axis=0)
        _, singular, vt = np.linalg.svd(data - self.mean, full_matrices=False)
        variance = singular**2 / max(float(np.sum(singular**2)), 1e-12)
        self.components = vt[:2]
        self.dims = 2
        self.axis_labels = [f"input PC{i + 1} ({variance[i]:.0%} of variance)" for i in range(2)]

    def transform(self, points: np.ndarray) -> np.ndarray:
        """Return drawing coordinates, shape (..., dims), for points shaped (..., n_features)."""
        points = np.asarray(points, dtype=np.float64)
        flat = points.reshape(-1, self.n_features)
        if self.components is not None:
            coords = (flat - self.mean) @ self.components.T
        else:
            coords = np.zeros((len(flat), self.dims))
            coords[:, : self.n_features] = flat
        return coords.reshape(*points.shape[:-1], self.dims)

    def add_axes(self, figure, *grid: int):
        """Add 2-D or 3-D axes at subplot position `grid`, labelled with the view's axes."""
        if self.dims == 3:
            ax = figure.add_subplot(*grid, projection="3d")
            ax.view_init(elev=12.0, azim=-70.0)
            ax.set_zlabel(plain_text(self.axis_labels[2], 40))
        else:
            ax = figure.add_subplot(*grid)
            ax.grid(True, alpha=0.25)
        ax.set_xlabel(plain_text(self.axis_labels[0], 40))
        ax.set_ylabel(plain_text(self.axis_labels[1], 40))
        return ax

    def draw_background(self, ax, data: np.ndarray) -> None:
        """Scatter up to `MAX_BACKGROUND_POINTS` data points in light grey."""
        data = np.asarray(data).reshape(len(data), -1)
        if len(data) > MAX_BACKGROUND_POINTS:
            keep = np.random.default_rng(0).choice(len(data), MAX_BACKGROUND_POINTS, replace=False)
            data = data[np.sort(keep)]
        coords = self.transform(data)
        # Depth shading would fade the far half of the data to near white in 3-D axes.
        extra = {"depthshade": False} if self.dims == 3 else {}
        ax.scatter(*coords.T, s=point_size(len(coords)) * 0.6, color=BACKGROUND_GREY,
                   alpha=0.4, linewidths=0, rasterized=True, label="data", **extra)

    def draw_path(self, ax, points: np.ndarray, **style) -> None:
        """Draw `points` shaped (n, n_features) as a connected path."""
        coords = self.transform(points)
        ax.plot(*coords.T, **style)


def _as_rows(array: np.ndarray, name: str, n_features: int | None = None) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    array = array.reshape(*array.shape[:1], -1) if array.ndim >= 2 else array
    if array.ndim != 2 or len(array) == 0 or (n_features and array.shape[1] != n_features):
        expected = n_features or "n_features"
        raise InvalidParameterError(
            f"{name} must have shape (n, {expected}) with at least one row, got {array.shape}."
        )
    return array


def plot_vector_reconstructions(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    path: str | Path,
    *,
    feature_names: Sequence[str] | None = None,
    title: str = "Original against reconstructed values",
) -> Path:
    """Write one original-against-reconstruction scatter per feature, as a PNG.

    Points on the diagonal are reconstructed exactly; each panel reports R² for its
    feature. With three features a 3-D panel also joins each original to its
    reconstruction. Only the first `MAX_FEATURE_PANELS` features get a panel.
    """
    originals = _as_rows(originals, "originals")
    reconstructions = _as_rows(reconstructions, "reconstructions", originals.shape[1])
    n_features = originals.shape[1]
    names = list(feature_names or [f"feature {i}" for i in range(n_features)])
    n_shown = min(n_features, MAX_FEATURE_PANELS)
    with_3d = n_features == 3
    n_panels = n_shown + int(with_3d)
    n_cols = min(4, n_panels)
    n_rows = int(np.ceil(n_panels / n_cols))
    figure = new_figure(3.4 * n_cols, 3.3 * n_rows + 0.4)
    suffix = f" (first {n_shown} of {n_features} features)" if n_shown < n_features else ""
    figure.suptitle(plain_text(title + suffix, 120))
    size = point_size(len(originals))
    for i in range(n_shown):
        ax = figure.add_subplot(n_rows, n_cols, i + 1)
        x, y = originals[:, i], reconstructions[:, i]
        residual = float(np.sum((x - y) ** 2))
        total = float(np.sum((x - x.mean()) ** 2))
        r_squared = 1.0 - residual / total if total > 0 else float("nan")
        ax.scatter(x, y, s=size, alpha=0.6, linewidths=0, rasterized=True)
        low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ax.plot([low, high], [low, high], color="#d62728", linewidth=1, label="exact")
        ax.set_title(plain_text(f"{names[i]}: R² = {r_squared:.3f}", 50), fontsize=9)
        ax.set_xlabel("original", fontsize=8)
        ax.set_ylabel("reconstructed", fontsize=8)
        ax.grid(True, alpha=0.25)
    if with_3d:
        view = InputView(originals, names)
        ax = view.add_axes(figure, n_rows, n_cols, n_shown + 1)
        view.draw_background(ax, originals)
        ax.scatter(*reconstructions.T, s=size, color="#d62728", alpha=0.7, linewidths=0,
                   label="reconstructed", rasterized=True)
        ax.legend(fontsize=8, loc="upper left")
        ax.set_title("in 3-D: grey = original", fontsize=9)
    return save_figure(figure, path)


def plot_vector_interpolations(
    data: np.ndarray,
    lerp: np.ndarray,
    slerp: np.ndarray,
    path: str | Path,
    *,
    pair_labels: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    title: str = "Interpolation paths in input space",
) -> Path:
    """Write decoded interpolation paths drawn over the data, lerp and slerp side by side.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_features)
        The data set, drawn in grey.
    lerp, slerp : ndarray, shape (n_pairs, n_steps, n_features)
        Decoded points along each pair's path.
    path : path
        PNG file to write (atomically).
    pair_labels, feature_names : sequence of str, optional
        Legend text per pair, and axis names.
    title : str
        Figure title.
    """
    data = _as_rows(data, "data")
    view = InputView(data, feature_names)
    figure = new_figure(13.0, 6.0)
    figure.suptitle(plain_text(title, 120))
    for panel, (method, paths) in enumerate((("lerp", lerp), ("slerp", slerp))):
        paths = np.asarray(paths, dtype=np.float64)
        ax = view.add_axes(figure, 1, 2, panel + 1)
        view.draw_background(ax, data)
        for i, points in enumerate(paths):
            colour = PAIR_COLOURS[i % len(PAIR_COLOURS)]
            label = pair_labels[i] if pair_labels else f"pair {i + 1}"
            view.draw_path(ax, points, color=colour, marker="o", markersize=3.5, linewidth=1.8,
                           label=plain_text(label))
            ends = view.transform(points[[0, -1]])
            ax.scatter(*ends.T, s=70, color=colour, edgecolors="black", zorder=5)
        ax.set_title(f"{method}: decoded path between two items", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    return save_figure(figure, path)


def plot_vector_samples(
    data: np.ndarray,
    samples: np.ndarray,
    path: str | Path,
    *,
    feature_names: Sequence[str] | None = None,
    title: str = "Samples decoded from the prior, over the data",
) -> Path:
    """Write decoded prior samples (red) scattered over the data (grey), as a PNG."""
    data = _as_rows(data, "data")
    samples = _as_rows(samples, "samples", data.shape[1])
    view = InputView(data, feature_names)
    figure = new_figure(7.5, 6.5)
    ax = view.add_axes(figure, 1, 1, 1)
    view.draw_background(ax, data)
    coords = view.transform(samples)
    ax.scatter(*coords.T, s=max(point_size(len(samples)), 6.0), color="#d62728", alpha=0.75,
               linewidths=0, label=f"{len(samples)} decoded samples", rasterized=True)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(plain_text(title, 120))
    return save_figure(figure, path)


def plot_vector_traversal(
    data: np.ndarray,
    paths: np.ndarray,
    path: str | Path,
    *,
    dims: Sequence[int],
    feature_names: Sequence[str] | None = None,
    title: str = "Latent traversal in input space",
) -> Path:
    """Write one decoded path per latent dimension, drawn over the data, as a PNG.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_features)
        The data set, drawn in grey.
    paths : ndarray, shape (n_dims, n_values, n_features)
        Decoded points as one latent dimension moves; all paths share their middle item.
    path : path
        PNG file to write (atomically).
    dims : sequence of int
        The latent dimension of each path, for the legend.
    feature_names : sequence of str, optional
        Axis names.
    title : str
        Figure title.
    """
    data = _as_rows(data, "data")
    paths = np.asarray(paths, dtype=np.float64)
    if paths.ndim != 3 or len(paths) != len(dims) or paths.shape[2] != data.shape[1]:
        raise InvalidParameterError(
            f"paths must have shape ({len(dims)}, n_values, {data.shape[1]}), one path per "
            f"entry of dims, got {paths.shape}."
        )
    view = InputView(data, feature_names)
    figure = new_figure(8.5, 6.5)
    ax = view.add_axes(figure, 1, 1, 1)
    view.draw_background(ax, data)
    from matplotlib import colormaps

    colours = colormaps["tab10"](np.arange(len(paths)) % 10)
    for points, dim, colour in zip(paths, dims, colours, strict=True):
        view.draw_path(ax, points, color=colour, marker="o", markersize=3, linewidth=1.8,
                       label=f"z{dim}")
        end = view.transform(points[-1:])
        ax.scatter(*end.T, marker=">", s=60, color=colour, zorder=5)
    centre = view.transform(paths[0, len(paths[0]) // 2][None])
    ax.scatter(*centre.T, marker="*", s=220, color="black", zorder=6, label="start item")
    ax.legend(fontsize=8, loc="upper left", title="dimension moved", title_fontsize=8)
    ax.set_title(plain_text(title, 120))
    return save_figure(figure, path)


def plot_vector_manifold(
    data: np.ndarray,
    grid: np.ndarray,
    path: str | Path,
    *,
    axis_labels: tuple[str, str] = ("z0", "z1"),
    feature_names: Sequence[str] | None = None,
    title: str = "Decoded latent manifold in input space",
) -> Path:
    """Write a decoded regular latent grid as a wireframe over the data, as a PNG.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_features)
        The data set, drawn in grey.
    grid : ndarray, shape (n_y, n_x, n_features)
        Decoded points of a regular grid over two latent directions.
    path : path
        PNG file to write (atomically).
    axis_labels : tuple of str
        Names of the two latent directions, for the legend.
    feature_names : sequence of str, optional
        Axis names.
    title : str
        Figure title.
    """
    data = _as_rows(data, "data")
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 3 or grid.shape[2] != data.shape[1]:
        raise InvalidParameterError(
            f"grid must have shape (n_y, n_x, {data.shape[1]}), got {grid.shape}."
        )
    view = InputView(data, feature_names)
    figure = new_figure(8.5, 6.5)
    ax = view.add_axes(figure, 1, 1, 1)
    view.draw_background(ax, data)
    short_names = [label.split(" (")[0] for label in axis_labels]
    for row in range(grid.shape[0]):
        view.draw_path(ax, grid[row], color="#1f77b4", linewidth=1.0, alpha=0.8,
                       label=f"lines of constant {short_names[1]}" if row == 0 else None)
    for col in range(grid.shape[1]):
        view.draw_path(ax, grid[:, col], color="#d62728", linewidth=1.0, alpha=0.8,
                       label=f"lines of constant {short_names[0]}" if col == 0 else None)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(plain_text(title, 120))
    return save_figure(figure, path)


def write_vector_interpolation_gif(
    data: np.ndarray,
    points: np.ndarray,
    path: str | Path,
    *,
    feature_names: Sequence[str] | None = None,
    title: str = "Interpolation",
    frame_ms: int = GIF_FRAME_MS,
    hold_ms: int = GIF_HOLD_MS,
) -> Path:
    """Write a looping GIF of a point moving along a decoded path over the data.

    Parameters
    ----------
    data : ndarray, shape (n_samples, n_features)
        The data set, drawn in grey.
    points : ndarray, shape (n_steps, n_features)
        Decoded points along the path, in order.
    path : path
        GIF file to write (atomically); it plays forwards, then backwards.
    feature_names : sequence of str, optional
        Axis names.
    title : str
        Title drawn on every frame.
    frame_ms, hold_ms : int
        Display time of the inner frames and of the two end frames, in milliseconds.
    """
    data = _as_rows(data, "data")
    points = _as_rows(points, "points", data.shape[1])
    view = InputView(data, feature_names)
    figure = new_figure(5.0, 4.6)
    figure.set_dpi(90)
    ax = view.add_axes(figure, 1, 1, 1)
    view.draw_background(ax, data)
    view.draw_path(ax, points, color="#1f77b4", linewidth=1.5, alpha=0.6)
    ax.set_title(plain_text(title, 60), fontsize=10)
    coords = view.transform(points)

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # Draw the static figure once, then paint the moving marker onto copies of it with
    # Pillow: redrawing 3-D axes for every frame would take about 0.2 s per frame.
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    base = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy(), mode="RGB")
    if view.dims == 3:
        from mpl_toolkits.mplot3d import proj3d

        x, y, _ = proj3d.proj_transform(*coords.T, ax.get_proj())
        planar = np.column_stack([x, y])
    else:
        planar = coords
    pixels = ax.transData.transform(planar)
    radius = 7
    frames = []
    for px, py in pixels:
        frame = base.copy()
        top = base.height - py
        ImageDraw.Draw(frame).ellipse(
            (px - radius, top - radius, px + radius, top + radius),
            fill=MARKER_RED, outline="black", width=2,
        )
        frames.append(frame)
    return save_gif(frames, path, frame_ms=frame_ms, hold_ms=hold_ms)
