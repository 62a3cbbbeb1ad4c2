"""Data sets: the `Dataset` type and the loaders."""

from latentspace.data.builtin import BUILTIN, load_dataset
from latentspace.data.dataset import Dataset

__all__ = ["BUILTIN", "Dataset", "load_dataset"]
