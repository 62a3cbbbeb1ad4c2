"""Data sets: the `Dataset` type, the loaders and the checks run before training."""

from latentspace.data.builtin import BUILTIN, load_dataset
from latentspace.data.checks import check_dataset
from latentspace.data.dataset import Dataset
from latentspace.data.embeddings import load_embeddings
from latentspace.data.images import load_image_folder
from latentspace.data.load import load_data
from latentspace.data.realsets import download
from latentspace.data.tables import load_table

__all__ = [
    "BUILTIN",
    "Dataset",
    "check_dataset",
    "download",
    "load_data",
    "load_dataset",
    "load_embeddings",
    "load_image_folder",
    "load_table",
]
