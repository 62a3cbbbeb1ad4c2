import numpy as np
import pytest

from latentspace import store
from latentspace.errors import RunDirectoryError


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "run.json"
    store.write_json(target, {"epoch": 1})
    with pytest.raises(RuntimeError), store.atomic_path(target) as temporary:
        temporary.write_text("half written")
        raise RuntimeError("interrupted")
    assert store.read_json(target) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_json_writes_nan_as_null(tmp_path):
    store.write_json(tmp_path / "a.json", {"x": float("nan"), "y": np.float32(2.5)})
    assert store.read_json(tmp_path / "a.json") == {"x": None, "y": 2.5}


def test_parquet_round_trip(tmp_path):
    z = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ids = np.array(["a", "b", "c", "d", "<img src=x>"], dtype=object)
    store.write_parquet(tmp_path / "t.parquet", {"id": ids, "label": np.arange(5), "z": z})
    table = store.read_parquet(tmp_path / "t.parquet")
    assert table["id"].tolist() == ids.tolist()
    assert table["label"].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(table["z"], z)


def test_parquet_opens_without_latentspace(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    z = np.ones((2, 4), dtype=np.float32)
    store.write_parquet(tmp_path / "t.parquet", {"z": z})
    column = pq.read_table(tmp_path / "t.parquet").column("z")
    assert column.type.list_size == 4


def test_missing_and_corrupt_files_raise(tmp_path):
    with pytest.raises(RunDirectoryError, match="File not found"):
        store.read_safetensors(tmp_path / "model.safetensors")
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(RunDirectoryError, match="not a readable safetensors file"):
        store.read_safetensors(tmp_path / "model.safetensors")
    (tmp_path / "run.json").write_text("{")
    with pytest.raises(RunDirectoryError, match="not valid JSON"):
        store.read_json(tmp_path / "run.json")
