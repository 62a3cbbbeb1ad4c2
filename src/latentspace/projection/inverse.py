"""From map to latent and back: what latent sits at a map position, and where a new
latent lands on an existing map.

Both directions use inverse-distance weighting (IDW) over k nearest neighbours when the
projection has no exact formula. The estimate at a query is the average of the
neighbours' values with weights ``1 / distance**power``. The nearest neighbour
dominates, and a query that hits a point exactly returns that point's value.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from latentspace.errors import DataError
from latentspace.projection._validation import Interval, check_latents, validate_params
from latentspace.projection.linear import LatentProjector, PCAProjector

if TYPE_CHECKING:
    from latentspace.neighbors import KNNGraph
    from latentspace.projection.base import BaseProjector

_CONSTRAINTS = {
    "k": [Interval(Integral, 1, None)],
    "power": [Interval(Real, 0, None)],
}
# Distances below this count as exact hits, so weights stay finite.
_MIN_DISTANCE = 1e-12


def inverse_map(
    points: np.ndarray,
    coords: np.ndarray,
    z: np.ndarray,
    k: int = 8,
    power: float = 2.0,
    projector: BaseProjector | None = None,
    tree: cKDTree | None = None,
) -> np.ndarray:
    """Estimate the latent vectors at map positions, for example under the cursor.

    With a fitted PCA (or "latent") projector the exact linear inverse is used.
    Otherwise the result is the IDW average of the latents of the `k` map points
    nearest to each position. It stays inside the region the data covers, so decoding
    it gives a plausible item. Far from all points it approaches the average of the
    k nearest latents.

    Parameters
    ----------
    points : array-like of shape (n_points, dims)
        Map positions.
    coords : array-like of shape (n_samples, dims)
        Map coordinates of the latents.
    z : array-like of shape (n_samples, n_dims)
        Latents, row-aligned with `coords`.
    k : int, default=8
        Map neighbours averaged; capped at n_samples. 1 returns the nearest latent.
    power : float, default=2.0
        Distance exponent of the weights; 0 gives a plain mean.
    projector : BaseProjector, optional
        The fitted projector behind `coords`, used only for its exact inverse.
    tree : scipy.spatial.cKDTree, optional
        A tree built on `coords`, to reuse across calls on a large map.

    Returns
    -------
    ndarray of float32, shape (n_points, n_dims)
    """
    validate_params({"k": k, "power": power}, _CONSTRAINTS, "inverse_map")
    points = check_latents(np.atleast_2d(points), "points")
    coords, z = _check_aligned(coords, z, "coords")
    if points.shape[1] != coords.shape[1]:
        raise DataError(
            f"inverse_map: points have {points.shape[1]} coordinates but the map has "
            f"{coords.shape[1]}."
        )
    if projector is not None and _has_exact_inverse(projector):
        return projector.inverse_transform(points)

    tree = cKDTree(coords) if tree is None else tree
    k = min(k, len(coords))
    distances, indices = tree.query(points, k=k)
    return _weighted_average(z, distances.reshape(len(points), k),
                             indices.reshape(len(points), k), power)


def place_points(
    z_new: np.ndarray,
    z: np.ndarray,
    coords: np.ndarray,
    knn: KNNGraph | None = None,
    projector: BaseProjector | None = None,
    k: int = 8,
    power: float = 2.0,
) -> np.ndarray:
    """Place new latents on an existing map.

    With a fitted `projector`, its `transform` places them (PCA exactly; UMAP and
    t-SNE by optimising each new point against the fixed map). Otherwise each new
    latent goes to the IDW average of the map positions of its `k` nearest latents.

    Parameters
    ----------
    z_new : array-like of shape (n_points, n_dims)
        Latents to place.
    z : array-like of shape (n_samples, n_dims)
        Latents of the map.
    coords : array-like of shape (n_samples, dims)
        Map coordinates of `z`.
    knn : KNNGraph, optional
        Graph of `z`, whose index runs the neighbour search. Without it the search is
        exact brute force over `z`, which is slow for a million latents.
    projector : BaseProjector, optional
        The fitted projector behind `coords`.
    k : int, default=8
        Latent neighbours averaged; capped at n_samples.
    power : float, default=2.0
        Distance exponent of the weights.

    Returns
    -------
    ndarray of float32, shape (n_points, dims)
    """
    validate_params({"k": k, "power": power}, _CONSTRAINTS, "place_points")
    z_new = check_latents(np.atleast_2d(z_new), "z_new")
    coords, z = _check_aligned(coords, z, "coords")
    if z_new.shape[1] != z.shape[1]:
        raise DataError(
            f"place_points: z_new has {z_new.shape[1]} dimensions but z has {z.shape[1]}."
        )
    if projector is not None:
        return projector.transform(z_new)

    from latentspace.neighbors import KNNGraph, exact_neighbors

    k = min(k, len(z))
    if knn is None:
        distances, indices = exact_neighbors(z_new, z, k)
    else:
        if knn.data is None:
            knn = KNNGraph(knn.indices, knn.distances, data=z, method=knn.method,
                           random_state=knn.random_state, nprobe=knn.nprobe)
        distances, indices = knn.query(z_new, k)
    return _weighted_average(coords, distances, indices, power)


def _has_exact_inverse(projector: BaseProjector) -> bool:
    exact = (PCAProjector, LatentProjector)
    return isinstance(projector, exact) or isinstance(getattr(projector, "fallback_", None), exact)


def _check_aligned(coords: np.ndarray, z: np.ndarray, name: str):
    coords = check_latents(coords, name)
    z = check_latents(z, "z")
    if len(coords) != len(z):
        raise DataError(
            f"{name} has {len(coords)} rows but z has {len(z)}; both must describe the "
            "same items in the same order."
        )
    return coords, z


def _weighted_average(
    values: np.ndarray, distances: np.ndarray, indices: np.ndarray, power: float
) -> np.ndarray:
    """IDW average of ``values[indices]`` with weights ``1 / distances**power``."""
    weights = 1.0 / np.maximum(distances.astype(np.float64), _MIN_DISTANCE) ** power
    weights /= weights.sum(axis=1, keepdims=True)
    averaged = np.einsum("mk,mkd->md", weights, values[indices].astype(np.float64))
    return np.ascontiguousarray(averaged, dtype=np.float32)
