import logging
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from latentspace.errors import DataError, InvalidParameterError
from latentspace.projection import fastmap
from latentspace.projection.fastmap import FastMap, fuzzy_graph, knn_search


def blobs(n_per_cluster=200, n_clusters=4, dim=10, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 8.0, size=(n_clusters, dim))
    labels = np.repeat(np.arange(n_clusters), n_per_cluster)
    z = centres[labels] + rng.normal(size=(len(labels), dim))
    return z.astype(np.float32), labels


def knn_accuracy(coords, labels):
    return cross_val_score(KNeighborsClassifier(10), coords, labels, cv=5).mean()


def test_fit_transform_shape_and_dtype():
    z, _ = blobs()
    coords = FastMap().fit_transform(z)
    assert coords.shape == (len(z), 2)
    assert coords.dtype == np.float32
    assert np.isfinite(coords).all()


def test_fit_transform_separates_clusters():
    z, labels = blobs()
    coords = FastMap().fit_transform(z)
    assert knn_accuracy(coords, labels) > 0.99


def test_locality_order_keeps_point_identity(monkeypatch):
    monkeypatch.setattr(fastmap, "LOCALITY_ORDER_MIN_POINTS", 100)
    z, labels = blobs()
    coords = FastMap().fit_transform(z)
    assert knn_accuracy(coords, labels) > 0.99


def test_negative_pool_subset_separates_clusters(monkeypatch):
    monkeypatch.setattr(fastmap, "NEGATIVE_POOL_SIZE", 64)
    z, labels = blobs()
    coords = FastMap().fit_transform(z)
    assert knn_accuracy(coords, labels) > 0.99


def test_locality_order_is_permutation():
    z, labels = blobs()
    order = fastmap.locality_order(z)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(z)))
    assert (np.diff(labels[order]) != 0).sum() < 20


def test_three_components():
    z, labels = blobs()
    coords = FastMap(n_components=3).fit_transform(z)
    assert coords.shape == (len(z), 3)
    assert knn_accuracy(coords, labels) > 0.99


def test_same_seed_same_map():
    z, _ = blobs()
    first = FastMap(random_state=3).fit_transform(z)
    second = FastMap(random_state=3).fit_transform(z)
    np.testing.assert_array_equal(first, second)


def test_other_seed_other_map():
    z, _ = blobs()
    first = FastMap(random_state=3).fit_transform(z)
    second = FastMap(random_state=4).fit_transform(z)
    assert not np.array_equal(first, second)


def test_map_independent_of_thread_count():
    numba = pytest.importorskip("numba")
    z, _ = blobs()
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread = FastMap().fit_transform(z)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        all_threads = FastMap().fit_transform(z)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(one_thread, all_threads)


@pytest.mark.parametrize("n_points", [2, 3, 10, 30])
def test_tiny_inputs(n_points):
    z, _ = blobs(n_per_cluster=n_points, n_clusters=1)
    model = FastMap()
    coords = model.fit_transform(z)
    assert coords.shape == (n_points, 2)
    assert np.isfinite(coords).all()
    assert model.n_neighbors_ == min(15, n_points)


def test_n_neighbors_lowered_is_logged(caplog):
    z, _ = blobs(n_per_cluster=5, n_clusters=1)
    with caplog.at_level(logging.INFO, logger="latentspace.projection.fastmap"):
        FastMap(n_neighbors=15).fit_transform(z)
    assert "lowered from 15 to 5" in caplog.text


def test_one_dimensional_latents():
    z = np.linspace(0, 1, 50, dtype=np.float32)[:, None]
    coords = FastMap().fit_transform(z)
    assert coords.shape == (50, 2)
    assert np.isfinite(coords).all()


def test_duplicate_points_stay_finite():
    z = np.zeros((40, 5), np.float32)
    z[20:] = 1.0
    coords = FastMap().fit_transform(z)
    assert np.isfinite(coords).all()


def test_precomputed_knn_gives_same_map():
    z, _ = blobs()
    indices, distances = knn_search(z, 14)
    graph = SimpleNamespace(indices=indices, distances=distances)
    searched = FastMap().fit_transform(z)
    given = FastMap().fit_transform(z, knn=graph)
    np.testing.assert_array_equal(searched, given)


def test_knn_graph_from_neighbors_module():
    neighbors = pytest.importorskip("latentspace.neighbors")
    z, labels = blobs()
    graph = neighbors.KNNGraph.build(z, k=30)
    coords = FastMap().fit_transform(z, knn=graph)
    assert knn_accuracy(coords, labels) > 0.99


def test_short_knn_is_searched_again(caplog):
    z, labels = blobs()
    indices, distances = knn_search(z, 5)
    graph = SimpleNamespace(indices=indices, distances=distances)
    with caplog.at_level(logging.INFO, logger="latentspace.projection.fastmap"):
        coords = FastMap().fit_transform(z, knn=graph)
    assert "searching again" in caplog.text
    assert knn_accuracy(coords, labels) > 0.99


def test_knn_with_wrong_row_count_rejected():
    z, _ = blobs()
    indices, distances = knn_search(z[:100], 14)
    with pytest.raises(DataError, match="knn has 100 rows"):
        FastMap().fit_transform(z, knn=SimpleNamespace(indices=indices, distances=distances))


def test_transform_places_points_in_their_cluster():
    z, labels = blobs(seed=0)
    model = FastMap()
    coords = model.fit_transform(z)
    new_z = z + np.random.default_rng(1).normal(0, 0.1, size=z.shape).astype(np.float32)
    placed = model.transform(new_z)
    assert placed.shape == (len(z), 2)
    classifier = KNeighborsClassifier(10).fit(coords, labels)
    assert classifier.score(placed, labels) > 0.99


def test_transform_before_fit_rejected():
    with pytest.raises(InvalidParameterError, match="before fit"):
        FastMap().transform(np.zeros((3, 4), np.float32))


def test_transform_dimension_mismatch_rejected():
    z, _ = blobs()
    model = FastMap()
    model.fit(z)
    with pytest.raises(DataError, match="z_new has 3 dimensions"):
        model.transform(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"n_components": 4}, "n_components must be 2 or 3"),
        ({"n_neighbors": 1}, "n_neighbors must be an integer >= 2"),
        ({"min_dist": 2.0}, "min_dist must be between 0 and spread"),
        ({"n_epochs": 0}, "n_epochs must be a positive integer"),
    ],
)
def test_invalid_parameters_rejected(parameters, message):
    z, _ = blobs()
    with pytest.raises(InvalidParameterError, match=message):
        FastMap(**parameters).fit_transform(z)


def test_non_finite_latents_rejected():
    z, _ = blobs()
    z[3, 2] = np.nan
    with pytest.raises(DataError, match="NaN or infinite"):
        FastMap().fit_transform(z)


def test_single_point_rejected():
    with pytest.raises(DataError, match="at least 2 points"):
        FastMap().fit_transform(np.zeros((1, 4), np.float32))


def test_knn_search_exact_matches_brute_force():
    z, _ = blobs()
    indices, distances = knn_search(z, 10)
    squared = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(squared, np.inf)
    expected = np.sort(np.sqrt(squared), axis=1)[:, :10]
    np.testing.assert_allclose(distances, expected, rtol=1e-4, atol=1e-4)
    assert not (indices == np.arange(len(z))[:, None]).any()


def test_knn_search_approximate_recall(monkeypatch):
    monkeypatch.setattr(fastmap, "EXACT_KNN_MAX_POINTS", 1000)
    z, _ = blobs(n_per_cluster=1000, dim=16)
    indices, _ = knn_search(z, 10)
    squared = ((z[:500, None, :] - z[None, :, :]) ** 2).sum(-1)
    squared[np.arange(500), np.arange(500)] = np.inf
    truth = np.argsort(squared, axis=1)[:, :10]
    hits = sum(np.intersect1d(a, b).size for a, b in zip(indices[:500], truth, strict=True))
    assert hits / truth.size > 0.9


def test_knn_search_fills_sparse_cells_exactly(monkeypatch):
    monkeypatch.setattr(fastmap, "EXACT_KNN_MAX_POINTS", 100)
    rng = np.random.default_rng(0)
    crowd = rng.normal(size=(2000, 8))
    loners = 1000.0 * np.eye(8)[np.arange(40) % 8] * (1 + np.arange(40)[:, None] // 8)
    z = np.vstack([crowd, loners]).astype(np.float32)
    indices, distances = knn_search(z, 14)
    assert (indices >= 0).all()
    assert np.isfinite(distances).all()
    squared = ((z[-40:, None, :] - z[None, :, :]) ** 2).sum(-1)
    squared[np.arange(40), np.arange(2000, 2040)] = np.inf
    expected = np.sort(np.sqrt(squared), axis=1)[:, :14]
    np.testing.assert_allclose(distances[-40:], expected, rtol=1e-3)


def test_fuzzy_graph_symmetric_with_unit_weights():
    z, _ = blobs()
    indices, distances = knn_search(z, 14)
    graph = fuzzy_graph(indices, distances, 15)
    assert abs(graph - graph.T).max() < 1e-6
    assert graph.data.min() > 0.0
    assert graph.data.max() <= 1.0 + 1e-6
    assert graph.diagonal().max() == 0.0
