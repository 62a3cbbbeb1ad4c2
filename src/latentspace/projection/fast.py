"""`fastmap`: the default map, a UMAP-style layout on the shared kNN graph (see `FastMap`)."""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np

from latentspace.projection._validation import Interval
from latentspace.projection.base import N_COMPONENTS, RANDOM_STATE, BaseProjector

if TYPE_CHECKING:
    from latentspace.neighbors import KNNGraph


class FastMapProjector(BaseProjector):
    """The default map: UMAP's picture in a fraction of umap-learn's time.

    It builds UMAP's fuzzy neighbour graph from the shared kNN graph and lays it out with
    compiled kernels cached on disk. `benchmarks/run.py` compares it with umap-learn,
    openTSNE and PaCMAP on time, memory, kNN accuracy and trustworthiness.

    Parameters
    ----------
    n_components : {2, 3}, default=2
        Dimensions of the map.
    n_neighbors : int, default=15
        Size of the neighbourhood that defines local structure, counting the point
        itself; typically 5-50. Small values show fine detail, large ones the broad shape.
    min_dist : float, default=0.1
        How tightly points may pack: small values give dense clumps, large values spread
        points evenly.
    n_epochs : int or None, default=None
        Layout epochs; None uses 200.
    spread : float, default=1.0
        Scale of the clusters; with `min_dist` it sets how clustered the picture looks.
    negative_sample_rate : int, default=5
        Random points pushed away per sampled edge; more gives crisper gaps, slower.
    random_state : int or None, default=0
        Seed; the same seed and input give the same map at any thread count.
    """

    name = "fastmap"
    _parameter_constraints = {
        "n_components": N_COMPONENTS,
        "n_neighbors": [Interval(Integral, 2, None)],
        "min_dist": [Interval(Real, 0, None)],
        "n_epochs": [Interval(Integral, 1, None), None],
        "spread": [Interval(Real, 0, None, closed="neither")],
        "negative_sample_rate": [Interval(Integral, 1, None)],
        "random_state": RANDOM_STATE,
    }

    def __init__(self, n_components: int = 2, n_neighbors: int = 15, min_dist: float = 0.1,
                 n_epochs: int | None = None, spread: float = 1.0,
                 negative_sample_rate: int = 5, random_state: int | None = 0) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_epochs = n_epochs
        self.spread = spread
        self.negative_sample_rate = negative_sample_rate
        self.random_state = random_state

    def _min_samples(self) -> int:
        return 3

    def _fit_embedding(self, z: np.ndarray, knn: KNNGraph | None) -> np.ndarray:
        from latentspace.projection.fastmap import FastMap

        self.fastmap_ = FastMap(
            n_components=self.n_components, n_neighbors=self.n_neighbors,
            min_dist=self.min_dist, n_epochs=self.n_epochs, random_state=self.random_state,
            spread=self.spread, negative_sample_rate=self.negative_sample_rate,
        )
        embedding = self.fastmap_.fit_transform(z, knn=knn)
        self.n_neighbors_ = self.fastmap_.n_neighbors_
        return embedding

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.fastmap_.transform(z)
