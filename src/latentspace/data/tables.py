"""Loading tables and arrays: `.npy`, `.npz`, CSV and Parquet files.

Numeric columns become the features, `label_column` the labels and `id_column` the ids;
every other column is kept as per-sample metadata for the explorer. Arrays with three or
four dimensions are read as images. NumPy files are always read with
``allow_pickle=False``, so an object array is rejected instead of being unpickled.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from latentspace.data.columns import (
    check_ids,
    encode_array_labels,
    encode_text_labels,
    standardize,
)
from latentspace.data.dataset import Dataset
from latentspace.data.textfiles import check_unique_columns, read_csv_table
from latentspace.errors import DataError

logger = logging.getLogger(__name__)

TABLE_SUFFIXES = {
    ".npy": "npy",
    ".npz": "npz",
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".csv.gz": "csv",
    ".tsv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FLOAT32_EXACT_INTEGER = 2**24
NUMERIC_TEXT_SHARE = 0.95


def table_format(path: Path) -> str | None:
    """Return ``npy``, ``npz``, ``csv`` or ``parquet`` for a file name, or None."""
    name = path.name.lower()
    for suffix in sorted(TABLE_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return TABLE_SUFFIXES[suffix]
    return None


def load_table(
    path: str | Path,
    *,
    key: str | None = None,
    label_column: str | int | None = None,
    id_column: str | None = None,
    feature_columns: list[str] | None = None,
    standardize_features: bool | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    name: str | None = None,
) -> Dataset:
    """Load a `.npy`, `.npz`, CSV (also ``.tsv``, ``.csv.gz``) or Parquet file.

    Parameters
    ----------
    path : path
        The file.
    key : str, optional
        Name of the sample array inside an `.npz` file; needed when it contains several arrays
        other than the label and id arrays.
    label_column : str or int, optional
        Label column (CSV, Parquet), label array name (`.npz`), or column index of a 2-D
        `.npy` array. Text and integer labels become classes, with names kept verbatim;
        floats that are not all integers become a continuous label.
    id_column : str, optional
        Column (or `.npz` array) of unique sample ids. Rows are numbered from 0 otherwise.
    feature_columns : list of str, optional
        Columns used as features. By default every integer and float column except the
        label and id columns; text, bool and date columns are kept as metadata.
    standardize_features : bool, optional
        Scale each feature to mean 0 and standard deviation 1, storing the mean and scale in
        ``feature_mean`` and ``feature_scale``. Default: True for feature vectors, False for
        image arrays.
    encoding, delimiter : str, optional
        CSV text encoding and delimiter; detected when omitted.
    name : str, optional
        Data set name; defaults to the file name without its suffix.

    Raises
    ------
    DataError
        When the file is missing, unreadable, contains no numeric data, or a named column or
        array does not exist.
    """
    path = Path(path).expanduser()
    kind = table_format(path)
    if kind is None:
        raise DataError(
            f"{path}: unsupported table format. Use one of: "
            f"{', '.join(sorted(TABLE_SUFFIXES))}."
        )
    if not path.is_file():
        raise DataError(f"File not found: {path}.")
    name = name or _stem(path)
    if kind in ("npy", "npz"):
        data = _load_numpy(path, kind, key, label_column, id_column, name)
    else:
        if kind == "csv":
            string_columns = tuple(c for c in (label_column, id_column) if isinstance(c, str))
            table, info = read_csv_table(path, encoding, delimiter, string_columns)
        else:
            table, info = _read_parquet(path), {}
        data = table_to_dataset(table, name, str(path), label_column, id_column, feature_columns)
        data.info.update(info)
    if standardize_features is None:
        standardize_features = not data.is_image
    data.info["source"] = str(path)
    return standardize(data) if standardize_features else data


def _stem(path: Path) -> str:
    name = path.name
    suffix = next((s for s in sorted(TABLE_SUFFIXES, key=len, reverse=True)
                   if name.lower().endswith(s)), "")
    return name[: len(name) - len(suffix)] or name


def _read_parquet(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"Cannot read Parquet file {path}: {error}.") from error
    check_unique_columns(table, path)
    return table


def table_to_dataset(
    table: pa.Table,
    name: str,
    source: str,
    label_column: str | int | None = None,
    id_column: str | None = None,
    feature_columns: list[str] | None = None,
) -> Dataset:
    """Split an Arrow table into features, labels, ids and metadata (see `load_table`)."""
    columns = table.column_names
    for role, column in (("label", label_column), ("id", id_column)):
        if column is not None and column not in columns:
            raise DataError(
                f"{source}: {role} column {column!r} (--{role}-column) not found. Columns: "
                f"{_describe(table)}."
            )
    if table.num_rows == 0:
        raise DataError(f"{source} has a header but no data rows; give at least 2 rows.")

    reserved = {label_column, id_column}
    if feature_columns is None:
        feature_columns = [c for c in columns if c not in reserved and _is_numeric(table[c])]
        _reject_mostly_numeric_text(table, source, reserved)
    else:
        _check_feature_columns(feature_columns, label_column, id_column, source)
    if not feature_columns:
        raise DataError(
            f"{source} has no numeric feature columns. Columns: {_describe(table)}. "
            "Give numeric columns, or name them with --feature-columns (feature_columns in "
            "Python)."
        )
    x = np.column_stack([_numeric_column(table, c, source) for c in feature_columns])

    labels = label_names = ids = None
    if label_column is not None:
        where = f"{source}, column {label_column!r}"
        labels, label_names = _table_labels(table[label_column], where)
    if id_column is not None:
        ids = check_ids(table[id_column].to_pylist(), f"{source}, column {id_column!r}")
    skipped = reserved | set(feature_columns)
    metadata = {c: _metadata_array(table[c]) for c in columns if c not in skipped}

    return Dataset(
        x=_to_float32(x, source), name=name, sample_shape=(x.shape[1],), labels=labels,
        label_names=label_names, ids=ids, metadata=metadata,
        info={"feature_names": list(feature_columns)},
    )


def _check_feature_columns(feature_columns: list[str], label_column, id_column,
                           source: str) -> None:
    """Raise DataError for a feature column named twice or also used as labels or ids."""
    repeated = sorted({c for c in feature_columns if feature_columns.count(c) > 1})
    if repeated:
        raise DataError(
            f"{source}: --feature-columns names {', '.join(map(repr, repeated))} more than "
            "once. Name each feature column once."
        )
    for role, column in (("label", label_column), ("id", id_column)):
        if column is not None and column in feature_columns:
            raise DataError(
                f"{source}: column {column!r} is the {role} column and cannot also be a "
                "feature. Leave it out of --feature-columns."
            )


def _describe(table: pa.Table) -> str:
    return ", ".join(f"{field.name} ({field.type})" for field in table.schema)


def _is_numeric(column: pa.ChunkedArray) -> bool:
    kind = column.type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _numeric_column(table: pa.Table, column: str, source: str) -> np.ndarray:
    """Return a column as float64, with missing cells as NaN."""
    if column not in table.column_names:
        raise DataError(f"{source}: feature column {column!r} not found. "
                        f"Columns: {_describe(table)}.")
    values = table[column]
    if pa.types.is_integer(values.type) and values.null_count == 0:
        integers = values.to_numpy()
        if integers.size and np.abs(integers).max() > FLOAT32_EXACT_INTEGER:
            logger.warning(
                "%s: column %r contains integers above 2**24, which float32 features round.",
                source, column,
            )
        return integers.astype(np.float64)
    if _is_numeric(values):
        return pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    cells = values.to_pylist()
    numbers = np.empty(len(cells))
    for row, cell in enumerate(cells):
        try:
            numbers[row] = np.nan if cell is None or cell == "" else float(cell)
        except (TypeError, ValueError):
            raise DataError(
                f"{source}: feature column {column!r} contains {cell!r} at data row {row} "
                "(counted from 0), which is not a number. Fix that cell, or leave the "
                "column out of --feature-columns (feature_columns in Python)."
            ) from None
    return numbers


def _reject_mostly_numeric_text(table: pa.Table, source: str, reserved: set) -> None:
    """Raise when a text column is numeric except for a few cells, a likely typo that
    would otherwise silently turn a feature into metadata."""
    for column in table.column_names:
        if column in reserved or not pa.types.is_string(table[column].type):
            continue
        cells = [(row, cell) for row, cell in enumerate(table[column].to_pylist())
                 if cell not in (None, "")]
        bad = [(row, cell) for row, cell in cells if not _is_number(cell)]
        if bad and len(bad) <= (1 - NUMERIC_TEXT_SHARE) * len(cells):
            examples = ", ".join(f"{cell!r} (data row {row})" for row, cell in bad[:5])
            raise DataError(
                f"{source}: column {column!r} is numeric except for {len(bad)} cells: "
                f"{examples}. Fix those cells, or choose the features with --feature-columns "
                "(feature_columns in Python); the column is then kept as metadata."
            )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _table_labels(column: pa.ChunkedArray, source: str):
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return encode_text_labels(column.to_pylist(), source)
    if column.null_count:
        cells = column.to_pylist()
        return encode_text_labels(["" if c is None else str(c) for c in cells], source)
    return encode_array_labels(column.to_numpy(zero_copy_only=False), source)


def _metadata_array(column: pa.ChunkedArray) -> np.ndarray:
    if _is_numeric(column):
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return np.asarray(["" if cell is None else str(cell) for cell in column.to_pylist()],
                      dtype=str)


def _to_float32(x: np.ndarray, source: str) -> np.ndarray:
    """Convert to float32, warning when finite values overflow float32's range."""
    x = np.asarray(x)
    if x.dtype.kind == "f" and x.dtype.itemsize > 4:
        finite = np.isfinite(x)
        too_large = finite & (np.abs(np.where(finite, x, 0)) > np.finfo(np.float32).max)
        if too_large.any():
            row, column = np.argwhere(too_large)[0][:2] if x.ndim > 1 else (too_large.argmax(), 0)
            logger.warning(
                "%s: %d values exceed the float32 range and become infinite, the first at "
                "data row %d, feature %d.", source, int(too_large.sum()), row, column,
            )
    with np.errstate(over="ignore"):
        return x.astype(np.float32)


def _load_numpy(path, kind, key, label_column, id_column, name) -> Dataset:
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as error:
        raise _numpy_error(path, None, error) from error
    except (OSError, EOFError) as error:
        raise DataError(f"Cannot read {path}: {error}. The file may be truncated.") from error
    if kind == "npy":
        if isinstance(loaded, np.lib.npyio.NpzFile):
            loaded.close()
            raise DataError(f"{path} is an .npz archive; rename it to .npz and pass key=...")
        if id_column is not None:
            raise DataError(f"{path}: a .npy file contains one array, so it has no id column; "
                            "save the ids next to the samples in an .npz archive.")
        return array_to_dataset(loaded, name, str(path), label_column=label_column)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataError(f"{path} is a single .npy array, not an .npz archive; rename it to .npy.")
    with loaded as archive:
        arrays = _read_npz(archive, path, key, label_column, id_column)
    return array_to_dataset(
        arrays.pop("x"), name, str(path), labels=arrays.pop("labels", None),
        ids=arrays.pop("ids", None), metadata=arrays,
    )


def _read_npz(archive, path, key, label_column, id_column) -> dict[str, np.ndarray]:
    names = list(archive.files)
    for option, value in (("key", key), ("label_column", label_column), ("id_column", id_column)):
        if value is not None and value not in names:
            raise DataError(f"{path}: {option} {value!r} is not an array in the archive. "
                            f"Arrays: {', '.join(names)}.")
    if key is None:
        candidates = [n for n in names if n not in (label_column, id_column)]
        if len(candidates) != 1:
            raise DataError(
                f"{path} contains {len(candidates)} arrays ({', '.join(names)}). Name the "
                "sample array with --key and the labels with --label-column (key and "
                "label_column in Python)."
            )
        key = candidates[0]

    def read(array_name: str) -> np.ndarray:
        try:
            return archive[array_name]
        except ValueError as error:
            raise _numpy_error(path, array_name, error) from error

    arrays = {"x": read(key)}
    if label_column is not None:
        arrays["labels"] = read(label_column)
    if id_column is not None:
        arrays["ids"] = read(id_column)
    for other in names:
        if other not in (key, label_column, id_column):
            value = read(other)
            if value.ndim == 1 and len(value) == len(arrays["x"]):
                arrays[other] = value
    return arrays


def _numpy_error(path: Path, array_name: str | None, error: ValueError) -> DataError:
    where = f"{path}" if array_name is None else f"array {array_name!r} in {path}"
    if "allow_pickle" in str(error) and "Object arrays" in str(error):
        return DataError(
            f"{where} is a NumPy object array (dtype=object). Loading it would need "
            "unpickling, which can run arbitrary code, so latentspace does not. Save a "
            "numeric array instead, for example np.save(path, x.astype(np.float32))."
        )
    if "allow_pickle" in str(error):
        return DataError(f"{where} is not a .npy or .npz file (it looks like pickled data, "
                         "which latentspace does not load). Save it with np.save or np.savez.")
    return DataError(f"Cannot read {where}: {error}. The file may be truncated or corrupt.")


def array_to_dataset(
    array: np.ndarray,
    name: str,
    source: str,
    labels: np.ndarray | None = None,
    ids: np.ndarray | None = None,
    metadata: dict[str, np.ndarray] | None = None,
    label_column: str | int | None = None,
) -> Dataset:
    """Build a Dataset from a numeric array: (N, F) vectors, (N, H, W) grayscale images, or
    (N, C, H, W) / (N, H, W, C) images with C = 1 or 3.

    A structured array is read as a table, with `label_column` naming a field. For a 2-D
    array, an integer `label_column` takes that column as the labels.
    """
    array = np.asarray(array)
    if array.dtype.names:
        return _structured_to_dataset(array, name, source, label_column)
    _check_numeric_dtype(array, source)
    if isinstance(label_column, (int, np.integer)) and not isinstance(label_column, bool):
        array, labels = _split_label_column(array, int(label_column), source)
    elif label_column is not None:
        raise DataError(f"{source}: a plain array has no named columns; pass label_column as "
                        "a column index, or save the labels in an .npz archive.")
    x, sample_shape, info = _shape_samples(array, source)
    label_values = label_names = None
    if labels is not None:
        if len(labels) != len(x):
            raise DataError(f"{source}: {len(x)} samples but {len(labels)} labels; give one "
                            "label per sample.")
        label_values, label_names = encode_array_labels(labels, f"{source}, labels")
    if ids is not None:
        ids = check_ids([str(v) for v in np.asarray(ids)], f"{source}, ids")
    return Dataset(
        x=x, name=name, sample_shape=sample_shape, labels=label_values,
        label_names=label_names, ids=ids, metadata=dict(metadata or {}), info=info,
    )


def _check_numeric_dtype(array: np.ndarray, source: str) -> None:
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{source}: array of dtype {array.dtype} is not numeric. Save the samples as "
            "an integer or float array; keep text in a separate array or column."
        )
    if array.size == 0:
        raise DataError(f"{source}: the array is empty (shape {array.shape}); give at least "
                        "2 samples.")


def _split_label_column(array: np.ndarray, index: int, source: str):
    if array.ndim != 2 or not -array.shape[1] <= index < array.shape[1]:
        raise DataError(f"{source}: label column {index} needs a 2-D array with that column, "
                        f"but the array has shape {array.shape}.")
    labels = array[:, index]
    return np.delete(array, index, axis=1), labels


def _shape_samples(array: np.ndarray, source: str) -> tuple[np.ndarray, tuple, dict]:
    if array.ndim == 1:
        raise DataError(
            f"{source}: a 1-D array of {len(array)} values is ambiguous. Save one row per "
            "sample, for example x.reshape(-1, 1) for a single feature."
        )
    if array.ndim == 2:
        x = _to_float32(array, source)
        return x, (x.shape[1],), {"feature_names": [str(i) for i in range(x.shape[1])]}
    if array.ndim == 3:
        array = array[:, None, :, :]
    elif array.ndim == 4 and array.shape[1] not in (1, 3) and array.shape[-1] in (1, 3):
        array = np.moveaxis(array, -1, 1)
    if array.ndim != 4 or array.shape[1] not in (1, 3):
        raise DataError(
            f"{source}: cannot read an array of shape {array.shape} as samples. Use (N, F) "
            "vectors, (N, H, W) grayscale images, or (N, C, H, W) / (N, H, W, C) images "
            "with 1 or 3 channels."
        )
    x, info = scale_image_array(array, source)
    return x, x.shape[1:], info


def scale_image_array(array: np.ndarray, source: str) -> tuple[np.ndarray, dict]:
    """Scale image values to [0, 1]: uint8 by 255, uint16 by 65535, floats already in
    [0, 1] unchanged, anything else by its own minimum and maximum (logged)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0, {}
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0, {}
    x = _to_float32(array, source)
    finite = x[np.isfinite(x)]
    if finite.size == 0 or (finite.min() >= 0 and finite.max() <= 1):
        return x, {}
    low, high = float(finite.min()), float(finite.max())
    logger.warning("%s: image values span [%g, %g], outside [0, 1]; scaled by their minimum "
                   "and maximum.", source, low, high)
    span = high - low if high > low else 1.0
    return (x - low) / span, {"scaled_from": [low, high]}


def _structured_to_dataset(array, name, source, label_column) -> Dataset:
    if array.ndim != 1:
        raise DataError(f"{source}: a structured array must be 1-D (one record per sample), "
                        f"got shape {array.shape}.")
    if label_column is not None and not isinstance(label_column, str):
        raise DataError(f"{source}: name the label field of the structured array, "
                        f"one of {', '.join(array.dtype.names)}.")
    table = pa.table({field: array[field] for field in array.dtype.names})
    return table_to_dataset(table, name, source, label_column)
