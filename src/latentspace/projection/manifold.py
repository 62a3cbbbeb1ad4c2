"""Classic manifold learners from scikit-learn: Isomap and locally linear embedding.

Both assume the latents lie on one smooth, connected surface and unroll it. They suit
small latent spaces (up to tens of thousands of points) and curved data such as a
swiss roll. On clustered data UMAP and t-SNE give clearer maps.
"""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.manifold import Isomap, LocallyLinearEmbedding

from latentspace.errors import DataError, InvalidParameterError
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

# Isomap keeps dense N x N geodesic distances, then a kernel and its centred copy for
# the eigen decomposition: an estimated 3 x 8 x N^2 bytes, 9.6 GB at 20,000 points.
ISOMAP_MAX_SAMPLES = 20_000
# Above this size a dense eigen decomposition (LLE's fallback when ARPACK fails) costs
# O(N^3) and minutes, so the fit fails with advice instead.
LLE_DENSE_MAX_SAMPLES = 4_000


class IsomapProjector(BaseProjector):
    """Isomap: keeps geodesic distances, measured along the kNN graph of the latents.

    Good for one continuous manifold, where it unrolls the surface with little
    distortion. It is unreliable when the graph falls apart into separate clusters.

    Parameters
    ----------
    n_components : {2, 3}, default=2
        Dimensions of the map.
    n_neighbors : int, default=10
        Neighbours linked per point in the graph; typically 5-20. Too few cut the graph
        into pieces, too many add shortcuts across folds of the manifold. Capped at
        ``n_samples - 1``.
    path_method : {"auto", "FW", "D"}, default="auto"
        Shortest-path algorithm (scikit-learn's option).
    eigen_solver : {"auto", "arpack", "dense"}, default="auto"
    random_state : int or None, default=0
        Unused: scikit-learn's Isomap takes no seed. Its eigenvector signs are fixed
        by scikit-learn, so repeated fits agree to solver precision.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n_samples, n_components)
    isomap_ : sklearn.manifold.Isomap
    n_neighbors_ : int
    """

    name = "isomap"
    _parameter_constraints = {
        "n_components": N_COMPONENTS,
        "n_neighbors": [Interval(Integral, 1, None)],
        "path_method": [Options(("auto", "FW", "D"))],
        "eigen_solver": [Options(("auto", "arpack", "dense"))],
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        n_components: int = 2,
        n_neighbors: int = 10,
        path_method: str = "auto",
        eigen_solver: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.path_method = path_method
        self.eigen_solver = eigen_solver
        self.random_state = random_state

    def _min_samples(self) -> int:
        # N centred points span at most N - 1 axes.
        return self.n_components + 1

    def _fit_embedding(self, z: np.ndarray, knn: KNNGraph | None) -> np.ndarray:
        n_samples = len(z)
        if n_samples > ISOMAP_MAX_SAMPLES:
            gigabytes = 24 * n_samples**2 / 1e9
            raise InvalidParameterError(
                f"isomap keeps an N x N distance matrix (about {gigabytes:.0f} GB for "
                f"N={n_samples}); it accepts at most {ISOMAP_MAX_SAMPLES} points. Use "
                "method='umap', or fit on a subsample."
            )
        self.n_neighbors_ = int(self._cap_count(
            "n_neighbors", self.n_neighbors, n_samples - 1, 1,
            "the graph links each point to n_neighbors others",
        ))
        graph = resolve_graph(knn, z, self.n_neighbors_, self.random_state, "isomap")
        distances = graph.sparse_distances(self.n_neighbors_)

        n_parts, _ = connected_components(distances, directed=False)
        self.precomputed_ = n_parts == 1
        self.graph_ = graph
        if self.precomputed_:
            self.isomap_ = self._make_isomap("precomputed")
            return self.isomap_.fit_transform(distances)
        logger.info(
            "isomap: the %d-neighbour graph has %d separate parts; scikit-learn links "
            "them with the shortest extra edges, which is slower.", self.n_neighbors_, n_parts,
        )
        self.isomap_ = self._make_isomap("euclidean")
        with warnings.catch_warnings():
            # Reported by the notice above, together with scikit-learn's edge insertion.
            warnings.filterwarnings("ignore", message="The number of connected components")
            warnings.filterwarnings("ignore", category=sparse.SparseEfficiencyWarning)
            return self.isomap_.fit_transform(z)

    def _make_isomap(self, metric: str) -> Isomap:
        return Isomap(
            n_components=self.n_components,
            n_neighbors=self.n_neighbors_,
            path_method=self.path_method,
            eigen_solver=self.eigen_solver,
            metric=metric,
        )

    def _transform(self, z: np.ndarray) -> np.ndarray:
        if not self.precomputed_:
            return self.isomap_.transform(z)
        distances, indices = self.graph_.query(z, self.n_neighbors_)
        n_points, k = indices.shape
        row_starts = np.arange(0, n_points * k + 1, k)
        rows = sparse.csr_matrix(
            (distances.ravel().astype(np.float64), indices.ravel(), row_starts),
            shape=(n_points, self.n_samples_fit_),
        )
        return self.isomap_.transform(rows)


class LLEProjector(BaseProjector):
    """Locally linear embedding: keeps how each latent is rebuilt from its neighbours.

    Fast on small, smooth manifolds. On clustered or noisy latents it tends to squash
    points onto lines. It searches its own neighbours with scikit-learn (exact), because
    scikit-learn's implementation takes no precomputed graph.

    Parameters
    ----------
    n_components : {2, 3}, default=2
        Dimensions of the map; at most the latent dimension.
    n_neighbors : int, default=10
        Neighbours each point is rebuilt from; typically 5-30. Capped at
        ``n_samples - 1``. lle_method="hessian" needs more than
        ``n_components * (n_components + 3) / 2`` and "modified" at least n_components.
    reg : float, default=1e-3
        Regularisation of the local fits; raise it when the fit reports a singular
        matrix (duplicate latents).
    lle_method : {"standard", "modified", "hessian", "ltsa"}, default="standard"
        scikit-learn's ``method``: the LLE variant. "modified" and "ltsa" distort less,
        at a higher cost. Renamed because `project` takes `method` for the projection.
    eigen_solver : {"auto", "arpack", "dense"}, default="auto"
        When ARPACK fails on up to `LLE_DENSE_MAX_SAMPLES` points, the fit is retried
        with "dense" and a logged notice.
    random_state : int or None, default=0
        Seed for ARPACK's start vector.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (n_samples, n_components)
    lle_ : sklearn.manifold.LocallyLinearEmbedding
    n_neighbors_ : int
    """

    name = "lle"
    _parameter_constraints = {
        "n_components": N_COMPONENTS,
        "n_neighbors": [Interval(Integral, 1, None)],
        "reg": [Interval(Real, 0, None, closed="neither")],
        "lle_method": [Options(("standard", "modified", "hessian", "ltsa"))],
        "eigen_solver": [Options(("auto", "arpack", "dense"))],
        "random_state": RANDOM_STATE,
    }

    def __init__(
        self,
        n_components: int = 2,
        n_neighbors: int = 10,
        reg: float = 1e-3,
        lle_method: str = "standard",
        eigen_solver: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.reg = reg
        self.lle_method = lle_method
        self.eigen_solver = eigen_solver
        self.random_state = random_state

    def _min_samples(self) -> int:
        # The eigenproblem discards one constant vector and needs n_components more.
        return self.n_components + 1

    def _fit_embedding(self, z: np.ndarray, knn: KNNGraph | None) -> np.ndarray:
        if z.shape[1] < self.n_components:
            raise InvalidParameterError(
                f"lle: the map dimension n_components={self.n_components} must be at most "
                f"the latent dimension {z.shape[1]}; use method='latent' or 'pca'."
            )
        minimum = self._method_min_neighbors()
        if self.n_neighbors < minimum:
            raise InvalidParameterError(
                f"lle: lle_method={self.lle_method!r} with n_components={self.n_components} needs "
                f"n_neighbors >= {minimum}; got {self.n_neighbors}."
            )
        self.n_neighbors_ = int(self._cap_count(
            "n_neighbors", self.n_neighbors, len(z) - 1, minimum,
            f"lle_method={self.lle_method!r} needs n_neighbors >= {minimum}",
        ))
        try:
            self.lle_ = self._make_lle(self.eigen_solver)
            return self.lle_.fit_transform(z)
        except (ValueError, RuntimeError) as error:
            if self.eigen_solver == "dense" or len(z) > LLE_DENSE_MAX_SAMPLES:
                raise DataError(
                    f"lle: the eigen decomposition failed on {len(z)} points ({error}). "
                    "Raise reg (for example reg=1e-2), remove duplicate latents, or use "
                    "method='umap'."
                ) from error
            logger.warning("lle: ARPACK failed (%s); retrying with the dense solver.", error)
            self.lle_ = self._make_lle("dense")
            return self.lle_.fit_transform(z)

    def _method_min_neighbors(self) -> int:
        if self.lle_method == "hessian":
            return self.n_components * (self.n_components + 3) // 2 + 1
        if self.lle_method == "modified":
            return self.n_components
        return 1

    def _make_lle(self, eigen_solver: str) -> LocallyLinearEmbedding:
        return LocallyLinearEmbedding(
            n_components=self.n_components,
            n_neighbors=self.n_neighbors_,
            reg=self.reg,
            method=self.lle_method,
            eigen_solver=eigen_solver,
            random_state=self.random_state,
        )

    def _transform(self, z: np.ndarray) -> np.ndarray:
        return self.lle_.transform(z)
