"""Tests for the figure writers, on a numpy PCA stand-in for `LatentSpace`."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentspace.data.builtin import load_digits, load_swiss_roll
from latentspace.errors import InvalidParameterError
from latentspace.figures import (
    Figure,
    plot_map,
    plot_thumbnail_map,
    plot_training_curves,
    write_figures,
    write_interpolation_gif,
)
from latentspace.figures.common import new_figure, save_figure
from latentspace.figures.maps import select_spread

MIN_PIXEL_STD = 12.0
MIN_NON_WHITE_FRACTION = 0.05
MIN_COLOURS = 16
IMAGE_FIGURES = {"map", "map-tsne-2d", "thumbnails", "map-3d", "training", "reconstructions",
                 "interpolations", "interpolation", "samples", "traversal", "manifold"}
# The swiss roll stand-in has a 2-D latent and no 3-D projection, so it gets no 3-D view.
VECTOR_FIGURES = IMAGE_FIGURES - {"thumbnails", "map-3d"}
DECODER_FIGURES = {"reconstructions", "interpolations", "interpolation", "samples", "traversal",
                   "manifold"}
HOSTILE_LABEL = "<img src=x onerror=alert(1)>"


class FakeSpace:
    """A `LatentSpace` stand-in: PCA with numpy, decoding linearly back to the input."""

    def __init__(self, dataset, latent_dim=6, decoder=True, n_epochs=12):
        self.dataset = dataset
        flat = dataset.flat().astype(np.float64)
        self.mean = flat.mean(axis=0)
        _, _, vt = np.linalg.svd(flat - self.mean, full_matrices=False)
        self.components = vt[:latent_dim]
        self.z = ((flat - self.mean) @ self.components.T).astype(np.float32)
        n = len(dataset)
        order = np.random.default_rng(0).permutation(n)
        self.val_index = np.sort(order[: n // 5])
        self.train_index = np.sort(order[n // 5 :])
        self.projections = {"umap-2d": self.z[:, :2].copy(), "tsne-2d": self.z[:, 1::-1].copy()}
        if latent_dim >= 3:
            self.projections["umap-3d"] = self.z[:, :3].copy()
        self.history = [
            {"epoch": e, "train_loss": 10.0 / e, "val_loss": 11.0 / e + 0.01 * e,
             "train_recon": 9.0 / e, "val_recon": 10.0 / e, "train_kl": 1.0, "val_kl": 1.1,
             "seconds": 0.1}
            for e in range(1, n_epochs + 1)
        ]
        self.metrics = {"compression_ratio": dataset.n_features / latent_dim,
                        "reconstruction": {"mse": 0.01, "psnr": 20.0}}
        self.config = {"data": dataset.name, "model": {"model": "pca", "latent_dim": latent_dim},
                       "seed": 0}
        self.has_decoder = decoder
        self.model = None
        self.latent_dim = latent_dim

    def decode(self, z):
        z = np.asarray(z, dtype=np.float64)
        flat = z @ self.components + self.mean
        return flat.reshape(len(z), *self.dataset.sample_shape).astype(np.float32)

    def reconstruct(self, indices):
        return self.decode(self.z[np.asarray(indices)])

    def _latent(self, item):
        if isinstance(item, int | np.integer):
            return self.z[item].astype(np.float64)
        return np.asarray(item, dtype=np.float64)

    def interpolate(self, a, b, steps=10, method="lerp", decode=True):
        za, zb = self._latent(a), self._latent(b)
        t = np.linspace(0.0, 1.0, steps)[:, None]
        if method == "lerp":
            path = (1 - t) * za + t * zb
        else:
            na, nb = np.linalg.norm(za), np.linalg.norm(zb)
            omega = np.arccos(np.clip(za @ zb / (na * nb), -1.0, 1.0))
            if np.sin(omega) < 1e-6:
                return self.interpolate(a, b, steps, "lerp", decode)
            ua, ub = za / na, zb / nb
            direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
            path = direction * ((1 - t) * na + t * nb)
        return self.decode(path) if decode else path

    def sample(self, n, seed=None, decode=True):
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.z.shape[1])) * self.z.std(axis=0) + self.z.mean(axis=0)
        return self.decode(z) if decode else z

    def traverse(self, item, dim, values):
        path = np.repeat(self._latent(item)[None], len(values), axis=0)
        path[:, dim] = values
        return self.decode(path)


def check_not_blank(path):
    """Assert the image at `path` is a valid picture with real content, not an empty canvas."""
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.std() > MIN_PIXEL_STD, f"{path.name}: pixel std {pixels.std():.1f}"
    non_white = float(np.mean(pixels.min(axis=2) < 240))
    assert non_white > MIN_NON_WHITE_FRACTION, f"{path.name}: {non_white:.1%} non-white"
    packed = pixels.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
    n_colours = len(np.unique(packed))
    assert n_colours >= MIN_COLOURS, f"{path.name}: {n_colours} colours"


@pytest.fixture(scope="module")
def digits_space():
    return FakeSpace(load_digits(), latent_dim=6)


@pytest.fixture(scope="module")
def digits_figures(digits_space, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("digits") / "figures"
    return write_figures(digits_space, out_dir)


@pytest.fixture(scope="module")
def swiss_roll_figures(tmp_path_factory):
    space = FakeSpace(load_swiss_roll(n_samples=800), latent_dim=2)
    return write_figures(space, tmp_path_factory.mktemp("swiss") / "figures")


def test_blank_check_rejects_empty_axes(tmp_path):
    figure = new_figure(6, 4)
    ax = figure.add_subplot()
    ax.set_title("Empty")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    path = save_figure(figure, tmp_path / "empty.png")
    with pytest.raises(AssertionError):
        check_not_blank(path)


def test_image_space_writes_every_figure(digits_figures):
    names = [figure.name for figure in digits_figures]
    assert set(names) == IMAGE_FIGURES
    assert len(names) == len(set(names))
    for figure in digits_figures:
        assert isinstance(figure, Figure)
        assert figure.path.is_file()
        assert figure.caption.strip()
        assert "\n" not in figure.caption


def test_image_figures_are_not_blank(digits_figures):
    for figure in digits_figures:
        check_not_blank(figure.path)


def test_pngs_are_valid_png(digits_figures):
    for figure in digits_figures:
        if figure.path.suffix == ".png":
            assert figure.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_temporary_files_left(digits_figures):
    folder = digits_figures[0].path.parent
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_gif_loops_with_several_frames(digits_figures):
    gif = next(f.path for f in digits_figures if f.name == "interpolation")
    with Image.open(gif) as image:
        assert image.format == "GIF"
        assert image.n_frames >= 10
        assert image.info.get("loop") == 0
        image.seek(0)
        first = np.asarray(image.convert("L"), dtype=float)
        image.seek(image.n_frames // 4)
        middle = np.asarray(image.convert("L"), dtype=float)
    assert np.abs(first - middle).mean() > 1.0


def test_gif_plays_forwards_then_backwards(tmp_path):
    frames = np.linspace(0, 1, 5)[:, None, None, None] * np.ones((5, 1, 8, 8))
    path = write_interpolation_gif(frames, tmp_path / "walk.gif")
    with Image.open(path) as image:
        means = []
        for i in range(image.n_frames):
            image.seek(i)
            means.append(np.asarray(image.convert("L"), dtype=float).mean())
    assert len(means) == 8
    assert np.all(np.diff(means[:5]) > 0)
    assert np.all(np.diff(means[4:]) < 0)


def test_space_without_decoder_skips_walks(tmp_path):
    space = FakeSpace(load_digits(n_samples=300), latent_dim=4, decoder=False)
    figures = write_figures(space, tmp_path)
    names = {figure.name for figure in figures}
    assert names.isdisjoint(DECODER_FIGURES)
    assert {"map", "thumbnails", "map-3d", "training"} <= names


def test_swiss_roll_writes_every_figure(swiss_roll_figures):
    assert {figure.name for figure in swiss_roll_figures} == VECTOR_FIGURES


def test_swiss_roll_figures_are_not_blank(swiss_roll_figures):
    for figure in swiss_roll_figures:
        check_not_blank(figure.path)


def test_swiss_roll_gif_animates(swiss_roll_figures):
    gif = next(f.path for f in swiss_roll_figures if f.name == "interpolation")
    with Image.open(gif) as image:
        assert image.n_frames >= 10
        image.seek(0)
        first = np.asarray(image.convert("RGB"), dtype=float)
        image.seek(image.n_frames // 4)
        later = np.asarray(image.convert("RGB"), dtype=float)
    assert np.abs(first - later).max() > 50


def test_latent_without_projections_gets_map(tmp_path):
    space = FakeSpace(load_digits(n_samples=200), latent_dim=5, decoder=False)
    space.projections = {}
    figures = write_figures(space, tmp_path)
    names = {figure.name for figure in figures}
    assert "map" in names
    assert "map-3d" not in names


def test_one_dimensional_latent(tmp_path):
    space = FakeSpace(load_digits(n_samples=200), latent_dim=1)
    space.projections = {}
    figures = write_figures(space, tmp_path)
    names = {figure.name for figure in figures}
    assert "map" not in names
    assert {"manifold", "traversal", "interpolations"} <= names
    for figure in figures:
        check_not_blank(figure.path)


def test_short_history_skips_training_curves(tmp_path):
    space = FakeSpace(load_digits(n_samples=200), latent_dim=3, decoder=False, n_epochs=1)
    names = {figure.name for figure in write_figures(space, tmp_path)}
    assert "training" not in names


def test_map_with_hostile_class_names(tmp_path):
    coords = np.random.default_rng(0).normal(size=(600, 2))
    labels = np.arange(600) % 3
    path = plot_map(coords, tmp_path / "map.png", labels=labels,
                    label_names=[HOSTILE_LABEL, r"$\notacommand$", "a $ b"])
    check_not_blank(path)


def test_map_with_many_classes_uses_colorbar(tmp_path):
    coords = np.random.default_rng(0).normal(size=(300, 2))
    path = plot_map(coords, tmp_path / "map.png", labels=np.arange(300) % 30,
                    label_names=[f"class {i}" for i in range(30)])
    check_not_blank(path)


def test_map_rejects_wrong_shape(tmp_path):
    with pytest.raises(InvalidParameterError, match="shape"):
        plot_map(np.zeros((10, 3)), tmp_path / "map.png")


def test_thumbnail_map_with_rgb_images(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(200, 3, 10, 10)).astype(np.float32)
    path = plot_thumbnail_map(rng.normal(size=(200, 2)), images, tmp_path / "thumbs.png")
    check_not_blank(path)


def test_spread_selection_has_no_overlaps():
    coords = np.random.default_rng(1).normal(size=(3000, 2)) * [5.0, 0.5]
    spacing = 0.05
    chosen = select_spread(coords, spacing, max_count=1000)
    scaled = (coords - coords.min(0)) / (coords.max(0) - coords.min(0))
    picked = scaled[chosen]
    gaps = np.abs(picked[:, None, :] - picked[None, :, :]).max(axis=2)
    np.fill_diagonal(gaps, np.inf)
    assert len(chosen) > 50
    assert gaps.min() >= spacing


def test_training_curves_without_kl(tmp_path):
    history = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e} for e in range(1, 6)]
    path = plot_training_curves(history, tmp_path / "training.png")
    check_not_blank(path)


def test_training_curves_reject_empty_history(tmp_path):
    with pytest.raises(InvalidParameterError, match="history"):
        plot_training_curves([{"epoch": 1}], tmp_path / "training.png")
