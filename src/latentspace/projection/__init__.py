"""2-D and 3-D maps of a latent space, and the way back from a map to the latent.

`project(z, method, dims)` fits one of `PROJECTORS` and returns the coordinates with the
fitted projector. `inverse_map` estimates the latent at a map position and
`place_points` puts new latents on an existing map.
"""

from latentspace.projection.base import BaseProjector
from latentspace.projection.inverse import inverse_map, place_points
from latentspace.projection.linear import LatentProjector, PCAProjector
from latentspace.projection.manifold import IsomapProjector, LLEProjector
from latentspace.projection.neighbor_embedding import TSNEProjector, UMAPProjector
from latentspace.projection.registry import PROJECTORS, make_projector, project

__all__ = [
    "PROJECTORS",
    "BaseProjector",
    "IsomapProjector",
    "LLEProjector",
    "LatentProjector",
    "PCAProjector",
    "TSNEProjector",
    "UMAPProjector",
    "inverse_map",
    "make_projector",
    "place_points",
    "project",
]
