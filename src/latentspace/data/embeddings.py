"""Loading precomputed embeddings: vectors made by another model, to explore as they are."""

from __future__ import annotations

from pathlib import Path

from latentspace.data.dataset import Dataset
from latentspace.data.tables import load_table
from latentspace.errors import DataError


def load_embeddings(
    path: str | Path,
    label_column: str | int | None = None,
    id_column: str | None = None,
    *,
    key: str | None = None,
    feature_columns: list[str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Load embedding vectors from a `.npy`, `.npz`, CSV or Parquet file.

    The vectors are kept in their own units (no standardisation), because distances
    between them are what the explorer shows. The result has ``info["embeddings"] = True``;
    a space built from it has no encoder or decoder, so it can be projected and browsed
    but not walked through.

    Parameters
    ----------
    path : path
        File of shape (N, d): one row per item, one column per embedding dimension.
    label_column, id_column, key, feature_columns, encoding, delimiter, name
        As in `latentspace.data.tables.load_table`. Other non-numeric columns are kept as
        metadata.

    Raises
    ------
    DataError
        When the file does not hold one vector per row (for example an image array).
    """
    data = load_table(
        path, key=key, label_column=label_column, id_column=id_column,
        feature_columns=feature_columns, standardize_features=False, encoding=encoding,
        delimiter=delimiter, name=name,
    )
    if len(data.sample_shape) != 1:
        raise DataError(
            f"{path}: embeddings must be a 2-D array of shape (items, dimensions); got "
            f"samples of shape {data.sample_shape}. Reshape them, for example with "
            "z.reshape(len(z), -1)."
        )
    data.info["embeddings"] = True
    return data
