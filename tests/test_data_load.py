"""The single entry point `load_data`: built-in names, folders and files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentspace.data.load import load_data
from latentspace.errors import DataError, InvalidParameterError


def make_folder(root, n=6):
    for index in range(n):
        folder = root / ("even" if index % 2 == 0 else "odd")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((6, 6), 30 * index, dtype=np.uint8)).save(folder / f"{index}.png")


def test_builtin_name_loaded():
    data = load_data("digits", n_samples=50)

    assert data.x.shape == (50, 1, 8, 8)


def test_folder_loaded_as_images(tmp_path):
    make_folder(tmp_path / "pics")

    data = load_data(str(tmp_path / "pics"), cache_dir=tmp_path / "cache", progress=False,
                     channels=None, key=None)

    assert data.x.shape == (6, 1, 6, 6)
    assert data.label_names == ["even", "odd"]


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".parquet"])
def test_table_files_dispatched(tmp_path, suffix):
    x = np.random.default_rng(0).normal(size=(5, 3))
    path = tmp_path / f"table{suffix}"
    if suffix == ".npy":
        np.save(path, x)
    elif suffix == ".npz":
        np.savez(path, x=x)
    else:
        import pyarrow as pa
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq

        table = pa.table({f"f{i}": x[:, i] for i in range(3)})
        (pq.write_table if suffix == ".parquet" else pa_csv.write_csv)(table, path)

    data = load_data(path, standardize_features=False)

    assert data.x.shape == (5, 3)
    np.testing.assert_allclose(data.x, x, rtol=1e-6)


def test_embeddings_flag(tmp_path):
    np.save(tmp_path / "z.npy", np.arange(12.0).reshape(4, 3))

    data = load_data(tmp_path / "z.npy", embeddings=True)

    assert data.info["embeddings"] is True
    np.testing.assert_array_equal(data.x[1], [3.0, 4.0, 5.0])


def test_relative_path_found_in_data_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "store").mkdir()
    np.save(tmp_path / "store" / "x.npy", np.eye(4))

    data = load_data("x.npy", data_dir=tmp_path / "store")

    assert data.x.shape == (4, 4)


def test_unknown_spec_lists_names_and_formats(tmp_path):
    with pytest.raises(DataError, match=r"neither a built-in data set \(coil20, digits, "
                                        r".*\) nor an existing file or folder .*\.parquet"):
        load_data(str(tmp_path / "nothing.bin"))


def test_single_image_file_rejected(tmp_path):
    Image.new("L", (4, 4)).save(tmp_path / "one.png")

    with pytest.raises(DataError, match="is a single image. Put the images in a folder"):
        load_data(tmp_path / "one.png")


def test_options_checked_against_source(tmp_path):
    make_folder(tmp_path / "pics")
    np.save(tmp_path / "x.npy", np.eye(4))

    with pytest.raises(InvalidParameterError, match="Option key does not apply to .*image folders"):
        load_data(tmp_path / "pics", key="x")
    with pytest.raises(InvalidParameterError, match="Option skip_bad does not apply"):
        load_data(tmp_path / "x.npy", skip_bad=True)
    with pytest.raises(InvalidParameterError, match="Option label_column applies to files and "
                                                    "folders, not to the built-in data set"):
        load_data("digits", label_column="y")
    with pytest.raises(DataError, match="embeddings are read from a .npy"):
        load_data(tmp_path / "pics", embeddings=True)


def test_n_samples_takes_seeded_subset_of_files(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(40.0).reshape(20, 2))

    first = load_data(tmp_path / "x.npy", n_samples=5, seed=3, standardize_features=False)
    second = load_data(tmp_path / "x.npy", n_samples=5, seed=3, standardize_features=False)

    np.testing.assert_array_equal(first.x, second.x)
    assert len(first) == 5
    assert list(first.ids) == sorted(first.ids, key=int)
    assert first.info["subset"] == {"n_samples": 5, "seed": 3}


def make_flat_folder(root, n=6):
    root.mkdir(parents=True)
    for index in range(n):
        Image.fromarray(np.full((6, 6), 30 * index, dtype=np.uint8)).save(root / f"{index}.png")
    return "file,label\n" + "".join(f"{i}.png,{'ab'[i % 2]}\n" for i in range(n))


def test_relative_folder_finds_its_labels_csv(tmp_path, monkeypatch):
    rows = make_flat_folder(tmp_path / "imgs")
    (tmp_path / "imgs" / "labels.csv").write_text(rows)
    monkeypatch.chdir(tmp_path)

    data = load_data("imgs", cache=False, progress=False)

    assert data.label_text().tolist() == ["a", "b", "a", "b", "a", "b"]


@pytest.mark.parametrize("where", ["working folder", "image folder"])
def test_relative_labels_csv_found(tmp_path, monkeypatch, where):
    rows = make_flat_folder(tmp_path / "imgs")
    csv = tmp_path / "pics.csv" if where == "working folder" else tmp_path / "imgs" / "pics.csv"
    csv.write_text(rows)
    monkeypatch.chdir(tmp_path)

    data = load_data("./imgs", labels_csv="pics.csv", cache=False, progress=False)

    assert len(data) == 6
    assert data.label_text()[1] == "b"
    recorded = data.info["source"]["options"]["labels_csv"]
    if where == "image folder":
        assert recorded == "pics.csv"  # relative to the folder, so a moved folder still works
    else:
        assert recorded == str(csv)


def test_missing_labels_csv_says_where_it_looked(tmp_path, monkeypatch):
    make_flat_folder(tmp_path / "imgs")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="looked up from the working folder first"):
        load_data("imgs", labels_csv="nowhere.csv", cache=False, progress=False)


def test_images_missing_from_csv_are_logged(tmp_path, caplog):
    rows = make_flat_folder(tmp_path / "imgs")
    (tmp_path / "imgs" / "labels.csv").write_text("\n".join(rows.splitlines()[:5]) + "\n")

    data = load_data(str(tmp_path / "imgs"), cache=False, progress=False)

    assert len(data) == 4
    assert "2 images in" in caplog.text
    assert "are left out, for example 4.png, 5.png" in caplog.text
