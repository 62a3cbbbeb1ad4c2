"""One entry point for every data source: built-in names, image folders and table files."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from latentspace.data.builtin import BUILTIN, load_dataset
from latentspace.data.dataset import Dataset
from latentspace.data.embeddings import load_embeddings
from latentspace.data.imagefiles import readable_extensions
from latentspace.data.images import load_image_folder, locate_labels_csv
from latentspace.data.tables import TABLE_SUFFIXES, load_table, table_format
from latentspace.errors import DataError, InvalidParameterError

logger = logging.getLogger(__name__)

FORMATS = "a folder of images, .npy, .npz, .csv, .tsv, .csv.gz, .parquet"
IMAGE_OPTIONS = frozenset({
    "channels", "image_size", "fit", "background", "labels_csv", "file_column",
    "label_column", "skip_bad", "cache", "cache_dir", "progress", "n_threads", "name",
})
TABLE_OPTIONS = frozenset({
    "key", "label_column", "id_column", "feature_columns", "standardize_features",
    "encoding", "delimiter", "name",
})
EMBEDDING_OPTIONS = TABLE_OPTIONS - {"standardize_features"}
SUBSET_OPTIONS = frozenset({"n_samples", "seed"})
FILE_ONLY_OPTIONS = (IMAGE_OPTIONS | TABLE_OPTIONS) - {"name"}


def load_data(
    spec: str | Path,
    data_dir: str | Path | None = None,
    *,
    embeddings: bool = False,
    **options: object,
) -> Dataset:
    """Load a built-in data set by name, or a user's folder or file by path.

    The returned data set records how it was loaded in ``info["source"]``, so a saved run
    can load it again.

    Parameters
    ----------
    spec : str or Path
        A built-in name (see `latentspace.data.builtin.BUILTIN`), an image folder, or a
        ``.npy``, ``.npz``, CSV (``.csv``, ``.tsv``, ``.csv.gz``) or Parquet file. Built-in
        names win over a folder of the same name; write ``./digits`` for the folder.
    data_dir : path, optional
        For built-in sets, the folder with their files. For a relative path that does not
        exist from the working folder, the folder it is looked up in.
    embeddings : bool
        Read the file as precomputed embeddings (`load_embeddings`): vectors kept in their
        units and marked ``info["embeddings"] = True``.
    **options
        Passed to the loader: `load_image_folder` for folders, `load_table` or
        `load_embeddings` for files, the built-in loader for names. Options set to None are
        ignored. ``n_samples`` (with ``seed``, default 0) keeps a random subset of a file
        or folder, in file order; built-in sets keep their first ``n_samples``.

    Raises
    ------
    DataError
        When `spec` is neither a built-in name nor an existing folder or supported file;
        the message lists both.
    InvalidParameterError
        When an option does not apply to the chosen source.
    """
    options = {key: value for key, value in options.items() if value is not None}
    if "labels_csv" in options:
        # Recorded in the form that still works from another working folder.
        folder = _resolve(Path(str(spec)).expanduser(), data_dir)
        options["labels_csv"] = locate_labels_csv(options["labels_csv"], folder)
    data = _load(spec, data_dir, embeddings, dict(options))
    data.info["source"] = source_record(spec, data_dir, embeddings, options)
    return data


def source_record(spec: str | Path, data_dir: str | Path | None, embeddings: bool,
                  options: dict) -> dict:
    """Describe a `load_data` call as JSON-ready values, to repeat it when a run is loaded."""
    text = str(spec)
    if text not in BUILTIN or embeddings:
        text = str(Path(text).expanduser().resolve())
    return {
        "spec": text,
        "data_dir": None if data_dir is None else str(Path(data_dir).expanduser().resolve()),
        "embeddings": embeddings,
        "options": {key: str(value) if isinstance(value, Path) else value
                    for key, value in options.items() if key not in ("progress", "cache_dir")},
    }


def _load(spec: str | Path, data_dir: str | Path | None, embeddings: bool,
          options: dict) -> Dataset:
    text = str(spec)
    if text in BUILTIN and not embeddings:
        # Built-in loaders take their own options (n_samples, seed, noise, download), so only
        # the options of files and folders are rejected here.
        wrong = sorted(set(options) & FILE_ONLY_OPTIONS)
        if wrong:
            raise InvalidParameterError(
                f"Option {', '.join(wrong)} applies to files and folders, not to the built-in "
                f"data set {text!r}. Remove it."
            )
        return load_dataset(text, data_dir=data_dir, **options)
    path = _resolve(Path(text).expanduser(), data_dir)
    subset = {key: options.pop(key) for key in list(options) if key in SUBSET_OPTIONS}
    if path.is_dir():
        if embeddings:
            raise DataError(f"{path} is a folder; embeddings are read from a .npy, .npz, CSV "
                            "or Parquet file.")
        _reject_options(options, IMAGE_OPTIONS, "image folders", text)
        data = load_image_folder(path, **options)
    elif table_format(path) is not None:
        allowed = EMBEDDING_OPTIONS if embeddings else TABLE_OPTIONS
        _reject_options(options, allowed, "embeddings" if embeddings else "table files", text)
        data = load_embeddings(path, **options) if embeddings else load_table(path, **options)
    elif path.suffix.lower() in readable_extensions():
        raise DataError(f"{path} is a single image. Put the images in a folder, one subfolder "
                        "per class, and pass the folder.")
    else:
        raise DataError(
            f"Cannot load {text!r}: it is neither a built-in data set "
            f"({', '.join(sorted(BUILTIN))}) nor an existing file or folder of a supported "
            f"format ({FORMATS})."
        )
    return _random_subset(data, **subset)


def _resolve(path: Path, data_dir: str | Path | None) -> Path:
    if path.exists() or path.is_absolute() or data_dir is None:
        return path
    candidate = Path(data_dir).expanduser() / path
    return candidate if candidate.exists() else path


def _reject_options(options: dict, allowed: frozenset, kind: str, spec: str) -> None:
    wrong = sorted(key for key in options if key not in allowed)
    if wrong:
        raise InvalidParameterError(
            f"Option {', '.join(wrong)} does not apply to {spec!r}: {kind} accept "
            f"{', '.join(sorted(allowed | SUBSET_OPTIONS))}. Remove it."
        )


def _random_subset(data: Dataset, n_samples: int | None = None, seed: int = 0) -> Dataset:
    if n_samples is None or n_samples >= len(data):
        return data
    if n_samples < 1:
        raise InvalidParameterError(f"n_samples must be at least 1, got {n_samples}.")
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(data), size=n_samples, replace=False))
    subset = data.subset(keep)
    subset.info["subset"] = {"n_samples": int(n_samples), "seed": int(seed)}
    return subset


__all__ = ["FORMATS", "TABLE_SUFFIXES", "load_data"]
