"""Table and array loading: .npy, .npz, CSV, Parquet, encodings, embeddings."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from latentspace.data.columns import standardize
from latentspace.data.dataset import Dataset
from latentspace.data.embeddings import load_embeddings
from latentspace.data.tables import load_table
from latentspace.errors import DataError, InvalidParameterError


def test_npy_matrix_standardised_by_default(tmp_path):
    x = np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 500.0]])
    np.save(tmp_path / "x.npy", x)

    data = load_table(tmp_path / "x.npy")

    assert data.sample_shape == (2,)
    np.testing.assert_allclose(data.x.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(data.x.std(axis=0), 1.0, atol=1e-6)
    np.testing.assert_allclose(data.to_original_units(data.x), x, rtol=1e-6)
    assert data.info["standardized"] is True


def test_npy_without_standardisation_keeps_values(tmp_path):
    x = np.arange(12, dtype=np.int64).reshape(4, 3)
    np.save(tmp_path / "ints.npy", x)

    data = load_table(tmp_path / "ints.npy", standardize_features=False)

    np.testing.assert_array_equal(data.x, x.astype(np.float32))
    assert data.feature_mean is None


def test_npy_object_array_rejected(tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)

    with pytest.raises(DataError, match=r"object array \(dtype=object\).*unpickling"):
        load_table(tmp_path / "objects.npy")


def test_pickle_file_rejected(tmp_path):
    import pickle

    (tmp_path / "p.npy").write_bytes(pickle.dumps([1, 2, 3]))

    with pytest.raises(DataError, match="pickled data"):
        load_table(tmp_path / "p.npy")


def test_truncated_npy_rejected(tmp_path):
    np.save(tmp_path / "full.npy", np.ones((100, 10)))
    raw = (tmp_path / "full.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(raw[: len(raw) // 2])

    with pytest.raises(DataError, match="Cannot read .*cut.npy"):
        load_table(tmp_path / "cut.npy")


def test_uint8_image_array_scaled_not_standardised(tmp_path):
    images = np.zeros((5, 6, 7), dtype=np.uint8)
    images[:, 0, 0] = 255
    np.save(tmp_path / "images.npy", images)

    data = load_table(tmp_path / "images.npy")

    assert data.sample_shape == (1, 6, 7)
    assert data.x[0, 0, 0, 0] == 1.0
    assert data.feature_mean is None


def test_channels_last_images_moved_first(tmp_path):
    np.save(tmp_path / "rgb.npy", np.full((3, 4, 5, 3), 0.5, dtype=np.float32))

    data = load_table(tmp_path / "rgb.npy")

    assert data.sample_shape == (3, 4, 5)


def test_float_images_outside_unit_range_rescaled(tmp_path, caplog):
    np.save(tmp_path / "wide.npy", np.linspace(-10, 10, 2 * 3 * 4).reshape(2, 3, 4))

    with caplog.at_level(logging.WARNING):
        data = load_table(tmp_path / "wide.npy")

    assert data.x.min() == 0.0
    assert data.x.max() == 1.0
    assert "outside [0, 1]" in caplog.text


def test_one_dimensional_array_rejected(tmp_path):
    np.save(tmp_path / "flat.npy", np.arange(10.0))

    with pytest.raises(DataError, match=r"1-D array of 10 values is ambiguous.*reshape\(-1, 1\)"):
        load_table(tmp_path / "flat.npy")


def test_text_array_rejected(tmp_path):
    np.save(tmp_path / "words.npy", np.array([["a", "b"], ["c", "d"]]))

    with pytest.raises(DataError, match="is not numeric"):
        load_table(tmp_path / "words.npy")


def test_npy_label_column_index(tmp_path):
    x = np.array([[0.1, 0.2, 1], [0.3, 0.4, 0], [0.5, 0.6, 1]])
    np.save(tmp_path / "labelled.npy", x)

    data = load_table(tmp_path / "labelled.npy", label_column=-1, standardize_features=False)

    assert data.sample_shape == (2,)
    assert data.labels.tolist() == [1, 0, 1]
    assert data.label_names == ["0", "1"]


def test_npz_with_key_labels_ids_and_metadata(tmp_path):
    np.savez(
        tmp_path / "set.npz",
        features=np.arange(8.0).reshape(4, 2),
        y=np.array(["b", "a", "b", "c"]),
        names=np.array(["w", "x", "y", "z"]),
        weight=np.array([0.5, 1.0, 1.5, 2.0]),
        other_shape=np.zeros((2, 2)),
    )

    data = load_table(tmp_path / "set.npz", key="features", label_column="y",
                      id_column="names")

    assert data.label_names == ["a", "b", "c"]
    assert data.labels.tolist() == [1, 0, 1, 2]
    assert list(data.ids) == ["w", "x", "y", "z"]
    np.testing.assert_array_equal(data.metadata["weight"], [0.5, 1.0, 1.5, 2.0])
    assert "other_shape" not in data.metadata


def test_npz_needs_key_when_ambiguous(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.ones((3, 2)), b=np.zeros((3, 2)))

    pattern = r"contains 2 arrays \(a, b\)\. Name the sample array with --key"
    with pytest.raises(DataError, match=pattern):
        load_table(tmp_path / "two.npz")
    with pytest.raises(DataError, match="key 'c' is not an array in the archive"):
        load_table(tmp_path / "two.npz", key="c")


def test_npz_single_array_needs_no_key(tmp_path):
    np.savez(tmp_path / "one.npz", only=np.ones((3, 2)) * np.arange(3)[:, None])

    data = load_table(tmp_path / "one.npz")

    assert data.x.shape == (3, 2)


def test_npz_object_array_rejected(tmp_path):
    np.savez(tmp_path / "mixed.npz", x=np.ones((2, 2)), meta=np.array([None, 1], dtype=object))

    with pytest.raises(DataError, match="array 'meta' in .*mixed.npz is a NumPy object array"):
        load_table(tmp_path / "mixed.npz", key="x")


def test_csv_columns_split_into_features_labels_ids_metadata(tmp_path):
    (tmp_path / "table.csv").write_text(
        "id,height,weight,species,note\n"
        '007,1.5,60,"cat, large",first\n'
        "008,1.7,70,dog,\n"
        '009,1.6,65,"say ""hi""",third\n'
    )

    data = load_table(tmp_path / "table.csv", label_column="species", id_column="id",
                      standardize_features=False)

    assert data.info["feature_names"] == ["height", "weight"]
    np.testing.assert_allclose(data.x, [[1.5, 60], [1.7, 70], [1.6, 65]])
    assert list(data.ids) == ["007", "008", "009"]
    assert data.label_text().tolist() == ["cat, large", "dog", 'say "hi"']
    assert list(data.metadata["note"]) == ["first", "", "third"]
    assert data.info["encoding"] == "utf-8"


def test_csv_label_text_kept_verbatim(tmp_path):
    (tmp_path / "codes.csv").write_text("x,label\n1,01\n2,1\n3,  padded \n4,NA\n5,01\n")

    data = load_table(tmp_path / "codes.csv", label_column="label")

    assert data.label_text().tolist() == ["01", "1", "  padded ", "NA", "01"]


def test_csv_float_labels_continuous(tmp_path):
    (tmp_path / "reg.csv").write_text("x,target\n1,0.5\n2,1.25\n3,2\n")

    data = load_table(tmp_path / "reg.csv", label_column="target")

    assert data.label_names is None
    np.testing.assert_allclose(data.labels, [0.5, 1.25, 2.0])


def test_csv_empty_label_rejected(tmp_path):
    (tmp_path / "gaps.csv").write_text("x,label\n1,a\n2,\n3,b\n")

    with pytest.raises(DataError, match=r"label is empty in 1 rows \(data rows 1,"):
        load_table(tmp_path / "gaps.csv", label_column="label")


def test_csv_duplicate_ids_rejected(tmp_path):
    (tmp_path / "dup.csv").write_text("key,x\na,1\nb,2\na,3\n")

    with pytest.raises(DataError, match="1 ids occur more than once, for example a"):
        load_table(tmp_path / "dup.csv", id_column="key")


def test_csv_missing_cells_become_nan(tmp_path):
    (tmp_path / "holes.csv").write_text("a,b\n1,2\n,4\n5,NaN\n")

    data = load_table(tmp_path / "holes.csv", standardize_features=False)

    assert np.isnan(data.x[1, 0])
    assert np.isnan(data.x[2, 1])
    assert data.x[0, 1] == 2.0


def test_csv_typo_in_numeric_column_rejected(tmp_path):
    rows = "\n".join(f"{i},{i * 1.5}" for i in range(40))
    (tmp_path / "typo.csv").write_text(f"a,b\n{rows}\n40,1O.5\n")

    with pytest.raises(DataError, match=r"column 'b' is numeric except for 1 cells: "
                                        r"'1O.5' \(data row 40\)"):
        load_table(tmp_path / "typo.csv")


def test_csv_named_text_feature_rejected_with_row(tmp_path):
    (tmp_path / "words.csv").write_text("a,b\n1,x\n2,3\n")

    with pytest.raises(DataError, match=r"contains 'x' at data row 0"):
        load_table(tmp_path / "words.csv", feature_columns=["a", "b"])


def test_csv_without_numeric_columns_rejected(tmp_path):
    (tmp_path / "text.csv").write_text("name,colour\na,red\nb,blue\n")

    with pytest.raises(DataError, match=r"no numeric feature columns. Columns: name \(string\)"):
        load_table(tmp_path / "text.csv")


def test_csv_unknown_label_column_rejected(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")

    pattern = r"label column 'y' \(--label-column\) not found. Columns: a \(int64\), b"
    with pytest.raises(DataError, match=pattern):
        load_table(tmp_path / "t.csv", label_column="y")


def test_csv_empty_and_header_only_rejected(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("a,b\n")

    with pytest.raises(DataError, match="is empty"):
        load_table(tmp_path / "empty.csv")
    with pytest.raises(DataError, match="has a header but no data rows"):
        load_table(tmp_path / "header.csv")


def test_csv_ragged_row_rejected(tmp_path):
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")

    with pytest.raises(DataError, match="Cannot parse CSV file .*Expected 2 columns"):
        load_table(tmp_path / "ragged.csv")


@pytest.mark.parametrize(
    ("file_name", "text", "delimiter"),
    [
        ("semi.csv", "a;b\n1.5;2\n3;4\n", ";"),
        ("tabs.tsv", "a\tb\n1\t2\n3\t4\n", "\t"),
        ("pipes.csv", "a|b\n1|2\n3|4\n", "|"),
    ],
)
def test_csv_delimiter_detected(tmp_path, file_name, text, delimiter):
    (tmp_path / file_name).write_text(text)

    data = load_table(tmp_path / file_name, standardize_features=False)

    assert data.info["delimiter"] == delimiter
    assert data.n_features == 2


def test_csv_gzip(tmp_path):
    with gzip.open(tmp_path / "packed.csv.gz", "wt") as handle:
        handle.write("a,b\n1,2\n3,4\n")

    data = load_table(tmp_path / "packed.csv.gz", standardize_features=False)

    assert data.name == "packed"
    np.testing.assert_array_equal(data.x, [[1, 2], [3, 4]])


ENCODED_TEXT = "x,label\n1,café\n2,naïve\n3,Ærø\n"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32"])
def test_csv_with_byte_order_mark(tmp_path, encoding):
    raw = ENCODED_TEXT.encode(encoding)
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + raw
    (tmp_path / "bom.csv").write_bytes(raw)

    data = load_table(tmp_path / "bom.csv", label_column="label")

    assert data.label_text().tolist() == ["café", "naïve", "Ærø"]
    assert data.info["feature_names"] == ["x"]


def test_csv_cp1252_detected_with_notice(tmp_path, caplog):
    (tmp_path / "windows.csv").write_bytes("x,label\n1,café €\n2,b\n".encode("cp1252"))

    with caplog.at_level(logging.WARNING):
        data = load_table(tmp_path / "windows.csv", label_column="label")

    assert data.label_text().tolist() == ["café €", "b"]
    assert data.info["encoding"] == "cp1252"
    notice = "not valid UTF-8 (byte 0xe9 at line 2, byte offset 13), so it was read as cp1252"
    assert notice in caplog.text


def test_csv_latin1_fallback(tmp_path, caplog):
    # 0x81 is undefined in cp1252, so only Latin-1 decodes this file.
    (tmp_path / "latin.csv").write_bytes(b"x,label\n1,a\x81\n2,b\n")

    with caplog.at_level(logging.WARNING):
        data = load_table(tmp_path / "latin.csv", label_column="label")

    assert data.info["encoding"] == "latin-1"
    assert data.label_text().tolist() == ["a\x81", "b"]


def test_csv_explicit_encoding_failure_names_offset(tmp_path):
    (tmp_path / "bad.csv").write_bytes(b"x,label\n1,a\n2,caf\xe9\n")

    with pytest.raises(DataError, match=r"not valid utf-8: bytes .* at line 3, byte offset 17"):
        load_table(tmp_path / "bad.csv", encoding="utf-8")


def test_csv_utf16_without_bom_rejected(tmp_path):
    (tmp_path / "nobom.csv").write_bytes(ENCODED_TEXT.encode("utf-16-le"))

    with pytest.raises(DataError, match="NUL byte at line 1, byte offset 1 .* "
                                        "--encoding utf-16-le"):
        load_table(tmp_path / "nobom.csv")

    data = load_table(tmp_path / "nobom.csv", encoding="utf-16-le", label_column="label")
    assert data.label_text().tolist() == ["café", "naïve", "Ærø"]


def test_csv_unknown_encoding_rejected(tmp_path):
    (tmp_path / "t.csv").write_text("a\n1\n2\n")

    with pytest.raises(InvalidParameterError, match="Unknown text encoding 'klingon'"):
        load_table(tmp_path / "t.csv", encoding="klingon")


def test_large_integers_warn_about_float32(tmp_path, caplog):
    (tmp_path / "big.csv").write_text("a,b\n1,123456789\n2,5\n")

    with caplog.at_level(logging.WARNING):
        load_table(tmp_path / "big.csv")

    assert "integers above 2**24" in caplog.text


def test_parquet_table(tmp_path):
    table = pa.table({
        "f1": [0.0, 1.0, 2.0],
        "f2": pa.array([1, None, 3], type=pa.int32()),
        "group": ["x", "y", "x"],
        "flag": [True, False, True],
    })
    pq.write_table(table, tmp_path / "t.parquet")

    data = load_table(tmp_path / "t.parquet", label_column="group", standardize_features=False)

    assert data.info["feature_names"] == ["f1", "f2"]
    assert np.isnan(data.x[1, 1])
    assert data.label_names == ["x", "y"]
    assert list(data.metadata["flag"]) == ["True", "False", "True"]


def test_corrupt_parquet_rejected(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")

    with pytest.raises(DataError, match="Cannot read Parquet file"):
        load_table(tmp_path / "broken.parquet")


def test_unsupported_suffix_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unsupported table format. Use one of: .csv"):
        load_table(tmp_path / "data.xlsx")
    with pytest.raises(DataError, match="File not found"):
        load_table(tmp_path / "absent.csv")


def test_standardize_handles_constant_and_nan():
    x = np.array([[1.0, 5.0, np.nan], [3.0, 5.0, 2.0], [5.0, 5.0, 4.0]], dtype=np.float32)
    data = Dataset(x=x, name="t", sample_shape=(3,))

    result = standardize(data)

    np.testing.assert_allclose(result.feature_scale[1], 1.0)
    np.testing.assert_allclose(result.x[:, 1], 0.0)
    assert np.isnan(result.x[0, 2])
    np.testing.assert_allclose(result.x[1:, 2], [-1.0, 1.0])
    assert standardize(result) is result


def test_embeddings_from_csv_keep_units(tmp_path):
    (tmp_path / "emb.csv").write_text(
        "item,z0,z1,kind\nq1,0.5,-2.0,a\nq2,1.5,3.0,b\nq3,-1.0,0.0,a\n")

    data = load_embeddings(tmp_path / "emb.csv", label_column="kind", id_column="item")

    assert data.info["embeddings"] is True
    np.testing.assert_array_equal(data.x, [[0.5, -2.0], [1.5, 3.0], [-1.0, 0.0]])
    assert data.feature_mean is None
    assert list(data.ids) == ["q1", "q2", "q3"]
    assert data.label_names == ["a", "b"]


def test_embeddings_from_npz(tmp_path):
    np.savez(tmp_path / "z.npz", z=np.random.default_rng(0).normal(size=(6, 4)),
             labels=np.array([0, 1, 0, 1, 2, 2]))

    data = load_embeddings(tmp_path / "z.npz", label_column="labels")

    assert data.x.shape == (6, 4)
    assert data.label_names == ["0", "1", "2"]


def test_embeddings_must_be_vectors(tmp_path):
    np.save(tmp_path / "cube.npy", np.zeros((4, 5, 6), dtype=np.uint8))

    with pytest.raises(DataError, match="embeddings must be a 2-D array"):
        load_embeddings(tmp_path / "cube.npy")


@pytest.mark.parametrize(("features", "message"), [
    (["a", "a"], r"--feature-columns names 'a' more than once"),
    (["a", "y"], r"column 'y' is the label column and cannot also be a feature"),
])
def test_feature_columns_checked(tmp_path, features, message):
    (tmp_path / "t.csv").write_text("a,b,y\n1,2,3\n4,5,6\n7,8,9\n")
    with pytest.raises(DataError, match=message):
        load_table(tmp_path / "t.csv", label_column="y", feature_columns=features)


def test_utf16_big_endian_hint(tmp_path):
    (tmp_path / "be.csv").write_bytes("a,b\n1,2\n".encode("utf-16-be"))
    with pytest.raises(DataError, match="probably --encoding utf-16-be"):
        load_table(tmp_path / "be.csv")


@pytest.mark.parametrize("delimiter", [";", "\\t"])
def test_explicit_delimiter(tmp_path, delimiter):
    separator = "\t" if delimiter == "\\t" else delimiter
    (tmp_path / "t.csv").write_text(f"a{separator}b\n1{separator}2\n3{separator}4\n")
    data = load_table(tmp_path / "t.csv", delimiter=delimiter, standardize_features=False)
    assert data.x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_long_delimiter_rejected(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidParameterError, match="Invalid delimiter ';;'; give one character"):
        load_table(tmp_path / "t.csv", delimiter=";;")
