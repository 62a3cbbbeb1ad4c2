"""Training curves: loss per epoch for the training and validation splits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from latentspace.errors import InvalidParameterError
from latentspace.figures.common import new_figure, plain_text, save_figure

CURVE_PANELS = (
    ("loss", "total loss"),
    ("recon", "reconstruction loss"),
    ("kl", "KL divergence"),
)
LOG_SCALE_RATIO = 30.0


def _series(history: Sequence[Mapping], key: str) -> np.ndarray | None:
    """Return the values of `key` per epoch, NaN where missing; None when never present."""
    values = [entry.get(key) for entry in history]
    if all(value is None for value in values):
        return None
    return np.array([np.nan if value is None else float(value) for value in values])


def plot_training_curves(
    history: Sequence[Mapping],
    path: str | Path,
    *,
    title: str = "Training curves",
) -> Path:
    """Write training and validation curves per epoch, one panel per loss term, as a PNG.

    Parameters
    ----------
    history : sequence of dict
        One dict per epoch with ``epoch`` and any of ``train_loss``, ``val_loss``,
        ``train_recon``, ``val_recon``, ``train_kl``, ``val_kl``. A panel is drawn for
        each term that has values. The epoch with the lowest ``val_loss`` is marked.
    path : path
        PNG file to write (atomically).
    title : str
        Figure title.
    """
    history = list(history)
    panels = []
    for key, name in CURVE_PANELS:
        train, val = _series(history, f"train_{key}"), _series(history, f"val_{key}")
        if train is not None or val is not None:
            panels.append((name, train, val))
    if not panels:
        raise InvalidParameterError(
            "history has no loss values: expected per-epoch dicts with keys such as "
            f"'train_loss' and 'val_loss', got {len(history)} entries."
        )
    epochs = np.array([entry.get("epoch", i + 1) for i, entry in enumerate(history)], dtype=float)
    val_loss = _series(history, "val_loss")
    best = None
    if val_loss is not None and np.isfinite(val_loss).any():
        best = int(np.nanargmin(val_loss))

    figure = new_figure(4.6 * len(panels), 4.2)
    figure.suptitle(plain_text(title, 120))
    marker = "o" if len(history) <= 30 else None
    for i, (name, train, val) in enumerate(panels):
        ax = figure.add_subplot(1, len(panels), i + 1)
        for series, label, colour in ((train, "train", "#1f77b4"), (val, "validation", "#ff7f0e")):
            if series is not None:
                ax.plot(epochs, series, label=label, color=colour, marker=marker, markersize=3)
        if best is not None:
            ax.axvline(epochs[best], color="grey", linestyle=":", linewidth=1,
                       label=f"best epoch ({epochs[best]:g})")
        values = np.concatenate([s for s in (train, val) if s is not None])
        values = values[np.isfinite(values)]
        if len(values) and values.min() > 0 and values.max() / values.min() > LOG_SCALE_RATIO:
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("per-sample value")
        ax.grid(True, alpha=0.25)
        ax.legend(fontsize=8, loc="best")
    return save_figure(figure, path)
