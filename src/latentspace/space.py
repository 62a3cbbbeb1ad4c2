"""`LatentSpace`: a fitted model, its data, the latents, their projections and neighbours."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from latentspace.data.dataset import Dataset
from latentspace.errors import InvalidParameterError, NoDecoderError
from latentspace.walks import interpolate_latents, traverse_latent

logger = logging.getLogger(__name__)

ENCODE_BATCH_SIZE = 1024
# t-SNE at its default perplexity of 30 needs 90 neighbours per point, so one graph of that
# size serves every map up to LARGE_SPACE points. Larger spaces keep 30 to bound memory, and
# t-SNE builds its own graph there.
DEFAULT_KNN_K = 90
LARGE_SPACE = 200_000
LARGE_SPACE_KNN_K = 30
DEFAULT_MAP_METHOD = "fastmap"
NO_DECODER_NOTE = (
    "This space was built from precomputed embeddings and has no decoder, so it cannot "
    "decode, interpolate, sample or traverse; train a model on the data to walk through it."
)


class LatentSpace:
    """A latent space learned from data, ready to project, walk through and measure.

    Build one with `LatentSpace.fit` (trains a model), `LatentSpace.from_embeddings`
    (precomputed vectors, no decoder) or `LatentSpace.load` (a saved run directory).

    Attributes
    ----------
    dataset : Dataset
        The samples the space was fitted on.
    model : LatentModel or None
        The fitted encoder and decoder; None for precomputed embeddings.
    z : ndarray of float32, shape (n_samples, latent_dim)
        Latents of every sample (the posterior mean for VAEs).
    train_index, val_index : ndarray of int
        Rows used for fitting and rows held out for validation and metrics.
    projections : dict of str to ndarray
        2-D and 3-D maps of the latents, keyed like ``"umap-2d"``.
    knn : KNNGraph
        The k-nearest-neighbour graph of `z`, built once and shared by projections,
        metrics and neighbour queries.
    history : list of dict
        Per-epoch losses from training.
    metrics : dict
        Results of `evaluate`.
    config : dict
        Every setting the space was built with.

    Examples
    --------
    >>> import latentspace as ls
    >>> data = ls.load_dataset("digits")
    >>> space = ls.LatentSpace.fit(data, model="pca", latent_dim=8, seed=0)
    >>> space.z.shape
    (1797, 8)
    >>> strip = space.interpolate(0, 42, steps=10, method="slerp")
    >>> strip.shape
    (10, 1, 8, 8)
    """

    def __init__(self, dataset: Dataset, model: Any, z: np.ndarray, config: dict,
                 train_index: np.ndarray | None = None, val_index: np.ndarray | None = None,
                 history: list[dict] | None = None) -> None:
        self.dataset = dataset
        self.model = model
        self.z = np.ascontiguousarray(z, dtype=np.float32)
        self.config = config
        n = len(dataset)
        self.train_index = np.arange(n) if train_index is None else np.asarray(train_index)
        self.val_index = np.array([], dtype=np.int64) if val_index is None else np.asarray(
            val_index
        )
        self.history = history or []
        self.projections: dict[str, np.ndarray] = {}
        self.projectors: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.run_dir: Path | None = None
        self._knn = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def fit(cls, data: Dataset, model: str = "vae", latent_dim: int = 8, seed: int = 0, *,
            epochs: int = 100, batch_size: int = 64, learning_rate: float = 1e-3,
            patience: int = 10, val_fraction: float = 0.2, run_dir: str | Path | None = None,
            resume: bool = False, progress: bool = True, device: str = "auto",
            precision: str = "auto", num_threads: int | None = None,
            **hyperparameters: Any) -> LatentSpace:
        """Train `model` on `data` and encode every sample.

        Parameters
        ----------
        data : Dataset
            Samples to learn from, for example ``load_dataset("digits")``.
        model : str
            ``pca``, ``ae``, ``conv-ae``, ``vae`` or ``conv-vae``.
        latent_dim : int
            Number of latent dimensions, from 1 to the number of input dimensions.
        seed : int
            Seeds the split, the initial weights and the batch order. On the CPU the same
            seed, precision and `num_threads` give the same latents; convolutional models
            can differ in the last bits between thread counts.
        epochs, batch_size, learning_rate, patience
            Training length (passes over the data), samples per step, Adam's step size,
            and how many epochs without a better validation loss stop training early.
        val_fraction : float
            Fraction of samples held out for early stopping and for the metrics.
        run_dir : path, optional
            Where checkpoints go during training, so that `resume` can continue.
        resume : bool
            Continue from the last checkpoint in ``run_dir/checkpoints``.
        progress : bool
            Show a progress bar with the current losses.
        device, precision, num_threads
            Where and how to train: see `latentspace.training.TrainConfig`. By default a
            CUDA GPU when torch detects one (with bfloat16 mixed precision where it supports
            it), otherwise the CPU in float32 with a measured thread count.
        **hyperparameters
            Passed to the model, for example ``beta`` for VAEs.
        """
        from latentspace.data.checks import check_dataset
        from latentspace.models.registry import build_model
        from latentspace.training.loop import TrainConfig, train

        if "checks" not in data.info:  # the command line has checked it already
            data = check_dataset(data)
        _check_fraction(val_fraction, len(data))
        train_index, val_index = split_indices(len(data), val_fraction, seed)
        network = build_model(model, data.sample_shape, latent_dim, seed=seed, **hyperparameters)
        train_config = TrainConfig(epochs=epochs, batch_size=batch_size,
                                   learning_rate=learning_rate, patience=patience, seed=seed,
                                   device=device, precision=precision, num_threads=num_threads)
        checkpoint_dir = Path(run_dir) / "checkpoints" if run_dir is not None else None
        identity = {"data": data.fingerprint()}
        result = train(network, data.x[train_index], data.x[val_index], train_config,
                       checkpoint_dir=checkpoint_dir, resume=resume, identity=identity,
                       progress=progress)

        config = {
            "data": data.name,
            "data_source": data.info.get("source", {"name": data.name}),
            "model": network.config,
            "seed": seed,
            "val_fraction": val_fraction,
            "training": vars(train_config),
            "training_hardware": result.hardware,
        }
        space = cls(data, network, np.empty((0, latent_dim)), config, train_index, val_index,
                    result.history)
        space.z = space.encode(data.x)
        return space

    @classmethod
    def from_embeddings(cls, data: Dataset) -> LatentSpace:
        """Build an explore-only space whose latents are the given vectors.

        Projections, metrics and neighbours work; walks that need a decoder raise
        `NoDecoderError`.
        """
        from latentspace.data.checks import check_dataset

        if "checks" not in data.info:
            data = check_dataset(data, purpose="explore")
        config = {"data": data.name, "data_source": data.info.get("source", {"name": data.name}),
                  "model": None, "seed": 0}
        return cls(data, None, data.flat(), config)

    @classmethod
    def load(cls, run_dir: str | Path, data: Dataset | None = None,
             data_path: str | Path | None = None) -> LatentSpace:
        """Restore a space saved with `save`.

        The data set is loaded again from where it was read when the run was trained,
        unless `data` is given or `data_path` names its new location; its fingerprint
        must match the run's.
        """
        from latentspace.runs import load_space

        return load_space(cls, run_dir, data, data_path)

    def save(self, run_dir: str | Path) -> Path:
        """Write the space to `run_dir` (see the README's run directory section)."""
        from latentspace.runs import save_space

        return save_space(self, run_dir)

    # ------------------------------------------------------------------ properties

    @property
    def latent_dim(self) -> int:
        """Number of latent dimensions."""
        return int(self.z.shape[1])

    @property
    def has_decoder(self) -> bool:
        """True when points of the latent space can be decoded into data."""
        return self.model is not None

    @property
    def decoder_note(self) -> str | None:
        """Why walks are unavailable, or None when the space has a decoder."""
        return None if self.has_decoder else NO_DECODER_NOTE

    @property
    def is_variational(self) -> bool:
        """True for VAEs, whose prior is a standard normal."""
        return bool(getattr(self.model, "is_variational", False))

    @property
    def knn(self):
        """The latents' k-nearest-neighbour graph, built on first use."""
        if self._knn is None:
            from latentspace.neighbors import KNNGraph

            k = DEFAULT_KNN_K if len(self.z) <= LARGE_SPACE else LARGE_SPACE_KNN_K
            k = min(k, len(self.z) - 1)
            self._knn = KNNGraph.build(self.z, k=k, random_state=self.config.get("seed", 0))
        return self._knn

    # ------------------------------------------------------------------ encode and decode

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Encode samples of shape (n, *sample_shape) into latents of shape (n, latent_dim)."""
        if self.model is None:
            raise NoDecoderError(
                "This space has no encoder: it was built from precomputed embeddings."
            )
        import torch

        x = np.asarray(x, dtype=np.float32).reshape(-1, *self.dataset.sample_shape)
        self.model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(x), ENCODE_BATCH_SIZE):
                batch = torch.from_numpy(x[start : start + ENCODE_BATCH_SIZE])
                out.append(self.model.encode(batch).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.empty((0, self.latent_dim))

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Decode latents of shape (n, latent_dim) into samples of shape (n, *sample_shape)."""
        if self.model is None:
            raise NoDecoderError(NO_DECODER_NOTE)
        import torch

        z = self._as_latents(z)
        self.model.eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(z), ENCODE_BATCH_SIZE):
                batch = torch.from_numpy(z[start : start + ENCODE_BATCH_SIZE])
                out.append(self.model.decode(batch).numpy())
        return np.concatenate(out).astype(np.float32)

    def reconstruct(self, items: Any) -> np.ndarray:
        """Decode the latents of the items at row positions `items`."""
        index = self._as_indices(items)
        return self.decode(self.z[index])

    def latent_of(self, item: Any) -> np.ndarray:
        """Return the latent of an item (a row position) or check a given latent vector."""
        if isinstance(item, int | np.integer):
            return self.z[self._as_indices([item])[0]]
        return self._as_latents(item)[0]

    # ------------------------------------------------------------------ walks

    def interpolate(self, a: Any, b: Any, steps: int = 10, method: str = "lerp",
                    decode: bool = True) -> np.ndarray:
        """Interpolate between two items or latent vectors and decode the path.

        Parameters
        ----------
        a, b : int or array of shape (latent_dim,)
            Row positions of two items, or two latent vectors.
        steps : int
            Points on the path, endpoints included; the endpoints decode exactly the
            latents of `a` and `b`.
        method : {"lerp", "slerp"}
            Straight line, or great circle with the norm changing linearly.
        decode : bool
            Return decoded samples (n, *sample_shape) when True, latents otherwise.
        """
        path = interpolate_latents(self.latent_of(a), self.latent_of(b), steps, method)
        return self.decode(path) if decode else path

    def sample(self, n: int = 16, seed: int | None = None, decode: bool = True) -> np.ndarray:
        """Draw `n` latents from the prior and decode them.

        The prior is N(0, I) for VAEs. PCA and plain autoencoders have no prior, so a
        Gaussian fitted to the training latents (their mean and covariance) is used instead.
        """
        if not isinstance(n, int | np.integer) or n < 1:
            raise InvalidParameterError(f"n must be a positive integer, got {n!r}.")
        rng = np.random.default_rng(seed)
        if self.is_variational:
            z = rng.standard_normal((n, self.latent_dim))
        else:
            mean, cov = self.prior_gaussian()
            z = rng.multivariate_normal(mean, cov, size=n, method="eigh")
        z = z.astype(np.float32)
        return self.decode(z) if decode else z

    def prior_gaussian(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the mean and covariance of the prior used by `sample`."""
        if self.is_variational:
            return np.zeros(self.latent_dim), np.eye(self.latent_dim)
        fitted = self.z[self.train_index] if len(self.train_index) > 1 else self.z
        cov = np.atleast_2d(np.cov(fitted, rowvar=False))
        return fitted.mean(axis=0), cov

    def traverse(self, item: Any, dim: int, values: Any) -> np.ndarray:
        """Decode an item's latent with dimension `dim` set to each of `values`."""
        return self.decode(traverse_latent(self.latent_of(item), dim, values))

    def neighbors(self, item: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Return the row positions and latent distances of the `k` nearest items.

        For an item of the space the item itself is left out.
        """
        if not isinstance(k, int | np.integer) or not 1 <= k < len(self.z):
            raise InvalidParameterError(
                f"k must be an integer from 1 to {len(self.z) - 1} (the other items), got {k!r}."
            )
        if isinstance(item, int | np.integer):
            index = self._as_indices([item])[0]
            distances, indices = self.knn.query(self.z[index][None, :], k + 1)
            keep = indices[0] != index
            return indices[0][keep][:k], distances[0][keep][:k]
        distances, indices = self.knn.query(self._as_latents(item), k)
        return indices[0], distances[0]

    # ------------------------------------------------------------------ maps and metrics

    def project(self, method: str = "fastmap", dims: int = 2, **params: Any) -> np.ndarray:
        """Project the latents to a `dims`-dimensional map and keep it in `projections`.

        The map is stored under ``"{method}-{dims}d"``; when the latent space has exactly
        `dims` dimensions it is its own map, stored as ``"latent-{dims}d"``.
        """
        from latentspace.projection import project

        coords, projector = project(self.z, method, dims=dims, knn=self.knn,
                                    random_state=self.config.get("seed", 0), **params)
        name = f"{getattr(projector, 'method_name', method)}-{dims}d"
        if self.latent_dim == dims:
            name = f"latent-{dims}d"
        self.projections[name] = coords
        self.projectors[name] = projector
        return coords

    def ensure_map(self) -> str:
        """Compute the default 2-D map unless the space has one; return a 2-D map's name."""
        two_d = [name for name, coords in self.projections.items() if coords.shape[1] == 2]
        if two_d:
            return sorted(two_d)[0]
        logger.info("The space has no 2-D map yet; computing the default one")
        self.project(DEFAULT_MAP_METHOD, dims=2)
        return next(n for n, c in self.projections.items() if c.shape[1] == 2)

    def evaluate(self) -> dict[str, Any]:
        """Compute the metrics of the space and its projections; see `latentspace.evaluation`."""
        from latentspace.evaluation import evaluate_space

        self.metrics = evaluate_space(self)
        return self.metrics

    def figures(self, out_dir: str | Path | None = None) -> list:
        """Write every figure as PNG to `out_dir` (default: the run's figures folder)."""
        from latentspace.figures import write_figures

        return write_figures(self, self._output_dir(out_dir, "figures"))

    def report(self, run_dir: str | Path | None = None) -> Path:
        """Write the figures and ``report.html``, which opens from disk with no server."""
        from latentspace.report import write_report

        folder = self._output_dir(run_dir, "")
        figures = self.figures(folder / "figures")
        return write_report(self, folder, figures)

    def show(self, height: int = 640):
        """Show the interactive explorer inline in a Jupyter notebook."""
        from latentspace.notebook import show

        return show(self, height=height)

    # ------------------------------------------------------------------ helpers

    def _output_dir(self, given: str | Path | None, sub: str) -> Path:
        if given is not None:
            return Path(given)
        if self.run_dir is None:
            raise InvalidParameterError(
                "This space has no run directory; pass an output folder or call save() first."
            )
        return self.run_dir / sub if sub else self.run_dir

    def _as_indices(self, items: Any) -> np.ndarray:
        index = np.atleast_1d(np.asarray(items))
        if index.dtype.kind not in "iu" or index.ndim != 1:
            raise InvalidParameterError(
                f"Items must be row positions (integers), got {items!r}."
            )
        bad = index[(index < 0) | (index >= len(self.z))]
        if len(bad):
            raise InvalidParameterError(
                f"Item {int(bad[0])} is out of range; the space has items 0 to {len(self.z) - 1}."
            )
        return index

    def _as_latents(self, z: Any) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32)
        z = z[None, :] if z.ndim == 1 else z
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise InvalidParameterError(
                f"Latents must have {self.latent_dim} values each, got an array of shape "
                f"{tuple(z.shape)}."
            )
        if not np.all(np.isfinite(z)):
            raise InvalidParameterError("Latents contain NaN or infinite values; give finite ones.")
        return z

    def __repr__(self) -> str:
        model = self.config.get("model") or {}
        name = model.get("model", "embeddings") if isinstance(model, dict) else model
        return (f"LatentSpace(data={self.dataset.name!r}, model={name!r}, "
                f"n={len(self.z)}, latent_dim={self.latent_dim}, "
                f"projections={sorted(self.projections)})")


def split_indices(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split row positions into seeded, sorted training and validation sets."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _check_fraction(val_fraction: float, n: int) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise InvalidParameterError(
            f"val_fraction (--val-fraction) must be between 0 and 1 (exclusive), got "
            f"{val_fraction}."
        )
    n_val = int(round(n * val_fraction))
    if n_val < 1 or n - n_val < 2:
        raise InvalidParameterError(
            f"val_fraction={val_fraction} leaves {n - n_val} training and {n_val} validation "
            f"samples out of {n}; give more samples or change val_fraction."
        )
