"""Static figures of a latent space, written as PNG files (and one GIF) with matplotlib.

`write_figures` draws everything a space supports. The plotting functions below take
plain numpy arrays, so they also work without a `LatentSpace`.
"""

from latentspace.figures.common import Figure
from latentspace.figures.curves import plot_training_curves
from latentspace.figures.grids import (
    plot_image_grid,
    plot_interpolations,
    plot_manifold_grid,
    plot_reconstructions,
    plot_traversal,
    write_interpolation_gif,
)
from latentspace.figures.maps import plot_map, plot_map_3d, plot_thumbnail_map
from latentspace.figures.vectors import (
    plot_vector_interpolations,
    plot_vector_manifold,
    plot_vector_reconstructions,
    plot_vector_samples,
    plot_vector_traversal,
    write_vector_interpolation_gif,
)
from latentspace.figures.write import write_figures

__all__ = [
    "Figure",
    "plot_image_grid",
    "plot_interpolations",
    "plot_manifold_grid",
    "plot_map",
    "plot_map_3d",
    "plot_reconstructions",
    "plot_thumbnail_map",
    "plot_training_curves",
    "plot_traversal",
    "plot_vector_interpolations",
    "plot_vector_manifold",
    "plot_vector_reconstructions",
    "plot_vector_samples",
    "plot_vector_traversal",
    "write_figures",
    "write_interpolation_gif",
    "write_vector_interpolation_gif",
]
