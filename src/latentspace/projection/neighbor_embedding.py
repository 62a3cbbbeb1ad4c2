"""Neighbour embeddings: t-SNE (openTSNE) and UMAP (umap-learn) on the shared kNN graph.

Both methods only look at each latent's nearest neighbours, so they show local
structure (clusters, their members) well and distances between far-apart clusters
poorly. Both reuse the shared `KNNGraph` instead of searching for neighbours again.
"""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np

from latentspace.projection._validation import Interval, Options
from latentspace.projection.base import (
    N_COMPONENTS,
    RANDOM_STATE,
    BaseProjector,
    resolve_graph,
)

if TYPE_CHECKING:
    from latentspace.neighbors import KNNGraph

logger = logging.getLogger(__name__)

# openTSNE switches from Barnes-Hut to FFT gradients at this size; FFT supports only
# 1-D and 2-D maps, so 3-D maps always use Barnes-Hut.
_TSNE_FFT_MIN_SAMPLES = 10_000


class _GraphSearch:
    """The query interface that openTSNE and umap-learn expect, backed by a KNNGraph."""

    # umap-learn reads this to pick a search epsilon; the graph is Euclidean.
    _angular_trees = False

    def __init__(self, graph: KNNGraph) -> None:
        self.graph = graph

    def query(self, points: np.ndarray, k: int, epsilon: float | None = None):
        """Return ``(indices, distances)`` of the `k` nearest latents of `points`."""
        distances, indices = self.graph.query(np.asarray(points, np.float32), k)
        return indices, distances


def _tsne_neighbors(graph: KNNGraph, k: int) -> Any:
    """Wrap the first `k` graph neighbours as an openTSNE KNN index that can query."""
    from openTSNE.nearest_neighbors import PrecomputedNeighbors

    class GraphNeighbors(PrecomputedNeighbors):
        def query(self, query: np.ndarray, k: int):
            return _GraphSearch(graph).query(query, k)

    return GraphNeighbors(graph.indices[:, :k], graph.distances[:, :k].astype(np.float64))


class TSNEProjector(BaseProjector):
    """t-SNE map (openTSNE): tight, well-separated clusters.

    t-SNE matches each latent's neighbour probabilities in the map, so points that are
    neighbours in the latent stay together. Cluster sizes and the gaps between clusters
    carry little meaning.

    Parameters
    ----------
    n_components : {2, 3}, default=2
        Dimensions of the map.
    perplexity : float, default=30
        Effective number of neighbours each point attends to, typically 5-50. Low values
        split the map into many small islands; high values show coarser groups and cost
        more (3 x perplexity neighbours per point). Capped at ``(n_samples - 1) / 3``.
    n_iter : int, default=500
        Optimisation steps after the early exaggeration phase.
    early_exaggeration_iter : int, default=250
        Steps with exaggerated attraction that first pull clusters together.
    early_exaggeration : float, default=12
        Attraction factor during those steps.
    exaggeration : float or None, default=None
        Attraction factor afterwards; values such as 2-4 give a more UMAP-like,
        continuous picture on large data.
    learning_rate : float or "auto", default="auto"
        "auto" uses N / early_exaggeration (Belkina et al. 2019).
    initialization : {"pca", "spectral", "random"}, default="pca"
        Start layout; PCA keeps the global arrangement more faithful and runs
        reproducibly. Replaced by "random" when there are fewer points or latent
        dimensions than map dimensions.
    dof : float, default=1
        Degrees of freedom of the map's t-distribution; below 1 splits clusters further.
    n_jobs : int or "auto", default="auto"
        Threads; -1 uses all cores. "auto" uses one thread below 10,000 points, where
        thread start-up costs more than it saves, and all cores from there.
    random_state : int or None, default=0
        Seed for initialization and optimisation.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n_samples, n_components)
    tsne_embedding_ : openTSNE.TSNEEmbedding
        The optimised embedding, used by `transform`.
    perplexity_ : float
        The perplexity actually used.
    """

    name = "tsne"
    _parameter_constraints = {
        "n_components": N_COMPONENTS,
        "perplexity": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 0, None)],
        "early_exaggeration_iter": [Interval(Integral, 0, None)],
        "early_exaggeration": [Interval(Real, 0, None, closed="neither")],
        "exaggeration": [Interval(Real, 0, None, closed="neither"), None],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), Options(("auto",))],
        "initialization": [Options(("pca", "spectral", "random"))],
        "dof": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Options((-1, "auto")), Interval(Integral, 1, None)],
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        n_components: int = 2,
        perplexity: float = 30.0,
        n_iter: int = 500,
        early_exaggeration_iter: int = 250,
        early_exaggeration: float = 12.0,
        exaggeration: float | None = None,
        learning_rate: float | str = "auto",
        initialization: str = "pca",
        dof: float = 1.0,
        n_jobs: int | str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.n_iter = n_iter
        self.early_exaggeration_iter = early_exaggeration_iter
        self.early_exaggeration = early_exaggeration
        self.exaggeration = exaggeration
        self.learning_rate = learning_rate
        self.initialization = initialization
        self.dof = dof
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _min_samples(self) -> int:
        # Two points have one neighbour each; perplexity (N - 1) / 3 still works.
        return 2

    def _fit_embedding(self, z: np.ndarray, knn: KNNGraph | None) -> np.ndarray:
        import openTSNE
        from openTSNE.affinity import PerplexityBasedNN

        n_samples = len(z)
        self.perplexity_ = self._cap_count(
            "perplexity", float(self.perplexity), (n_samples - 1) / 3, 1e-3,
            "t-SNE needs 3 x perplexity neighbours",
        )
        # openTSNE's own rule for the number of neighbours per perplexity.
        k = max(1, min(n_samples - 1, int(3 * self.perplexity_)))
        graph = resolve_graph(knn, z, k, self.random_state, "tsne")
        n_jobs = self.n_jobs
        if n_jobs == "auto":
            n_jobs = 1 if n_samples < _TSNE_FFT_MIN_SAMPLES else -1
        affinities = PerplexityBasedNN(
            perplexity=self.perplexity_, knn_index=_tsne_neighbors(graph, k), n_jobs=n_jobs,
        )

        tsne = openTSNE.TSNE(
            n_components=self.n_components,
            n_iter=self.n_iter,
            early_exaggeration_iter=self.early_exaggeration_iter,
            early_exaggeration=self.early_exaggeration,
            exaggeration=self.exaggeration,
            learning_rate=self.learning_rate,
            initialization=self._initialization(z),
            dof=self.dof,
            negative_gradient_method=self._gradient_method(n_samples),
            n_jobs=n_jobs,
            random_state=self.random_state,
        )
        self.tsne_embedding_ = tsne.fit(z, affinities=affinities)
        return np.asarray(self.tsne_embedding_)

    def _initialization(self, z: np.ndarray) -> str:
        if self.initialization == "pca" and min(z.shape) < self.n_components:
            logger.info(
                "tsne: %d points with %d dimensions cannot give a %d-D PCA start; "
                "starting from random positions.", z.shape[0], z.shape[1], self.n_components,
            )
            return "random"
        if self.initialization == "spectral" and len(z) <= self.n_components + 1:
            logger.info("tsne: too few points for a spectral start; starting at random.")
            return "random"
        return self.initialization

    def _gradient_method(self, n_samples: int) -> str:
        if self.n_components > 2 or n_samples < _TSNE_FFT_MIN_SAMPLES:
            return "bh"
        return "fft"

    def _transform(self, z: np.ndarray) -> np.ndarray:
        # openTSNE's defaults for adding points: perplexity 5, 25 neighbours for the start.
        n_fit = self.n_samples_fit_
        perplexity = min(5.0, max(n_fit / 3, 0.1))
        placed = self.tsne_embedding_.transform(z, perplexity=perplexity, k=min(25, n_fit))
        return np.asarray(placed)


class UMAPProjector(BaseProjector):
    """UMAP map (umap-learn): clusters plus more of the global arrangement than t-SNE.

    Parameters
    ----------
    n_components : {2, 3}, default=2
        Dimensions of the map.
    n_neighbors : int, default=15
        Size of the neighbourhood that defines local structure, counting the point
        itself as umap-learn does; typically 5-50. Small values show fine detail and
        break the map into pieces; large values show the broad shape. Capped at
        ``n_samples - 1``.
    min_dist : float, default=0.1
        How tightly points may pack in the map, 0.0-0.99: small values give dense
        clumps, large values spread points evenly.
    spread : float, default=1.0
        Scale of the map; with `min_dist` it sets how clustered the picture looks.
    n_epochs : int or None, default=None
        Optimisation epochs; None lets umap-learn choose (500 up to 10,000 points,
        200 above).
    init : {"spectral", "pca", "random"}, default="spectral"
        Start layout. "spectral" needs at least n_components + 2 points and is
        replaced by "random" below that.
    learning_rate : float, default=1.0
    negative_sample_rate : int, default=5
        Repulsive samples per attractive edge; more gives crisper gaps, slower.
    random_state : int or None, default=0
        Seed. An int makes the map reproducible but runs umap-learn's optimisation on
        one thread; None uses all cores and differs between runs.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n_samples, n_components)
    umap_ : umap.UMAP
        The fitted model, used by `transform` and `inverse_transform`.
    n_neighbors_ : int
        The n_neighbors actually used.
    """

    name = "umap"
    _parameter_constraints = {
        "n_components": N_COMPONENTS,
        "n_neighbors": [Interval(Integral, 2, None)],
        "min_dist": [Interval(Real, 0, None)],
        "spread": [Interval(Real, 0, None, closed="neither")],
        "n_epochs": [Interval(Integral, 1, None), None],
        "init": [Options(("spectral", "pca", "random"))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "negative_sample_rate": [Interval(Integral, 1, None)],
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        n_components: int = 2,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        spread: float = 1.0,
        n_epochs: int | None = None,
        init: str = "spectral",
        learning_rate: float = 1.0,
        negative_sample_rate: int = 5,
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.spread = spread
        self.n_epochs = n_epochs
        self.init = init
        self.learning_rate = learning_rate
        self.negative_sample_rate = negative_sample_rate
        self.random_state = random_state

    def _min_samples(self) -> int:
        # umap-learn needs n_neighbors >= 2, that is the point and one neighbour.
        return 3

    def _fit_embedding(self, z: np.ndarray, knn: KNNGraph | None) -> np.ndarray:
        from umap import UMAP

        n_samples = len(z)
        self.n_neighbors_ = int(self._cap_count(
            "n_neighbors", self.n_neighbors, n_samples - 1, 2,
            "each point needs n_neighbors - 1 other points",
        ))
        graph = resolve_graph(knn, z, self.n_neighbors_ - 1, self.random_state, "umap")
        knn_indices, knn_distances = graph.umap_knn(self.n_neighbors_)

        self.umap_ = UMAP(
            n_components=self.n_components,
            n_neighbors=self.n_neighbors_,
            min_dist=self.min_dist,
            spread=self.spread,
            n_epochs=self.n_epochs,
            init=self._init(n_samples),
            learning_rate=self.learning_rate,
            negative_sample_rate=self.negative_sample_rate,
            random_state=self.random_state,
            transform_seed=42 if self.random_state is None else self.random_state,
            precomputed_knn=(knn_indices, knn_distances, _GraphSearch(graph)),
            n_jobs=1 if self.random_state is not None else -1,
        )
        with warnings.catch_warnings():
            # umap-learn warns that the search index is not NNDescent. The graph search
            # replaces it on purpose and supports transform.
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
            return self.umap_.fit_transform(z)

    def _init(self, n_samples: int) -> str:
        if self.init == "spectral" and n_samples < self.n_components + 2:
            logger.info(
                "umap: a spectral start needs at least %d points, got %d; starting at "
                "random positions.", self.n_components + 2, n_samples,
            )
            return "random"
        if self.init == "pca" and min(n_samples, self.n_features_in_) < self.n_components:
            logger.info("umap: too few points or dimensions for a PCA start; using random.")
            return "random"
        return self.init

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.umap_.transform(z)

    def inverse_transform(self, points: np.ndarray) -> np.ndarray:
        """Generate latents for map positions with umap-learn's ``inverse_transform``.

        umap-learn triangulates the map around each position and optimises a latent
        whose neighbours match. On digits (1,797 points, 2-core CPU) one call took 2.2 s
        for 3 points and 3.5 s for 100, after about 10 s of one-time numba compilation,
        so the explorer uses `inverse_map` for interactive use.

        Returns
        -------
        ndarray of float32, shape (n_points, n_dims)
        """
        points = self._check_map_points(points)
        if self.fallback_ is not None:
            return self.fallback_.inverse_transform(points)
        return np.ascontiguousarray(self.umap_.inverse_transform(points), dtype=np.float32)
