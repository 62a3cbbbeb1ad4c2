import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from latentspace.errors import DataError, InvalidParameterError
from latentspace.neighbors import KNNGraph, exact_neighbors


def clustered_latents(n_samples, n_dims=16, n_clusters=20, seed=0):
    """Gaussian clusters on 4-d subspaces: low intrinsic dimension, like trained latents."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_clusters, n_dims)) * 4
    bases = rng.normal(size=(n_clusters, 4, n_dims))
    labels = rng.integers(0, n_clusters, n_samples)
    coefficients = rng.normal(size=(n_samples, 4))
    z = centers[labels] + np.einsum("nk,nkd->nd", coefficients, bases[labels])
    return (z + 0.05 * rng.normal(size=z.shape)).astype(np.float32)


@pytest.fixture(scope="module")
def latents():
    return np.random.default_rng(0).normal(size=(500, 8)).astype(np.float32)


def test_exact_graph_matches_sklearn(latents):
    graph = KNNGraph.build(latents, k=12)
    distances, indices = NearestNeighbors(n_neighbors=13).fit(latents).kneighbors(latents)
    assert graph.method == "exact"
    assert graph.indices.dtype == np.int64
    assert graph.distances.dtype == np.float32
    np.testing.assert_array_equal(graph.indices, indices[:, 1:])
    np.testing.assert_allclose(graph.distances, distances[:, 1:], rtol=1e-5, atol=1e-6)


def test_exact_graph_matches_numpy_brute_force(latents):
    graph = KNNGraph.build(latents, k=5)
    squared = ((latents[:, None, :] - latents[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(squared, np.inf)
    expected = np.argsort(squared, axis=1)[:, :5]
    np.testing.assert_array_equal(graph.indices, expected)


def test_graph_excludes_self_with_duplicates():
    z = np.random.default_rng(1).normal(size=(50, 4)).astype(np.float32)
    z[10] = z[11] = z[12]
    graph = KNNGraph.build(z, k=4)
    own = np.arange(50)[:, None]
    assert not (graph.indices == own).any()
    assert set(graph.indices[10, :2]) == {11, 12}
    np.testing.assert_allclose(graph.distances[10, :2], 0.0)


def test_graph_k_lowered_for_few_points(caplog):
    z = np.random.default_rng(2).normal(size=(6, 3)).astype(np.float32)
    with caplog.at_level("INFO", logger="latentspace.neighbors"):
        graph = KNNGraph.build(z, k=30)
    assert graph.k == 5
    assert "k=30 lowered to 5" in caplog.text


def test_ivf_graph_recall_floor():
    z = clustered_latents(20_000)
    graph = KNNGraph.build(z, k=15, method="ivf", random_state=0)
    assert graph.method == "ivf"
    assert graph.recall(n_queries=1000) >= 0.95
    assert graph.estimated_recall >= 0.95
    assert not (graph.indices == np.arange(len(z))[:, None]).any()
    assert (np.diff(graph.distances, axis=1) >= 0).all()


def test_ivf_graph_is_seeded():
    z = clustered_latents(5_000)
    first = KNNGraph.build(z, k=10, method="ivf", random_state=3)
    second = KNNGraph.build(z, k=10, method="ivf", random_state=3)
    np.testing.assert_array_equal(first.indices, second.indices)


def test_nndescent_graph_recall_floor():
    z = clustered_latents(3_000)
    graph = KNNGraph.build(z, k=10, method="nndescent", random_state=0)
    assert graph.recall() >= 0.95
    distances, indices = graph.query(z[:5], k=3)
    np.testing.assert_array_equal(indices[:, 0], np.arange(5))

    # pynndescent's index cannot be stored as arrays, so a loaded graph rebuilds it.
    arrays = graph.to_arrays()
    assert "faiss_index" not in arrays
    loaded = KNNGraph.from_arrays(arrays, data=z)
    np.testing.assert_array_equal(loaded.query(z[:5], k=3)[1][:, 0], np.arange(5))


def test_query_finds_stored_point_first(latents):
    graph = KNNGraph.build(latents, k=10)
    distances, indices = graph.query(latents[:20], k=4)
    np.testing.assert_array_equal(indices[:, 0], np.arange(20))
    np.testing.assert_allclose(distances[:, 0], 0.0, atol=1e-6)


def test_query_matches_sklearn_for_new_points(latents):
    graph = KNNGraph.build(latents, k=10)
    points = np.random.default_rng(5).normal(size=(30, 8)).astype(np.float32)
    distances, indices = graph.query(points, k=7)
    expected_distances, expected = NearestNeighbors(n_neighbors=7).fit(latents).kneighbors(points)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-5)


def test_query_accepts_one_vector_and_caps_k(latents):
    graph = KNNGraph.build(latents[:20], k=5)
    distances, indices = graph.query(latents[0], k=100)
    assert indices.shape == (1, 20)
    assert distances.shape == (1, 20)


def test_query_rejects_wrong_dimension(latents):
    graph = KNNGraph.build(latents, k=5)
    with pytest.raises(DataError, match="3 dimensions but the latents have 8"):
        graph.query(np.zeros((2, 3)), k=2)


def test_neighbors_of_returns_stored_row(latents):
    graph = KNNGraph.build(latents, k=10)
    distances, indices = graph.neighbors_of(7, k=3)
    np.testing.assert_array_equal(indices, graph.indices[7, :3])
    np.testing.assert_array_equal(distances, graph.distances[7, :3])
    with pytest.raises(InvalidParameterError, match="k must be between 1 and the graph's k=10"):
        graph.neighbors_of(7, k=11)
    with pytest.raises(InvalidParameterError, match=r"must be in \[0, 499\]; got 500"):
        graph.neighbors_of(500)


def test_umap_layout_has_self_first(latents):
    graph = KNNGraph.build(latents, k=10)
    indices, distances = graph.umap_knn(8)
    assert indices.shape == (500, 8)
    np.testing.assert_array_equal(indices[:, 0], np.arange(500))
    np.testing.assert_array_equal(distances[:, 0], 0.0)
    np.testing.assert_array_equal(indices[:, 1:], graph.indices[:, :7])
    with pytest.raises(InvalidParameterError, match="n_neighbors must be between 2 and k"):
        graph.umap_knn(12)


def test_sparse_distances_rows_sorted_with_self(latents):
    graph = KNNGraph.build(latents, k=10)
    matrix = graph.sparse_distances(6)
    assert matrix.shape == (500, 500)
    assert matrix.nnz == 500 * 7
    row = matrix.getrow(3)
    assert row.indices[0] == 3
    assert (np.diff(row.data) >= 0).all()


def test_arrays_round_trip_through_safetensors(tmp_path, latents):
    from safetensors.numpy import load_file, save_file

    graph = KNNGraph.build(latents, k=6)
    save_file(graph.to_arrays(), tmp_path / "knn.safetensors")
    loaded = KNNGraph.from_arrays(load_file(tmp_path / "knn.safetensors"), data=latents)
    np.testing.assert_array_equal(loaded.indices, graph.indices)
    np.testing.assert_array_equal(loaded.distances, graph.distances)
    assert loaded.method == "exact"
    np.testing.assert_array_equal(loaded.query(latents[:3], 2)[1], graph.query(latents[:3], 2)[1])


def test_ivf_index_round_trip():
    z = clustered_latents(5_000)
    graph = KNNGraph.build(z, k=8, method="ivf")
    arrays = graph.to_arrays()
    assert arrays["faiss_index"].dtype == np.uint8
    loaded = KNNGraph.from_arrays(arrays, data=z)
    assert loaded.nprobe == graph.nprobe
    np.testing.assert_array_equal(loaded.query(z[:10], 5)[1], graph.query(z[:10], 5)[1])

    rebuilt = KNNGraph.from_arrays(graph.to_arrays(include_index=False), data=z)
    np.testing.assert_array_equal(rebuilt.query(z[:10], 5)[1], graph.query(z[:10], 5)[1])


def test_loaded_graph_without_latents_cannot_query(latents):
    graph = KNNGraph.from_arrays(KNNGraph.build(latents, k=4).to_arrays())
    with pytest.raises(DataError, match="needs the latents"):
        graph.query(latents[:1], 2)


def test_from_arrays_rejects_missing_keys():
    with pytest.raises(DataError, match=r"missing \['distances', 'method'\]"):
        KNNGraph.from_arrays({"indices": np.zeros((2, 1), np.int64)})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": 0}, "'k' must be an integer >= 1; got 0"),
        ({"k": 2.5}, "'k' must be an integer >= 1; got 2.5"),
        ({"method": "annoy"}, "'method' must be one of 'auto', 'exact', 'ivf', 'nndescent'"),
    ],
)
def test_build_rejects_invalid_parameters(latents, params, message):
    with pytest.raises(InvalidParameterError, match=message):
        KNNGraph.build(latents, **params)


def test_build_rejects_bad_latents():
    with pytest.raises(DataError, match="at least 2 row"):
        KNNGraph.build(np.zeros((1, 4)))
    with pytest.raises(DataError, match="NaN or infinite values in 1 row"):
        KNNGraph.build(np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]))


def test_exact_neighbors_function(latents):
    distances, indices = exact_neighbors(latents[:4] + 0.001, latents, k=3)
    np.testing.assert_array_equal(indices[:, 0], np.arange(4))
    assert distances.shape == (4, 3)
