"""Conversion of label, id and metadata columns into the arrays of a `Dataset`.

Shared by the table loader and the image loader's CSV of file names and labels.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from latentspace.data.dataset import Dataset
from latentspace.errors import DataError

logger = logging.getLogger(__name__)

MAX_LISTED = 10


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def encode_text_labels(
    values: Sequence[str | None], source: str
) -> tuple[np.ndarray, list[str] | None]:
    """Encode label cells read as text.

    Class names are kept verbatim, so ``"01"`` and ``"1"`` are two classes. When every
    label is an integer, classes are ordered by value (``"2"`` before ``"10"``); otherwise
    by text. When every label is a number and at least one is not an integer, the label is
    continuous: float values and no class names.

    Raises
    ------
    DataError
        When a label cell is empty, naming the rows.
    """
    missing = [row for row, value in enumerate(values) if value is None or value == ""]
    if missing:
        raise DataError(
            f"{source}: the label is empty in {len(missing)} rows (data rows "
            f"{_list(missing)}, counted from 0). Fill those labels or remove those rows."
        )
    numbers = [_parse_number(value) for value in values]
    if all(number is not None for number in numbers) and not all(
        float(number).is_integer() for number in numbers
    ):
        return np.asarray(numbers, dtype=np.float32), None
    names = sorted(set(values), key=_class_order_key(values))
    code = {name: index for index, name in enumerate(names)}
    return np.asarray([code[value] for value in values], dtype=np.int64), list(names)


def _class_order_key(values: Sequence[str]):
    def is_integer(text: str) -> bool:
        number = _parse_number(text)
        return number is not None and float(number).is_integer()

    if all(is_integer(value) for value in set(values)):
        return lambda text: (float(text), text)
    return lambda text: text


def encode_array_labels(values: np.ndarray, source: str) -> tuple[np.ndarray, list[str] | None]:
    """Encode a label array: text, bool and integer values become classes, other floats a
    continuous label.

    Raises
    ------
    DataError
        When the array is not one-dimensional or contains NaN, naming the first bad position.
    """
    values = np.asarray(values)
    if values.ndim != 1:
        raise DataError(f"{source}: labels must be one value per sample, got shape {values.shape}.")
    if values.dtype.kind in "US":
        return encode_text_labels([str(value) for value in values], source)
    if values.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise DataError(
                f"{source}: {bad.size} labels are NaN or infinite (positions {_list(bad)}). "
                "Give every sample a finite label."
            )
        if not np.all(values == np.round(values)):
            return values.astype(np.float32), None
    if values.dtype.kind not in "biuf":
        raise DataError(f"{source}: labels of dtype {values.dtype} are not supported; "
                        "use integers, floats or text.")
    classes, codes = np.unique(values, return_inverse=True)
    names = [_class_name(value) for value in classes]
    return codes.astype(np.int64), names


def _class_name(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def check_ids(values: Sequence[str], source: str) -> np.ndarray:
    """Return ids as a str array, raising DataError when one is empty or repeated."""
    ids = np.asarray(["" if value is None else str(value) for value in values], dtype=str)
    empty = np.flatnonzero(ids == "")
    if empty.size:
        raise DataError(
            f"{source}: the id is empty in {empty.size} rows (data rows {_list(empty)}, "
            "counted from 0). Give every row an id, or drop id_column to number the rows."
        )
    unique, counts = np.unique(ids, return_counts=True)
    repeated = unique[counts > 1]
    if repeated.size:
        raise DataError(
            f"{source}: {repeated.size} ids occur more than once, for example "
            f"{_list([str(value) for value in repeated])}. Ids must be unique; choose another "
            "id column or drop id_column to number the rows."
        )
    return ids


def standardize(data: Dataset) -> Dataset:
    """Return a copy of `data` with each feature scaled to mean 0 and standard deviation 1.

    Statistics ignore NaN and infinite values, which stay NaN or infinite so that
    `check_dataset` can report them. A constant feature gets scale 1 and becomes 0. The
    mean and scale are stored in ``feature_mean`` and ``feature_scale`` so that decoded
    rows map back to the input's units with `Dataset.to_original_units`. Data that already
    carries a standardisation is returned unchanged.
    """
    if data.feature_mean is not None and data.feature_scale is not None:
        return data
    flat = data.flat().astype(np.float64)
    finite = np.isfinite(flat)
    count = np.maximum(finite.sum(axis=0), 1)
    values = np.where(finite, flat, 0.0)
    mean = values.sum(axis=0) / count
    variance = (np.where(finite, flat - mean, 0.0) ** 2).sum(axis=0) / count
    scale = np.sqrt(variance)
    scale[scale == 0] = 1.0
    x = ((flat - mean) / scale).astype(np.float32).reshape(data.x.shape)
    return Dataset(
        x=x,
        name=data.name,
        sample_shape=data.sample_shape,
        labels=data.labels,
        label_names=data.label_names,
        ids=data.ids,
        metadata=data.metadata,
        feature_mean=mean.astype(np.float32),
        feature_scale=scale.astype(np.float32),
        info={**data.info, "standardized": True},
    )


def _list(items: Sequence) -> str:
    items = list(items)
    shown = ", ".join(str(item) for item in items[:MAX_LISTED])
    return shown if len(items) <= MAX_LISTED else f"{shown} and {len(items) - MAX_LISTED} more"
