"""Tests for `write_report`: a self-contained, escaped HTML page with metrics and figures."""

from __future__ import annotations

import html.parser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from latentspace.data.dataset import Dataset
from latentspace.figures import Figure, plot_map, plot_training_curves, write_interpolation_gif
from latentspace.report import format_value, write_report

HOSTILE = "<img src=x onerror=alert(1)>"


class TagCollector(html.parser.HTMLParser):
    """Collect start tags and their attributes, to inspect the page as a browser would."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def make_space(label_names, metrics=None, history=None):
    rng = np.random.default_rng(0)
    labels = np.arange(120) % len(label_names)
    dataset = Dataset(x=rng.uniform(size=(120, 1, 4, 4)), name="toy <digits>",
                      sample_shape=(1, 4, 4), labels=labels, label_names=label_names)
    return SimpleNamespace(
        dataset=dataset,
        z=rng.normal(size=(120, 3)).astype(np.float32),
        model=None,
        has_decoder=True,
        config={"data": "toy", "model": {"model": "vae", "latent_dim": 3, "note": HOSTILE},
                "seed": 0},
        metrics=metrics if metrics is not None else {
            "n_samples": 120,
            "compression_ratio": 16 / 3,
            "reconstruction": {"split": "held-out", "mse": 0.0123456, "psnr": 19.1},
            "latent": {"knn_accuracy": 0.93, "silhouette": None},
            "projections": {"umap-2d": {"trustworthiness": 0.97, "silhouette": 0.41}},
            "kl_per_dimension": [0.9, 0.01, 1.2],
            "active_units": 2,
        },
        history=history if history is not None else [
            {"epoch": e, "train_loss": 5.0 / e, "val_loss": 5.5 / e} for e in range(1, 6)
        ],
    )


@pytest.fixture()
def run(tmp_path):
    """A run directory with three real figure files, and the space they belong to."""
    space = make_space(["zero", HOSTILE, "two"])
    figures_dir = tmp_path / "figures"
    coords = np.random.default_rng(0).normal(size=(120, 2))
    figures = [
        Figure("map", plot_map(coords, figures_dir / "map.png"), f"Map coloured by {HOSTILE}."),
        Figure("training", plot_training_curves(space.history, figures_dir / "training.png"),
               "Loss per epoch."),
        Figure("interpolation",
               write_interpolation_gif(np.random.default_rng(0).uniform(size=(6, 1, 4, 4)),
                                       figures_dir / "interpolation.gif"),
               "Animated walk."),
    ]
    return tmp_path, space, figures


def test_report_written_in_run_dir(run):
    run_dir, space, figures = run
    path = write_report(space, run_dir, figures)
    assert path == run_dir / "report.html"
    assert path.is_file()
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]


def test_report_links_every_figure_relatively(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    parser = TagCollector()
    parser.feed(text)
    sources = [attrs["src"] for tag, attrs in parser.tags if tag == "img"]
    assert sources == ["figures/map.png", "figures/training.png", "figures/interpolation.gif"]
    for source in sources:
        assert (run_dir / source).is_file()


def test_report_shows_every_caption(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    assert "Loss per epoch." in text
    assert "Animated walk." in text


def test_report_escapes_hostile_text(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "toy &lt;digits&gt;" in text
    parser = TagCollector()
    parser.feed(text)
    assert not [attrs for tag, attrs in parser.tags if "onerror" in attrs]
    assert not [tag for tag, _ in parser.tags if tag == "script"]


def test_report_has_metric_rows(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    assert "<th>compression ratio</th><td class=\"number\">5.333</td>" in text
    assert "<th>reconstruction › MSE</th><td class=\"number\">0.01235</td>" in text
    assert "<th>latent space › kNN accuracy</th><td class=\"number\">0.93</td>" in text
    assert "<th>KL per dimension</th><td>0.9, 0.01, 1.2</td>" in text
    assert "<th>umap-2d</th><td class=\"number\">0.97</td>" in text


def test_report_glossary_covers_present_metrics(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    for name in ("Compression ratio", "MSE", "PSNR", "kNN accuracy", "Trustworthiness",
                 "Silhouette", "KL per dimension", "Active units"):
        assert f"<dt>{name}</dt>" in text


def test_report_glossary_skips_absent_metrics(run):
    run_dir, _, figures = run
    space = make_space(["a", "b"], metrics={"compression_ratio": 2.0})
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    assert "<dt>Compression ratio</dt>" in text
    assert "<dt>Active units</dt>" not in text


def test_report_summary(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    assert "120 samples of 1 × 4 × 4 images" in text
    assert "3 classes: zero, &lt;img" in text
    assert "vae, latent dimension 3" in text
    assert "best validation loss 1.1 at epoch 5" in text


def test_report_is_self_contained(run):
    run_dir, space, figures = run
    text = write_report(space, run_dir, figures).read_text(encoding="utf-8")
    parser = TagCollector()
    parser.feed(text)
    assert not [tag for tag, _ in parser.tags if tag in ("link", "script")]
    external = [a.get("src") or a.get("href") for _, a in parser.tags
                if (a.get("src") or a.get("href") or "").startswith(("http:", "https:", "//"))]
    assert external == []


def test_report_without_metrics_or_figures(tmp_path):
    space = make_space(["a", "b"], metrics={}, history=[])
    text = write_report(space, tmp_path, []).read_text(encoding="utf-8")
    assert "No metrics were computed" in text
    assert "No figures were written" in text
    assert "no training history" in text


def test_report_links_figures_outside_run_dir(tmp_path):
    space = make_space(["a", "b"])
    elsewhere = tmp_path / "elsewhere"
    path = plot_map(np.random.default_rng(0).normal(size=(120, 2)), elsewhere / "map.png")
    run_dir = tmp_path / "run"
    text = write_report(space, run_dir, [Figure("map", path, "Map.")]).read_text()
    assert 'src="../elsewhere/map.png"' in text
    assert (run_dir / Path("../elsewhere/map.png")).is_file()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "n/a"),
        (float("nan"), "n/a"),
        (True, "yes"),
        (1234567, "1,234,567"),
        (np.int64(3), "3"),
        (0.0, "0"),
        (0.123456, "0.1235"),
        (123456.7, "123,457"),
        (0.0000123, "1.23e-05"),
        (np.float32(2.5), "2.5"),
        ("held-out", "held-out"),
        (list(range(20)), "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, … (20 values)"),
    ],
)
def test_format_value(value, expected):
    assert format_value(value) == expected
