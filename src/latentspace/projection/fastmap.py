"""Fast UMAP-style 2-D/3-D map of a latent space: the `FastMap` estimator.

`FastMap` builds the same fuzzy k-nearest-neighbour graph as UMAP (McInnes, Healy and
Melville, 2018, arXiv:1802.03426) and lays it out with UMAP's attractive and repulsive
gradients and negative sampling. It differs from umap-learn 0.5 in ways that make it
several times faster on a few CPU cores at the same kNN accuracy and trustworthiness
(docs/benchmarks.md has the measurements and the script):

* neighbours come from faiss instead of pynndescent: an exact search up to
  `EXACT_KNN_MAX_POINTS` points, an inverted-file search refined by
  neighbour-of-neighbour passes above. A `KNNGraph` the caller already has is used as is;
* the smooth-kNN calibration and the layout are numba kernels compiled with
  ``cache=True`` (in `_fastmap_kernels`), so only the first process on a machine pays
  for compilation, a few seconds;
* each layout epoch moves every point in parallel against the previous epoch's
  positions and moves only the point that owns an edge, so the map is the same for a
  given ``random_state`` at any thread count;
* the initial layout is the PCA of the latents, not a spectral embedding of the graph,
  and every data size runs 200 epochs (umap-learn runs 500 up to 10,000 points).
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np

from latentspace.errors import DataError, InvalidParameterError

logger = logging.getLogger(__name__)

#: Layout epochs when `FastMap.n_epochs` is None. On 100,000 synthetic latents, 100 epochs
#: lowered trustworthiness by 0.005 and kNN accuracy by 0.005 compared with 200.
DEFAULT_N_EPOCHS = 200
#: From this many points on, the layout works on points reordered by `locality_order`.
LOCALITY_ORDER_MIN_POINTS = 50_000
#: Largest point count for which neighbours are searched exactly (faiss IndexFlatL2).
EXACT_KNN_MAX_POINTS = 20_000
#: Above that size: share of true neighbours the approximate search aims for, measured on
#: a seeded sample of RECALL_SAMPLE points, and the most refinement passes it may run.
TARGET_RECALL = 0.95
RECALL_SAMPLE = 256
MAX_REFINE_ROUNDS = 10
#: Negative samples of one layout epoch come from this many random points. The subset
#: stays in the CPU cache: on 1,000,000 synthetic latents (2 cores) an epoch took 0.30 s
#: instead of 0.35 s after `locality_order`, and kNN accuracy and trustworthiness of the
#: map were no lower in a one-seed comparison.
NEGATIVE_POOL_SIZE = 16_384


def _kernels():
    """Import the numba kernels on first use, so importing this module stays light."""
    from latentspace.projection import _fastmap_kernels

    return _fastmap_kernels


# --------------------------------------------------------------------------------------
# Neighbours, fuzzy graph, initial layout
# --------------------------------------------------------------------------------------


def knn_search(z: np.ndarray, k: int, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Find the `k` nearest neighbours of every row of `z`, itself excluded.

    Exact (faiss ``IndexFlatL2``) up to `EXACT_KNN_MAX_POINTS` points. Above, a coarse
    faiss inverted-file search (sqrt(N) k-means cells, the 2 nearest cells searched per
    point) gives a first graph. Neighbour-of-neighbour passes, as in NN-descent, then
    improve it until the recall on a seeded sample of `RECALL_SAMPLE` points reaches
    `TARGET_RECALL`, stops rising, or `MAX_REFINE_ROUNDS` passes have run.

    Returns
    -------
    indices : ndarray of int64, shape (N, k)
    distances : ndarray of float32, shape (N, k)
        Euclidean distances, ascending along each row.
    """
    import faiss

    n_points, dim = z.shape
    z = np.ascontiguousarray(z, dtype=np.float32)
    if n_points <= EXACT_KNN_MAX_POINTS:
        index = faiss.IndexFlatL2(dim)
        index.add(z)
        squared, found = index.search(z, k + 1)
        indices, squared = _drop_self(found, squared, k)
        return indices, np.sqrt(np.maximum(squared, 0.0))

    n_lists = int(math.sqrt(n_points))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, n_lists)
    rng = np.random.default_rng(random_state)
    index.cp.seed = int(random_state)
    index.train(z[rng.choice(n_points, min(n_points, 40 * n_lists), replace=False)])
    index.add(z)
    index.nprobe = 2
    squared, found = index.search(z, k + 1)
    del index
    exact = faiss.IndexFlatL2(dim)
    exact.add(z)
    # Points in sparse cells can find fewer than k + 1 points (label -1): search them exactly.
    short = (found < 0).any(axis=1)
    if short.any():
        squared[short], found[short] = exact.search(z[short], k + 1)
    indices, squared = _drop_self(found, squared, k)
    indices = np.ascontiguousarray(indices)
    squared = np.ascontiguousarray(squared)

    sample = rng.choice(n_points, min(n_points, RECALL_SAMPLE), replace=False)
    _, truth = exact.search(z[sample], k + 1)
    del exact
    truth = [row[row != point][:k] for row, point in zip(truth, sample, strict=True)]
    recall = _recall(indices[sample], truth)
    for _ in range(MAX_REFINE_ROUNDS):
        if recall >= TARGET_RECALL:
            break
        pool = _kernels().neighbour_pool(indices)
        _kernels().refine_knn(z, indices, squared, pool)
        del pool
        previous, recall = recall, _recall(indices[sample], truth)
        logger.debug("FastMap kNN: refinement raised sample recall to %.4f", recall)
        if recall - previous < 0.005:
            break
    if recall < TARGET_RECALL:
        # NOTE: latents of high intrinsic dimension (near-isotropic Gaussians) stop here;
        # their map keeps the neighbours found so far.
        logger.warning(
            "FastMap kNN: approximate neighbours reach recall %.3f on a sample of %d points "
            "(target %.2f); the map may be less faithful locally.",
            recall, len(sample), TARGET_RECALL,
        )
    return indices, np.sqrt(np.maximum(squared, 0.0))


def _recall(found: np.ndarray, truth: list[np.ndarray]) -> float:
    hits = sum(np.intersect1d(a, b).size for a, b in zip(found, truth, strict=True))
    return hits / max(1, sum(len(row) for row in truth))


def _drop_self(found: np.ndarray, distances: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own index from a (N, k + 1) search result, or its last column."""
    n_points = found.shape[0]
    is_self = found == np.arange(n_points)[:, None]
    # Rows without themselves (duplicates pushed them out) drop their farthest column.
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True
    keep = ~is_self
    indices = found[keep].reshape(n_points, k).astype(np.int64, copy=False)
    dists = distances[keep].reshape(n_points, k).astype(np.float32, copy=False)
    return indices, dists


def membership_strengths(distances: np.ndarray, n_neighbors: int) -> np.ndarray:
    """Return UMAP's fuzzy membership strength of every (point, neighbour) pair.

    Each row's strengths exp(-(d - rho) / sigma) sum to log2(n_neighbors), where rho is the
    distance to the nearest neighbour at a non-zero distance (as in umap-learn 0.5 with
    ``local_connectivity=1``).
    """
    distances = np.ascontiguousarray(distances, dtype=np.float32)
    target = np.float32(math.log2(n_neighbors))
    mean_distance = np.float32(distances.mean(dtype=np.float64))
    sigmas, rhos = _kernels().smooth_knn(distances, target, 64, mean_distance)
    gaps = distances - rhos[:, None]
    scaled = np.divide(gaps, sigmas[:, None], out=np.zeros_like(gaps), where=gaps > 0)
    return np.exp(-scaled).astype(np.float32)


def fuzzy_graph(indices: np.ndarray, distances: np.ndarray, n_neighbors: int):
    """Build UMAP's symmetric fuzzy simplicial set (a scipy CSR matrix) from a kNN graph.

    `indices` and `distances` exclude the point itself. Only the first
    ``n_neighbors - 1`` columns are used, because umap-learn's ``n_neighbors`` counts the
    point itself. Negative indices (missing neighbours) are skipped.
    """
    import scipy.sparse

    k = min(n_neighbors - 1, indices.shape[1])
    weights = membership_strengths(distances[:, :k], n_neighbors)
    indices = indices[:, :k]
    n_points = indices.shape[0]
    valid = indices >= 0
    rows = np.broadcast_to(np.arange(n_points)[:, None], indices.shape)
    directed = scipy.sparse.csr_matrix(
        (weights[valid], (rows[valid], indices[valid])), shape=(n_points, n_points)
    )
    directed.sum_duplicates()
    transposed = directed.T.tocsr()
    # Fuzzy union of the two directions: w_ij + w_ji - w_ij * w_ji.
    graph = (directed + transposed - directed.multiply(transposed)).tocsr()
    graph.sort_indices()
    return graph


def find_ab_params(spread: float, min_dist: float) -> tuple[float, float]:
    """Fit UMAP's output kernel 1 / (1 + a d^(2b)) to the `min_dist` and `spread` curve."""
    from scipy.optimize import curve_fit

    x = np.linspace(0, spread * 3, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))
    params, _ = curve_fit(lambda x, a, b: 1.0 / (1.0 + a * x ** (2 * b)), x, y)
    return float(params[0]), float(params[1])


def pca_init(z: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    """Return the first principal components of `z`, scaled into a 10-unit box.

    Latents with fewer dimensions than `n_components` are padded with small Gaussian noise.
    """
    mean = z.mean(axis=0, dtype=np.float64)
    centered = (z - mean).astype(np.float32)
    covariance = centered.T.astype(np.float64) @ centered.astype(np.float64)
    _, vectors = np.linalg.eigh(covariance)
    n_kept = min(n_components, z.shape[1])
    coords = centered @ vectors[:, ::-1][:, :n_kept].astype(np.float32)
    if n_kept < n_components:
        rng = np.random.default_rng(random_state)
        noise = rng.normal(scale=1e-4, size=(z.shape[0], n_components - n_kept))
        coords = np.hstack([coords, noise.astype(np.float32)])
    return _scale_to_box(coords)


def _scale_to_box(coords: np.ndarray) -> np.ndarray:
    """Scale each column into [0, 10], the starting box of umap-learn's layout."""
    low = coords.min(axis=0)
    span = np.maximum(coords.max(axis=0) - low, 1e-12)
    return np.ascontiguousarray(10.0 * (coords - low) / span, dtype=np.float32)


def optimize_layout(
    positions: np.ndarray,
    graph,
    n_epochs: int,
    a: float,
    b: float,
    tail_positions: np.ndarray | None = None,
    negative_sample_rate: int = 5,
    random_state: int = 0,
    initial_alpha: float = 1.0,
) -> np.ndarray:
    """Run `n_epochs` epochs of UMAP's layout SGD on the CSR `graph`, starting at `positions`.

    Row i of `graph` contains the edges of ``positions[i]``. Without `tail_positions` the
    graph is square and all points move (fitting). With it, edges point into the fixed
    `tail_positions` and only `positions` move (placing new points). Each epoch draws its
    negative samples from a fresh random subset of `NEGATIVE_POOL_SIZE` tail points.
    """
    epoch_kernel = _kernels().layout_epoch
    weights = graph.data.astype(np.float32)
    sample_rate = weights / weights.max()
    indptr = graph.indptr
    indices = graph.indices
    current = np.ascontiguousarray(positions, dtype=np.float32)
    following = np.empty_like(current)
    fixed_tail = tail_positions is not None
    if fixed_tail:
        tail_positions = np.ascontiguousarray(tail_positions, dtype=np.float32)
    rng = np.random.default_rng(random_state)
    seed = int(rng.integers(0, 2**62))
    for epoch in range(n_epochs):
        alpha = initial_alpha * (1.0 - epoch / n_epochs)
        tail = tail_positions if fixed_tail else current
        if len(tail) <= NEGATIVE_POOL_SIZE:
            negative_ids = np.arange(len(tail))
            negatives = tail
        else:
            negative_ids = rng.integers(0, len(tail), NEGATIVE_POOL_SIZE)
            negatives = tail[negative_ids]
        epoch_kernel(
            current, following, tail, negatives, negative_ids, indptr, indices, sample_rate,
            epoch, np.float32(a), np.float32(b), np.float32(alpha), negative_sample_rate,
            seed, not fixed_tail,
        )
        current, following = following, current
    return current


def locality_order(z: np.ndarray, random_state: int = 0) -> np.ndarray:
    """Return a permutation of the rows of `z` that puts points of one k-means cell together.

    The layout reads the positions of each point's graph neighbours, so storing nearby
    points next to each other turns most of those reads into cache hits. On 1,000,000
    latents this cut the layout time by about 40% (2-core CPU, `benchmarks/run.py`).
    """
    import faiss

    n_points, dim = z.shape
    n_cells = max(1, int(math.sqrt(n_points)))
    rng = np.random.default_rng(random_state)
    sample = z[rng.choice(n_points, min(n_points, 100 * n_cells), replace=False)]
    kmeans = faiss.Kmeans(dim, n_cells, niter=10, seed=int(random_state))
    kmeans.train(sample)
    _, cells = kmeans.index.search(z, 1)
    return np.argsort(cells[:, 0], kind="stable")


def _permute_knn(indices: np.ndarray, distances: np.ndarray, order: np.ndarray):
    """Return the kNN arrays for the points reordered by `order` (new row r = old order[r])."""
    new_label = np.empty_like(order)
    new_label[order] = np.arange(len(order))
    old = indices[order]
    relabelled = np.where(old >= 0, new_label[np.maximum(old, 0)], -1)
    return relabelled, distances[order]


class FastMap:
    """Fast UMAP-style map of latents into 2 or 3 dimensions.

    Parameters
    ----------
    n_components : int, default 2
        Dimensions of the map, 2 or 3.
    n_neighbors : int, default 15
        Size of the local neighbourhood, counting the point itself as umap-learn does, so
        the graph uses ``n_neighbors - 1`` neighbours per point. Lowered to the number of
        points when there are fewer, with a logged notice.
    min_dist : float, default 0.1
        Smallest distance between points in the map, as in UMAP.
    n_epochs : int or None, default None
        Layout epochs. None uses `DEFAULT_N_EPOCHS` (200).
    random_state : int or None, default 0
        Seed of the negative sampling. The map is the same for the same seed and input at
        any thread count. None draws a fresh seed.
    spread : float, default 1.0
        Scale of the map's clusters, as in UMAP.
    negative_sample_rate : int, default 5
        Random points pushed away per sampled edge.

    Attributes
    ----------
    embedding_ : ndarray of float32, shape (N, n_components)
    n_neighbors_ : int
        Neighbourhood size actually used.
    timings_ : dict
        Seconds spent in "init", "knn", "graph" and "layout" by the last fit.
    """

    def __init__(
        self,
        n_components: int = 2,
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        n_epochs: int | None = None,
        random_state: int | None = 0,
        spread: float = 1.0,
        negative_sample_rate: int = 5,
    ):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_epochs = n_epochs
        self.random_state = random_state
        self.spread = spread
        self.negative_sample_rate = negative_sample_rate

    def fit(self, z: np.ndarray, knn=None) -> FastMap:
        """Fit the map to latents `z` of shape (N, d); see `fit_transform`."""
        self.fit_transform(z, knn=knn)
        return self

    def fit_transform(self, z: np.ndarray, knn=None) -> np.ndarray:
        """Compute the map of latents `z` (N, d) and return it as float32 (N, n_components).

        Parameters
        ----------
        z : array-like of shape (N, d)
        knn : KNNGraph, optional
            Neighbours of `z` with ``indices`` and ``distances`` of shape (N, k), the
            point itself excluded. Used when ``k >= n_neighbors - 1``; otherwise the
            neighbours are searched again with faiss.
        """
        self._check_parameters()
        z = _check_latents(z, "z")
        n_points = z.shape[0]
        if n_points < 2:
            raise DataError(
                f"FastMap needs at least 2 points to build a neighbour graph, got {n_points}. "
                "Project more items or use the latent itself as the map."
            )
        self.n_neighbors_ = min(self.n_neighbors, n_points)
        if self.n_neighbors_ < self.n_neighbors:
            logger.info(
                "FastMap: n_neighbors lowered from %d to %d, the number of points.",
                self.n_neighbors, self.n_neighbors_,
            )
        seed = self._seed()
        n_epochs = self.n_epochs if self.n_epochs is not None else DEFAULT_N_EPOCHS
        timings = {}

        # The PCA runs before faiss and numba start their thread pools: after them, the
        # numpy matrix product here took up to 20 s instead of 0.3 s on 2 busy cores.
        started = time.perf_counter()
        positions = pca_init(z, self.n_components, seed)
        self._a, self._b = find_ab_params(self.spread, self.min_dist)
        timings["init"] = time.perf_counter() - started

        graph, order = self._graph(z, knn, seed, n_epochs, timings)
        if order is not None:
            positions = positions[order]

        started = time.perf_counter()
        embedding = optimize_layout(
            positions, graph, n_epochs, self._a, self._b,
            negative_sample_rate=self.negative_sample_rate, random_state=seed,
        )
        if order is not None:
            embedding[order] = embedding.copy()
        timings["layout"] = time.perf_counter() - started

        self.embedding_ = embedding
        self.timings_ = timings
        self._z = z
        self._index = None
        self._n_epochs = n_epochs
        logger.debug("FastMap on %d points: %s", n_points, timings)
        return self.embedding_

    def transform(self, z_new: np.ndarray) -> np.ndarray:
        """Place new latents `z_new` (M, d) on the fitted map and return (M, n_components).

        Each new point starts at the membership-weighted mean of its training neighbours
        and then runs a third of the fit's epochs against the fixed training map.
        """
        if not hasattr(self, "embedding_"):
            raise InvalidParameterError(
                "FastMap.transform was called before fit; call fit or fit_transform first."
            )
        z_new = _check_latents(z_new, "z_new")
        if z_new.shape[1] != self._z.shape[1]:
            raise DataError(
                f"z_new has {z_new.shape[1]} dimensions but the map was fitted on "
                f"{self._z.shape[1]}; encode the new items with the same model."
            )
        k = min(self.n_neighbors_, self._z.shape[0])
        distances, indices = self._search_training(z_new, k)
        weights = membership_strengths(distances, self.n_neighbors_)
        totals = np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        start = np.einsum("mk,mkc->mc", weights / totals, self.embedding_[indices])
        graph = _rows_to_csr(indices, weights, self._z.shape[0])
        n_epochs = max(self._n_epochs // 3, 1)
        graph.data[graph.data < graph.data.max() / n_epochs] = 0.0
        graph.eliminate_zeros()
        return optimize_layout(
            start, graph, n_epochs, self._a, self._b, tail_positions=self.embedding_,
            negative_sample_rate=self.negative_sample_rate, random_state=self._seed(),
            initial_alpha=0.25,
        )

    def _graph(self, z, knn, seed: int, n_epochs: int, timings: dict):
        """Return the pruned fuzzy graph and the point order it uses (None: unchanged).

        Adds the seconds spent to `timings` under "knn" and "graph".
        """
        started = time.perf_counter()
        indices, distances = self._neighbors(z, knn, seed)
        timings["knn"] = time.perf_counter() - started

        started = time.perf_counter()
        order = None
        if len(z) >= LOCALITY_ORDER_MIN_POINTS:
            order = locality_order(z, seed)
            indices, distances = _permute_knn(indices, distances, order)
        graph = fuzzy_graph(indices, distances, self.n_neighbors_)
        del indices, distances
        # Edges sampled less than once in the whole run only add noise (as in umap-learn).
        graph.data[graph.data < graph.data.max() / n_epochs] = 0.0
        graph.eliminate_zeros()
        timings["graph"] = time.perf_counter() - started
        return graph, order

    def _neighbors(self, z, knn, seed):
        k_needed = self.n_neighbors_ - 1
        if knn is not None:
            indices = np.asarray(knn.indices)
            distances = np.asarray(knn.distances)
            if indices.shape[0] != z.shape[0]:
                raise DataError(
                    f"knn has {indices.shape[0]} rows but z has {z.shape[0]}; pass the "
                    "KNNGraph built on the same latents."
                )
            if indices.shape[1] >= k_needed:
                return indices[:, :k_needed], distances[:, :k_needed]
            logger.info(
                "FastMap: the given KNNGraph has k=%d < n_neighbors - 1 = %d; searching again.",
                indices.shape[1], k_needed,
            )
        return knn_search(z, k_needed, random_state=seed)

    def _search_training(self, z_new, k):
        import faiss

        if self._index is None:
            self._index = faiss.IndexFlatL2(self._z.shape[1])
            self._index.add(self._z)
        squared, indices = self._index.search(z_new, k)
        return np.sqrt(np.maximum(squared, 0.0)), indices.astype(np.int64)

    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(0, 2**31))
        return int(self.random_state)

    def _check_parameters(self) -> None:
        if self.n_components not in (2, 3):
            raise InvalidParameterError(
                f"FastMap n_components must be 2 or 3, got {self.n_components!r}; use "
                "another projection method for other dimensions."
            )
        if not isinstance(self.n_neighbors, (int, np.integer)) or self.n_neighbors < 2:
            raise InvalidParameterError(
                f"FastMap n_neighbors must be an integer >= 2, got {self.n_neighbors!r}; "
                "15 is a good start."
            )
        if not 0.0 <= self.min_dist <= self.spread:
            raise InvalidParameterError(
                f"FastMap min_dist must be between 0 and spread ({self.spread}), got "
                f"{self.min_dist!r}; 0.1 is the usual value."
            )
        if self.n_epochs is not None and (
            not isinstance(self.n_epochs, (int, np.integer)) or self.n_epochs < 1
        ):
            raise InvalidParameterError(
                f"FastMap n_epochs must be a positive integer or None, got {self.n_epochs!r}."
            )


def _check_latents(z, name: str) -> np.ndarray:
    z = np.ascontiguousarray(np.asarray(z, dtype=np.float32))
    if z.ndim != 2:
        raise DataError(f"{name} must be a 2-D array (points, dimensions), got shape {z.shape}.")
    if not np.isfinite(z).all():
        raise DataError(
            f"{name} contains NaN or infinite values; drop or fix those rows before mapping."
        )
    return z


def _rows_to_csr(indices: np.ndarray, weights: np.ndarray, n_columns: int):
    import scipy.sparse

    n_rows, k = indices.shape
    indptr = np.arange(0, n_rows * k + 1, k, dtype=np.int64)
    return scipy.sparse.csr_matrix(
        (weights.ravel(), indices.ravel(), indptr), shape=(n_rows, n_columns)
    )
