"""Pieces shared by the figure writers: the `Figure` record, atomic saving, colours, tiles.

Every plot is drawn on a `matplotlib.figure.Figure` object, never through pyplot, so
drawing keeps no global state and works in threads and without a display.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D

from latentspace.store import atomic_path

DPI = 130
MAX_LEGEND_CLASSES = 20
MAX_LABEL_CHARS = 32
POINT_ALPHA = 0.75
BACKGROUND_GREY = "#8f8f8f"
PAIR_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


@dataclass(frozen=True)
class Figure:
    """A figure file written for a latent space.

    Attributes
    ----------
    name : str
        Short identifier, also the file stem, for example ``"map"``.
    path : Path
        Where the file was written.
    caption : str
        One line saying what the figure shows.
    """

    name: str
    path: Path
    caption: str


def new_figure(width: float, height: float) -> MplFigure:
    """Create a white, constrained-layout figure of `width` x `height` inches."""
    return MplFigure(figsize=(width, height), dpi=DPI, layout="constrained", facecolor="white")


def save_figure(figure: MplFigure, path: str | Path) -> Path:
    """Write `figure` to `path` as a PNG, atomically, and return the path."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, facecolor="white")
    return path


def plain_text(text: object, max_chars: int = MAX_LABEL_CHARS) -> str:
    """Return `text` safe to draw with matplotlib: dollar signs escaped, long text shortened.

    Matplotlib parses text between two ``$`` as mathtext and raises on invalid
    commands, so a label such as ``$\\x$`` would otherwise break the figure.
    """
    text = str(text)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text.replace("$", r"\$")


def point_size(n_points: int) -> float:
    """Return a scatter marker area that keeps small sets visible and large sets unsmeared."""
    return float(np.clip(20000.0 / max(n_points, 1), 1.5, 36.0))


def class_colours(n_classes: int) -> np.ndarray:
    """Return `n_classes` distinct RGBA colours: tab10, tab20, then samples of turbo."""
    from matplotlib import colormaps

    if n_classes <= 10:
        return colormaps["tab10"](np.arange(n_classes))
    if n_classes <= 20:
        return colormaps["tab20"](np.arange(n_classes))
    return colormaps["turbo"](np.linspace(0.0, 1.0, n_classes))


def class_names(labels: np.ndarray, label_names: Sequence[str] | None) -> dict[int, str]:
    """Map each class code present in `labels` to its display name."""
    names = {}
    for code in np.unique(labels.astype(np.int64)):
        code = int(code)
        in_range = label_names is not None and 0 <= code < len(label_names)
        names[code] = label_names[code] if in_range else str(code)
    return names


def is_continuous(labels: np.ndarray | None, label_names: Sequence[str] | None) -> bool:
    """True when `labels` is a continuous value rather than class codes."""
    if labels is None or label_names is not None:
        return False
    return bool(np.issubdtype(np.asarray(labels).dtype, np.floating))


def scatter_labelled(
    figure: MplFigure,
    ax,
    coords: np.ndarray,
    labels: np.ndarray | None,
    label_names: Sequence[str] | None,
    label_title: str,
    *,
    size: float | None = None,
    alpha: float = POINT_ALPHA,
    legend: bool = True,
    zorder: float = 1.0,
) -> None:
    """Scatter `coords` (2 or 3 columns) on `ax`, coloured by label, with a legend or colorbar.

    Class labels get one colour each and a legend (a colorbar of class codes when there
    are more than `MAX_LEGEND_CLASSES`). Continuous labels get the viridis colour map and
    a colorbar. Points are drawn in a fixed shuffled order so no class paints over the rest.
    """
    coords = np.asarray(coords, dtype=np.float32)
    order = np.random.default_rng(0).permutation(len(coords))
    columns = [coords[order, i] for i in range(coords.shape[1])]
    size = point_size(len(coords)) if size is None else size
    common = {"s": size, "alpha": alpha, "linewidths": 0, "zorder": zorder, "rasterized": True}

    if labels is None:
        ax.scatter(*columns, color="#1f77b4", **common)
        return
    labels = np.asarray(labels)[order]
    if is_continuous(labels, label_names):
        artist = ax.scatter(*columns, c=labels.astype(np.float64), cmap="viridis", **common)
        if legend:
            bar = figure.colorbar(artist, ax=ax, shrink=0.8, pad=0.02)
            bar.set_label(plain_text(label_title, 60))
        return

    codes = labels.astype(np.int64)
    names = class_names(codes, label_names)
    colours = class_colours(len(names))
    colour_index = {code: i for i, code in enumerate(names)}
    point_colours = colours[[colour_index[int(c)] for c in codes]]
    ax.scatter(*columns, c=point_colours, **common)
    if not legend:
        return
    if len(names) > MAX_LEGEND_CLASSES:
        mappable = ax.scatter([], [], c=[], cmap=ListedColormap(colours),
                              vmin=-0.5, vmax=len(names) - 0.5)
        bar = figure.colorbar(mappable, ax=ax, shrink=0.8, pad=0.02)
        bar.set_label(f"{plain_text(label_title, 60)} ({len(names)} classes, by code order)")
        return
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=7, color=colours[i],
               label=plain_text(name))
        for i, name in enumerate(names.values())
    ]
    ax.legend(handles=handles, title=plain_text(label_title), loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)


def label_colour_of(labels: np.ndarray | None, label_names: Sequence[str] | None,
                    index: np.ndarray) -> np.ndarray:
    """Return the RGBA colour that `scatter_labelled` gives each item in `index`."""
    index = np.asarray(index)
    if labels is None:
        return np.tile(np.array([0.12, 0.47, 0.71, 1.0]), (len(index), 1))
    labels = np.asarray(labels)
    if is_continuous(labels, label_names):
        from matplotlib import colormaps
        from matplotlib.colors import Normalize

        norm = Normalize(float(np.min(labels)), float(np.max(labels)))
        return colormaps["viridis"](norm(labels[index].astype(np.float64)))
    names = class_names(labels, label_names)
    colours = class_colours(len(names))
    colour_index = {code: i for i, code in enumerate(names)}
    return colours[[colour_index[int(c)] for c in labels[index].astype(np.int64)]]


def to_rgb(images: np.ndarray) -> np.ndarray:
    """Convert images shaped (..., C, H, W) to (..., H, W, 3) floats clipped to [0, 1].

    One channel becomes grey, three are RGB, and a fourth (alpha) channel is dropped.
    Decoded images can leave [0, 1]; clipping shows them as the data would be shown.
    """
    images = np.asarray(images, dtype=np.float32)
    channels = images.shape[-3]
    # NOTE: two-channel images have no standard colour mapping; the first channel is shown.
    rgb = images[..., :3, :, :] if channels >= 3 else np.repeat(images[..., :1, :, :], 3, axis=-3)
    return np.clip(np.moveaxis(rgb, -3, -1), 0.0, 1.0)


@dataclass(frozen=True)
class Mosaic:
    """Images tiled into one RGB array, with the geometry needed to place tick labels."""

    pixels: np.ndarray
    n_rows: int
    n_cols: int
    tile_height: int
    tile_width: int
    pad: int

    def row_centres(self) -> np.ndarray:
        """Return the vertical pixel centre of each tile row."""
        step = self.tile_height + self.pad
        return self.pad + step * np.arange(self.n_rows) + (self.tile_height - 1) / 2

    def col_centres(self) -> np.ndarray:
        """Return the horizontal pixel centre of each tile column."""
        step = self.tile_width + self.pad
        return self.pad + step * np.arange(self.n_cols) + (self.tile_width - 1) / 2


def tile_images(grid: np.ndarray, background: float = 1.0) -> Mosaic:
    """Tile images shaped (rows, cols, C, H, W) into one RGB mosaic with thin white gaps."""
    grid = np.asarray(grid)
    n_rows, n_cols = grid.shape[:2]
    rgb = to_rgb(grid)
    height, width = rgb.shape[2:4]
    pad = max(1, min(height, width) // 14)
    pixels = np.full(
        (pad + n_rows * (height + pad), pad + n_cols * (width + pad), 3), background,
        dtype=np.float32,
    )
    for row in range(n_rows):
        for col in range(n_cols):
            top = pad + row * (height + pad)
            left = pad + col * (width + pad)
            pixels[top : top + height, left : left + width] = rgb[row, col]
    return Mosaic(pixels, n_rows, n_cols, height, width, pad)


def mosaic_figure(mosaic: Mosaic, title: str, *, label_width: float = 0.0,
                  max_width: float = 14.0) -> tuple[MplFigure, object]:
    """Create a figure sized so each tile is large enough to read, and draw `mosaic` in it.

    `label_width` reserves inches on the left for row labels.
    """
    tile_inches = float(np.clip(10.0 / max(mosaic.n_cols, 1), 0.35, 1.0))
    aspect = mosaic.tile_height / mosaic.tile_width
    width = min(max_width, mosaic.n_cols * tile_inches + label_width + 0.6)
    image_width = width - label_width - 0.6
    height = image_width * mosaic.pixels.shape[0] / mosaic.pixels.shape[1] + 1.0
    height = max(height, 1.6 + 0.2 * aspect)
    figure = new_figure(max(width, 4.5), height)
    ax = figure.add_subplot()
    ax.imshow(mosaic.pixels, interpolation="nearest")
    ax.set_title(plain_text(title, 120), fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return figure, ax


def format_offset(value: float) -> str:
    """Format an offset in standard deviations, for example ``-2.5σ`` or ``0``."""
    if abs(value) < 1e-9:
        return "0"
    return f"{value:+.3g}σ"
