"""Base class and shared checks for the 2-D and 3-D projections of a latent space.

Projectors follow scikit-learn's estimator conventions: ``__init__`` stores its
arguments untouched, ``fit_transform`` checks and interprets them, and everything
learned from the data ends with ``_``.
"""

from __future__ import annotations

import inspect
import logging
from numbers import Integral
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from latentspace.errors import DataError, InvalidParameterError
from latentspace.projection._validation import Interval, Options, check_latents, validate_params

if TYPE_CHECKING:
    from latentspace.neighbors import KNNGraph

logger = logging.getLogger(__name__)

RANDOM_STATE = [Interval(Integral, 0, 2**32 - 1), None]
N_COMPONENTS = [Options((2, 3))]
# Rows of the shared graph compared with recomputed distances to catch a graph that
# belongs to other latents.
_GRAPH_SPOT_CHECKS = 16


class BaseProjector(BaseEstimator):
    """Common `fit`, `fit_transform` and `transform` logic for all projectors.

    Subclasses implement ``_fit_embedding(z, knn)`` and ``_transform(z)``, and may
    override ``_min_samples()``: with fewer points the projector logs a warning and
    falls back to PCA, stored in ``fallback_``.
    """

    name: ClassVar[str] = ""
    _parameter_constraints: ClassVar[dict] = {
        "n_components": N_COMPONENTS,
        "random_state": RANDOM_STATE,
    }

    @property
    def method_name(self) -> str:
        """Registry name of the method, used in projection names such as "umap-2d"."""
        return self.name

    # --- public API -----------------------------------------------------------------

    def fit(self, z: np.ndarray, knn: KNNGraph | None = None) -> BaseProjector:
        """Fit the projection on latents `z`; see `fit_transform`."""
        self.fit_transform(z, knn=knn)
        return self

    def fit_transform(self, z: np.ndarray, knn: KNNGraph | None = None) -> np.ndarray:
        """Fit the projection on latents `z` and return their map coordinates.

        Parameters
        ----------
        z : array-like of shape (n_samples, n_dims)
            Latents, one row per item.
        knn : KNNGraph, optional
            The shared kNN graph of `z`. Neighbour-based methods reuse it and build
            their own only when it is missing or has too few neighbours.

        Returns
        -------
        ndarray of float32, shape (n_samples, n_components)
        """
        validate_params(self.get_params(), self._parameter_constraints, type(self).__name__)
        z = check_latents(z, "z")
        self.n_samples_fit_, self.n_features_in_ = z.shape
        self.fallback_ = None

        minimum = self._min_samples()
        if len(z) < minimum:
            logger.warning(
                "%s needs at least %d points for a %d-D map but got %d; using PCA instead.",
                self.name, minimum, self.n_components, len(z),
            )
            from latentspace.projection.linear import PCAProjector

            self.fallback_ = PCAProjector(self.n_components, random_state=self.random_state)
            embedding = self.fallback_.fit_transform(z)
        else:
            embedding = self._fit_embedding(z, knn)

        self.embedding_ = np.ascontiguousarray(embedding, dtype=np.float32)
        return self.embedding_

    def transform(self, z: np.ndarray) -> np.ndarray:
        """Place new latents on the fitted map.

        Parameters
        ----------
        z : array-like of shape (n_points, n_dims)

        Returns
        -------
        ndarray of float32, shape (n_points, n_components)
        """
        z = self._check_new_latents(z)
        if self.fallback_ is not None:
            return self.fallback_.transform(z)
        return np.ascontiguousarray(self._transform(z), dtype=np.float32)

    # --- hooks for subclasses -----------------------------------------------------

    def _min_samples(self) -> int:
        return 1

    def _fit_embedding(self, z: np.ndarray, knn: KNNGraph | None) -> np.ndarray:
        raise NotImplementedError

    def _transform(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # --- shared checks ------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "embedding_"):
            raise InvalidParameterError(
                f"{type(self).__name__} is not fitted yet; call fit(z) or fit_transform(z) "
                "first."
            )

    def _check_new_latents(self, z: np.ndarray) -> np.ndarray:
        self._check_fitted()
        z = check_latents(np.atleast_2d(z), "z")
        if z.shape[1] != self.n_features_in_:
            raise DataError(
                f"{type(self).__name__}.transform: z has {z.shape[1]} dimensions but the "
                f"projection was fitted on {self.n_features_in_}."
            )
        return z

    def _check_map_points(self, points: np.ndarray) -> np.ndarray:
        self._check_fitted()
        points = check_latents(np.atleast_2d(points), "points")
        if points.shape[1] != self.n_components:
            raise DataError(
                f"{type(self).__name__}.inverse_transform: points have {points.shape[1]} "
                f"coordinates but the map has {self.n_components}."
            )
        return points

    def _is_default(self, name: str) -> bool:
        default = inspect.signature(type(self).__init__).parameters[name].default
        return getattr(self, name) == default

    def _cap_count(
        self, name: str, value: float, maximum: float, minimum: float, reason: str
    ) -> float:
        """Lower a neighbour count or perplexity that the number of points cannot support.

        Logs at info level when the value is the default and at warning level when the
        caller chose it. Raises when even the lowered value would be below `minimum`.
        """
        if value <= maximum:
            return value
        if maximum < minimum:
            raise InvalidParameterError(
                f"{type(self).__name__}: {name}={value:g} cannot be used with "
                f"{self.n_samples_fit_} points ({reason}), and the lowest valid value "
                f"{minimum:g} is above the maximum {maximum:g}. Use more points or another "
                "method."
            )
        level = logging.INFO if self._is_default(name) else logging.WARNING
        logger.log(
            level, "%s: %s=%g lowered to %g because there are only %d points (%s).",
            self.name, name, value, maximum, self.n_samples_fit_, reason,
        )
        return maximum


def resolve_graph(
    knn: KNNGraph | None, z: np.ndarray, k_needed: int, random_state: int | None, owner: str
) -> KNNGraph:
    """Return `knn` when it belongs to `z` and has `k_needed` neighbours, else build one.

    A graph loaded without its latents gets them attached, so that `query` works.
    """
    from latentspace.neighbors import KNNGraph

    seed = 0 if random_state is None else random_state
    if knn is None:
        return KNNGraph.build(z, k=k_needed, random_state=seed)
    if not isinstance(knn, KNNGraph):
        raise InvalidParameterError(
            f"{owner}: knn must be a KNNGraph (from KNNGraph.build) or None; "
            f"got {type(knn).__name__}."
        )
    _check_graph_matches(knn, z, owner)
    if knn.k < k_needed:
        logger.info(
            "%s needs %d neighbours per point but the shared graph has k=%d; "
            "building a larger graph.", owner, k_needed, knn.k,
        )
        return KNNGraph.build(z, k=k_needed, random_state=seed)
    if knn.data is None:
        knn = KNNGraph(knn.indices, knn.distances, data=z, method=knn.method,
                       random_state=knn.random_state, nprobe=knn.nprobe,
                       estimated_recall=knn.estimated_recall)
    return knn


def _check_graph_matches(knn: KNNGraph, z: np.ndarray, owner: str) -> None:
    """Raise when the graph was built from other latents than `z`."""
    if knn.n_samples != len(z):
        raise DataError(
            f"{owner}: the kNN graph has {knn.n_samples} points but z has {len(z)}; "
            "build the graph from the same latents with KNNGraph.build(z)."
        )
    rows = np.linspace(0, len(z) - 1, min(_GRAPH_SPOT_CHECKS, len(z))).astype(np.int64)
    nearest = knn.indices[rows, 0]
    recomputed = np.linalg.norm(z[rows] - z[nearest], axis=1)
    if not np.allclose(recomputed, knn.distances[rows, 0], rtol=1e-3, atol=1e-4):
        raise DataError(
            f"{owner}: the kNN graph's distances do not match z, so it was built from "
            "other latents; build it again with KNNGraph.build(z)."
        )
