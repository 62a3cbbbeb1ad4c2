import logging

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from latentspace.errors import DataError, InvalidParameterError
from latentspace.metrics import trustworthiness
from latentspace.neighbors import KNNGraph
from latentspace.projection import (
    PROJECTORS,
    LatentProjector,
    PCAProjector,
    TSNEProjector,
    UMAPProjector,
    inverse_map,
    make_projector,
    place_points,
    project,
)

METHODS = ["pca", "tsne", "umap", "isomap", "lle"]


def random_latents(n_samples, n_dims=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n_samples, n_dims)).astype(np.float32)


@pytest.fixture(scope="module")
def digits_latents():
    """Digits reduced to 16-d by PCA: a small latent space with 10 known classes."""
    x, labels = load_digits(return_X_y=True)
    return PCA(16, random_state=0).fit_transform(x).astype(np.float32), labels


@pytest.fixture(scope="module")
def digits_graph(digits_latents):
    return KNNGraph.build(digits_latents[0], k=30)


# --- every method on tiny and small inputs --------------------------------------------


@pytest.mark.parametrize("n_samples", [3, 10, 30])
@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("method", METHODS)
def test_projection_on_few_points(method, dims, n_samples):
    z = random_latents(n_samples)
    coords, projector = project(z, method, dims=dims, random_state=0)
    assert coords.shape == (n_samples, dims)
    assert coords.dtype == np.float32
    assert np.isfinite(coords).all()
    assert projector.embedding_ is coords
    placed = projector.transform(z[:2])
    assert placed.shape == (2, dims)
    assert np.isfinite(placed).all()


@pytest.mark.parametrize("method", METHODS)
def test_projection_is_seeded(method):
    z = random_latents(60)
    first, _ = project(z, method, random_state=7)
    second, _ = project(z, method, random_state=7)
    # Isomap's ARPACK start vector is not seeded by scikit-learn; results agree to
    # solver precision.
    np.testing.assert_allclose(first, second, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_projection_seed_changes_map(method):
    z = random_latents(60)
    first, _ = project(z, method, random_state=1)
    second, _ = project(z, method, random_state=2)
    assert not np.allclose(first, second)


@pytest.mark.parametrize("method", ["tsne", "umap", "isomap"])
def test_projection_reuses_shared_graph(method, caplog):
    z = random_latents(200)
    graph = KNNGraph.build(z, k=100)
    with caplog.at_level(logging.INFO, logger="latentspace"):
        project(z, method, knn=graph)
    assert "kNN graph: 200 points" not in caplog.text


def test_tsne_builds_larger_graph_when_needed(caplog):
    z = random_latents(200)
    graph = KNNGraph.build(z, k=10)
    with caplog.at_level(logging.INFO, logger="latentspace"):
        project(z, "tsne", knn=graph, perplexity=20)
    assert "needs 60 neighbours per point but the shared graph has k=10" in caplog.text


def test_projection_rejects_graph_of_other_latents():
    z = random_latents(100)
    graph = KNNGraph.build(random_latents(100, seed=9), k=20)
    with pytest.raises(DataError, match="distances do not match z"):
        project(z, "umap", knn=graph)
    with pytest.raises(DataError, match="graph has 100 points but z has 50"):
        project(z[:50], "umap", knn=graph)


# --- parameter checks against the number of points -------------------------------------


def test_default_perplexity_lowered_with_info(caplog):
    with caplog.at_level(logging.INFO, logger="latentspace"):
        projector = TSNEProjector().fit(random_latents(30))
    assert projector.perplexity_ == pytest.approx(29 / 3)
    assert "perplexity=30 lowered to 9.66667 because there are only 30 points" in caplog.text


def test_chosen_n_neighbors_lowered_with_warning(caplog):
    with caplog.at_level(logging.INFO, logger="latentspace"):
        projector = UMAPProjector(n_neighbors=50).fit(random_latents(30))
    assert projector.n_neighbors_ == 29
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("n_neighbors=50 lowered to 29" in r.getMessage() for r in warnings)


def test_lle_hessian_rejected_when_points_too_few():
    with pytest.raises(InvalidParameterError, match="n_neighbors=10 cannot be used with 6 points"):
        project(random_latents(6), "lle", lle_method="hessian")


def test_isomap_links_separate_clusters(caplog):
    rng = np.random.default_rng(0)
    z = np.vstack([rng.normal(size=(60, 5)), rng.normal(size=(60, 5)) + 100]).astype(np.float32)
    with caplog.at_level(logging.INFO, logger="latentspace"):
        coords, projector = project(z, "isomap", n_neighbors=5)
    assert "the 5-neighbour graph has 2 separate parts" in caplog.text
    assert not projector.precomputed_
    assert np.isfinite(coords).all()
    assert projector.transform(z[:3]).shape == (3, 2)


def test_lle_retries_dense_when_arpack_fails(monkeypatch, caplog):
    from sklearn.manifold import LocallyLinearEmbedding

    original = LocallyLinearEmbedding.fit_transform

    def fail_unless_dense(self, X, y=None):
        if self.eigen_solver != "dense":
            raise ValueError("Error in determining null-space with ARPACK")
        return original(self, X)

    monkeypatch.setattr(LocallyLinearEmbedding, "fit_transform", fail_unless_dense)
    with caplog.at_level(logging.WARNING, logger="latentspace"):
        coords, projector = project(random_latents(50), "lle")
    assert "ARPACK failed" in caplog.text
    assert projector.lle_.eigen_solver == "dense"
    assert np.isfinite(coords).all()


def test_isomap_rejects_too_many_points(monkeypatch):
    from latentspace.projection import manifold

    monkeypatch.setattr(manifold, "ISOMAP_MAX_SAMPLES", 50)
    with pytest.raises(InvalidParameterError, match="accepts at most 50 points"):
        project(random_latents(60), "isomap")


def test_tiny_input_falls_back_to_pca(caplog):
    with caplog.at_level(logging.WARNING, logger="latentspace"):
        coords, projector = project(random_latents(2), "umap")
    assert isinstance(projector.fallback_, PCAProjector)
    assert "umap needs at least 3 points" in caplog.text
    assert coords.shape == (2, 2)


def test_umap_spectral_start_replaced_on_few_points(caplog):
    with caplog.at_level(logging.INFO, logger="latentspace"):
        project(random_latents(4), "umap", dims=3)
    assert "a spectral start needs at least 5 points, got 4" in caplog.text


def test_single_point_maps_to_origin():
    coords, _ = project(random_latents(1), "tsne")
    np.testing.assert_array_equal(coords, np.zeros((1, 2), np.float32))


# --- names, options and errors -----------------------------------------------------------


def test_unknown_method_lists_valid_ones():
    with pytest.raises(InvalidParameterError,
                       match="Unknown projection method 'tnse'; valid methods are fastmap, isomap, "
                             "latent, lle, pca, tsne, umap"):
        project(random_latents(10), "tnse")


def test_unknown_option_lists_valid_ones():
    with pytest.raises(InvalidParameterError, match="'umap' has no option.*perplexity.*min_dist"):
        project(random_latents(10), "umap", perplexity=5)


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("umap", {"n_neighbors": 1}, "'n_neighbors' must be an integer >= 2; got 1"),
        ("umap", {"min_dist": -0.5}, "'min_dist' must be a finite number >= 0; got -0.5"),
        ("tsne", {"perplexity": 0}, "'perplexity' must be a finite number > 0; got 0"),
        ("tsne", {"initialization": "pcaa"}, "'initialization' must be one of 'pca'"),
        ("isomap", {"n_neighbors": 0}, "'n_neighbors' must be an integer >= 1; got 0"),
        ("lle", {"reg": 0}, "'reg' must be a finite number > 0; got 0"),
    ],
)
def test_invalid_option_rejected(method, params, message):
    with pytest.raises(InvalidParameterError, match=message):
        project(random_latents(20), method, **params)


def test_invalid_dims_rejected():
    with pytest.raises(InvalidParameterError, match="'dims' must be one of 2, 3; got 4"):
        project(random_latents(20), "pca", dims=4)


def test_registry_names_match_classes():
    for name, cls in PROJECTORS.items():
        assert cls.name == name
        assert make_projector(name).method_name == name


def test_estimator_stores_parameters_untouched():
    projector = UMAPProjector(n_neighbors=500)
    assert projector.get_params()["n_neighbors"] == 500
    assert not hasattr(projector, "embedding_")


def test_transform_before_fit_rejected():
    with pytest.raises(InvalidParameterError, match="not fitted yet"):
        PCAProjector().transform(random_latents(3))


# --- the latent as its own map ------------------------------------------------------------


def test_latent_with_map_dimension_is_its_own_map(caplog):
    z = random_latents(40, n_dims=2)
    with caplog.at_level(logging.INFO, logger="latentspace"):
        coords, projector = project(z, "umap", dims=2)
    assert isinstance(projector, LatentProjector)
    np.testing.assert_array_equal(coords, z)
    assert "it is its own map" in caplog.text


def test_latent_smaller_than_map_is_padded():
    z = random_latents(5, n_dims=2)
    coords, _ = project(z, "tsne", dims=3)
    np.testing.assert_array_equal(coords[:, :2], z)
    np.testing.assert_array_equal(coords[:, 2], 0.0)


def test_latent_method_rejects_larger_latent():
    with pytest.raises(InvalidParameterError, match="latent dimension \\(8\\) must be at most"):
        project(random_latents(10), "latent")


# --- quality on real data ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_map_trustworthiness_on_digits(method, digits_latents, digits_graph):
    z, _ = digits_latents
    coords, _ = project(z, method, knn=digits_graph, random_state=0)
    assert trustworthiness(z, coords, k=10) >= 0.9


def test_pca_map_matches_sklearn(digits_latents):
    z, _ = digits_latents
    coords, _ = project(z, "pca")
    expected = PCA(2).fit_transform(z)
    # Principal axes are defined up to sign.
    np.testing.assert_allclose(np.abs(coords), np.abs(expected), rtol=1e-3, atol=1e-3)


# --- transform and inverse ----------------------------------------------------------------


def test_pca_inverse_is_exact_in_plane(digits_latents):
    z, _ = digits_latents
    coords, projector = project(z, "pca")
    back = projector.inverse_transform(coords)
    np.testing.assert_allclose(projector.transform(back), coords, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(inverse_map(coords[:5], coords, z, projector=projector), back[:5])


@pytest.mark.parametrize("method", ["umap", "tsne"])
def test_transform_places_points_among_their_digit(method, digits_latents, digits_graph):
    z, labels = digits_latents
    coords, projector = project(z, method, knn=digits_graph)
    noisy = z[:100] + np.random.default_rng(0).normal(scale=0.1, size=(100, 16))
    placed = projector.transform(noisy.astype(np.float32))
    squared = ((placed[:, None, :] - coords[None, :, :]) ** 2).sum(-1)
    nearest = np.argsort(squared, axis=1)[:, :10]
    majority = [np.bincount(labels[row]).argmax() for row in nearest]
    assert np.mean(majority == labels[:100]) >= 0.9


def test_umap_inverse_transform_returns_latents(digits_latents, digits_graph):
    z, _ = digits_latents
    coords, projector = project(z, "umap", knn=digits_graph)
    latents = projector.inverse_transform(coords[:3])
    assert latents.shape == (3, 16)
    assert np.isfinite(latents).all()


def test_inverse_map_at_map_point_returns_its_latent():
    z = random_latents(100)
    coords = random_latents(100, n_dims=2, seed=1)
    np.testing.assert_allclose(inverse_map(coords[[4, 9]], coords, z), z[[4, 9]], atol=1e-5)


def test_inverse_map_is_weighted_average():
    z = np.array([[0.0, 0.0], [4.0, 8.0], [100.0, 100.0]], np.float32)
    coords = np.array([[0.0, 0.0], [3.0, 0.0], [50.0, 50.0]], np.float32)
    # At x=1 the weights are 1/1^2 and 1/2^2, that is 0.8 and 0.2.
    result = inverse_map(np.array([[1.0, 0.0]]), coords, z, k=2)
    np.testing.assert_allclose(result, [[0.8, 1.6]], rtol=1e-5)


def test_inverse_map_rejects_mismatched_inputs():
    with pytest.raises(DataError, match="coords has 5 rows but z has 4"):
        inverse_map(np.zeros((1, 2)), np.zeros((5, 2)), np.zeros((4, 3)))
    with pytest.raises(DataError, match="points have 3 coordinates but the map has 2"):
        inverse_map(np.zeros((1, 3)), np.zeros((4, 2)), np.zeros((4, 3)))


def test_place_points_uses_projector_transform(digits_latents):
    z, _ = digits_latents
    coords, projector = project(z, "pca")
    placed = place_points(z[:10], z, coords, projector=projector)
    np.testing.assert_allclose(placed, coords[:10], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("use_graph", [True, False])
def test_place_points_by_neighbours(use_graph, digits_latents, digits_graph):
    z, _ = digits_latents
    coords = random_latents(len(z), n_dims=2, seed=3)
    graph = digits_graph if use_graph else None
    np.testing.assert_allclose(place_points(z[:10], z, coords, knn=graph), coords[:10],
                               atol=1e-5)
    moved = place_points(z[:1] + 0.5, z, coords, knn=graph, k=4)
    _, nearest = digits_graph.query(z[:1] + 0.5, k=4)
    low, high = coords[nearest[0]].min(axis=0), coords[nearest[0]].max(axis=0)
    assert ((moved[0] >= low - 1e-6) & (moved[0] <= high + 1e-6)).all()


@pytest.mark.parametrize("n_points", [3, 10, 30])
@pytest.mark.parametrize("dims", [2, 3])
def test_fastmap_on_small_inputs(n_points, dims):
    coords, projector = project(random_latents(n_points), "fastmap", dims=dims)
    assert coords.shape == (n_points, dims)
    assert np.isfinite(coords).all()
    assert projector.transform(random_latents(n_points)[:2]).shape == (2, dims)
