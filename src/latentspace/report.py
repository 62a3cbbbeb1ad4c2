"""`write_report`: one self-contained HTML page with a run's settings, metrics and figures.

The page has inline CSS and no scripts, and it links its images by paths relative to
itself, so it opens straight from disk with no server. Every piece of text that comes
from data, configuration or metrics is escaped, because labels and names can contain HTML.
"""

from __future__ import annotations

import html
import json
import math
import os
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentspace.figures.common import Figure
from latentspace.figures.write import model_name
from latentspace.store import write_bytes

REPORT_NAME = "report.html"
MAX_LIST_VALUES = 16
MAX_CLASS_NAMES = 12

METRIC_NAMES = {
    "n_samples": "samples",
    "n_features": "input dimensions",
    "latent_dim": "latent dimensions",
    "compression_ratio": "compression ratio",
    "reconstruction": "reconstruction",
    "mse": "MSE",
    "psnr": "PSNR (dB)",
    "latent": "latent space",
    "projections": "projections",
    "knn_accuracy": "kNN accuracy",
    "trustworthiness": "trustworthiness",
    "silhouette": "silhouette",
    "kl_per_dimension": "KL per dimension",
    "active_units": "active units",
}

# Each entry: metric key, display name, meaning. Shown for the keys present in the metrics.
GLOSSARY = (
    ("compression_ratio", "Compression ratio",
     "input dimensions divided by latent dimensions: how many times smaller a latent is "
     "than its sample."),
    ("mse", "MSE",
     "mean squared error between samples and their reconstructions, in the model's data "
     "units, on the split named in the table (held-out when there is one); lower is better."),
    ("psnr", "PSNR",
     "peak signal-to-noise ratio of the reconstructions in decibels, for images in [0, 1]; "
     "higher is better, and each +10 dB is a tenth of the squared error."),
    ("knn_accuracy", "kNN accuracy",
     "share of items whose class is predicted by a vote of their k nearest neighbours, "
     "cross-validated; high when classes form tight neighbourhoods."),
    ("trustworthiness", "Trustworthiness",
     "from 0 to 1: how far a map's nearest neighbours are also near in the latent space; "
     "1 means the map shows no false neighbours."),
    ("silhouette", "Silhouette",
     "from -1 to 1: how much closer items are to their own class than to the nearest "
     "other class; near 0 means classes overlap."),
    ("kl_per_dimension", "KL per dimension",
     "mean KL divergence in nats between each latent dimension's posterior and the N(0, 1) "
     "prior; near 0 means the dimension carries no information."),
    ("active_units", "Active units",
     "latent dimensions whose posterior mean varies across the data (variance above a small "
     "threshold); the rest are unused."),
)

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.5rem 4rem; background: #fff; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #ddd; }
.subtitle { color: #555; margin: 0 0 1rem; }
nav { font-size: .9rem; color: #555; }
nav a { margin-right: .8rem; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .8rem; border-bottom: 1px solid #e5e5e5; text-align: left; }
td.number { text-align: right; }
thead th { border-bottom: 2px solid #bbb; }
tbody tr:nth-child(even) { background: #fafafa; }
dl.glossary dt { font-weight: 600; display: inline; }
dl.glossary dd { display: inline; margin: 0; }
dl.glossary div { margin: .2rem 0; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { color: #333; margin-top: .3rem; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: .85rem; }
.warning { color: #8a4b00; }
"""


def _escape(text: object) -> str:
    """Escape `text` for HTML element content and attribute values."""
    return html.escape(str(text), quote=True)


def format_value(value: Any) -> str:
    """Format a metric value for display: thousands separators, 4 significant digits."""
    if value is None:
        return "n/a"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if value == 0:
            return "0"
        if abs(value) >= 10_000:
            return f"{value:,.0f}"
        if abs(value) >= 1e-3:
            return f"{value:.4g}"
        return f"{value:.2e}"
    if isinstance(value, list | tuple | np.ndarray):
        values = list(np.asarray(value).ravel())
        text = ", ".join(format_value(v) for v in values[:MAX_LIST_VALUES])
        if len(values) > MAX_LIST_VALUES:
            text += f", … ({len(values)} values)"
        return text
    return str(value)


def metric_label(key: str) -> str:
    """Return the display name of a metric key, for example ``kNN accuracy``."""
    return METRIC_NAMES.get(key, key.replace("_", " "))


def _is_number_like(value: Any) -> bool:
    return value is None or isinstance(value, int | float | np.integer | np.floating)


def _is_matrix(value: Any) -> bool:
    """True for a dict of dicts of numbers, such as per-projection metrics."""
    return (
        isinstance(value, Mapping)
        and len(value) > 0
        and all(isinstance(row, Mapping) and row for row in value.values())
        and all(_is_number_like(cell) for row in value.values() for cell in row.values())
    )


def _flatten(metrics: Mapping, prefix: tuple[str, ...] = ()) -> Iterable[tuple[tuple, Any]]:
    """Yield (key path, value) for every leaf of `metrics`, except matrix-shaped dicts."""
    for key, value in metrics.items():
        path = (*prefix, str(key))
        if _is_matrix(value):
            continue
        if isinstance(value, Mapping):
            yield from _flatten(value, path)
        else:
            yield path, value


def _matrices(metrics: Mapping, prefix: tuple[str, ...] = ()) -> Iterable[tuple[tuple, Mapping]]:
    """Yield (key path, dict of dicts) for every matrix-shaped dict in `metrics`."""
    for key, value in metrics.items():
        path = (*prefix, str(key))
        if _is_matrix(value):
            yield path, value
        elif isinstance(value, Mapping):
            yield from _matrices(value, path)


def _all_keys(metrics: Any) -> set[str]:
    if not isinstance(metrics, Mapping):
        return set()
    keys = {str(k) for k in metrics}
    for value in metrics.values():
        keys |= _all_keys(value)
    return keys


def _cell(value: Any) -> str:
    css = ' class="number"' if _is_number_like(value) and value is not None else ""
    return f"<td{css}>{_escape(format_value(value))}</td>"


def _metrics_html(metrics: Mapping) -> str:
    """Render metrics as a name/value table, one table per matrix, and a glossary."""
    if not metrics:
        return "<p>No metrics were computed for this run.</p>"
    parts = []
    rows = [
        f"<tr><th>{_escape(' › '.join(metric_label(k) for k in path))}</th>{_cell(value)}</tr>"
        for path, value in _flatten(metrics)
    ]
    if rows:
        parts.append("<table class=\"metrics\"><thead><tr><th>Metric</th><th>Value</th></tr>"
                     f"</thead><tbody>{''.join(rows)}</tbody></table>")
    for path, matrix in _matrices(metrics):
        columns = list(dict.fromkeys(col for row in matrix.values() for col in row))
        head = "".join(f"<th>{_escape(metric_label(c))}</th>" for c in columns)
        body = "".join(
            f"<tr><th>{_escape(name)}</th>{''.join(_cell(row.get(c)) for c in columns)}</tr>"
            for name, row in matrix.items()
        )
        title = " › ".join(metric_label(k) for k in path)
        parts.append(f"<h3>{_escape(title)}</h3><table class=\"metrics\"><thead><tr><th></th>{head}"
                     f"</tr></thead><tbody>{body}</tbody></table>")
    present = _all_keys(metrics)
    entries = [
        f"<div><dt>{_escape(name)}</dt> <dd>{_escape(meaning)}</dd></div>"
        for key, name, meaning in GLOSSARY
        if key in present
    ]
    if entries:
        parts.append(f"<dl class=\"glossary\">{''.join(entries)}</dl>")
    return "".join(parts)


def _labels_text(dataset) -> str:
    if dataset.labels is None:
        return "none"
    if dataset.has_class_labels:
        names = [str(n) for n in dataset.label_names]
        listed = ", ".join(names[:MAX_CLASS_NAMES])
        more = f", … ({len(names)} in all)" if len(names) > MAX_CLASS_NAMES else ""
        return f"{len(names)} classes: {listed}{more}"
    return f"continuous ({dataset.info.get('label', 'a number per sample')})"


def _training_text(history: Sequence[Mapping]) -> str:
    if not history:
        return "no training history"
    text = f"{len(history)} epoch{'s' if len(history) != 1 else ''}"
    val_loss = [entry.get("val_loss") for entry in history]
    finite = [(v, i) for i, v in enumerate(val_loss) if v is not None and math.isfinite(v)]
    if finite:
        best_value, best_index = min(finite)
        epoch = history[best_index].get("epoch", best_index + 1)
        text += f"; best validation loss {format_value(best_value)} at epoch {epoch}"
    return text


def _summary_html(space, run_dir: Path) -> str:
    dataset = space.dataset
    shape = " × ".join(str(s) for s in dataset.sample_shape)
    kind = "images (channels × height × width)" if dataset.is_image else "features"
    latent_dim = int(np.asarray(space.z).shape[1])
    items = [
        ("Data set", f"{dataset.name}: {len(dataset):,} samples of {shape} {kind}"),
        ("Labels", _labels_text(dataset)),
        ("Model", f"{model_name(space)}, latent dimension {latent_dim}"),
        ("Decoder", "yes" if space.has_decoder else "no (maps and metrics only)"),
        ("Training", _training_text(list(getattr(space, "history", None) or []))),
        ("Run directory", str(run_dir)),
    ]
    rows = "".join(f"<dt>{_escape(name)}</dt><dd>{_escape(value)}</dd>" for name, value in items)
    html_parts = [f"<dl class=\"summary\">{rows}</dl>"]
    warnings = (dataset.info.get("checks") or {}).get("warnings") or []
    if warnings:
        listed = "".join(f"<li>{_escape(w)}</li>" for w in warnings)
        html_parts.append(
            f"<p class=\"warning\">Data checks:</p><ul class=\"warning\">{listed}</ul>"
        )
    return "".join(html_parts)


def _figure_src(path: Path, run_dir: Path) -> str:
    """Return the figure's address relative to the report, or a file URI across drives."""
    try:
        relative = os.path.relpath(Path(path).resolve(), Path(run_dir).resolve())
    except ValueError:
        return Path(path).resolve().as_uri()
    return urllib.parse.quote(Path(relative).as_posix(), safe="/")


def _figures_html(figures: Sequence[Figure], run_dir: Path) -> str:
    if not figures:
        return "<p>No figures were written for this run.</p>"
    parts = []
    for figure in figures:
        src = _escape(_figure_src(figure.path, run_dir))
        parts.append(
            f"<figure id=\"figure-{_escape(figure.name)}\"><a href=\"{src}\">"
            f"<img src=\"{src}\" alt=\"{_escape(figure.caption)}\" loading=\"lazy\"></a>"
            f"<figcaption><strong>{_escape(figure.name)}</strong>: {_escape(figure.caption)}"
            "</figcaption></figure>"
        )
    return "".join(parts)


def render_report(space, run_dir: str | Path, figures: Sequence[Figure]) -> str:
    """Return the report page for `space` as an HTML string; see `write_report`."""
    run_dir = Path(run_dir)
    dataset_name = space.dataset.name
    title = f"Latent space of {dataset_name} ({model_name(space)})"
    config = json.dumps(getattr(space, "config", None) or {}, indent=2, default=str)
    figure_links = "".join(
        f"<a href=\"#figure-{_escape(f.name)}\">{_escape(f.name)}</a>" for f in figures
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{_escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_escape(title)}</h1>"
        "<p class=\"subtitle\">Report written by latentspace for the run in "
        f"{_escape(run_dir)}.</p>"
        "<nav><a href=\"#summary\">Summary</a><a href=\"#metrics\">Metrics</a>"
        "<a href=\"#figures\">Figures</a><a href=\"#config\">Configuration</a></nav>"
        f"<h2 id=\"summary\">Summary</h2>{_summary_html(space, run_dir)}"
        f"<h2 id=\"metrics\">Metrics</h2>{_metrics_html(getattr(space, 'metrics', None) or {})}"
        f"<h2 id=\"figures\">Figures</h2><nav>{figure_links}</nav>"
        f"{_figures_html(figures, run_dir)}"
        f"<h2 id=\"config\">Run configuration</h2><pre>{_escape(config)}</pre>"
        "</body></html>\n"
    )


def write_report(space, run_dir: str | Path, figures: Sequence[Figure]) -> Path:
    """Write ``report.html`` into `run_dir`, atomically, and return its path.

    Parameters
    ----------
    space : LatentSpace
        The space to describe; uses ``dataset``, ``z``, ``config``, ``metrics``,
        ``history``, ``has_decoder`` and ``model``.
    run_dir : path
        Folder for the report, usually the run directory. Figures are linked by their
        path relative to it, such as ``figures/map.png``, so keep them together.
    figures : sequence of Figure
        Figures to show, in order, as returned by `latentspace.figures.write_figures`.

    Returns
    -------
    Path
        The written ``report.html``.
    """
    path = Path(run_dir) / REPORT_NAME
    write_bytes(path, render_report(space, run_dir, figures).encode("utf-8"))
    return path
