"""Conversion between positions on a projection and latents, in both directions.

The explorer decodes the point under the cursor (map position to latent) and draws walks
on the map (latent to map position). How exact that is depends on the projection:

- the latent itself (a 2-D or 3-D latent space is its own map): exact in both directions;
- a linear projection such as PCA: the map is an affine function of the latent, fitted
  here by least squares and accepted only when it reproduces the stored map. A position
  then maps to the least-squares reconstruction, which for PCA is ``inverse_transform``:
  the point of the principal plane at that position, at the mean along the other axes;
- anything else (UMAP, t-SNE, ...): an average over the nearest items, weighted by inverse
  squared distance, on the map for the inverse and in latent space for the placement.

NOTE: the nearest-item averages are computed here by brute force. When the projection
package offers its own inverse mapping, that one should replace `_nearest_weighted`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

INVERSE_NEIGHBOURS = 10
PLACEMENT_NEIGHBOURS = 10
# A linear fit counts as exact when its largest error is below this fraction of the
# map's spread. Storing latents and maps as float32 leaves relative errors near 1e-6.
LINEAR_TOLERANCE = 1e-4
QUERY_CHUNK = 32

NOTES = {
    "latent": "The map is the latent space itself, so a position is a latent.",
    "linear": (
        "The map is a linear projection of the latent space, so a position decodes the "
        "latent on the projection plane at that position, at the data's mean along the "
        "other latent directions."
    ),
    "nearest": (
        f"The projection has no exact inverse, so a position decodes an estimate: the "
        f"average latent of the {INVERSE_NEIGHBOURS} items nearest to it on the map, "
        f"weighted by inverse squared distance."
    ),
}


@dataclass
class ProjectionMap:
    """One projection of the space with its conversions to and from latents.

    Attributes
    ----------
    name : str
        Key of the projection in ``space.projections``, like ``"umap-2d"``.
    coords : ndarray of float32, shape (n_items, dims)
        Map position of every item.
    kind : {"latent", "linear", "nearest"}
        How positions and latents are converted (see the module docstring).
    """

    name: str
    coords: np.ndarray
    z: np.ndarray
    kind: str
    affine: tuple[np.ndarray, ...] | None = None

    @property
    def dims(self) -> int:
        """Number of map dimensions, 2 or 3."""
        return int(self.coords.shape[1])

    @property
    def inverse(self) -> str:
        """``exact`` when a position maps to one latent by formula, else ``knn-weighted``."""
        return "knn-weighted" if self.kind == "nearest" else "exact"

    @property
    def placement(self) -> str:
        """``transform`` when latents are placed by formula, else ``nearest-neighbours``."""
        return "nearest-neighbours" if self.kind == "nearest" else "transform"

    def describe(self) -> dict:
        """Describe the projection for the ``projections`` list of ``/api/space``."""
        finite = self.coords[np.all(np.isfinite(self.coords), axis=1)]
        bounds = [finite.min(axis=0).tolist(), finite.max(axis=0).tolist()] if len(finite) else None
        return {
            "name": self.name,
            "dims": self.dims,
            "inverse": self.inverse,
            "inverse_note": NOTES[self.kind],
            "placement": self.placement,
            "bounds": bounds,
        }

    def to_latent(self, positions: np.ndarray) -> tuple[np.ndarray, str]:
        """Map positions (m, dims) to latents (m, latent_dim).

        Returns the latents and how they were found: ``latent``, ``exact`` or
        ``knn-weighted``, as in the ``inverse`` field of ``/api/decode``.
        """
        positions = np.asarray(positions, dtype=np.float64).reshape(-1, self.dims)
        if self.kind == "latent":
            return positions.astype(np.float32), "latent"
        if self.kind == "linear":
            z_mean, map_mean, _, inverse = self.affine
            return ((positions - map_mean) @ inverse + z_mean).astype(np.float32), "exact"
        latents = _nearest_weighted(positions, self.coords, self.z, INVERSE_NEIGHBOURS)
        return latents, "knn-weighted"

    def place(self, latents: np.ndarray) -> tuple[np.ndarray, str]:
        """Map latents (m, latent_dim) to positions (m, dims) and name the method used."""
        latents = np.asarray(latents, dtype=np.float64).reshape(-1, self.z.shape[1])
        if self.kind == "latent":
            return latents.astype(np.float32), "transform"
        if self.kind == "linear":
            z_mean, map_mean, forward, _ = self.affine
            return ((latents - z_mean) @ forward + map_mean).astype(np.float32), "transform"
        positions = _nearest_weighted(latents, self.z, self.coords, PLACEMENT_NEIGHBOURS)
        return positions, "nearest-neighbours"


def build_projection_map(name: str, coords: np.ndarray, z: np.ndarray) -> ProjectionMap:
    """Choose the most exact conversion that reproduces the stored map of the latents."""
    coords = np.asarray(coords, dtype=np.float32)
    z = np.asarray(z, dtype=np.float32)
    if coords.ndim != 2 or len(coords) != len(z):
        raise ValueError(
            f"Projection {name!r} has shape {coords.shape}, expected ({len(z)}, 2 or 3): "
            "one position per item."
        )
    if coords.shape == z.shape and np.allclose(coords, z, rtol=1e-5, atol=1e-6):
        return ProjectionMap(name, coords, z, "latent")
    affine = fit_affine(coords, z)
    if affine is not None:
        return ProjectionMap(name, coords, z, "linear", affine)
    logger.debug("Projection %s is not linear in the latents; using nearest items", name)
    return ProjectionMap(name, coords, z, "nearest")


def fit_affine(coords: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Fit ``coords = (z - z_mean) @ forward + map_mean`` and its least-squares inverse.

    Returns ``(z_mean, map_mean, forward, inverse)``, or None when the map is not an
    affine function of the latents (its error is above `LINEAR_TOLERANCE` of its spread).
    """
    finite = np.all(np.isfinite(coords), axis=1) & np.all(np.isfinite(z), axis=1)
    if finite.sum() <= z.shape[1] + 1:
        return None
    c = coords[finite].astype(np.float64)
    x = z[finite].astype(np.float64)
    z_mean, map_mean = x.mean(axis=0), c.mean(axis=0)
    centred_z, centred_map = x - z_mean, c - map_mean

    forward, *_ = np.linalg.lstsq(centred_z, centred_map, rcond=None)  # (d, dims)
    spread = np.abs(centred_map).max()
    if spread == 0 or np.abs(centred_z @ forward - centred_map).max() > LINEAR_TOLERANCE * spread:
        return None
    inverse, *_ = np.linalg.lstsq(centred_map, centred_z, rcond=None)  # (dims, d)
    return z_mean, map_mean, forward, inverse


def _nearest_weighted(queries: np.ndarray, reference: np.ndarray, values: np.ndarray,
                      k: int) -> np.ndarray:
    """Average `values` of the `k` reference points nearest each query, by inverse distance².

    A query that coincides with a reference point gets that point's value exactly.
    """
    reference = reference.astype(np.float64)
    values = values.astype(np.float64)
    k = min(k, len(reference))
    reference_norms = np.einsum("ij,ij->i", reference, reference)
    out = np.empty((len(queries), values.shape[1]), dtype=np.float64)

    # Chunks keep the (queries x items) distance matrix small for large data sets.
    for start in range(0, len(queries), QUERY_CHUNK):
        chunk = queries[start : start + QUERY_CHUNK]
        squared = (np.einsum("ij,ij->i", chunk, chunk)[:, None] + reference_norms[None, :]
                   - 2.0 * chunk @ reference.T)
        squared = np.maximum(squared, 0.0)
        nearest = np.argpartition(squared, k - 1, axis=1)[:, :k]  # (m, k)
        distances = np.take_along_axis(squared, nearest, axis=1)
        weights = 1.0 / np.maximum(distances, 1e-12)
        # Exact hits (distance below float64 rounding) take all the weight.
        hits = distances <= 1e-12 * (1.0 + reference_norms[nearest])
        weights = np.where(hits.any(axis=1, keepdims=True), hits.astype(np.float64), weights)
        weights /= weights.sum(axis=1, keepdims=True)
        out[start : start + len(chunk)] = np.einsum("mk,mkj->mj", weights, values[nearest])
    return out.astype(np.float32)
