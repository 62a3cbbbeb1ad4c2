"""`write_figures`: choose items, walks and grids for a latent space, and draw every figure."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentspace.errors import NoDecoderError
from latentspace.figures import curves, grids, maps, vectors
from latentspace.figures.common import Figure

logger = logging.getLogger(__name__)

N_RECONSTRUCTIONS = 12
N_VECTOR_RECONSTRUCTIONS = 500
N_PAIRS = 4
N_INTERPOLATION_STEPS = 10
N_GIF_STEPS = 24
N_IMAGE_SAMPLES = 64
N_VECTOR_SAMPLES = 1000
MAX_TRAVERSAL_DIMS = 8
TRAVERSAL_OFFSETS = np.linspace(-2.5, 2.5, 9)
MANIFOLD_SPAN_STD = 2.0
METHOD_NAMES = {"fastmap": "FastMap",
                "pca": "PCA", "tsne": "t-SNE", "umap": "UMAP", "isomap": "Isomap", "lle": "LLE",
                "pacmap": "PaCMAP", "latent": "latent"}


def model_name(space) -> str:
    """Return the model's registry name (for example ``"vae"``), or a description when absent."""
    name = getattr(getattr(space, "model", None), "name", None)
    if name:
        return str(name)
    config = getattr(space, "config", None) or {}
    model = config.get("model")
    if isinstance(model, dict):
        model = model.get("model") or model.get("name")
    if model:
        return str(model)
    return "model" if space.has_decoder else "precomputed embeddings"


def projection_axis_labels(name: str, dims: int) -> tuple[str, ...]:
    """Return axis labels such as ``("UMAP 1", "UMAP 2")`` for a projection like ``umap-2d``."""
    method = name.rsplit("-", 1)[0] if name.endswith(("-2d", "-3d")) else name
    if method == "latent":
        return tuple(f"z{i}" for i in range(dims))
    display = METHOD_NAMES.get(method, method)
    return tuple(f"{display} {i + 1}" for i in range(dims))


@dataclass
class _Context:
    """Inputs shared by the figure writers of one space."""

    space: object
    out_dir: Path
    heading: str
    labels: np.ndarray | None
    label_names: list[str] | None
    label_title: str
    feature_names: list[str] | None

    @property
    def dataset(self):
        return self.space.dataset

    @property
    def is_image(self) -> bool:
        return bool(self.space.dataset.is_image)

    def path(self, name: str, suffix: str = ".png") -> Path:
        return self.out_dir / f"{name}{suffix}"

    def input_units(self, x: np.ndarray) -> np.ndarray:
        """Return vectors shaped (..., *sample_shape) as (..., n_features) in the data's units.

        Tabular features are standardised for the model; figures show the original units.
        """
        x = np.asarray(x, dtype=np.float64)
        n_features = self.dataset.n_features
        lead_shape = x.shape[: x.ndim - len(self.dataset.sample_shape)]
        flat = self.dataset.to_original_units(x.reshape(-1, n_features))
        return np.asarray(flat).reshape(*lead_shape, n_features)

    def labels_kw(self) -> dict:
        return {"labels": self.labels, "label_names": self.label_names,
                "label_title": self.label_title}


def _context(space, out_dir: Path) -> _Context:
    dataset = space.dataset
    latent_dim = int(np.asarray(space.z).shape[1])
    label_title = "class" if dataset.has_class_labels else str(dataset.info.get("label", "label"))
    return _Context(
        space=space,
        out_dir=out_dir,
        heading=f"{dataset.name} · {model_name(space)} (latent dim {latent_dim})",
        labels=dataset.labels,
        label_names=dataset.label_names,
        label_title=label_title,
        feature_names=dataset.info.get("feature_names"),
    )


def _candidates(space) -> np.ndarray:
    """Return the items to draw examples from: the validation split when there is one."""
    val_index = getattr(space, "val_index", None)
    if val_index is not None and len(val_index) > 0:
        return np.asarray(val_index, dtype=np.int64)
    return np.arange(len(space.dataset), dtype=np.int64)


def _example_items(space, n: int) -> np.ndarray:
    """Pick `n` items deterministically: one per class first, then more in index order."""
    candidates = _candidates(space)
    dataset = space.dataset
    chosen: list[int] = []
    if dataset.has_class_labels:
        labels = dataset.labels[candidates]
        for code in np.unique(labels):
            chosen.append(int(candidates[np.argmax(labels == code)]))
    chosen = chosen[:n]
    rest = np.setdiff1d(candidates, chosen, assume_unique=False)
    if len(chosen) < n and len(rest):
        spread = np.linspace(0, len(rest) - 1, min(n - len(chosen), len(rest))).round()
        chosen.extend(int(i) for i in rest[spread.astype(int)])
    return np.asarray(chosen, dtype=np.int64)


def _principal_axes(z: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the latent mean, the first `k` principal directions (rows) and their std."""
    mean = z.mean(axis=0)
    _, singular, vt = np.linalg.svd(z - mean, full_matrices=False)
    std = singular[:k] / np.sqrt(max(len(z) - 1, 1))
    return mean, vt[:k], std


def _interpolation_pairs(space, n_pairs: int) -> tuple[list[tuple[int, int]], list[str]]:
    """Pick item pairs deterministically, from different classes where there are classes.

    With classes, each class is represented by its item nearest the class's latent mean,
    and classes are paired with classes half the class list away. Without classes, items
    are ordered by the continuous label (or by the first principal direction of the
    latents) and paired from opposite ends of that order.
    """
    z = np.asarray(space.z, dtype=np.float64)
    candidates = _candidates(space)
    dataset = space.dataset
    if dataset.has_class_labels:
        labels = dataset.labels[candidates].astype(np.int64)
        codes = [int(c) for c in np.unique(labels)]
        if len(codes) >= 2:
            representative = {}
            for code in codes:
                members = candidates[labels == code]
                centre = z[members].mean(axis=0)
                representative[code] = int(members[np.argmin(((z[members] - centre) ** 2).sum(1))])
            class_pairs: list[tuple[int, int]] = []
            for offset in [len(codes) // 2, *range(1, len(codes))]:
                for i in range(len(codes)):
                    pair = (codes[i], codes[(i + offset) % len(codes)])
                    seen = pair in class_pairs or pair[::-1] in class_pairs
                    if pair[0] != pair[1] and not seen:
                        class_pairs.append(pair)
            class_pairs = class_pairs[:n_pairs]
            names = dataset.label_text()
            items = [(representative[a], representative[b]) for a, b in class_pairs]
            return items, [f"{names[a]} → {names[b]}" for a, b in items]
    if dataset.labels is not None and not dataset.has_class_labels:
        key = np.asarray(dataset.labels, dtype=np.float64)[candidates]
    else:
        mean, directions, _ = _principal_axes(z[candidates], 1)
        key = (z[candidates] - mean) @ directions[0]
    order = candidates[np.argsort(key, kind="stable")]
    items = []
    for fraction in np.linspace(0.02, 0.3, n_pairs):
        first = int(order[int(round(fraction * (len(order) - 1)))])
        last = int(order[int(round((1 - fraction) * (len(order) - 1)))])
        if first != last and (first, last) not in items:
            items.append((first, last))
    ids = dataset.ids
    return items, [f"item {ids[a]} → item {ids[b]}" for a, b in items]


def _write_maps(ctx: _Context) -> list[Figure]:
    space = ctx.space
    z = np.asarray(space.z, dtype=np.float32)
    projections = dict(getattr(space, "projections", None) or {})
    two_d = [name for name, coords in projections.items() if np.asarray(coords).shape[1:] == (2,)]
    # The main map is the default projection, then umap-2d when the run has no FastMap.
    for preferred in ("umap-2d", "fastmap-2d"):
        if preferred in two_d:
            two_d.remove(preferred)
            two_d.insert(0, preferred)
    if not two_d:
        if z.shape[1] == 2:
            projections["latent"] = z
        elif z.shape[1] > 2:
            mean, directions, _ = _principal_axes(z, 2)
            projections["pca-2d"] = ((z - mean) @ directions.T).astype(np.float32)
        else:
            logger.info("No map written: the latent space is 1-D and has no 2-D projection.")
            return []
        two_d = [next(reversed(projections))]

    figures = []
    for position, name in enumerate(two_d):
        coords = np.asarray(projections[name], dtype=np.float32)
        axis_labels = ("z0", "z1") if name == "latent" else projection_axis_labels(name, 2)
        method = axis_labels[0].rsplit(" ", 1)[0]
        figure_name = "map" if position == 0 else f"map-{name}"
        colouring = "class" if ctx.dataset.has_class_labels else ctx.label_title
        maps.plot_map(coords, ctx.path(figure_name), **ctx.labels_kw(), axis_labels=axis_labels,
                      title=f"{ctx.heading}: {method} map")
        figures.append(Figure(figure_name, ctx.path(figure_name),
                              f"Each item at its {method} position, coloured by {colouring}."))
        if position == 0 and ctx.is_image:
            maps.plot_thumbnail_map(coords, ctx.dataset.x, ctx.path("thumbnails"),
                                    **ctx.labels_kw(), axis_labels=axis_labels,
                                    title=f"{ctx.heading}: {method} map with thumbnails")
            figures.append(Figure("thumbnails", ctx.path("thumbnails"),
                                  f"The {method} map with the image of a spread-out subset "
                                  "of items drawn at their positions."))
    return figures


def _write_map_3d(ctx: _Context) -> list[Figure]:
    space = ctx.space
    projections = dict(getattr(space, "projections", None) or {})
    three_d = sorted(n for n, c in projections.items() if np.asarray(c).shape[1:] == (3,))
    for preferred in ("umap-3d", "fastmap-3d"):
        if preferred in three_d:
            three_d = [preferred]
    if three_d:
        name = three_d[0]
        coords = projections[name]
        axis_labels = projection_axis_labels(name, 3)
    elif np.asarray(space.z).shape[1] == 3:
        coords, axis_labels = space.z, ("z0", "z1", "z2")
    else:
        logger.info("No 3-D view written: no '*-3d' projection and the latent is not 3-D.")
        return []
    method = axis_labels[0].rsplit(" ", 1)[0]
    maps.plot_map_3d(coords, ctx.path("map-3d"), **ctx.labels_kw(), axis_labels=axis_labels,
                     title=f"{ctx.heading}: {method} in 3-D")
    return [Figure("map-3d", ctx.path("map-3d"),
                   f"The {method} 3-D projection seen from two angles.")]


def _write_training(ctx: _Context) -> list[Figure]:
    history = list(getattr(ctx.space, "history", None) or [])
    if len(history) < 2:
        logger.info("No training curves written: the history has %d epoch(s).", len(history))
        return []
    curves.plot_training_curves(history, ctx.path("training"),
                                title=f"{ctx.heading}: training curves")
    return [Figure("training", ctx.path("training"),
                   f"Training and validation loss per epoch over {len(history)} epochs, "
                   "with the best epoch marked.")]


def _write_reconstructions(ctx: _Context) -> list[Figure]:
    space = ctx.space
    if ctx.is_image:
        items = _example_items(space, N_RECONSTRUCTIONS)
        originals = ctx.dataset.x[items]
        item_labels = None
        if ctx.dataset.labels is not None:
            item_labels = list(ctx.dataset.label_text()[items])
        grids.plot_reconstructions(originals, space.reconstruct(items),
                                   ctx.path("reconstructions"), item_labels=item_labels,
                                   title=f"{ctx.heading}: originals and reconstructions")
        caption = f"{len(items)} held-out items (top) and their reconstructions (bottom)."
    else:
        items = _example_items(space, N_VECTOR_RECONSTRUCTIONS)
        vectors.plot_vector_reconstructions(
            ctx.input_units(ctx.dataset.x[items]), ctx.input_units(space.reconstruct(items)),
            ctx.path("reconstructions"),
            feature_names=ctx.feature_names,
            title=f"{ctx.heading}: original against reconstructed values",
        )
        caption = (f"Original against reconstructed value of each feature for {len(items)} "
                   "held-out items; the diagonal is exact reconstruction.")
    return [Figure("reconstructions", ctx.path("reconstructions"), caption)]


def _write_interpolations(ctx: _Context) -> list[Figure]:
    space = ctx.space
    pairs, pair_labels = _interpolation_pairs(space, N_PAIRS)
    if not pairs:
        logger.info("No interpolations written: fewer than two distinct items.")
        return []
    lerp = np.stack([space.interpolate(a, b, steps=N_INTERPOLATION_STEPS, method="lerp")
                     for a, b in pairs])
    slerp = np.stack([space.interpolate(a, b, steps=N_INTERPOLATION_STEPS, method="slerp")
                      for a, b in pairs])
    gif_paths = np.stack([space.interpolate(a, b, steps=N_GIF_STEPS, method="lerp")
                          for a, b in pairs], axis=1)
    gif = ctx.path("interpolation", ".gif")
    if ctx.is_image:
        grids.plot_interpolations(lerp, slerp, ctx.path("interpolations"),
                                  pair_labels=pair_labels,
                                  title=f"{ctx.heading}: interpolations, lerp above slerp")
        grids.write_interpolation_gif(gif_paths, gif)
        gif_caption = (f"Animated linear interpolation for {len(pairs)} pairs side by side, "
                       "forwards then backwards.")
    else:
        flat = ctx.input_units(ctx.dataset.x)
        vectors.plot_vector_interpolations(
            flat, ctx.input_units(lerp), ctx.input_units(slerp), ctx.path("interpolations"),
            pair_labels=pair_labels, feature_names=ctx.feature_names,
            title=f"{ctx.heading}: interpolation paths in input space",
        )
        vectors.write_vector_interpolation_gif(
            flat, ctx.input_units(gif_paths[:, 0]), gif,
            feature_names=ctx.feature_names, title=f"lerp {pair_labels[0]}",
        )
        gif_caption = f"Animated linear interpolation {pair_labels[0]}, drawn over the data."
    return [
        Figure("interpolations", ctx.path("interpolations"),
               f"Decoded walks between {len(pairs)} item pairs: linear (lerp) and spherical "
               "(slerp) interpolation of the latents."),
        Figure("interpolation", gif, gif_caption),
    ]


def _write_samples(ctx: _Context) -> list[Figure]:
    space = ctx.space
    if ctx.is_image:
        samples = space.sample(N_IMAGE_SAMPLES, seed=0)
        grids.plot_image_grid(samples, ctx.path("samples"),
                              title=f"{ctx.heading}: samples decoded from the prior")
        caption = f"{len(samples)} latents drawn from the prior (seed 0), decoded."
    else:
        samples = space.sample(min(N_VECTOR_SAMPLES, len(ctx.dataset)), seed=0)
        vectors.plot_vector_samples(
            ctx.input_units(ctx.dataset.x), ctx.input_units(samples), ctx.path("samples"),
            feature_names=ctx.feature_names,
            title=f"{ctx.heading}: prior samples over the data",
        )
        caption = (f"{len(samples)} latents drawn from the prior (seed 0), decoded (red) "
                   "over the data (grey).")
    return [Figure("samples", ctx.path("samples"), caption)]


def _write_traversal(ctx: _Context) -> list[Figure]:
    space = ctx.space
    z = np.asarray(space.z, dtype=np.float64)
    std = z.std(axis=0)
    dims = np.argsort(-std, kind="stable")[:MAX_TRAVERSAL_DIMS]
    if z.shape[1] <= MAX_TRAVERSAL_DIMS:
        dims = np.arange(z.shape[1])

    # A VAE's posterior means can spread far less than its N(0, I) prior (an unused
    # dimension barely moves), so steps are in prior units there to show what each
    # dimension decodes to.
    variational = bool(getattr(space, "is_variational", False))
    step = np.ones_like(std) if variational else std
    unit = "prior standard deviations" if variational else "standard deviations of that dimension"

    candidates = _candidates(space)
    item = int(candidates[np.argmin(((z[candidates] - z.mean(axis=0)) ** 2).sum(axis=1))])
    decoded = np.stack([
        space.traverse(item, int(dim), z[item, dim] + TRAVERSAL_OFFSETS * step[dim])
        for dim in dims
    ])

    dims_text = "all" if len(dims) == z.shape[1] else f"the {len(dims)} highest-variance"
    caption = (f"Item {ctx.dataset.ids[item]} decoded as each of {dims_text} latent "
               f"dimensions moves ±{TRAVERSAL_OFFSETS[-1]:g} {unit}.")
    if ctx.is_image:
        grids.plot_traversal(decoded, ctx.path("traversal"), dims=[int(d) for d in dims],
                             offsets=TRAVERSAL_OFFSETS, dim_stds=std[dims], offset_unit=unit,
                             title=f"{ctx.heading}: latent traversal")
    else:
        vectors.plot_vector_traversal(
            ctx.input_units(ctx.dataset.x), ctx.input_units(decoded), ctx.path("traversal"),
            dims=[int(d) for d in dims], feature_names=ctx.feature_names,
            title=f"{ctx.heading}: latent traversal in input space",
        )
    return [Figure("traversal", ctx.path("traversal"), caption)]


def _manifold_latents(z: np.ndarray, n: int) -> tuple[np.ndarray, list, list, tuple[str, str], str]:
    """Return a regular latent grid (n_y, n_x, d), its tick values, axis names and a summary.

    A 2-D latent is gridded over its own axes. A wider one is gridded over the plane of its
    first two principal directions, centred at the latent mean. Both span
    ±`MANIFOLD_SPAN_STD` standard deviations, and a 1-D latent gives a single row.
    """
    offsets = np.linspace(-MANIFOLD_SPAN_STD, MANIFOLD_SPAN_STD, n)
    if z.shape[1] <= 2:
        mean, std = z.mean(axis=0), z.std(axis=0)
        directions = np.eye(z.shape[1])
        names = ("z0", "z1")
        summary = "the latent's two axes"
    else:
        mean, directions, std = _principal_axes(z, 2)
        names = ("latent PC1 (offset from the mean)", "latent PC2 (offset from the mean)")
        summary = "the plane of the latents' first two principal directions"
    x_offsets = offsets * std[0]
    y_offsets = offsets[::-1] * std[1] if len(std) > 1 else np.zeros(1)
    grid = mean + x_offsets[None, :, None] * directions[0]
    if len(std) > 1:
        grid = grid + y_offsets[:, None, None] * directions[1]
    if z.shape[1] == 2:
        x_ticks, y_ticks = list(mean[0] + x_offsets), list(mean[1] + y_offsets)
    else:
        x_ticks, y_ticks = list(x_offsets), list(y_offsets)
    return grid, x_ticks, y_ticks, names, summary


def _write_manifold(ctx: _Context) -> list[Figure]:
    space = ctx.space
    z = np.asarray(space.z, dtype=np.float64)
    if not ctx.is_image:
        n = vectors.MANIFOLD_LINES
    elif ctx.dataset.sample_shape[-2] <= 32:
        n = 15
    else:
        n = 10
    grid, x_ticks, y_ticks, names, summary = _manifold_latents(z, n)
    shape = grid.shape[:2]
    decoded = np.asarray(space.decode(grid.reshape(-1, z.shape[1]).astype(np.float32)))
    caption = (f"A regular {shape[0]}×{shape[1]} grid over {summary}, "
               f"±{MANIFOLD_SPAN_STD:g} standard deviations around the mean, decoded.")
    if ctx.is_image:
        grids.plot_manifold_grid(decoded.reshape(*shape, *decoded.shape[1:]),
                                 ctx.path("manifold"), x_values=x_ticks, y_values=y_ticks,
                                 axis_labels=names, title=f"{ctx.heading}: decoded manifold")
    else:
        vectors.plot_vector_manifold(
            ctx.input_units(ctx.dataset.x), ctx.input_units(decoded).reshape(*shape, -1),
            ctx.path("manifold"),
            axis_labels=names, feature_names=ctx.feature_names,
            title=f"{ctx.heading}: decoded latent grid in input space",
        )
    return [Figure("manifold", ctx.path("manifold"), caption)]


# Each entry: what the writer draws, the writer, and whether it needs a decoder.
WRITERS: tuple[tuple[str, Callable[[_Context], list[Figure]], bool], ...] = (
    ("maps", _write_maps, False),
    ("3-D view", _write_map_3d, False),
    ("training curves", _write_training, False),
    ("reconstructions", _write_reconstructions, True),
    ("interpolations", _write_interpolations, True),
    ("prior samples", _write_samples, True),
    ("traversal", _write_traversal, True),
    ("decoded manifold", _write_manifold, True),
)


def write_figures(space, out_dir: str | Path) -> list[Figure]:
    """Draw every figure that `space` supports into `out_dir`.

    Maps need only latents or projections. Reconstructions, interpolations (PNG and GIF),
    prior samples, the traversal and the decoded manifold need a decoder, so they are
    skipped for a space without one. Image data gets image grids, and vector data gets
    the same walks drawn as points and paths over the data. Every file is written
    atomically.

    Parameters
    ----------
    space : LatentSpace
        A fitted space; uses ``dataset``, ``z``, ``projections``, ``history``,
        ``has_decoder``, ``decode``, ``reconstruct``, ``interpolate``, ``sample`` and
        ``traverse``.
    out_dir : path
        Folder for the files, created if missing (``<run>/figures`` in a run directory).

    Returns
    -------
    list of Figure
        The written figures, in a reading order: maps first, then walks and grids.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = _context(space, out_dir)
    figures: list[Figure] = []
    for what, writer, needs_decoder in WRITERS:
        if needs_decoder and not space.has_decoder:
            logger.info("Skipping %s: the space has no decoder.", what)
            continue
        try:
            figures.extend(writer(ctx))
        except NoDecoderError as error:
            logger.warning("Skipping %s: %s", what, error)
    logger.info("Wrote %d figures to %s", len(figures), out_dir)
    return figures
