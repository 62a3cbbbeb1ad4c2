"""Data checks run before training: invalid values, sample counts, duplicates, dtypes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from latentspace.data.checks import (
    as_float_array,
    check_dataset,
    check_latent_dim,
    check_n_neighbors,
)
from latentspace.data.dataset import Dataset
from latentspace.errors import DataError, InvalidParameterError


def table(x, **fields) -> Dataset:
    x = np.asarray(x, dtype=np.float32)
    return Dataset(x=x, name="t", sample_shape=x.shape[1:], **fields)


def random_table(n=60, d=5, seed=0, **fields) -> Dataset:
    return table(np.random.default_rng(seed).normal(size=(n, d)), **fields)


def test_clean_data_passes_with_counts():
    data = random_table()

    checked = check_dataset(data)

    assert checked.info["checks"]["n_nan"] == 0
    assert checked.info["checks"]["n_duplicate_samples"] == 0
    assert checked.info["checks"]["warnings"] == []
    np.testing.assert_array_equal(checked.x, data.x)


def test_nan_and_inf_reported_with_positions():
    x = np.random.default_rng(0).normal(size=(60, 3))
    x[3, 1] = np.nan
    x[3, 2] = np.nan
    x[7, 0] = np.inf
    data = table(x, info={"feature_names": ["a", "b", "c"]})

    with pytest.raises(DataError, match=r"2 NaN and 1 infinite values in 2 samples, first at: "
                                        r"sample 3 \(id '3'\), feature 1 \('b'\) = nan") as error:
        check_dataset(data)

    assert "sample 7 (id '7'), feature 0 ('a') = inf" in str(error.value)
    assert "drop_invalid=True (--drop-invalid)" in str(error.value)


def test_nan_in_image_names_pixel_and_file():
    x = np.full((60, 1, 4, 4), 0.5, dtype=np.float32)
    x += np.random.default_rng(0).uniform(0, 0.1, size=x.shape).astype(np.float32)
    x[2, 0, 1, 3] = np.nan
    ids = np.array([f"cats/{i}.png" for i in range(60)])
    data = Dataset(x=x, name="img", sample_shape=(1, 4, 4), ids=ids)

    with pytest.raises(DataError, match=r"sample 2 \(id 'cats/2.png'\), pixel \(channel 0, row 1, "
                                        r"column 3\) = nan"):
        check_dataset(data)


def test_drop_invalid_drops_and_records_rows():
    x = np.random.default_rng(0).normal(size=(60, 3))
    x[[4, 9], 0] = np.nan
    data = table(x, labels=np.arange(60) % 2, label_names=["a", "b"])

    checked = check_dataset(data, drop_invalid=True)

    assert len(checked) == 58
    assert checked.info["dropped_ids"] == ["4", "9"]
    assert checked.info["dropped_rows"] == [4, 9]
    assert np.isfinite(checked.x).all()
    assert len(checked.labels) == 58
    assert "Dropped those 2 samples" in checked.info["checks"]["warnings"][0]


def test_drop_invalid_leaving_nothing_rejected():
    x = np.full((5, 2), np.nan)

    with pytest.raises(DataError, match="is empty after dropping invalid samples"):
        check_dataset(table(x), drop_invalid=True)


def test_empty_input_rejected():
    with pytest.raises(DataError, match="is empty"):
        Dataset(x=np.empty((0, 3), dtype=np.float32), name="none", sample_shape=(3,))


def test_single_sample_rejected():
    with pytest.raises(DataError, match="has 1 sample; a latent space needs at least 4"):
        check_dataset(table([[1.0, 2.0]]))


@pytest.mark.parametrize("n", [2, 3])
def test_two_or_three_samples_too_few_to_train(n):
    data = table(np.arange(n * 2.0).reshape(n, 2))

    with pytest.raises(DataError, match=rf"has {n} samples; train needs at least 4 \(3 to fit"):
        check_dataset(data)


def test_three_samples_enough_to_explore():
    data = table([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])

    checked = check_dataset(data, purpose="explore")

    assert len(checked) == 3
    with pytest.raises(DataError, match="explore needs at least 3"):
        check_dataset(table([[0.0, 1.0], [1.0, 0.0]]), purpose="explore")


def test_few_samples_warned(caplog):
    with caplog.at_level(logging.WARNING):
        checked = check_dataset(random_table(n=10))

    assert "has only 10 samples" in caplog.text
    assert any("only 10 samples" in w for w in checked.info["checks"]["warnings"])


def test_single_class_warned(caplog):
    data = random_table(labels=np.zeros(60, dtype=np.int64), label_names=["only one"])

    with caplog.at_level(logging.WARNING):
        checked = check_dataset(data)

    assert "has a single class, 'only one'" in caplog.text
    assert checked.info["checks"]["n_classes"] == 1


def test_invalid_label_code_rejected():
    data = random_table(labels=np.full(60, 3), label_names=["a", "b"])

    with pytest.raises(DataError, match="label code 3 of sample 0 .* not an index into the 2"):
        check_dataset(data)


def test_constant_features_warned_with_count(caplog):
    x = np.random.default_rng(0).normal(size=(60, 5))
    x[:, 1] = 7.0
    x[:, 3] = 0.0
    data = table(x)

    with caplog.at_level(logging.WARNING):
        checked = check_dataset(data)

    assert checked.info["checks"]["n_constant_features"] == 2
    assert "has 2 constant features of 5 (for example feature 1, feature 3)" in caplog.text


def test_identical_samples_rejected():
    with pytest.raises(DataError, match="All 10 samples of data set 't' are identical"):
        check_dataset(table(np.ones((10, 4))))


def test_duplicates_and_near_duplicates_counted(caplog):
    x = np.random.default_rng(0).normal(size=(60, 4))
    x[10] = x[2]
    x[11] = x[2]
    x[20] = x[5] + 1e-5
    data = table(x)

    with caplog.at_level(logging.WARNING):
        checked = check_dataset(data)

    assert checked.info["checks"]["n_duplicate_samples"] == 2
    assert checked.info["checks"]["n_near_duplicate_samples"] == 1
    assert "2 samples that repeat an earlier one, for example sample 10 (id '10') equals " \
           "sample 2 (id '2')" in caplog.text
    assert "1 more samples that nearly repeat an earlier one" in caplog.text


def test_integer_array_converted_before_arithmetic():
    x = np.array([[250, 10], [5, 255]], dtype=np.uint8)

    converted = as_float_array(x)

    assert converted.dtype == np.float32
    assert converted[0, 0] - converted[1, 1] == -5.0


def test_check_converts_replaced_integer_array():
    data = random_table()
    data.x = (np.random.default_rng(1).integers(0, 255, size=(60, 5))).astype(np.uint8)

    checked = check_dataset(data)

    assert checked.x.dtype == np.float32


def test_large_integers_warned(caplog):
    with caplog.at_level(logging.WARNING):
        as_float_array(np.array([[2**25 + 1, 0]], dtype=np.int64))

    assert "lose precision as float32" in caplog.text


def test_memmap_and_strided_arrays_copied(tmp_path):
    values = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    mapped = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="w+", shape=values.shape)
    mapped[:] = values
    mapped.flush()
    readonly = np.memmap(tmp_path / "x.dat", dtype=np.float32, mode="r", shape=values.shape)
    data = table(values)
    data.x = readonly

    checked = check_dataset(data)

    assert not isinstance(checked.x, np.memmap)
    assert checked.x.flags.writeable
    np.testing.assert_array_equal(checked.x, values)

    data.x = np.random.default_rng(0).normal(size=(60, 16)).astype(np.float32)[:, ::2]
    strided = check_dataset(data)
    assert strided.x.flags.c_contiguous


def test_high_dimension_few_samples_warned(caplog):
    data = random_table(n=60, d=500)

    with caplog.at_level(logging.WARNING):
        check_dataset(data)

    assert "has 500 features but only 60 samples" in caplog.text


def test_labels_kept_verbatim():
    names = ["a,b", 'quote "x"', "猫", "", " spaced ", "line\nbreak"]
    labels = np.arange(60) % len(names)
    data = random_table(labels=labels, label_names=names)

    checked = check_dataset(data)

    assert checked.label_names == names
    assert checked.label_text()[5] == "line\nbreak"


def test_invalid_purpose_rejected():
    with pytest.raises(InvalidParameterError, match="purpose must be one of train, explore"):
        check_dataset(random_table(), purpose="predict")


@pytest.mark.parametrize(
    ("latent_dim", "n_features", "n_samples", "message"),
    [
        (0, 10, None, "at least 1"),
        (2.5, 10, None, "must be an integer"),
        (True, 10, None, "must be an integer"),
        (11, 10, None, "larger than the 10 input features"),
        (8, 10, 5, "larger than the 5 samples"),
    ],
)
def test_check_latent_dim_rejects(latent_dim, n_features, n_samples, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_latent_dim(latent_dim, n_features, n_samples)


def test_check_latent_dim_accepts():
    assert check_latent_dim(np.int64(3), 10, 5) == 3


def test_check_n_neighbors(caplog):
    assert check_n_neighbors(5, 100) == 5
    with caplog.at_level(logging.WARNING):
        assert check_n_neighbors(15, 10) == 9
    assert "n_neighbors=15 is not below the 10 samples; using 9" in caplog.text
    with pytest.raises(InvalidParameterError, match="at least 1"):
        check_n_neighbors(0, 10)
    with pytest.raises(InvalidParameterError, match="at least 2 samples"):
        check_n_neighbors(3, 1)
