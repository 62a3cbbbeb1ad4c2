"""Parameter constraints declared once per estimator and checked by one function.

Every message has the same shape: the owner, the parameter, the allowed values and the
value received. This module imports nothing from the rest of the package except the
errors, so `latentspace.neighbors` and `latentspace.metrics` can use it too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from latentspace.errors import DataError, InvalidParameterError


@dataclass(frozen=True)
class Interval:
    """A range of integers or reals; a bound of None means unbounded on that side."""

    kind: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def is_satisfied_by(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        if self.kind is Real and not math.isfinite(float(value)):
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high if self.closed in ("both", "right") else value < self.high
        )
        return low_ok and high_ok

    def __str__(self) -> str:
        noun = "an integer" if self.kind is Integral else "a finite number"
        parts = []
        if self.low is not None:
            parts.append((">= " if self.closed in ("both", "left") else "> ") + f"{self.low:g}")
        if self.high is not None:
            parts.append(("<= " if self.closed in ("both", "right") else "< ") + f"{self.high:g}")
        return noun + (" " + " and ".join(parts) if parts else "")


@dataclass(frozen=True)
class Options:
    """A fixed set of allowed values, usually strings."""

    values: tuple

    def is_satisfied_by(self, value: object) -> bool:
        return isinstance(value, str | int | float) and value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


def _describe(constraint: object) -> str:
    return "None" if constraint is None else str(constraint)


def _satisfies(value: object, constraint: object) -> bool:
    if constraint is None:
        return value is None
    return constraint.is_satisfied_by(value)


def validate_params(
    params: Mapping[str, object], constraints: Mapping[str, Iterable[object]], owner: str
) -> None:
    """Check each parameter against its list of allowed constraints.

    A parameter is valid when it satisfies at least one constraint of its list; `None`
    in a list allows the value None. Parameters without an entry are not checked.

    Raises
    ------
    InvalidParameterError
        Names `owner`, the parameter, the allowed values and the value received.
    """
    for name, value in params.items():
        if name not in constraints:
            continue
        allowed = list(constraints[name])
        if any(_satisfies(value, c) for c in allowed):
            continue
        described = " or ".join(_describe(c) for c in allowed)
        raise InvalidParameterError(
            f"{owner}: parameter {name!r} must be {described}; got {value!r}."
        )


def check_latents(z: object, name: str = "z", min_samples: int = 1) -> np.ndarray:
    """Return `z` as a C-contiguous float32 array of shape (n_samples, n_dims).

    Raises
    ------
    DataError
        When `z` is not two-dimensional, has fewer than `min_samples` rows, no columns,
        or contains NaN or infinite values.
    """
    array = np.asarray(z)
    if array.ndim != 2:
        raise DataError(
            f"{name} must be a 2-D array of shape (n_samples, n_dims); got shape {array.shape}. "
            "Reshape it, for example with z.reshape(len(z), -1)."
        )
    if array.shape[0] < min_samples or array.shape[1] == 0:
        raise DataError(
            f"{name} must have at least {min_samples} row(s) and 1 column; "
            f"got shape {array.shape}."
        )
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{name} must contain real numbers; got dtype {array.dtype}.")
    array = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).any(axis=1).sum())
        raise DataError(
            f"{name} contains NaN or infinite values in {bad} row(s); "
            "remove or impute those rows first."
        )
    return array
