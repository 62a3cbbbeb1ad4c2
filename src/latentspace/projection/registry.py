"""The projection registry and `project`, the one-call way to map latents to 2-D or 3-D."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from latentspace.errors import InvalidParameterError
from latentspace.projection._validation import Options, check_latents, validate_params
from latentspace.projection.base import BaseProjector
from latentspace.projection.fast import FastMapProjector
from latentspace.projection.linear import LatentProjector, PCAProjector
from latentspace.projection.manifold import IsomapProjector, LLEProjector
from latentspace.projection.neighbor_embedding import TSNEProjector, UMAPProjector

if TYPE_CHECKING:
    from latentspace.neighbors import KNNGraph

logger = logging.getLogger(__name__)

PROJECTORS: dict[str, type[BaseProjector]] = {
    "fastmap": FastMapProjector,
    "pca": PCAProjector,
    "tsne": TSNEProjector,
    "umap": UMAPProjector,
    "isomap": IsomapProjector,
    "lle": LLEProjector,
    "latent": LatentProjector,
}


def make_projector(
    method: str, dims: int = 2, random_state: int | None = 0, **params: object
) -> BaseProjector:
    """Create an unfitted projector by name.

    Raises
    ------
    InvalidParameterError
        For an unknown method, listing the valid ones, or an option the method does not
        take, listing the ones it does.
    """
    if method not in PROJECTORS:
        raise InvalidParameterError(
            f"Unknown projection method {method!r}; valid methods are "
            f"{', '.join(sorted(PROJECTORS))}."
        )
    cls = PROJECTORS[method]
    valid = set(cls._get_param_names()) - {"n_components", "random_state"}
    unknown = sorted(set(params) - valid)
    if unknown:
        raise InvalidParameterError(
            f"Projection method {method!r} has no option(s) {', '.join(unknown)}; its "
            f"options are {', '.join(sorted(valid)) or 'none'}."
        )
    return cls(n_components=dims, random_state=random_state, **params)


def project(
    z: np.ndarray,
    method: str,
    dims: int = 2,
    knn: KNNGraph | None = None,
    random_state: int | None = 0,
    **params: object,
) -> tuple[np.ndarray, BaseProjector]:
    """Map latents to `dims` dimensions with the named method.

    When the latent has at most `dims` dimensions it is its own map: the method
    "latent" is used instead of `method`, with a logged notice.

    Parameters
    ----------
    z : array-like of shape (n_samples, n_dims)
        Latents.
    method : {"fastmap", "pca", "tsne", "umap", "isomap", "lle", "latent"}
        Projection method; see the projector classes for what each shows.
    dims : {2, 3}, default=2
        Dimensions of the map.
    knn : KNNGraph, optional
        The shared kNN graph of `z`, reused by tsne, umap and isomap.
    random_state : int or None, default=0
        Seed; the same seed and inputs give the same map.
    **params
        Options of the method's projector, for example ``n_neighbors=30`` for umap or
        ``perplexity=50`` for tsne.

    Returns
    -------
    coords : ndarray of float32, shape (n_samples, dims)
    projector : BaseProjector
        The fitted projector; its `transform` places new latents on the map.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(size=(200, 16)).astype(np.float32)
    >>> coords, projector = project(z, "pca", dims=2)
    >>> coords.shape, coords.dtype
    ((200, 2), dtype('float32'))
    """
    validate_params({"dims": dims}, {"dims": [Options((2, 3))]}, "project")
    projector = make_projector(method, dims, random_state, **params)
    z = check_latents(z, "z")
    if method != "latent" and z.shape[1] <= dims:
        logger.info(
            "The latent has %d dimension(s), at most dims=%d, so it is its own map; "
            "method %r is not run.", z.shape[1], dims, method,
        )
        projector = LatentProjector(n_components=dims, random_state=random_state)
    coords = projector.fit_transform(z, knn=knn)
    return coords, projector
