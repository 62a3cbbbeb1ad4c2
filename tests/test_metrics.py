import logging
import math

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness as sklearn_trustworthiness
from sklearn.metrics import silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from latentspace import metrics
from latentspace.errors import DataError, InvalidParameterError


@pytest.fixture(scope="module")
def digits():
    """Digits as 16-d PCA latents, a 2-D PCA map of them, and the class labels."""
    x, labels = load_digits(return_X_y=True)
    z = PCA(16, random_state=0).fit_transform(x).astype(np.float32)
    coords = PCA(2, random_state=0).fit_transform(x).astype(np.float32)
    return z, coords, labels


# --- compression and reconstruction -----------------------------------------------------


def test_compression_ratio():
    assert metrics.compression_ratio(784, 16) == 49.0
    with pytest.raises(InvalidParameterError, match="'latent_dim' must be an integer >= 1; got 0"):
        metrics.compression_ratio(784, 0)


def test_reconstruction_mse_is_mean_over_all_values():
    rng = np.random.default_rng(0)
    x = rng.random((20, 1, 8, 8)).astype(np.float32)
    x_hat = rng.random((20, 1, 8, 8)).astype(np.float32)
    expected = np.mean((x.astype(np.float64) - x_hat) ** 2)
    assert metrics.reconstruction_mse(x, x_hat) == pytest.approx(expected, rel=1e-12)


def test_reconstruction_mse_rejects_shape_mismatch():
    with pytest.raises(DataError, match=r"same shape; got \(2, 3\) and \(2, 4\)"):
        metrics.reconstruction_mse(np.zeros((2, 3)), np.zeros((2, 4)))


def test_psnr_matches_formula():
    x = np.zeros((4, 10), np.float32)
    x_hat = np.full((4, 10), 0.1, np.float32)
    assert metrics.psnr(x, x_hat) == pytest.approx(20.0, rel=1e-5)
    assert metrics.psnr(x * 255, x_hat * 255, data_range=255) == pytest.approx(20.0, rel=1e-5)
    assert metrics.psnr(x, x) == math.inf


def test_psnr_rejects_non_positive_range():
    with pytest.raises(InvalidParameterError, match="'data_range' must be a finite number > 0"):
        metrics.psnr(np.zeros(3), np.ones(3), data_range=0)


# --- kNN accuracy ----------------------------------------------------------------------------


def test_knn_accuracy_matches_sklearn_cross_validation(digits):
    z, _, labels = digits
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=3)
    expected = cross_val_score(KNeighborsClassifier(n_neighbors=10), z, labels, cv=folds).mean()
    # Equal folds of 359-360 points, so the pooled accuracy equals the mean of the folds
    # up to the rounding of fold sizes.
    assert metrics.knn_accuracy(z, labels, k=10, random_state=3) == pytest.approx(expected,
                                                                                   abs=2e-3)


def test_knn_accuracy_is_seeded(digits):
    z, _, labels = digits
    assert metrics.knn_accuracy(z, labels, random_state=1) == metrics.knn_accuracy(
        z, labels, random_state=1)


def test_knn_accuracy_skips_continuous_labels(digits, caplog):
    z, _, labels = digits
    with caplog.at_level(logging.INFO, logger="latentspace.metrics"):
        assert metrics.knn_accuracy(z, labels.astype(float)) is None
    assert "labels are continuous" in caplog.text
    assert metrics.knn_accuracy(z, None) is None


def test_knn_accuracy_leaves_out_small_classes(digits, caplog):
    z, _, labels = digits
    labels = labels.copy()
    labels[:3] = 99
    keep = labels != 99
    with caplog.at_level(logging.INFO, logger="latentspace.metrics"):
        result = metrics.knn_accuracy(z, labels, random_state=0)
    assert "1 class(es) with fewer than 5 members (3 points) are left out: 99" in caplog.text
    assert result == metrics.knn_accuracy(z[keep], labels[keep], random_state=0)


def test_knn_accuracy_needs_two_usable_classes():
    z = np.random.default_rng(0).normal(size=(12, 3))
    labels = np.array([0] * 10 + [1] * 2)
    assert metrics.knn_accuracy(z, labels) is None
    assert "fewer than 2 classes" in metrics.label_metric_skip_reason(labels, min_per_class=5)


def test_knn_accuracy_rejects_misaligned_labels(digits):
    z, _, labels = digits
    with pytest.raises(DataError, match=r"labels must have shape \(1797,\)"):
        metrics.knn_accuracy(z, labels[:10])


def test_knn_accuracy_rejects_one_fold(digits):
    z, _, labels = digits
    with pytest.raises(InvalidParameterError, match="'folds' must be an integer >= 2; got 1"):
        metrics.knn_accuracy(z, labels, folds=1)


# --- silhouette ----------------------------------------------------------------------------


def test_silhouette_matches_sklearn(digits):
    z, _, labels = digits
    assert metrics.silhouette(z, labels) == pytest.approx(silhouette_score(z, labels), rel=1e-5)


def test_silhouette_subsample_is_seeded(digits):
    z, _, labels = digits
    first = metrics.silhouette(z, labels, max_samples=500, random_state=4)
    assert first == metrics.silhouette(z, labels, max_samples=500, random_state=4)
    assert first == pytest.approx(silhouette_score(z, labels), abs=0.05)


def test_silhouette_skips_unusable_labels(digits):
    z, _, labels = digits
    assert metrics.silhouette(z, np.zeros(len(z), int)) is None
    assert metrics.silhouette(z, labels.astype(np.float32)) is None


# --- trustworthiness ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 5, 10, 30])
def test_trustworthiness_matches_sklearn(digits, k):
    z, coords, _ = digits
    expected = sklearn_trustworthiness(z, coords, n_neighbors=k)
    assert metrics.trustworthiness(z, coords, k=k) == pytest.approx(expected, abs=1e-6)


def test_trustworthiness_sample_estimates_exact_value(digits):
    z, coords, _ = digits
    exact = metrics.trustworthiness(z, coords, k=10)
    estimate = metrics.trustworthiness(z, coords, k=10, n_queries=1000, random_state=0)
    assert estimate != exact
    assert estimate == pytest.approx(exact, abs=0.01)


def test_trustworthiness_of_identity_map_is_one():
    z = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    assert metrics.trustworthiness(z, z, k=10) == pytest.approx(1.0)


def test_trustworthiness_lowers_k_for_few_points(caplog):
    z = np.random.default_rng(0).normal(size=(7, 4))
    with caplog.at_level(logging.INFO, logger="latentspace.metrics"):
        value = metrics.trustworthiness(z, z[:, :2], k=10)
    assert "k=10 lowered to 3 for 7 points" in caplog.text
    assert value == pytest.approx(sklearn_trustworthiness(z, z[:, :2], n_neighbors=3))


def test_trustworthiness_rejects_two_points():
    with pytest.raises(InvalidParameterError, match="at least 3 points; got 2 point"):
        metrics.trustworthiness(np.zeros((2, 3)), np.zeros((2, 2)))


def test_trustworthiness_rejects_misaligned_inputs():
    with pytest.raises(DataError, match="z has 5 rows but coords has 4"):
        metrics.trustworthiness(np.zeros((5, 3)), np.zeros((4, 2)))


# --- variational autoencoders ---------------------------------------------------------------


def test_kl_per_dimension_matches_gaussian_formula():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(50, 4)).astype(np.float32)
    logvar = rng.normal(scale=0.5, size=(50, 4)).astype(np.float32)
    posterior = torch.distributions.Normal(torch.from_numpy(mu),
                                           torch.exp(0.5 * torch.from_numpy(logvar)))
    prior = torch.distributions.Normal(0.0, 1.0)
    expected = torch.distributions.kl_divergence(posterior, prior).mean(0).numpy()
    np.testing.assert_allclose(metrics.kl_per_dimension(mu, logvar), expected, rtol=1e-5)


def test_kl_per_dimension_is_zero_at_prior():
    kl = metrics.kl_per_dimension(np.zeros((10, 3)), np.zeros((10, 3)))
    np.testing.assert_array_equal(kl, np.zeros(3))


def test_active_units_counts_varying_dimensions():
    rng = np.random.default_rng(0)
    mu = np.stack([rng.normal(scale=1.0, size=1000),      # variance ~1: active
                   rng.normal(scale=0.05, size=1000),     # variance ~0.0025: inactive
                   np.full(1000, 3.0)], axis=1)           # constant: inactive
    assert metrics.active_units(mu) == 1
    assert metrics.active_units(mu, threshold=0.001) == 2
