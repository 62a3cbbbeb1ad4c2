"""Quality floors on real data, through the same path as `latentspace train`."""

import numpy as np
import pytest

import latentspace as ls


def fit_scores(data, model, latent_dim, **options):
    space = ls.LatentSpace.fit(data, model=model, latent_dim=latent_dim, seed=0,
                               progress=False, **options)
    metrics = space.evaluate()
    scores = metrics["reconstruction"]["mse"], metrics["latent"]["knn_accuracy"]
    print(f"{data.name} {model}-{latent_dim}: held-out MSE {scores[0]:.5f}, "
          f"kNN accuracy {scores[1]:.4f}")
    return scores


@pytest.fixture(scope="module")
def digits_scores():
    data = ls.load_dataset("digits")
    return {model: fit_scores(data, model, 8) for model in ("pca", "ae", "vae")}


def test_digits_ae_halves_pca_error(digits_scores):
    assert digits_scores["ae"][0] <= 0.5 * digits_scores["pca"][0]


@pytest.mark.parametrize("model", ["ae", "vae"])
def test_digits_knn_at_least_pca(digits_scores, model):
    assert digits_scores[model][1] >= digits_scores["pca"][1]


def test_mnist_conv_ae_floors(mnist_dir):
    data = ls.load_dataset("mnist", data_dir=mnist_dir)
    assert len(data) == 10_000
    # val_fraction=0.2 gives 8,000 training and 2,000 held-out images. 20 epochs keep the
    # test near two minutes on 2 CPU cores; the validation loss is still falling then.
    pca_mse, _ = fit_scores(data, "pca", 16, val_fraction=0.2)
    mse, knn = fit_scores(data, "conv-ae", 16, val_fraction=0.2, epochs=20)
    assert knn >= 0.95
    assert mse < pca_mse
    assert np.isfinite(mse)
