import numpy as np
import pytest

from latentspace.errors import InvalidParameterError
from latentspace.walks import interpolate_latents, lerp, slerp, traverse_latent


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    return rng.standard_normal(8).astype(np.float32), rng.standard_normal(8).astype(np.float32)


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_endpoints_exact(pair, method):
    a, b = pair
    path = interpolate_latents(a, b, steps=7, method=method)
    assert path.shape == (7, 8)
    assert np.array_equal(path[0], a)
    assert np.array_equal(path[-1], b)


def test_lerp_midpoint_is_mean(pair):
    a, b = pair
    path = lerp(a, b, 3)
    np.testing.assert_allclose(path[1], (a + b) / 2, rtol=1e-6)


def test_slerp_keeps_equal_norms(pair):
    a, b = pair
    b = b / np.linalg.norm(b) * np.linalg.norm(a)
    norms = np.linalg.norm(slerp(a, b, 11), axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(a), rtol=1e-5)


def test_slerp_norm_changes_linearly(pair):
    a, b = pair
    norms = np.linalg.norm(slerp(a, 3 * b, 5), axis=1)
    expected = np.linspace(np.linalg.norm(a), np.linalg.norm(3 * b), 5)
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


def test_lerp_shrinks_norm_between_orthogonal():
    a = np.array([1.0, 0.0], dtype=np.float32)
    b = np.array([0.0, 1.0], dtype=np.float32)
    assert np.linalg.norm(lerp(a, b, 3)[1]) == pytest.approx(np.sqrt(0.5))
    assert np.linalg.norm(slerp(a, b, 3)[1]) == pytest.approx(1.0)


def test_slerp_parallel_falls_back_to_lerp():
    a = np.array([1.0, 2.0], dtype=np.float32)
    np.testing.assert_allclose(slerp(a, 2 * a, 3), lerp(a, 2 * a, 3))


def test_interpolation_rejects_bad_input(pair):
    a, b = pair
    with pytest.raises(InvalidParameterError, match="Unknown interpolation method 'cubic'"):
        interpolate_latents(a, b, method="cubic")
    with pytest.raises(InvalidParameterError, match="steps must be an integer of at least 2"):
        interpolate_latents(a, b, steps=1)
    with pytest.raises(InvalidParameterError, match="different sizes 8 and 3"):
        interpolate_latents(a, b[:3])


def test_traverse_sets_one_dimension(pair):
    a, _ = pair
    path = traverse_latent(a, 2, [-1.0, 0.0, 1.0])
    assert path.shape == (3, 8)
    np.testing.assert_array_equal(path[:, 2], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(np.delete(path, 2, axis=1), np.tile(np.delete(a, 2), (3, 1)))
    with pytest.raises(InvalidParameterError, match="dimensions 0 to 7"):
        traverse_latent(a, 8, [0.0])
