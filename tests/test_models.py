"""Tests for the latent models: shapes, losses, saving, validation and quality floors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from latentspace.data import load_dataset
from latentspace.errors import DataError, InvalidParameterError, RunDirectoryError
from latentspace.models import MODELS, build_model, load_model, model_from_config
from latentspace.models.base import reconstruction_loss

MNIST_DIR = "/work/shared/data/mnist"

IMAGE_SHAPES = [(1, 8, 8), (1, 28, 28), (1, 28, 20), (1, 64, 64), (3, 32, 32)]
VECTOR_SHAPES = [(3,), (20,)]
CASES = [(name, shape) for name in MODELS for shape in IMAGE_SHAPES] + [
    (name, shape) for name in MODELS if not name.startswith("conv") for shape in VECTOR_SHAPES
]


def fitted_model(name: str, shape: tuple[int, ...], latent_dim: int = 2, seed: int = 0):
    """Build a model; PCA is fitted on random data so that its buffers are not all zero."""
    model = build_model(name, shape, latent_dim, seed=seed)
    if name == "pca":
        model.fit_closed_form(torch.rand(50, *shape, generator=torch.Generator().manual_seed(1)))
    return model.eval()


def knn_accuracy(z: np.ndarray, labels: np.ndarray) -> float:
    """Mean 5-fold accuracy of a 10-nearest-neighbour classifier on the latents."""
    folds = KFold(5, shuffle=True, random_state=0)
    return float(cross_val_score(KNeighborsClassifier(10), z, labels, cv=folds).mean())


@pytest.mark.parametrize(("name", "shape"), CASES)
def test_model_shapes_round_trip(name, shape):
    model = fitted_model(name, shape, latent_dim=3)
    x = torch.rand(5, *shape)
    z = model.encode(x)
    decoded = model.decode(z)
    losses = model.loss(x)

    assert z.shape == (5, 3)
    assert decoded.shape == x.shape
    assert losses["loss"].ndim == 0
    assert torch.isfinite(losses["loss"])
    assert ("kl" in losses) == model.is_variational


@pytest.mark.parametrize("name", list(MODELS))
def test_model_image_output_in_unit_range(name):
    model = fitted_model(name, (1, 8, 8))
    decoded = model.decode(torch.randn(20, 2) * 5)
    assert decoded.min() >= 0
    assert decoded.max() <= 1


@pytest.mark.parametrize(("name", "shape"), [(n, (1, 28, 20)) for n in MODELS] + [("vae", (3,))])
def test_save_load_identical_outputs(name, shape, tmp_path):
    model = fitted_model(name, shape)
    x = torch.rand(6, *shape)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = load_model(path)

    assert loaded.config == model.config
    assert type(loaded) is type(model)
    torch.testing.assert_close(loaded.encode(x), model.encode(x), rtol=0, atol=0)
    torch.testing.assert_close(loaded.reconstruct(x), model.reconstruct(x), rtol=0, atol=0)
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("name", list(MODELS))
def test_config_round_trip(name):
    model = build_model(name, (1, 28, 28), 4, seed=0)
    rebuilt = model_from_config(model.config)
    assert rebuilt.config == model.config
    assert model.config["model"] == name
    assert model.config["latent_dim"] == 4


@pytest.mark.parametrize("name", ["ae", "conv-ae", "vae", "conv-vae"])
def test_build_seed_repeats_weights(name):
    first = build_model(name, (1, 8, 8), 2, seed=3).state_dict()
    second = build_model(name, (1, 8, 8), 2, seed=3).state_dict()
    other = build_model(name, (1, 8, 8), 2, seed=4).state_dict()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    assert any(not torch.equal(first[k], other[k]) for k in first)


def test_build_seed_keeps_global_random_state():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    build_model("ae", (4,), 2, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_conv_sizes_adapt_to_image():
    small = build_model("conv-ae", (1, 8, 8), 2)
    mnist = build_model("conv-ae", (1, 28, 28), 2)
    faces = build_model("conv-ae", (1, 64, 64), 2)
    assert small.config["channels"] == [32]
    assert mnist.config["channels"] == [32, 64]
    assert faces.config["channels"] == [32, 64, 128, 256]
    custom = build_model("conv-vae", (1, 28, 20), 2, channels=[8, 8, 8])
    assert custom.decode(torch.zeros(1, 2)).shape == (1, 1, 28, 20)


def test_vae_encode_returns_posterior_mean():
    model = fitted_model("vae", (1, 8, 8))
    x = torch.rand(4, 1, 8, 8)
    mu, logvar = model.encode_distribution(x)
    assert torch.equal(model.encode(x), mu)
    assert logvar.shape == mu.shape


def test_vae_loss_weights_kl_by_beta():
    model = build_model("vae", (1, 8, 8), 2, beta=4.0, seed=0).eval()
    losses = model.loss(torch.rand(4, 1, 8, 8))
    torch.testing.assert_close(losses["loss"], losses["recon"] + 4.0 * losses["kl"])


def test_vae_samples_only_in_training_mode():
    model = build_model("vae", (1, 8, 8), 2, seed=0)
    x = torch.rand(8, 1, 8, 8)
    model.eval()
    assert torch.equal(model.loss(x)["recon"], model.loss(x)["recon"])
    model.train()
    assert not torch.equal(model.loss(x)["recon"], model.loss(x)["recon"])


def test_reconstruction_loss_bernoulli_is_summed_bce():
    logits, x = torch.randn(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    expected = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="none").sum((1, 2, 3))
    torch.testing.assert_close(reconstruction_loss(logits, x, "bernoulli"), expected)


def test_reconstruction_loss_gaussian_is_summed_squared_error():
    output, x = torch.randn(3, 5), torch.randn(3, 5)
    expected = ((output - x) ** 2).sum(1)
    torch.testing.assert_close(reconstruction_loss(output, x, "gaussian"), expected)


def test_likelihood_defaults_follow_input_shape():
    assert build_model("ae", (1, 8, 8), 2).config["likelihood"] == "bernoulli"
    assert build_model("vae", (3,), 2).config["likelihood"] == "gaussian"


def test_pca_matches_scikit_learn():
    data = load_dataset("digits")
    model = build_model("pca", data.sample_shape, 8)
    model.fit_closed_form(torch.from_numpy(data.x))
    reference = SklearnPCA(n_components=8).fit(data.flat())

    z = model.encode(torch.from_numpy(data.x)).numpy()
    expected = reference.transform(data.flat())
    signs = np.sign((z * expected).sum(0))
    np.testing.assert_allclose(z * signs, expected, atol=1e-4)


def test_unknown_model_lists_valid_names():
    with pytest.raises(InvalidParameterError, match="Unknown model 'gan'. Valid models: pca, ae"):
        build_model("gan", (1, 8, 8), 2)


@pytest.mark.parametrize("latent_dim", [0, -1, 65, 2.5, True])
def test_latent_dim_out_of_range(latent_dim):
    pattern = r"latent_dim must be an integer in \[1, 64\], got .*The input has 64 features"
    with pytest.raises(InvalidParameterError, match=pattern):
        build_model("ae", (1, 8, 8), latent_dim)


@pytest.mark.parametrize(("name", "dense"), [("conv-ae", "ae"), ("conv-vae", "vae")])
def test_conv_model_on_vectors(name, dense):
    pattern = (rf"'{name}' needs images .* input shape is \(3,\)\. "
               rf"Use model '{dense}' \(--model {dense}\)")
    with pytest.raises(InvalidParameterError, match=pattern):
        build_model(name, (3,), 2)


def test_unknown_option_lists_accepted():
    with pytest.raises(InvalidParameterError, match="does not take the option.*beta.*hidden_dims"):
        build_model("ae", (4,), 2, beta=2.0)


@pytest.mark.parametrize("beta", [-1.0, float("nan"), "high"])
def test_invalid_beta(beta):
    with pytest.raises(InvalidParameterError, match="beta must be a number >= 0"):
        build_model("vae", (4,), 2, beta=beta)


def test_invalid_likelihood():
    with pytest.raises(InvalidParameterError, match="likelihood must be one of bernoulli, gauss"):
        build_model("ae", (4,), 2, likelihood="poisson")


def test_invalid_hidden_dims():
    pattern = r"hidden_dims\[1\] must be an integer >= 1, got 0"
    with pytest.raises(InvalidParameterError, match=pattern):
        build_model("ae", (4,), 2, hidden_dims=[16, 0])


def test_bernoulli_rejects_data_outside_unit_range():
    model = build_model("ae", (1, 8, 8), 2)
    with pytest.raises(DataError, match="likelihood='bernoulli' needs values in \\[0, 1\\]"):
        model.check_data(torch.full((2, 1, 8, 8), 2.0), "x_train")


def test_check_data_rejects_wrong_shape():
    model = build_model("ae", (1, 8, 8), 2)
    with pytest.raises(DataError, match=r"shape \(64,\), but the ae model was built for"):
        model.check_data(torch.zeros(2, 64), "x_train")


def test_pca_needs_enough_samples():
    model = build_model("pca", (10,), 5)
    with pytest.raises(InvalidParameterError, match="needs at least 5 samples to fit PCA, got 3"):
        model.fit_closed_form(torch.rand(3, 10))


def test_load_model_missing_file(tmp_path):
    with pytest.raises(RunDirectoryError, match="Model file not found"):
        load_model(tmp_path / "absent.safetensors")
