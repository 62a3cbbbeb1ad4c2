"""How well a latent space compresses, reconstructs, separates labels and maps to 2-D.

Every function takes plain arrays. Metrics that need class labels return None, with
the reason logged, when the labels cannot support them: none given, continuous values
or a single class. `label_metric_skip_reason` returns that reason for display.
"""

from __future__ import annotations

import logging
import math
from numbers import Integral, Real

import numpy as np

from latentspace.errors import DataError, InvalidParameterError
from latentspace.projection._validation import Interval, check_latents, validate_params

logger = logging.getLogger(__name__)

# trustworthiness compares every query point with all N points. The automatic number
# of queries keeps the work near this many distance pairs: 7 s at 100,000 points on 2 cores.
TRUSTWORTHINESS_MAX_PAIRS = 4 * 10**8
TRUSTWORTHINESS_MIN_QUERIES = 1_000
SILHOUETTE_MAX_SAMPLES = 10_000
KNN_ACCURACY_MAX_TEST = 10_000
# Rows per block of the latent distance matrix in trustworthiness: 2^25 float32 values.
_BLOCK_VALUES = 1 << 25


# --- compression and reconstruction -----------------------------------------------


def compression_ratio(n_features: int, latent_dim: int) -> float:
    """Return how many input values each latent value stands for: n_features / latent_dim.

    >>> compression_ratio(784, 16)
    49.0
    """
    constraints = {"n_features": [Interval(Integral, 1, None)],
                   "latent_dim": [Interval(Integral, 1, None)]}
    validate_params({"n_features": n_features, "latent_dim": latent_dim}, constraints,
                    "compression_ratio")
    return float(n_features) / float(latent_dim)


def reconstruction_mse(x: np.ndarray, x_hat: np.ndarray) -> float:
    """Return the mean squared error over all values of `x` and its reconstruction.

    Every pixel or feature of every sample counts once, so the result is in squared
    data units (for [0, 1] images, between 0 and 1). Accumulated in float64.
    """
    x, x_hat = _check_same_shape(x, x_hat, "reconstruction_mse")
    total = 0.0
    rows = max(1, _BLOCK_VALUES // max(1, x[0].size))
    for start in range(0, len(x), rows):
        difference = x[start : start + rows].astype(np.float64) - x_hat[start : start + rows]
        total += float(np.square(difference).sum())
    return total / x.size


def psnr(x: np.ndarray, x_hat: np.ndarray, data_range: float = 1.0) -> float:
    """Return the peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE).

    `data_range` is the span of possible values: 1.0 for images in [0, 1] (this
    package's convention), 255 for 8-bit images. The MSE is `reconstruction_mse` over
    the whole set, not a mean of per-image PSNRs. A perfect reconstruction gives inf.
    """
    validate_params({"data_range": data_range},
                    {"data_range": [Interval(Real, 0, None, closed="neither")]}, "psnr")
    mse = reconstruction_mse(x, x_hat)
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(data_range**2 / mse)


# --- label metrics ------------------------------------------------------------------


def label_metric_skip_reason(labels: np.ndarray | None, min_per_class: int = 1) -> str | None:
    """Return why labels cannot be used by kNN accuracy or silhouette, or None if they can.

    Labels qualify when they are class codes (integers, booleans or strings) with at
    least 2 classes that have `min_per_class` or more members each. Floats count as a
    continuous label.
    """
    if labels is None:
        return "no labels"
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iubUSO":
        return f"labels are continuous (dtype {labels.dtype}), not class codes"
    classes, counts = np.unique(labels, return_counts=True)
    usable = int((counts >= min_per_class).sum())
    if usable < 2:
        return (f"fewer than 2 classes with at least {min_per_class} members "
                f"({len(classes)} classes, largest has {int(counts.max())})")
    return None


def knn_accuracy(
    z: np.ndarray,
    labels: np.ndarray | None,
    k: int = 10,
    folds: int = 5,
    random_state: int = 0,
) -> float | None:
    """Return how often the k nearest neighbours' majority label is right, cross-validated.

    Stratified `folds`-fold cross-validation with scikit-learn's
    ``KNeighborsClassifier`` (Euclidean, uniform votes): each fold's points are
    classified by their `k` nearest neighbours among the other folds. High values mean
    that classes form separate neighbourhoods in `z` (a latent or a map).

    Classes with fewer than `folds` members cannot appear in every fold and are left
    out, with a logged notice. On more than `KNN_ACCURACY_MAX_TEST` points, a seeded,
    stratified subsample of each test fold is classified against the full training
    folds, which keeps neighbourhood density and the cost bounded.

    Returns
    -------
    float or None
        Accuracy in [0, 1]; None when the labels cannot be used (see
        `label_metric_skip_reason`).
    """
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier

    validate_params({"k": k, "folds": folds, "random_state": random_state},
                    {"k": [Interval(Integral, 1, None)], "folds": [Interval(Integral, 2, None)],
                     "random_state": [Interval(Integral, 0, 2**32 - 1)]}, "knn_accuracy")
    z, labels = _check_labels(z, labels, "knn_accuracy")
    reason = label_metric_skip_reason(labels, min_per_class=folds)
    if reason is not None:
        logger.info("knn_accuracy skipped: %s.", reason)
        return None
    z, labels = _drop_small_classes(z, labels, folds)

    rng = np.random.default_rng(random_state)
    test_share = min(1.0, KNN_ACCURACY_MAX_TEST / len(z))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    correct = total = 0
    for train, test in splitter.split(z, labels):
        if test_share < 1.0:
            test = rng.choice(test, max(1, int(round(test_share * len(test)))), replace=False)
        model = KNeighborsClassifier(n_neighbors=min(k, len(train)))
        model.fit(z[train], labels[train])
        correct += int((model.predict(z[test]) == labels[test]).sum())
        total += len(test)
    return correct / total


def silhouette(
    z: np.ndarray,
    labels: np.ndarray | None,
    max_samples: int = SILHOUETTE_MAX_SAMPLES,
    random_state: int = 0,
) -> float | None:
    """Return the mean silhouette coefficient of the label classes in `z`.

    From -1 to 1: near 1 when each point is much closer to its own class than to the
    next one, near 0 for overlapping classes. The cost is quadratic, so above
    `max_samples` points scikit-learn computes it on a seeded random subsample.

    Returns
    -------
    float or None
        None when the labels cannot be used (see `label_metric_skip_reason`).
    """
    from sklearn.metrics import silhouette_score

    validate_params({"max_samples": max_samples},
                    {"max_samples": [Interval(Integral, 2, None)]}, "silhouette")
    z, labels = _check_labels(z, labels, "silhouette")
    reason = label_metric_skip_reason(labels, min_per_class=1)
    if reason is None and len(np.unique(labels)) >= len(z):
        reason = "every point has its own class"
    if reason is not None:
        logger.info("silhouette skipped: %s.", reason)
        return None
    if len(z) > max_samples:
        rng = np.random.default_rng(random_state)
        sample = rng.choice(len(z), max_samples, replace=False)
        z, labels = z[sample], labels[sample]
        if not 2 <= len(np.unique(labels)) < len(z):
            logger.info("silhouette skipped: the subsample has too few classes.")
            return None
    return float(silhouette_score(z, labels))


# --- map quality --------------------------------------------------------------------


def trustworthiness(
    z: np.ndarray,
    coords: np.ndarray,
    k: int = 10,
    n_queries: int | None = None,
    random_state: int = 0,
) -> float:
    """Return how far a map's neighbourhoods can be trusted (Venna and Kaski, 2001).

    For each point, every map neighbour among its `k` nearest that is not among its
    `k` nearest latents is penalised by how far down the latent ranking it sits. 1.0
    means no false neighbours on the map; values below about 0.9 mean the map shows
    neighbours that are not close in the latent. Same definition as
    ``sklearn.manifold.trustworthiness``, which needs O(N^2) memory.

    This version streams the latent distances in blocks (O(N) memory). When
    `n_queries` is below N, the penalty is averaged over a seeded random sample of
    query points, with ranks still taken among all N points, which estimates the
    same value without bias.

    Parameters
    ----------
    z : array-like of shape (n_samples, n_dims)
        Latents.
    coords : array-like of shape (n_samples, dims)
        Map coordinates, row-aligned with `z`.
    k : int, default=10
        Neighbourhood size; lowered to ``(n_samples - 1) // 2`` with a logged notice,
        because the normalisation requires k < n_samples / 2.
    n_queries : int or None, default=None
        Query points. None uses all points while ``N^2 <= TRUSTWORTHINESS_MAX_PAIRS``
        (N up to 20,000), else ``max(1000, TRUSTWORTHINESS_MAX_PAIRS // N)``
        (1,000 queries at a million points).
    random_state : int, default=0
        Seed of the query sample.

    Returns
    -------
    float
    """
    validate_params(
        {"k": k, "n_queries": n_queries},
        {"k": [Interval(Integral, 1, None)], "n_queries": [Interval(Integral, 1, None), None]},
        "trustworthiness",
    )
    z = check_latents(z, "z")
    coords = check_latents(coords, "coords")
    if len(z) != len(coords):
        raise DataError(
            f"trustworthiness: z has {len(z)} rows but coords has {len(coords)}; both "
            "must describe the same items in the same order."
        )
    n_samples = len(z)
    k = _cap_trustworthiness_k(k, n_samples)

    if n_queries is None:
        n_queries = max(TRUSTWORTHINESS_MIN_QUERIES, TRUSTWORTHINESS_MAX_PAIRS // n_samples)
    if n_queries >= n_samples:
        queries = np.arange(n_samples)
    else:
        rng = np.random.default_rng(random_state)
        queries = np.sort(rng.choice(n_samples, n_queries, replace=False))

    map_neighbors = _map_neighbors(coords, queries, k)
    penalty = _rank_penalty(z, queries, map_neighbors, k)
    return 1.0 - 2.0 * penalty / (len(queries) * k * (2.0 * n_samples - 3.0 * k - 1.0))


# --- variational autoencoders ---------------------------------------------------------


def kl_per_dimension(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Return the mean KL divergence from each posterior dimension to the N(0, 1) prior.

    For each sample and dimension, KL = 0.5 (mu^2 + exp(logvar) - 1 - logvar) nats.
    The result averages over samples and has shape (n_dims,). Dimensions near 0
    carry no information about the input (posterior collapse).
    """
    mu, logvar = _check_same_shape(mu, logvar, "kl_per_dimension")
    mu = mu.astype(np.float64)
    logvar = logvar.astype(np.float64)
    kl = 0.5 * (np.square(mu) + np.exp(logvar) - 1.0 - logvar)
    return kl.reshape(len(kl), -1).mean(axis=0)


def active_units(mu: np.ndarray, threshold: float = 0.01) -> int:
    """Count latent dimensions whose posterior mean varies with the input.

    A dimension u is active when Cov_x(E[u | x]) > `threshold` (Burda, Grosse and
    Salakhutdinov, 2015, "Importance Weighted Autoencoders", section 5.2): the variance
    over samples (ddof=0) of the encoder means `mu`, shape (n_samples, n_dims).
    """
    validate_params({"threshold": threshold},
                    {"threshold": [Interval(Real, 0, None)]}, "active_units")
    mu = check_latents(mu, "mu")
    return int((mu.astype(np.float64).var(axis=0) > threshold).sum())


# --- helpers --------------------------------------------------------------------------


def _check_same_shape(a: np.ndarray, b: np.ndarray, owner: str):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise DataError(f"{owner}: the two arrays must have the same shape; got {a.shape} "
                        f"and {b.shape}.")
    if a.size == 0:
        raise DataError(f"{owner}: the arrays are empty.")
    return a, b


def _check_labels(z: np.ndarray, labels: np.ndarray | None, owner: str):
    z = check_latents(z, "z")
    if labels is None:
        return z, None
    labels = np.asarray(labels)
    if labels.shape != (len(z),):
        raise DataError(f"{owner}: labels must have shape ({len(z)},) to match z; "
                        f"got {labels.shape}.")
    return z, labels


def _drop_small_classes(z: np.ndarray, labels: np.ndarray, folds: int):
    classes, counts = np.unique(labels, return_counts=True)
    small = classes[counts < folds]
    if len(small) == 0:
        return z, labels
    keep = ~np.isin(labels, small)
    logger.info(
        "knn_accuracy: %d class(es) with fewer than %d members (%d points) are left out: %s.",
        len(small), folds, int((~keep).sum()), ", ".join(str(c) for c in small[:10]),
    )
    return z[keep], labels[keep]


def _cap_trustworthiness_k(k: int, n_samples: int) -> int:
    largest = (n_samples - 1) // 2
    if largest < 1:
        raise InvalidParameterError(
            f"trustworthiness needs k < n_samples / 2, so at least 3 points; got "
            f"{n_samples} point(s) with k={k}."
        )
    if k > largest:
        logger.info("trustworthiness: k=%d lowered to %d for %d points (k < n_samples / 2).",
                    k, largest, n_samples)
    return min(k, largest)


def _map_neighbors(coords: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Return the `k` nearest map points of each query, the query itself excluded."""
    from scipy.spatial import cKDTree

    _, found = cKDTree(coords).query(coords[queries], k=k + 1)
    is_self = found == queries[:, None]
    # Drop the query itself, or the farthest point when a duplicate displaced it.
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones(found.shape, dtype=bool)
    keep[np.arange(len(queries)), drop] = False
    return found[keep].reshape(len(queries), k)


def _rank_penalty(z: np.ndarray, queries: np.ndarray, map_neighbors: np.ndarray, k: int) -> float:
    """Sum over queries i and map neighbours j of max(0, rank_z(i, j) - k).

    rank_z(i, j) is 1 + the number of other points closer to i than j in the latent,
    as in scikit-learn. Squared distances come from one block of the latent distance
    matrix at a time, so ranks within a row are consistent.
    """
    norms = np.einsum("ij,ij->i", z, z)
    rows = max(1, _BLOCK_VALUES // len(z))
    penalty = 0.0
    for start in range(0, len(queries), rows):
        block = queries[start : start + rows]
        squared = norms[None, :] - 2.0 * (z[block] @ z.T) + norms[block, None]
        squared[np.arange(len(block)), block] = np.inf
        to_neighbors = np.take_along_axis(squared, map_neighbors[start : start + rows], axis=1)
        for column in range(k):
            closer = (squared < to_neighbors[:, column : column + 1]).sum(axis=1)
            penalty += float(np.maximum(closer + 1 - k, 0).sum())
    return penalty
