import numpy as np
import pytest

import latentspace as ls
from latentspace.errors import DataError, InvalidParameterError, NoDecoderError


@pytest.fixture(scope="module")
def digits():
    return ls.load_dataset("digits")


@pytest.fixture(scope="module")
def pca_space(digits):
    return ls.LatentSpace.fit(digits, model="pca", latent_dim=8, seed=0, progress=False)


def test_fit_encodes_every_sample(pca_space, digits):
    assert pca_space.z.shape == (len(digits), 8)
    assert pca_space.z.dtype == np.float32
    assert len(pca_space.train_index) + len(pca_space.val_index) == len(digits)
    assert not set(pca_space.train_index) & set(pca_space.val_index)


def test_same_seed_same_latents(digits):
    subset = digits.subset(np.arange(300))
    options = dict(model="ae", latent_dim=4, seed=3, epochs=3, progress=False)
    first = ls.LatentSpace.fit(subset, **options)
    second = ls.LatentSpace.fit(subset, **options)
    np.testing.assert_array_equal(first.z, second.z)
    third = ls.LatentSpace.fit(subset, **{**options, "seed": 4})
    assert not np.array_equal(first.z, third.z)


def test_interpolate_decodes_endpoints(pca_space):
    for method in ("lerp", "slerp"):
        strip = pca_space.interpolate(0, 42, steps=10, method=method)
        assert strip.shape == (10, 1, 8, 8)
        np.testing.assert_allclose(strip[0], pca_space.reconstruct(0)[0], atol=1e-6)
        np.testing.assert_allclose(strip[-1], pca_space.reconstruct(42)[0], atol=1e-6)
    lerp = pca_space.interpolate(0, 42, steps=5, method="lerp")
    slerp = pca_space.interpolate(0, 42, steps=5, method="slerp")
    assert not np.allclose(lerp[2], slerp[2])


def test_interpolate_between_latent_vectors(pca_space):
    a, b = pca_space.z[1], pca_space.z[2]
    path = pca_space.interpolate(a, b, steps=4, decode=False)
    np.testing.assert_array_equal(path[0], a)
    np.testing.assert_array_equal(path[-1], b)


def test_sample_uses_fitted_gaussian_for_pca(pca_space):
    z = pca_space.sample(2000, seed=0, decode=False)
    mean, _ = pca_space.prior_gaussian()
    np.testing.assert_allclose(z.mean(axis=0), mean, atol=0.3)
    assert pca_space.sample(4, seed=1).shape == (4, 1, 8, 8)
    np.testing.assert_array_equal(pca_space.sample(3, seed=5), pca_space.sample(3, seed=5))


def test_traverse_changes_one_dimension(pca_space):
    images = pca_space.traverse(5, dim=0, values=[-2.0, 0.0, 2.0])
    assert images.shape == (3, 1, 8, 8)
    assert not np.allclose(images[0], images[2])


def test_neighbors_match_brute_force(pca_space):
    indices, distances = pca_space.neighbors(7, k=5)
    brute = np.linalg.norm(pca_space.z - pca_space.z[7], axis=1)
    brute[7] = np.inf
    np.testing.assert_array_equal(indices, np.argsort(brute)[:5])
    np.testing.assert_allclose(distances, np.sort(brute)[:5], rtol=1e-4)
    assert 7 not in indices


def test_walks_reject_bad_input(pca_space):
    with pytest.raises(InvalidParameterError, match="Item 5000 is out of range"):
        pca_space.interpolate(0, 5000)
    with pytest.raises(InvalidParameterError, match="Latents must have 8 values"):
        pca_space.decode(np.zeros(3))
    with pytest.raises(InvalidParameterError, match="NaN or infinite"):
        pca_space.decode(np.full(8, np.nan))
    with pytest.raises(InvalidParameterError, match="k must be an integer from 1"):
        pca_space.neighbors(0, k=0)
    with pytest.raises(InvalidParameterError, match="n must be a positive integer"):
        pca_space.sample(0)


def test_save_load_gives_same_latents_and_decodes(tmp_path, digits):
    subset = digits.subset(np.arange(400))
    space = ls.LatentSpace.fit(subset, model="vae", latent_dim=4, seed=0, epochs=2,
                               progress=False)
    space.project("pca", dims=2)
    space.save(tmp_path / "run")
    loaded = ls.LatentSpace.load(tmp_path / "run", data=subset)
    np.testing.assert_array_equal(loaded.z, space.z)
    np.testing.assert_array_equal(loaded.encode(subset.x), space.z)
    np.testing.assert_array_equal(loaded.decode(space.z[:10]), space.decode(space.z[:10]))
    np.testing.assert_array_equal(loaded.projections["pca-2d"], space.projections["pca-2d"])
    np.testing.assert_array_equal(loaded.val_index, space.val_index)
    assert loaded.history == space.history


def test_load_reloads_builtin_data(tmp_path, pca_space):
    pca_space.save(tmp_path / "run")
    loaded = ls.LatentSpace.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.z, pca_space.z)
    assert loaded.dataset.name == "digits"


def test_run_files_follow_layout(tmp_path, pca_space):
    pca_space.project("pca", dims=3)
    pca_space.save(tmp_path / "run")
    for name in ("run.json", "model.safetensors", "latents.parquet",
                 "projections/pca-3d.parquet"):
        assert (tmp_path / "run" / name).is_file(), name
    assert not list((tmp_path / "run").rglob("*.tmp"))


def test_embeddings_space_has_no_decoder(digits):
    data = ls.Dataset(x=digits.flat()[:100], name="vectors", sample_shape=(64,),
                      labels=digits.labels[:100], label_names=digits.label_names)
    space = ls.LatentSpace.from_embeddings(data)
    assert not space.has_decoder
    assert space.neighbors(0, k=3)[0].shape == (3,)
    with pytest.raises(NoDecoderError, match="no decoder"):
        space.interpolate(0, 1)


def test_user_errors_name_the_fix(digits, tmp_path):
    with pytest.raises(DataError, match="Unknown data set 'digit'.*digits, fashion_mnist"):
        ls.load_dataset("digit")
    with pytest.raises(InvalidParameterError, match="Unknown model 'transformer'.*pca"):
        ls.LatentSpace.fit(digits, model="transformer", progress=False)
    with pytest.raises(InvalidParameterError, match="latent_dim"):
        ls.LatentSpace.fit(digits, model="pca", latent_dim=0, progress=False)
    with pytest.raises(InvalidParameterError, match="latent_dim"):
        ls.LatentSpace.fit(digits, model="ae", latent_dim=65, progress=False)
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        ls.load_dataset("mnist", data_dir=tmp_path / "nowhere")
    with pytest.raises(DataError, match="needs --data-dir"):
        ls.load_dataset("mnist")
