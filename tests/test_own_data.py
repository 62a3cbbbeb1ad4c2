"""Users' own data end to end: image folders, tables and embeddings through the CLI,
into a run directory and the explorer."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

import latentspace as ls
from latentspace.server.app import create_app
from tests.test_data_images import FORMAT_MODES, SIZES, make_image


def run_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "latentspace", *args], capture_output=True,
                          text=True, timeout=timeout)


LABELS = ("<img src=x onerror=alert(1)>", "stripes", "Größe")


def write_image_folder(root, n=210):
    rng = np.random.default_rng(0)
    for index in range(n):
        suffix, mode = FORMAT_MODES[index % len(FORMAT_MODES)]
        size = SIZES[(index // len(FORMAT_MODES)) % len(SIZES)]
        folder = root / LABELS[index % 3]
        folder.mkdir(parents=True, exist_ok=True)
        make_image(mode, size, rng).save(folder / f"{index:03d}{suffix}")


def test_image_folder_trains_and_opens_in_explorer(tmp_path):
    write_image_folder(tmp_path / "images")
    out = tmp_path / "run"
    result = run_cli("train", "--data", str(tmp_path / "images"), "--model", "conv-ae",
                     "--latent-dim", "8", "--epochs", "2", "--image-size", "16",
                     "--projections", "pca-2d,umap-2d", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["data"]["sample_shape"] == [3, 16, 16]
    assert record["data"]["n_samples"] == 210

    space = ls.LatentSpace.load(out)
    client = TestClient(create_app(space))
    meta = client.get("/api/space").json()
    assert meta["n_points"] == 210
    assert sorted(meta["labels"]["names"]) == sorted(LABELS)
    assert client.get("/api/thumbnails/0.png").status_code == 200
    item = client.get("/api/items/0").json()
    assert item["image"].startswith("data:image/png;base64,")
    decoded = client.post("/api/decode", json={"latent": space.z[3].tolist()})
    assert decoded.status_code == 200


def test_table_decodes_in_original_units(tmp_path):
    rng = np.random.default_rng(1)
    n = 300
    table = tmp_path / "cells.csv"
    heights = rng.normal(170.0, 10.0, n)
    weights = heights * 0.5 + rng.normal(0.0, 2.0, n)
    lines = ["id,height_cm,weight_kg,species,note"]
    lines += [f"c{i},{heights[i]:.2f},{weights[i]:.2f},{'ab'[i % 2]},n{i}" for i in range(n)]
    table.write_text("\n".join(lines) + "\n")

    out = tmp_path / "run"
    result = run_cli("train", "--data", str(table), "--label-column", "species",
                     "--id-column", "id", "--model", "ae", "--latent-dim", "1",
                     "--epochs", "30", "--projections", "pca-2d", "--out", str(out),
                     "--no-progress")
    assert result.returncode == 0, result.stderr
    space = ls.LatentSpace.load(out)
    assert space.dataset.ids[0] == "c0"
    rows = space.dataset.to_original_units(space.reconstruct(np.arange(n)))
    assert abs(rows[:, 0].mean() - heights.mean()) < 3.0
    assert abs(rows[:, 1].mean() - weights.mean()) < 3.0


def test_embeddings_explore_without_decoder(tmp_path):
    vectors = np.random.default_rng(2).normal(size=(120, 16)).astype(np.float32)
    np.save(tmp_path / "vectors.npy", vectors)
    out = tmp_path / "run"
    result = run_cli("train", "--embeddings", str(tmp_path / "vectors.npy"),
                     "--projections", "pca-2d", "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert not (out / "model.safetensors").exists()

    walk = run_cli("interpolate", str(out), "0", "1")
    assert walk.returncode == 2
    assert "no decoder" in walk.stderr
    assert "Traceback" not in walk.stderr

    client = TestClient(create_app(ls.LatentSpace.load(out)))
    assert client.get("/api/neighbors/0?k=5").status_code == 200
    answer = client.post("/api/interpolate", json={"a": 0, "b": 1, "steps": 4})
    assert answer.status_code == 409
    assert "no decoder" in answer.json()["detail"]


def test_resume_with_other_model_rejected(tmp_path):
    out = tmp_path / "run"
    common = ("--data", "digits", "--n-samples", "200", "--latent-dim", "4", "--epochs", "1",
              "--projections", "pca-2d", "--out", str(out), "--no-progress")
    assert run_cli("train", "--model", "ae", *common).returncode == 0
    result = run_cli("train", "--model", "vae", "--resume", *common)
    assert result.returncode == 2
    assert "differs" in result.stderr or "differ" in result.stderr
    assert "Traceback" not in result.stderr


def test_killed_training_leaves_complete_files(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "latentspace", "train", "--data", "mnist", "--data-dir",
            "tests/data/mnist", "--n-samples", "3000", "--model", "conv-ae", "--epochs", "50",
            "--projections", "pca-2d", "--out", str(out), "--no-progress"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoint = out / "checkpoints" / "last.safetensors"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert checkpoint.exists(), "no checkpoint was written within 300 s"
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    from latentspace.training import load_checkpoint

    assert load_checkpoint(out / "checkpoints") is not None
    resumed = run_cli("train", *args[4:-1], "--epochs", "2", "--resume", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    info = run_cli("info", str(out))
    assert "No problems found" in info.stdout, info.stdout


def test_interrupted_training_reports_resume(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "latentspace", "train", "--data", "mnist", "--data-dir",
            "tests/data/mnist", "--n-samples", "3000", "--model", "conv-ae", "--epochs", "50",
            "--projections", "pca-2d", "--out", str(out), "--no-progress"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 300
    while not (out / "checkpoints" / "last.safetensors").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "--resume" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("name", "shape"), [("olivetti_faces", (1, 64, 64)),
                                             ("frey_faces", (1, 28, 20))])
def test_faces_conv_vae_interpolates(shared_data, tmp_path, name, shape):
    data = ls.load_dataset(name, data_dir=shared_data / name)
    assert data.sample_shape == shape
    space = ls.LatentSpace.fit(data, model="conv-vae", latent_dim=16, epochs=3, seed=0,
                               progress=False)
    strip = space.interpolate(0, len(data) - 1, steps=8, method="slerp")
    assert strip.shape == (8, *shape)
    assert np.isfinite(strip).all()
    assert strip.std() > 0.01

    from latentspace.figures import plot_interpolations

    lerp = space.interpolate(0, len(data) - 1, steps=8, method="lerp")
    path = plot_interpolations(lerp[None], strip[None], tmp_path / f"{name}.png")
    assert path.stat().st_size > 5_000
