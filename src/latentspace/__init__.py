"""latentspace: learn, see, walk through and measure the latent space of your data.

>>> import latentspace as ls
>>> space = ls.LatentSpace.fit(ls.load_dataset("digits"), model="vae", latent_dim=8)
"""

from latentspace.data import Dataset, load_dataset
from latentspace.errors import (
    DataError,
    InvalidParameterError,
    LatentSpaceError,
    NoDecoderError,
    RunDirectoryError,
    TrainingError,
)
from latentspace.space import LatentSpace

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "Dataset",
    "InvalidParameterError",
    "LatentSpace",
    "LatentSpaceError",
    "NoDecoderError",
    "RunDirectoryError",
    "TrainingError",
    "load_dataset",
]
