"""The k-nearest-neighbour graph of the latents, built once and shared.

UMAP, t-SNE, Isomap, trustworthiness, kNN accuracy and the explorer's neighbour queries
all start from the Euclidean k nearest neighbours of every latent. `KNNGraph.build`
computes them once, and the projections and metrics take the graph instead of searching
again.

Backends, chosen by `method="auto"`:

- up to `EXACT_MAX_SAMPLES` points: exact brute-force search (faiss ``IndexFlatL2`` when
  faiss is installed, blocked NumPy otherwise);
- above: a faiss inverted-file index (``IndexIVFFlat``, about 4 sqrt(N) k-means cells).
  The number of cells searched per point (``nprobe``) is raised until a seeded sample of
  `RECALL_SAMPLE` points finds `TARGET_RECALL` of its exact neighbours. When even the
  largest ``nprobe`` stays below `MIN_RECALL` (high intrinsic dimension, where cells
  stop being local), or faiss is missing, pynndescent builds the graph instead.

Recall is the share of the true k neighbours that the graph contains. Measured on a
2-core CPU shared with other jobs, with 32-d synthetic latents and k=30:

- exact faiss: 0.13 s at 10,000 points, 9-20 s at 100,000;
- IVF at 1,000,000 clustered latents (50 Gaussian clusters on 8-d subspaces): 20 s to
  build, 62 s to search all points with nprobe=8 (recall 0.95), 134 s with nprobe=16
  (recall 0.997). On isotropic Gaussian noise (the hardest case) recall stays below 0.5
  at 100,000 points;
- pynndescent at 1,000,000 clustered latents: 217 s seeded (recall 0.9999), plus about
  50 s of one-time numba compilation.
"""

from __future__ import annotations

import logging
from numbers import Integral
from typing import Any

import numpy as np

from latentspace.errors import DataError, InvalidParameterError
from latentspace.projection._validation import Interval, Options, check_latents, validate_params

logger = logging.getLogger(__name__)

# Exact search costs O(N^2 d). Scaled from the 100,000-point measurement, an estimated
# 3-5 s at 50,000 points with faiss on 2 cores.
EXACT_MAX_SAMPLES = 50_000
TARGET_RECALL = 0.95
MIN_RECALL = 0.9
RECALL_SAMPLE = 500
IVF_NPROBE_STEPS = (8, 12, 16, 24, 32, 48, 64)
# Rows of the distance block in the NumPy brute-force search: 1024 x N float32.
_BLOCK_ROWS = 1024
_NUMPY_MAX_PAIRS = 1 << 22
_FORMAT_VERSION = 1
_METHODS = ("auto", "exact", "ivf", "nndescent")

_BUILD_CONSTRAINTS = {
    "k": [Interval(Integral, 1, None)],
    "method": [Options(_METHODS)],
    "random_state": [Interval(Integral, 0, 2**32 - 1)],
}


def _import_faiss() -> Any | None:
    """Return the faiss module, or None when faiss-cpu is not installed."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class KNNGraph:
    """Euclidean k nearest neighbours of every latent, self excluded.

    Build it with `KNNGraph.build`. The constructor only stores arrays.

    Parameters
    ----------
    indices : ndarray of int64, shape (n_samples, k)
        Row ``i`` lists the neighbours of latent ``i``, nearest first.
    distances : ndarray of float32, shape (n_samples, k)
        Euclidean distances matching `indices`, ascending along each row.
    data : ndarray of float32, shape (n_samples, n_dims), optional
        The latents the graph was built from. Needed by `query` and `recall`; the
        search index is rebuilt from it on first use when it was not stored.
    method : str
        How the graph was built: "exact", "ivf" or "nndescent".
    random_state : int
        Seed used by the approximate backends.
    index : object, optional
        A built search index (faiss index or pynndescent ``NNDescent``).
    nprobe : int, optional
        Cells searched per query by an "ivf" index.
    estimated_recall : float, optional
        Recall measured on a seeded sample when the graph was built; 1.0 when exact.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).normal(size=(500, 8)).astype(np.float32)
    >>> graph = KNNGraph.build(z, k=10)
    >>> graph.indices.shape
    (500, 10)
    >>> distances, indices = graph.query(z[:3] + 0.01, k=5)
    >>> indices[:, 0].tolist()
    [0, 1, 2]
    """

    def __init__(
        self,
        indices: np.ndarray,
        distances: np.ndarray,
        data: np.ndarray | None = None,
        method: str = "exact",
        random_state: int = 0,
        index: Any | None = None,
        nprobe: int | None = None,
        estimated_recall: float | None = None,
    ) -> None:
        self.indices = np.ascontiguousarray(indices, dtype=np.int64)
        self.distances = np.ascontiguousarray(distances, dtype=np.float32)
        if self.indices.ndim != 2 or self.indices.shape != self.distances.shape:
            raise DataError(
                "kNN graph: indices and distances must be 2-D arrays of the same shape; "
                f"got {self.indices.shape} and {self.distances.shape}."
            )
        if data is not None:
            data = check_latents(data, "data")
            if len(data) != len(self.indices):
                raise DataError(
                    f"kNN graph: data has {len(data)} rows but the graph has "
                    f"{len(self.indices)}; pass the latents the graph was built from."
                )
        self.data = data
        self.method = method
        self.random_state = int(random_state)
        self.nprobe = nprobe
        self.estimated_recall = estimated_recall
        self._index = index
        self._prepared = False

    # --- construction -------------------------------------------------------------

    @classmethod
    def build(
        cls, z: np.ndarray, k: int = 30, random_state: int = 0, method: str = "auto"
    ) -> KNNGraph:
        """Find the `k` nearest neighbours of every latent.

        Parameters
        ----------
        z : array-like of shape (n_samples, n_dims)
            Latents; at least 2 rows.
        k : int, default=30
            Neighbours kept per point. UMAP with ``n_neighbors=15`` uses 14 of them and
            t-SNE with perplexity ``p`` uses ``3 * p``; a projection that needs more
            builds its own graph. Lowered to ``n_samples - 1`` with a logged notice.
        random_state : int, default=0
            Seed for the approximate backends.
        method : {"auto", "exact", "ivf", "nndescent"}, default="auto"
            "auto" is exact up to `EXACT_MAX_SAMPLES` points and approximate above:
            "ivf" when faiss is installed and reaches `MIN_RECALL`, else "nndescent".

        Returns
        -------
        KNNGraph
        """
        validate_params({"k": k, "method": method, "random_state": random_state},
                        _BUILD_CONSTRAINTS, "KNNGraph.build")
        z = check_latents(z, "z", min_samples=2)
        n_samples = len(z)
        if k > n_samples - 1:
            logger.info(
                "kNN graph: k=%d lowered to %d because there are only %d points.",
                k, n_samples - 1, n_samples,
            )
            k = n_samples - 1
        method = _resolve_method(method, n_samples)

        index, nprobe = None, None
        if method == "ivf":
            index, nprobe = _build_tuned_ivf(z, k + 1, random_state)
            if index is None:
                method = "nndescent"
        if method == "exact":
            distances, indices = _exact_search(z, z, k + 1)
        elif method == "ivf":
            distances, indices = _search_index(index, method, z, k + 1)
            indices = _fill_short_rows(indices, z, z)
        else:
            index = _build_nndescent(z, k + 1, random_state)
            indices, distances = index.neighbor_graph

        distances, indices = _exact_distances(z, _drop_self(indices, k))
        graph = cls(indices, distances, data=z, method=method, random_state=random_state,
                    index=index, nprobe=nprobe)
        if method == "exact":
            graph.estimated_recall = 1.0
        else:
            graph.estimated_recall = graph.recall(RECALL_SAMPLE, random_state)
        logger.info("kNN graph: %d points, k=%d, method=%s, estimated recall %.4f.",
                    n_samples, k, method, graph.estimated_recall)
        return graph

    # --- shape ----------------------------------------------------------------------

    @property
    def n_samples(self) -> int:
        """Number of points in the graph."""
        return int(self.indices.shape[0])

    @property
    def k(self) -> int:
        """Number of stored neighbours per point."""
        return int(self.indices.shape[1])

    def __repr__(self) -> str:
        return f"KNNGraph(n_samples={self.n_samples}, k={self.k}, method={self.method!r})"

    # --- queries ------------------------------------------------------------------

    def neighbors_of(self, i: int, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(distances, indices)`` of the stored neighbours of point `i`.

        `k` defaults to all stored neighbours and must not exceed `self.k`.
        """
        if not 0 <= int(i) < self.n_samples:
            raise InvalidParameterError(
                f"neighbors_of: point index i must be in [0, {self.n_samples - 1}]; got {i}."
            )
        k = self.k if k is None else int(k)
        if not 1 <= k <= self.k:
            raise InvalidParameterError(
                f"neighbors_of: k must be between 1 and the graph's k={self.k}; got {k}. "
                "Use query() for more neighbours."
            )
        return self.distances[i, :k].copy(), self.indices[i, :k].copy()

    def query(self, points: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Find the `k` nearest latents of arbitrary points.

        A point equal to a stored latent finds that latent itself first (distance 0).
        Use `neighbors_of` for the neighbours of a stored point without itself.

        Parameters
        ----------
        points : array-like of shape (n_points, n_dims) or (n_dims,)
        k : int, default=10
            Capped at `n_samples`.

        Returns
        -------
        distances : ndarray of float32, shape (n_points, k)
        indices : ndarray of int64, shape (n_points, k)
        """
        validate_params({"k": k}, {"k": _BUILD_CONSTRAINTS["k"]}, "KNNGraph.query")
        data = self._require_data("query")
        points = check_latents(np.atleast_2d(points), "points")
        if points.shape[1] != data.shape[1]:
            raise DataError(
                f"query: points have {points.shape[1]} dimensions but the latents have "
                f"{data.shape[1]}."
            )
        k = min(int(k), self.n_samples)
        if self.method == "exact":
            _, indices = _exact_search(points, data, k)
        else:
            _, indices = _search_index(self._get_index(), self.method, points, k)
            indices = _fill_short_rows(indices, points, data)
        return _exact_distances(data, indices, points)

    def recall(self, n_queries: int = 1000, random_state: int = 0) -> float:
        """Estimate the share of true nearest neighbours that the graph contains.

        Compares the stored neighbours of a seeded sample of `n_queries` points with an
        exact search. An exact graph returns 1.0 up to ties.
        """
        data = self._require_data("recall")
        rng = np.random.default_rng(random_state)
        sample = rng.choice(self.n_samples, min(n_queries, self.n_samples), replace=False)
        _, true_indices = _exact_search(data[sample], data, self.k + 1)
        true_indices = _drop_self(true_indices, self.k, self_ids=sample)
        return _recall(self.indices[sample], true_indices)

    # --- adapters for the projections ---------------------------------------------

    def umap_knn(self, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the graph in umap-learn's ``precomputed_knn`` layout.

        umap-learn counts each point as its own first neighbour (distance 0), so the
        result has `n_neighbors` columns: the point, then ``n_neighbors - 1`` neighbours.
        """
        if not 2 <= n_neighbors <= self.k + 1:
            raise InvalidParameterError(
                f"umap_knn: n_neighbors must be between 2 and k + 1 = {self.k + 1}; "
                f"got {n_neighbors}. Build the graph with k >= n_neighbors - 1."
            )
        own = np.arange(self.n_samples, dtype=np.int64)[:, None]
        indices = np.hstack([own, self.indices[:, : n_neighbors - 1]])
        distances = np.hstack(
            [np.zeros((self.n_samples, 1), np.float32), self.distances[:, : n_neighbors - 1]]
        )
        return indices, distances

    def sparse_distances(self, n_neighbors: int | None = None):
        """Return the graph as a sparse (n_samples, n_samples) CSR distance matrix.

        Each row stores the point itself (an explicit 0) and its first `n_neighbors`
        neighbours, which is what scikit-learn's ``metric="precomputed"`` estimators read.
        """
        from scipy import sparse

        n_neighbors = self.k if n_neighbors is None else int(n_neighbors)
        indices, distances = self.umap_knn(n_neighbors + 1)
        # Built from (data, indices, indptr) so that each row stays sorted by distance,
        # the order scikit-learn expects from a precomputed graph.
        row_starts = np.arange(0, indices.size + 1, indices.shape[1])
        matrix = sparse.csr_matrix(
            (distances.ravel().astype(np.float64), indices.ravel(), row_starts),
            shape=(self.n_samples, self.n_samples),
        )
        return matrix

    # --- storage ------------------------------------------------------------------

    def to_arrays(self, include_index: bool = True) -> dict[str, np.ndarray]:
        """Return the graph as plain arrays, for example to store with safetensors.

        With `include_index`, a faiss index is stored as its serialised bytes (uint8),
        so a loaded graph runs `query` without rebuilding it. The latents are not
        stored; pass them to `from_arrays`. A pynndescent index cannot be stored as
        arrays and is rebuilt on the first query after loading.
        """
        arrays = {
            "indices": self.indices,
            "distances": self.distances,
            "random_state": np.array([self.random_state], dtype=np.int64),
            "method": np.frombuffer(self.method.encode("ascii"), dtype=np.uint8).copy(),
            "format_version": np.array([_FORMAT_VERSION], dtype=np.int64),
        }
        if self.nprobe is not None:
            arrays["nprobe"] = np.array([self.nprobe], dtype=np.int64)
        if self.estimated_recall is not None:
            arrays["estimated_recall"] = np.array([self.estimated_recall], dtype=np.float64)
        if include_index and self.method == "ivf" and self._index is not None:
            arrays["faiss_index"] = _import_faiss().serialize_index(self._index)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], data: np.ndarray | None = None) -> KNNGraph:
        """Rebuild a graph from `to_arrays` output and, optionally, its latents."""
        missing = {"indices", "distances", "method"} - set(arrays)
        if missing:
            raise DataError(
                f"kNN graph arrays are missing {sorted(missing)}; the file was not written "
                "by KNNGraph.to_arrays. Build the graph again with KNNGraph.build."
            )
        method = bytes(np.asarray(arrays["method"], dtype=np.uint8)).decode("ascii")
        random_state = int(np.asarray(arrays.get("random_state", [0]))[0])
        nprobe = int(arrays["nprobe"][0]) if "nprobe" in arrays else None
        recall = float(arrays["estimated_recall"][0]) if "estimated_recall" in arrays else None
        index = None
        if "faiss_index" in arrays:
            faiss = _import_faiss()
            if faiss is None:
                logger.info("faiss is not installed; the stored search index is ignored.")
            else:
                index = faiss.deserialize_index(np.asarray(arrays["faiss_index"], np.uint8))
        return cls(arrays["indices"], arrays["distances"], data=data, method=method,
                   random_state=random_state, index=index, nprobe=nprobe,
                   estimated_recall=recall)

    # --- internals ----------------------------------------------------------------

    def _require_data(self, caller: str) -> np.ndarray:
        if self.data is None:
            raise DataError(
                f"KNNGraph.{caller} needs the latents the graph was built from; "
                "pass them as KNNGraph.from_arrays(arrays, data=z)."
            )
        return self.data

    def _get_index(self) -> Any:
        """Return the search index, rebuilding it from the latents when it is missing."""
        faiss = _import_faiss()
        if self._index is None:
            data = self._require_data("query")
            if self.method == "ivf" and faiss is None:
                self.method = "nndescent"
            logger.info("kNN graph: building the %s search index for %d points.",
                        self.method, len(data))
            if self.method == "ivf":
                self._index = _build_ivf(data, self.random_state)
            else:
                self._index = _build_nndescent(data, self.k + 1, self.random_state)
        if self.method == "ivf":
            self._index.nprobe = self.nprobe or IVF_NPROBE_STEPS[-1]
        if self.method == "nndescent" and not self._prepared:
            # Builds the search graph and compiles the query function once.
            self._index.prepare()
            self._prepared = True
        return self._index


def exact_neighbors(
    points: np.ndarray, data: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Find the `k` nearest rows of `data` for each point by brute force.

    Returns ``(distances, indices)`` of shape (n_points, k), nearest first; `k` is
    capped at ``len(data)``. Costs O(n_points x len(data) x n_dims).
    """
    points = check_latents(np.atleast_2d(points), "points")
    data = check_latents(data, "data")
    if points.shape[1] != data.shape[1]:
        raise DataError(
            f"exact_neighbors: points have {points.shape[1]} dimensions but data has "
            f"{data.shape[1]}."
        )
    distances, indices = _exact_search(points, data, min(int(k), len(data)))
    return _exact_distances(data, indices, points)


def _resolve_method(method: str, n_samples: int) -> str:
    if method == "auto":
        method = "exact" if n_samples <= EXACT_MAX_SAMPLES else "ivf"
    if method == "ivf" and _import_faiss() is None:
        logger.warning(
            "kNN graph: faiss is not installed, so pynndescent builds the approximate "
            "graph (slower). Install faiss with `pip install faiss-cpu`."
        )
        return "nndescent"
    return method


def _build_tuned_ivf(data: np.ndarray, k: int, random_state: int) -> tuple[Any, int | None]:
    """Return an IVF index and its tuned nprobe, or ``(None, None)`` below `MIN_RECALL`."""
    index = _build_ivf(data, random_state)
    recall = _tune_nprobe(index, data, k, random_state)
    if recall < MIN_RECALL:
        logger.warning(
            "kNN graph: the IVF index reaches only recall %.3f with nprobe=%d (minimum "
            "%.2f), so pynndescent builds the graph instead; this takes longer.",
            recall, index.nprobe, MIN_RECALL,
        )
        return None, None
    return index, int(index.nprobe)


def _exact_search(
    queries: np.ndarray, data: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(distances, indices)`` of the `k` nearest rows of `data` for each query."""
    faiss = _import_faiss()
    # Small searches (an explorer hover) run in NumPy: faiss's thread start-up took up to
    # 16 ms per call on a busy 2-core machine, against 0.1 ms for NumPy at 10,000 points.
    if faiss is not None and len(queries) * len(data) > _NUMPY_MAX_PAIRS:
        index = faiss.IndexFlatL2(data.shape[1])
        index.add(data)
        squared, indices = index.search(queries, k)
        return np.sqrt(np.maximum(squared, 0)), indices.astype(np.int64)

    # Blocked brute force: |q|^2 + |x|^2 - 2 q.x, one block of query rows at a time.
    data_norms = np.einsum("ij,ij->i", data, data)
    distances = np.empty((len(queries), k), np.float32)
    indices = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), _BLOCK_ROWS):
        block = queries[start : start + _BLOCK_ROWS]
        squared = data_norms[None, :] - 2.0 * (block @ data.T)
        squared += np.einsum("ij,ij->i", block, block)[:, None]
        nearest = np.argpartition(squared, k - 1, axis=1)[:, :k] if k < len(data) else \
            np.broadcast_to(np.arange(len(data)), (len(block), len(data))).copy()
        part = np.take_along_axis(squared, nearest, axis=1)
        order = np.argsort(part, axis=1, kind="stable")
        indices[start : start + len(block)] = np.take_along_axis(nearest, order, axis=1)
        distances[start : start + len(block)] = np.sqrt(
            np.maximum(np.take_along_axis(part, order, axis=1), 0)
        )
    return distances, indices


def _build_ivf(data: np.ndarray, random_state: int) -> Any:
    """Train and fill a faiss inverted-file index with about 4 sqrt(N) k-means cells."""
    faiss = _import_faiss()
    n_samples, n_dims = data.shape
    # faiss warns when a cell gets fewer than 39 training points.
    n_cells = int(min(4 * np.sqrt(n_samples), n_samples // 40, 16_384))
    n_cells = max(1, n_cells)
    rng = np.random.default_rng(random_state)
    training = data[rng.choice(n_samples, min(n_samples, 40 * n_cells), replace=False)]
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(n_dims), n_dims, n_cells)
    index.cp.seed = int(random_state)
    index.train(training)
    index.add(data)
    return index


def _tune_nprobe(index: Any, data: np.ndarray, k: int, random_state: int) -> float:
    """Raise the number of searched cells until a sample reaches `TARGET_RECALL`.

    Sets ``index.nprobe`` and returns the recall measured on a seeded sample of
    `RECALL_SAMPLE` points against exact search.
    """
    rng = np.random.default_rng(random_state)
    sample = rng.choice(len(data), min(RECALL_SAMPLE, len(data)), replace=False)
    _, true_indices = _exact_search(data[sample], data, k)
    recall = 0.0
    for nprobe in IVF_NPROBE_STEPS:
        index.nprobe = nprobe
        _, found = index.search(data[sample], k)
        recall = _recall(found, true_indices)
        logger.debug("kNN graph: nprobe=%d gives recall %.4f", nprobe, recall)
        if recall >= TARGET_RECALL:
            break
    return recall


def _recall(found: np.ndarray, true_indices: np.ndarray) -> float:
    hits = sum(np.intersect1d(a, b).size for a, b in zip(found, true_indices, strict=True))
    return float(hits / true_indices.size)


def _build_nndescent(data: np.ndarray, n_neighbors: int, random_state: int) -> Any:
    from pynndescent import NNDescent

    return NNDescent(data, n_neighbors=n_neighbors, random_state=random_state, n_jobs=-1)


def _search_index(index: Any, method: str, queries: np.ndarray, k: int):
    """Return ``(distances, indices)`` from a search index; faiss distances are squared."""
    if method == "ivf":
        distances, indices = index.search(queries, k)
        return distances, indices.astype(np.int64)
    indices, distances = index.query(queries, k=k)
    return distances, indices.astype(np.int64)


def _fill_short_rows(indices: np.ndarray, queries: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Search exactly for the rows where an IVF search found fewer than k points (-1)."""
    short = (indices < 0).any(axis=1)
    if short.any():
        _, indices[short] = _exact_search(queries[short], data, indices.shape[1])
    return indices


def _drop_self(
    indices: np.ndarray, k: int, self_ids: np.ndarray | None = None
) -> np.ndarray:
    """Remove each point from its own neighbour list and keep `k` columns.

    The point is not always first: a duplicate latent can tie with it at distance 0.
    When the point is missing (an approximate search can miss it), the last column goes.
    """
    n_rows = len(indices)
    self_ids = np.arange(n_rows) if self_ids is None else np.asarray(self_ids)
    is_self = indices == self_ids[:, None]
    # Drop the first self match, or the last column where there is none.
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), indices.shape[1] - 1)
    keep = np.ones(indices.shape, dtype=bool)
    keep[np.arange(n_rows), drop] = False
    return indices[keep].reshape(n_rows, indices.shape[1] - 1)[:, :k]


def _exact_distances(
    data: np.ndarray, indices: np.ndarray, queries: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(distances, indices)`` with exact distances from each query (default:
    each row of `data`) to its neighbours, each row sorted again by distance.

    Search backends compute |q|^2 + |x|^2 - 2 q.x in float32, which loses precision for
    close points. Recomputing the k differences per row costs only O(N k d).
    """
    queries = data if queries is None else queries
    distances = np.empty(indices.shape, np.float32)
    rows = max(1, (1 << 24) // max(1, indices.shape[1] * data.shape[1]))
    for start in range(0, len(indices), rows):
        block = indices[start : start + rows]
        safe = np.where(block < 0, 0, block)
        difference = data[safe] - queries[start : start + rows, None, :]
        distance = np.sqrt(np.einsum("ijk,ijk->ij", difference, difference))
        distances[start : start + rows] = np.where(block < 0, np.inf, distance)

    # Recomputed distances can reorder near-ties, so each row is sorted again.
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(distances, order, axis=1), np.take_along_axis(indices, order, axis=1)
