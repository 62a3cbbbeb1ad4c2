"""Checks run on a data set before training or exploring it.

`check_dataset` raises a DataError for data no model can use and logs a warning for data
that is usable but suspicious. Every warning is also stored in ``info["checks"]["warnings"]``
so that reports can show it.

Sample-count rules:

- 0 or 1 sample: always an error, because a latent space needs points to compare.
- training (``purpose="train"``) needs `MIN_TRAIN_SAMPLES` = 4 samples, so that at least
  3 fit the model and 1 validates it, and warns below `FEW_SAMPLES` = 50;
- exploring precomputed embeddings (``purpose="explore"``) needs `MIN_EXPLORE_SAMPLES` = 3,
  the smallest set with a neighbour structure to project.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from latentspace.data.dataset import Dataset
from latentspace.errors import DataError, InvalidParameterError

logger = logging.getLogger(__name__)

MIN_TRAIN_SAMPLES = 4
MIN_EXPLORE_SAMPLES = 3
FEW_SAMPLES = 50
NEAR_DUPLICATE_TOLERANCE = 0.01
FLOAT32_EXACT_INTEGER = 2**24
SHOWN_POSITIONS = 5
DUPLICATE_CHUNK_ROWS = 4096
STD_SAMPLE_SIZE = 10**6
PURPOSES = {"train": MIN_TRAIN_SAMPLES, "explore": MIN_EXPLORE_SAMPLES}


def check_dataset(
    data: Dataset,
    drop_invalid: bool = False,
    *,
    purpose: str = "train",
    near_duplicate_tolerance: float = NEAR_DUPLICATE_TOLERANCE,
) -> Dataset:
    """Check a data set and return it ready for arithmetic.

    Parameters
    ----------
    data : Dataset
    drop_invalid : bool
        Drop samples that contain NaN or infinite values instead of raising. The ids and
        positions of dropped samples are stored in ``info["dropped_ids"]`` and
        ``info["dropped_rows"]``.
    purpose : {"train", "explore"}
        Sets the minimum number of samples (see the module docstring).
    near_duplicate_tolerance : float
        Two samples are near-duplicates when every feature is equal after rounding to a
        grid of ``near_duplicate_tolerance`` times the standard deviation of all values.

    Returns
    -------
    Dataset
        The same data with ``x`` as an in-memory, C-contiguous, writeable float32 array
        (memory-mapped, read-only, strided and integer arrays are copied), without the
        dropped samples, and with ``info["checks"]`` holding counts and warnings.

    Raises
    ------
    DataError
        For empty data, too few samples, NaN or infinite values (unless `drop_invalid`),
        invalid label codes, or samples that are all identical.
    """
    if purpose not in PURPOSES:
        raise InvalidParameterError(
            f"purpose must be one of {', '.join(PURPOSES)}, got {purpose!r}.")
    x = as_float_array(data.x, data.name)
    report: dict = {"warnings": []}
    _check_count(len(x), data.name, purpose)
    keep = _check_finite(x, data, drop_invalid, report)
    info = dict(data.info)
    if keep is not None:
        _check_count(int(keep.sum()), data.name, purpose, after_drop=True)
        info["dropped_ids"] = [str(i) for i in data.ids[~keep]]
        info["dropped_rows"] = np.flatnonzero(~keep).tolist()
        x = x[keep]
        data = data.subset(np.flatnonzero(keep))
    _check_labels(data, report)
    flat = x.reshape(len(x), -1)
    _check_constant(flat, data, report)
    _check_duplicates(flat, data, near_duplicate_tolerance, report)
    _check_shape(flat, data, purpose, report)
    info["checks"] = report
    return dataclasses.replace(data, x=x, info=info)


def as_float_array(x: np.ndarray, name: str = "data") -> np.ndarray:
    """Return `x` as an in-memory, C-contiguous, writeable float32 array.

    Integer and unsigned arrays are converted before any arithmetic (so ``uint8`` values
    do not wrap around); integers above 2**24, which float32 rounds, log a warning.
    """
    too_large = x.dtype.kind in "iu" and x.size and (
        x.max() > FLOAT32_EXACT_INTEGER or x.min() < -FLOAT32_EXACT_INTEGER)
    if too_large:
        logger.warning("%s: integer values above 2**24 lose precision as float32.", name)
    copy_needed = (
        isinstance(x, np.memmap)
        or _backed_by_memmap(x)
        or not x.flags.c_contiguous
        or not x.flags.writeable
        or x.dtype != np.float32
    )
    if not copy_needed:
        return x
    with np.errstate(over="ignore"):
        return np.array(x, dtype=np.float32, order="C", copy=True)


def _backed_by_memmap(x: np.ndarray) -> bool:
    base = x.base
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def _check_count(n: int, name: str, purpose: str, after_drop: bool = False) -> None:
    context = " after dropping invalid samples" if after_drop else ""
    if n == 0:
        raise DataError(f"Data set {name!r} is empty{context}; give at least "
                        f"{PURPOSES[purpose]} samples.")
    if n == 1:
        raise DataError(
            f"Data set {name!r} has 1 sample{context}; a latent space needs at least "
            f"{PURPOSES[purpose]} samples to compare. Add samples."
        )
    if n < PURPOSES[purpose]:
        reason = ("3 to fit the model and 1 to validate it" if purpose == "train"
                  else "a neighbour structure to project")
        raise DataError(
            f"Data set {name!r} has {n} samples{context}; {purpose} needs at least "
            f"{PURPOSES[purpose]} ({reason}). Add samples."
        )


def _check_finite(x: np.ndarray, data: Dataset, drop_invalid: bool,
                  report: dict) -> np.ndarray | None:
    flat = x.reshape(len(x), -1)
    finite = np.isfinite(flat)
    if finite.all():
        report.update(n_nan=0, n_inf=0)
        return None
    n_nan = int(np.isnan(flat).sum())
    n_inf = int((~finite).sum()) - n_nan
    bad_rows = ~finite.all(axis=1)
    report.update(n_nan=n_nan, n_inf=n_inf, n_invalid_rows=int(bad_rows.sum()))
    positions = np.argwhere(~finite)[:SHOWN_POSITIONS]
    where = "; ".join(f"{_row(data, r)}, {_feature(data, c)} = {flat[r, c]}" for r, c in positions)
    summary = (f"Data set {data.name!r} has {n_nan} NaN and {n_inf} infinite values in "
               f"{int(bad_rows.sum())} samples, first at: {where}")
    if not drop_invalid:
        raise DataError(f"{summary}. Fix or remove those values, or pass drop_invalid=True "
                        "(--drop-invalid) to drop those samples.")
    _warn(report, f"{summary}. Dropped those {int(bad_rows.sum())} samples.")
    return ~bad_rows


def _row(data: Dataset, row: int) -> str:
    return f"sample {row} (id {str(data.ids[row])!r})"


def _feature(data: Dataset, column: int) -> str:
    names = data.info.get("feature_names")
    if names is not None and len(names) == data.n_features:
        return f"feature {column} ({names[column]!r})"
    if data.is_image:
        channel, y, x = np.unravel_index(column, data.sample_shape)
        return f"pixel (channel {channel}, row {y}, column {x})"
    return f"feature {column}"


def _check_labels(data: Dataset, report: dict) -> None:
    if data.labels is None:
        return
    if data.label_names is None:
        return
    codes = np.asarray(data.labels)
    invalid = (codes < 0) | (codes >= len(data.label_names)) | (codes != np.round(codes))
    if invalid.any():
        first = int(np.flatnonzero(invalid)[0])
        raise DataError(
            f"Data set {data.name!r}: label code {codes[first]} of {_row(data, first)} is "
            f"not an index into the {len(data.label_names)} class names."
        )
    present = np.unique(codes)
    report["n_classes"] = int(present.size)
    if present.size == 1:
        _warn(report, f"Data set {data.name!r} has a single class, "
                      f"{data.label_names[int(present[0])]!r}; colouring by label and "
                      "label-based metrics (kNN accuracy, silhouette) carry no information.")


def _check_constant(flat: np.ndarray, data: Dataset, report: dict) -> None:
    constant = flat.min(axis=0) == flat.max(axis=0)
    count = int(constant.sum())
    report["n_constant_features"] = count
    if count == flat.shape[1]:
        raise DataError(
            f"All {len(flat)} samples of data set {data.name!r} are identical, so there is "
            "nothing to learn. Check that the right file or column was loaded."
        )
    if count == 0:
        return
    examples = ", ".join(_feature(data, int(c)) for c in np.flatnonzero(constant)[:3])
    message = (f"Data set {data.name!r} has {count} constant features of {flat.shape[1]} "
               f"(for example {examples}); they carry no information.")
    if data.is_image:
        # Constant pixels are normal in images with a plain border (MNIST has dozens).
        logger.info(message)
    else:
        _warn(report, message)


def _check_duplicates(flat: np.ndarray, data: Dataset, tolerance: float, report: dict) -> None:
    # NOTE: rounding to a grid is a one-pass approximation: two samples closer than one grid
    # step but on either side of a rounding boundary are not counted as near-duplicates.
    step = tolerance * _sample_std(flat)
    exact_repeats = _repeats(flat, lambda chunk: chunk.view(np.uint32))
    if step > 0:
        near_repeats = _repeats(flat, lambda chunk: np.round(chunk / step).astype(np.int64))
    else:
        near_repeats = exact_repeats
    n_exact, n_near = len(exact_repeats), len(near_repeats) - len(exact_repeats)
    report["n_duplicate_samples"] = n_exact
    report["n_near_duplicate_samples"] = n_near
    if n_exact:
        second, first = exact_repeats[0]
        _warn(report, f"Data set {data.name!r} has {n_exact} samples that repeat an earlier "
                      f"one, for example {_row(data, second)} equals {_row(data, first)}.")
    if n_near:
        _warn(report, f"Data set {data.name!r} has {n_near} more samples that "
                      "nearly repeat an earlier one (equal after rounding every feature to "
                      f"{tolerance:g} standard deviations of the data).")


def _sample_std(flat: np.ndarray) -> float:
    """Return the standard deviation of all values, estimated from at most 10**6 of them."""
    values = flat.reshape(-1)
    if values.size > STD_SAMPLE_SIZE:
        rng = np.random.default_rng(0)
        values = values[rng.integers(0, values.size, STD_SAMPLE_SIZE)]
    return float(values.astype(np.float64).std())


def _repeats(flat: np.ndarray, to_integers) -> list[tuple[int, int]]:
    """Return ``(row, earlier row)`` for every row whose integer form equals an earlier one.

    Rows are compared through a 64-bit hash (a random linear combination of their
    integers, modulo 2**64), and each pair found by hash is confirmed by comparing values.
    """
    weights = np.random.default_rng(0).integers(1, 2**63, flat.shape[1], dtype=np.uint64) | 1
    hashes = np.empty(len(flat), dtype=np.uint64)
    for start in range(0, len(flat), DUPLICATE_CHUNK_ROWS):
        chunk = to_integers(flat[start : start + DUPLICATE_CHUNK_ROWS])
        hashes[start : start + len(chunk)] = chunk.astype(np.uint64) @ weights
    _, first_index, inverse = np.unique(hashes, return_index=True, return_inverse=True)
    earlier = first_index[inverse.reshape(-1)]
    rows = np.flatnonzero(earlier != np.arange(len(flat)))
    confirmed = []
    for start in range(0, len(rows), DUPLICATE_CHUNK_ROWS):
        chunk = rows[start : start + DUPLICATE_CHUNK_ROWS]
        equal = (to_integers(flat[chunk]) == to_integers(flat[earlier[chunk]])).all(axis=1)
        confirmed.extend(zip(chunk[equal].tolist(), earlier[chunk][equal].tolist(), strict=True))
    return confirmed


def _check_shape(flat: np.ndarray, data: Dataset, purpose: str, report: dict) -> None:
    n_samples, n_features = flat.shape
    if purpose == "train" and n_samples < FEW_SAMPLES:
        _warn(report, f"Data set {data.name!r} has only {n_samples} samples; a model trained "
                      "on so few describes them, not the population they come from.")
    if n_features > n_samples:
        _warn(report, f"Data set {data.name!r} has {n_features} features but only "
                      f"{n_samples} samples; models will overfit. Add samples, or reduce "
                      "the features first, for example with PCA.")


def _warn(report: dict, message: str) -> None:
    logger.warning(message)
    report["warnings"].append(message)


def check_latent_dim(latent_dim: int, n_features: int, n_samples: int | None = None) -> int:
    """Validate a latent dimension and return it.

    It must be an integer from 1 to `n_features`. Pass `n_samples` for PCA, which also
    needs ``latent_dim <= n_samples``.

    Raises
    ------
    InvalidParameterError
    """
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, (int, np.integer)):
        raise InvalidParameterError(f"latent_dim must be an integer, got {latent_dim!r}.")
    if latent_dim < 1:
        raise InvalidParameterError(f"latent_dim must be at least 1, got {latent_dim}.")
    if latent_dim > n_features:
        raise InvalidParameterError(
            f"latent_dim={latent_dim} is larger than the {n_features} input features; a "
            f"latent space compresses its input, so use latent_dim <= {n_features}.")
    if n_samples is not None and latent_dim > n_samples:
        raise InvalidParameterError(
            f"latent_dim={latent_dim} is larger than the {n_samples} samples; PCA finds at "
            f"most {n_samples} components, so use latent_dim <= {n_samples}.")
    return int(latent_dim)


def check_n_neighbors(n_neighbors: int, n_samples: int) -> int:
    """Validate a neighbour count and return it, lowered to ``n_samples - 1`` (logged)
    when there are not enough other samples.

    Raises
    ------
    InvalidParameterError
        When `n_neighbors` is not a positive integer or `n_samples` is below 2.
    """
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)):
        raise InvalidParameterError(f"n_neighbors must be an integer, got {n_neighbors!r}.")
    if n_neighbors < 1:
        raise InvalidParameterError(f"n_neighbors must be at least 1, got {n_neighbors}.")
    if n_samples < 2:
        raise InvalidParameterError(
            f"n_neighbors needs at least 2 samples, got {n_samples}; add samples.")
    if n_neighbors >= n_samples:
        logger.warning("n_neighbors=%d is not below the %d samples; using %d.",
                       n_neighbors, n_samples, n_samples - 1)
        return n_samples - 1
    return int(n_neighbors)
