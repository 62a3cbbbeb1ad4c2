"""Real data sets: loaders on the shared test files, IDX sets, and verified downloads."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from latentspace.data import realsets
from latentspace.data.builtin import BUILTIN, load_dataset
from latentspace.data.download import sha256_of
from latentspace.errors import DataError


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        QuietHandler.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1 and return its base URL."""
    servers = []

    def start(folder: Path) -> str:
        QuietHandler.requests = []
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_frey_faces_loaded(shared_data):
    data = load_dataset("frey_faces", data_dir=shared_data)

    assert data.x.shape == (1965, 1, 28, 20)
    assert data.labels is None
    assert data.x.min() == pytest.approx(8 / 255)
    assert data.x.max() == pytest.approx(238 / 255)


def test_olivetti_faces_loaded(shared_data):
    data = load_dataset("olivetti_faces", data_dir=shared_data / "olivetti_faces")

    assert data.x.shape == (400, 1, 64, 64)
    assert data.label_names[:2] == ["s1", "s2"]
    assert np.bincount(data.labels).tolist() == [10] * 40
    assert data.x.max() == pytest.approx(242 / 255)


def test_coil20_loaded(shared_data):
    data = load_dataset("coil20", data_dir=shared_data, n_samples=100)
    full = load_dataset("coil20", data_dir=shared_data)

    assert len(data) == 100
    assert full.x.shape == (1440, 1, 32, 32)
    assert np.bincount(full.labels).tolist() == [72] * 20
    assert full.label_names[19] == "obj20"


def write_idx(folder: Path, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    header = np.array([0x803, *images.shape], dtype=">u4").tobytes()
    with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as handle:
        handle.write(header + images.astype(np.uint8).tobytes())
    with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as handle:
        handle.write(np.array([0x801, len(labels)], dtype=">u4").tobytes()
                     + labels.astype(np.uint8).tobytes())


@pytest.mark.parametrize(("name", "first_class"), [("fashion_mnist", "T-shirt/top"),
                                                    ("kmnist", "お (o)")])
def test_idx_sets_prefer_training_split(tmp_path, name, first_class):
    rng = np.random.default_rng(0)
    folder = tmp_path / name
    write_idx(folder, "t10k", rng.integers(0, 256, (6, 28, 28)), np.arange(6) % 10)
    test_only = load_dataset(name, data_dir=tmp_path)
    write_idx(folder, "train", rng.integers(0, 256, (12, 28, 28)), np.arange(12) % 10)

    data = load_dataset(name, data_dir=folder)

    assert test_only.info["split"] == "test"
    assert len(test_only) == 6
    assert data.info["split"] == "train"
    assert data.x.shape == (12, 1, 28, 28)
    assert data.label_names[0] == first_class


def test_missing_files_name_download_command(tmp_path):
    with pytest.raises(DataError, match=r"Frey faces files not found: looked for "
                                        r"frey_rawface.mat .*latentspace download frey_faces"):
        load_dataset("frey_faces", data_dir=tmp_path)


def test_wrong_mat_file_rejected(tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "frey_rawface.mat", {"other": np.zeros((3, 3))})

    with pytest.raises(DataError, match="has no variable ff"):
        load_dataset("frey_faces", data_dir=tmp_path)


def test_real_sets_registered_as_builtin():
    for name in ("fashion_mnist", "kmnist", "frey_faces", "olivetti_faces", "coil20"):
        assert name in BUILTIN


def test_download_verifies_and_keeps_file(shared_data, serve, tmp_path, monkeypatch):
    base = serve(shared_data)
    monkeypatch.setattr(realsets.REAL_SETS["frey_faces"], "base_urls", (f"{base}/frey_faces/",))

    folder = realsets.download("frey_faces", tmp_path, progress=False)
    again = realsets.download("frey_faces", tmp_path, progress=False)

    assert folder == again == tmp_path / "frey_faces"
    assert sha256_of(folder / "frey_rawface.mat") == realsets.REAL_SETS[
        "frey_faces"].files[0].sha256[0]
    assert QuietHandler.requests == ["/frey_faces/frey_rawface.mat"]
    assert load_dataset("frey_faces", data_dir=tmp_path).x.shape == (1965, 1, 28, 20)


def test_load_with_download_fetches_missing_files(shared_data, serve, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    # The source names the file COIL20.mat; it is stored as COIL20_32x32.mat.
    shutil.copy(shared_data / "coil20" / "COIL20_32x32.mat", served / "COIL20.mat")
    monkeypatch.setattr(realsets.REAL_SETS["coil20"], "base_urls", (f"{serve(served)}/",))

    data = load_dataset("coil20", data_dir=tmp_path / "dest", download=True)

    assert data.x.shape == (1440, 1, 32, 32)
    assert (tmp_path / "dest" / "coil20" / "COIL20_32x32.mat").is_file()


def test_download_from_mirror_accepts_known_copies(shared_data, serve, tmp_path):
    base = serve(shared_data)

    olivetti = realsets.download("olivetti_faces", tmp_path, mirror=base, progress=False)
    mnist = realsets.download("mnist", tmp_path, split="test", mirror=base, progress=False)

    assert (olivetti / "olivettifaces.mat").is_file()
    assert sorted(p.name for p in mnist.iterdir()) == list(realsets.IDX_TEST_FILES)
    assert len(load_dataset("mnist", data_dir=mnist)) == 10000


def test_checksum_mismatch_leaves_no_file(serve, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    (served / "frey_rawface.mat").write_bytes(b"tampered bytes")
    monkeypatch.setattr(realsets.REAL_SETS["frey_faces"], "base_urls",
                        (f"{serve(served)}/",))
    dest = tmp_path / "dest"

    with pytest.raises(DataError, match=r"Could not download frey_rawface.mat:\n.*SHA-256 "
                                        r"[0-9a-f]{64} is not the published 265a83a2"):
        realsets.download("frey_faces", dest, progress=False)

    assert list((dest / "frey_faces").iterdir()) == []


def test_corrupt_local_file_downloaded_again(shared_data, serve, tmp_path, monkeypatch):
    base = serve(shared_data)
    monkeypatch.setattr(realsets.REAL_SETS["frey_faces"], "base_urls", (f"{base}/frey_faces/",))
    (tmp_path / "frey_faces").mkdir()
    (tmp_path / "frey_faces" / "frey_rawface.mat").write_bytes(b"half a file")

    realsets.download("frey_faces", tmp_path, progress=False)

    assert sha256_of(tmp_path / "frey_faces" / "frey_rawface.mat").startswith("265a83a2")


def test_missing_remote_file_names_url(serve, tmp_path):
    (tmp_path / "empty").mkdir()
    base = serve(tmp_path / "empty")

    with pytest.raises(DataError, match=rf"{base}/fashion_mnist/t10k-images-idx3-ubyte.gz: "
                                        r"HTTP Error 404"):
        realsets.download("fashion_mnist", tmp_path / "dest", split="test", mirror=base,
                          progress=False)


def test_download_rejects_unknown_name_and_split(tmp_path):
    with pytest.raises(DataError, match="No download for 'cifar'. Downloadable data sets: coil20"):
        realsets.download("cifar", tmp_path)
    with pytest.raises(ValueError, match="split must be one of all, train, test"):
        realsets.download("mnist", tmp_path, split="validation")
