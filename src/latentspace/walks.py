"""Paths through latent space: interpolation and traversal of latent vectors."""

from __future__ import annotations

import logging

import numpy as np

from latentspace.errors import InvalidParameterError

logger = logging.getLogger(__name__)

INTERPOLATION_METHODS = ("lerp", "slerp")


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Interpolate linearly from `a` to `b` in `steps` points, both endpoints included.

    Returns an array of shape (steps, d) whose first row is `a` and last row is `b`.
    """
    t = np.linspace(0.0, 1.0, steps, dtype=np.float64)[:, None]
    path = (1.0 - t) * a[None, :] + t * b[None, :]
    path[0], path[-1] = a, b
    return path.astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Interpolate along the great circle from `a` to `b`, scaling the norm linearly.

    The direction turns at constant angular speed and the norm moves linearly from
    ``|a|`` to ``|b|``, so two latents of equal norm keep that norm all along the path,
    which stays in the shell where a Gaussian prior puts its mass. Falls back to `lerp`
    when either vector is zero or the two are parallel or opposite.
    """
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    norm_a, norm_b = np.linalg.norm(a64), np.linalg.norm(b64)
    if norm_a < 1e-12 or norm_b < 1e-12:
        logger.info("slerp with a zero vector has no direction; using lerp instead")
        return lerp(a, b, steps)
    unit_a, unit_b = a64 / norm_a, b64 / norm_b
    omega = np.arccos(np.clip(unit_a @ unit_b, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        logger.info("slerp between parallel or opposite vectors is undefined; using lerp")
        return lerp(a, b, steps)

    t = np.linspace(0.0, 1.0, steps)[:, None]
    direction = (np.sin((1 - t) * omega) * unit_a + np.sin(t * omega) * unit_b) / np.sin(omega)
    path = direction * ((1 - t) * norm_a + t * norm_b)
    path[0], path[-1] = a64, b64
    return path.astype(np.float32)


def interpolate_latents(a: np.ndarray, b: np.ndarray, steps: int = 10,
                        method: str = "lerp") -> np.ndarray:
    """Interpolate between two latent vectors with `method` ("lerp" or "slerp")."""
    check_steps(steps)
    a, b = np.asarray(a, dtype=np.float32).ravel(), np.asarray(b, dtype=np.float32).ravel()
    if a.shape != b.shape:
        raise InvalidParameterError(
            f"Cannot interpolate between latents of different sizes {a.shape[0]} and "
            f"{b.shape[0]}; both must have the space's latent dimension."
        )
    if method == "lerp":
        return lerp(a, b, steps)
    if method == "slerp":
        return slerp(a, b, steps)
    raise InvalidParameterError(
        f"Unknown interpolation method {method!r}; use one of {', '.join(INTERPOLATION_METHODS)}."
    )


def traverse_latent(z: np.ndarray, dim: int, values: np.ndarray) -> np.ndarray:
    """Return copies of latent `z` with dimension `dim` set to each of `values`."""
    z = np.asarray(z, dtype=np.float32).ravel()
    if not 0 <= dim < len(z):
        raise InvalidParameterError(
            f"Latent dimension {dim} is out of range; the space has dimensions 0 to {len(z) - 1}."
        )
    values = np.asarray(values, dtype=np.float32).ravel()
    if len(values) == 0 or not np.all(np.isfinite(values)):
        raise InvalidParameterError(
            f"Traversal values must be a non-empty list of finite numbers, got {values.tolist()}."
        )
    path = np.repeat(z[None, :], len(values), axis=0)
    path[:, dim] = values
    return path


def check_steps(steps: int) -> None:
    """Reject a step count below 2, since a path needs both of its endpoints."""
    if not isinstance(steps, int | np.integer) or steps < 2:
        raise InvalidParameterError(
            f"steps must be an integer of at least 2 (both endpoints), got {steps!r}."
        )
