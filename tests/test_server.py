"""Tests of the explorer server: every endpoint's responses, its rejections, and serving."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import types
import urllib.error
import urllib.request

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sklearn.decomposition import PCA

from latentspace.data import Dataset, load_dataset
from latentspace.errors import InvalidParameterError
from latentspace.server import create_app, serve
from latentspace.server.images import to_uint8
from latentspace.server.run import warn_if_exposed
from latentspace.server.schemas import MAX_BODY_BYTES
from latentspace.server.thumbnails import AtlasLayout, ThumbnailAtlases
from latentspace.space import LatentSpace

LATENT_DIM = 8


def fit_space(data: Dataset, latent_dim: int) -> LatentSpace:
    """Fit PCA on `data` and add the maps the tests read.

    Spaces with more than two latent dimensions get a PCA map (exact inverse) and a
    non-linear map that stands in for UMAP or t-SNE (nearest-item inverse). A 2-D
    latent space is its own map.
    """
    space = LatentSpace.fit(data, model="pca", latent_dim=latent_dim, progress=False)
    if latent_dim > 2:
        map_pca = PCA(2, random_state=0).fit(space.z)
        coords = map_pca.transform(space.z).astype(np.float32)
        space.projectors["pca-2d"] = map_pca
        space.projections["pca-2d"] = coords
        space.projections["warp-2d"] = np.tanh(coords / coords.std(axis=0)) ** 3
    else:
        space.projections["latent-2d"] = space.z.copy()
    return space


@pytest.fixture(scope="module")
def digits_space() -> LatentSpace:
    space = fit_space(load_dataset("digits"), LATENT_DIM)
    space.metrics = {"reconstruction_mse": 0.01, "trustworthiness": float("nan")}
    return space


@pytest.fixture(scope="module")
def client(digits_space, tmp_path_factory) -> TestClient:
    static = tmp_path_factory.mktemp("no-frontend")
    return TestClient(create_app(digits_space, static_dir=static))


@pytest.fixture(scope="module")
def roll_space() -> LatentSpace:
    """Explore-only space of 3-D vectors with a continuous label and a metadata column."""
    data = load_dataset("swiss_roll", n_samples=300)
    data.metadata = {"height": data.x[:, 1].copy(), "note": np.array(["a"] * 300)}
    space = LatentSpace.from_embeddings(data)
    space.projections["pca-2d"] = PCA(2, random_state=0).fit_transform(space.z).astype(
        np.float32)
    return space


@pytest.fixture(scope="module")
def roll_client(roll_space, tmp_path_factory) -> TestClient:
    return TestClient(create_app(roll_space, static_dir=tmp_path_factory.mktemp("empty")))


def png_pixels(data_url: str) -> np.ndarray:
    prefix = "data:image/png;base64,"
    assert data_url.startswith(prefix)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url[len(prefix):]))))


def detail(response) -> str:
    body = response.json()
    assert isinstance(body["detail"], str)
    return body["detail"]


# ------------------------------------------------------------------ metadata and arrays


def test_space_metadata(client, digits_space):
    meta = client.get("/api/space").json()
    assert meta["name"] == "digits"
    assert meta["n_points"] == 1797
    assert meta["latent_dim"] == LATENT_DIM
    assert meta["model"] == "pca"
    assert meta["has_decoder"] is True
    assert meta["decoder_note"] is None
    assert meta["is_image"] is True
    assert meta["sample_shape"] == [1, 8, 8]
    assert meta["labels"]["kind"] == "class"
    assert meta["labels"]["names"] == [str(d) for d in range(10)]
    assert meta["labels"]["counts"] == np.bincount(digits_space.dataset.labels).tolist()
    assert meta["labels"]["dtype"] == "uint8"
    assert meta["metrics"] == {"reconstruction_mse": 0.01, "trustworthiness": None}
    assert meta["limits"]["max_k"] == 100
    assert meta["limits"]["max_steps"] == 64
    assert meta["limits"]["max_samples"] == 256


def test_space_projections_and_thumbnails(client, digits_space):
    meta = client.get("/api/space").json()
    projections = {p["name"]: p for p in meta["projections"]}
    assert list(projections) == ["pca-2d", "warp-2d"]
    assert projections["pca-2d"]["inverse"] == "exact"
    assert projections["pca-2d"]["placement"] == "transform"
    assert projections["warp-2d"]["inverse"] == "knn-weighted"
    assert projections["warp-2d"]["placement"] == "nearest-neighbours"
    coords = digits_space.projections["pca-2d"]
    np.testing.assert_allclose(projections["pca-2d"]["bounds"],
                               [coords.min(axis=0), coords.max(axis=0)], rtol=1e-6)
    assert meta["thumbnails"] == {"count": 1797, "tile": [8, 8], "per_row": 256,
                                  "per_atlas": 65536, "atlases": 1,
                                  "atlas_sizes": [[2048, 64]]}
    assert "reconstruction_error" in meta["numeric_columns"]
    assert "latent_0" in meta["numeric_columns"]


def test_space_latent_range(client, digits_space):
    latent_range = client.get("/api/space").json()["latent_range"]
    np.testing.assert_allclose(latent_range["min"], np.percentile(digits_space.z, 1, axis=0),
                               rtol=1e-5)
    np.testing.assert_allclose(latent_range["max"], np.percentile(digits_space.z, 99, axis=0),
                               rtol=1e-5)


def test_ids_one_per_line(client):
    response = client.get("/api/ids")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    lines = response.text.split("\n")
    assert lines[:3] == ["0", "1", "2"]
    assert len(lines) == 1797 + 1
    assert lines[-1] == ""


def test_ids_line_breaks_replaced(tmp_path):
    data = load_dataset("digits", n_samples=4)
    data.ids = np.array(["a\nb", "c\r\nd", "<b>e</b>", "f"])
    client = TestClient(create_app(fit_space(data, 2), static_dir=tmp_path))
    assert client.get("/api/ids").text == "a b\nc  d\n<b>e</b>\nf\n"


@pytest.mark.parametrize("name", ["pca-2d", "warp-2d"])
def test_points_binary(client, digits_space, name):
    response = client.get("/api/points", params={"projection": name})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-dims"] == "2"
    assert len(response.content) == 1797 * 2 * 4
    points = np.frombuffer(response.content, dtype="<f4").reshape(-1, 2)
    np.testing.assert_array_equal(points, digits_space.projections[name])


def test_points_default_projection(client):
    response = client.get("/api/points")
    assert response.headers["x-projection"] == "pca-2d"


def test_points_unknown_projection(client):
    response = client.get("/api/points", params={"projection": "umap-3d"})
    assert response.status_code == 404
    assert "'umap-3d' not found" in detail(response)
    assert "pca-2d, warp-2d" in detail(response)


def test_labels_binary(client, digits_space):
    response = client.get("/api/labels")
    codes = np.frombuffer(response.content, dtype=np.uint8)
    np.testing.assert_array_equal(codes, digits_space.dataset.labels)


def test_labels_continuous(roll_client, roll_space):
    meta = roll_client.get("/api/space").json()["labels"]
    assert meta["kind"] == "continuous"
    assert meta["dtype"] == "float32"
    assert meta["min"] == pytest.approx(float(roll_space.dataset.labels.min()), rel=1e-6)
    values = np.frombuffer(roll_client.get("/api/labels").content, dtype="<f4")
    np.testing.assert_allclose(values, roll_space.dataset.labels, rtol=1e-6)


def test_labels_absent(tmp_path):
    data = load_dataset("digits", n_samples=50)
    data.labels, data.label_names = None, None
    client = TestClient(create_app(fit_space(data, 4), static_dir=tmp_path))
    assert client.get("/api/space").json()["labels"]["kind"] == "none"
    response = client.get("/api/labels")
    assert response.status_code == 404
    assert "no labels" in detail(response)


def test_column_latent(client, digits_space):
    values = np.frombuffer(client.get("/api/columns/latent_3").content, dtype="<f4")
    np.testing.assert_array_equal(values, digits_space.z[:, 3])


def test_column_reconstruction_error(client, digits_space):
    values = np.frombuffer(client.get("/api/columns/reconstruction_error").content, dtype="<f4")
    flat = digits_space.dataset.flat()
    expected = ((digits_space.reconstruct(np.arange(1797)).reshape(1797, -1) - flat) ** 2).mean(1)
    np.testing.assert_allclose(values, expected, rtol=1e-5)


def test_column_metadata(roll_client, roll_space):
    meta = roll_client.get("/api/space").json()
    assert "height" in meta["numeric_columns"]
    assert "note" not in meta["numeric_columns"]
    assert "reconstruction_error" not in meta["numeric_columns"]
    values = np.frombuffer(roll_client.get("/api/columns/height").content, dtype="<f4")
    np.testing.assert_array_equal(values, roll_space.dataset.metadata["height"])


def test_column_unknown(client):
    response = client.get("/api/columns/weight")
    assert response.status_code == 404
    assert "'weight' not found" in detail(response)


# ------------------------------------------------------------------ thumbnails


def test_thumbnail_atlas_tiles(client, digits_space):
    response = client.get("/api/thumbnails/0.png")
    assert response.headers["content-type"] == "image/png"
    atlas = np.asarray(Image.open(io.BytesIO(response.content)))
    assert atlas.shape == (64, 2048)
    for index in (0, 255, 256, 1796):
        column, row = index % 256, index // 256
        tile = atlas[row * 8 : row * 8 + 8, column * 8 : column * 8 + 8]
        np.testing.assert_array_equal(tile, to_uint8(digits_space.dataset.x[index]))


@pytest.mark.parametrize("path, status", [
    ("/api/thumbnails/1.png", 404),
    ("/api/thumbnails/-1.png", 422),
    ("/api/thumbnails/abc.png", 422),
    ("/api/thumbnails/..%2Fapp.py.png", 404),
])
def test_thumbnail_atlas_rejected(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert detail(response)


def test_thumbnails_absent_for_vectors(roll_client):
    assert roll_client.get("/api/space").json()["thumbnails"] is None
    assert roll_client.get("/api/thumbnails/0.png").status_code == 404


def test_thumbnails_written_to_run_dir(tmp_path):
    data = load_dataset("digits", n_samples=40)
    atlases = ThumbnailAtlases(data, tmp_path / "thumbnails")
    png = atlases.png(0)
    assert (tmp_path / "thumbnails" / "atlas-0000.png").read_bytes() == png
    manifest = json.loads((tmp_path / "thumbnails" / "manifest.json").read_text())
    assert manifest["data_fingerprint"] == data.fingerprint()

    # A new instance reads the cached file instead of rendering.
    reread = ThumbnailAtlases(data, tmp_path / "thumbnails")
    reread.render = None
    assert reread.png(0) == png


def test_thumbnails_cached_in_space_run_dir(tmp_path):
    space = fit_space(load_dataset("digits", n_samples=40), 4)
    space.run_dir = tmp_path
    client = TestClient(create_app(space, static_dir=tmp_path))
    png = client.get("/api/thumbnails/0.png").content
    assert (tmp_path / "thumbnails" / "atlas-0000.png").read_bytes() == png


def test_thumbnails_cache_ignored_for_other_data(tmp_path):
    ThumbnailAtlases(load_dataset("digits", n_samples=40), tmp_path).png(0)
    other = load_dataset("digits", n_samples=41)
    png = ThumbnailAtlases(other, tmp_path).png(0)
    assert Image.open(io.BytesIO(png)).size == (41 * 8, 8)


def test_thumbnails_downscale_large_images():
    rng = np.random.default_rng(0)
    data = Dataset(x=rng.random((5, 3, 64, 48), dtype=np.float32), name="rgb",
                   sample_shape=(3, 64, 48))
    atlases = ThumbnailAtlases(data)
    assert atlases.metadata()["tile"] == [24, 32]
    atlas = np.asarray(Image.open(io.BytesIO(atlases.png(0))))
    assert atlas.shape == (32, 5 * 24, 3)


def test_atlas_layout_splits_large_sets():
    layout = AtlasLayout.for_images(10_000, 28, 28)
    assert layout.per_row == 73
    assert layout.per_atlas == 73 * 73
    assert layout.n_atlases == 2
    assert layout.atlas_size(0) == (2044, 2044)
    assert layout.atlas_size(1) == (2044, 64 * 28)


# ------------------------------------------------------------------ items, neighbours, search


def test_item_image_and_reconstruction(client, digits_space):
    item = client.get("/api/items/42").json()
    assert item["index"] == 42
    assert item["id"] == "42"
    assert item["label"] == str(digits_space.dataset.labels[42])
    assert item["row"] is None
    np.testing.assert_array_equal(png_pixels(item["image"]),
                                  to_uint8(digits_space.dataset.x[42]))
    np.testing.assert_array_equal(png_pixels(item["reconstruction"]),
                                  to_uint8(digits_space.reconstruct([42])[0]))
    np.testing.assert_allclose(item["latent"], digits_space.z[42], rtol=1e-6)


def test_item_vector_row(roll_client, roll_space):
    item = roll_client.get("/api/items/7").json()
    assert item["image"] is None
    assert item["reconstruction"] is None
    np.testing.assert_allclose(item["row"], roll_space.dataset.x[7], rtol=1e-6)
    assert item["label"] == pytest.approx(float(roll_space.dataset.labels[7]), rel=1e-6)
    assert item["metadata"]["note"] == "a"
    assert item["metadata"]["height"] == pytest.approx(float(roll_space.dataset.x[7, 1]))


@pytest.mark.parametrize("path, status, message", [
    ("/api/items/1797", 404, "out of range; valid indices are 0..1796"),
    ("/api/items/-1", 422, "greater than or equal to 0"),
    ("/api/items/one", 422, "valid integer"),
])
def test_item_rejected(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    assert message in detail(response)


def test_neighbors_match_brute_force(client, digits_space):
    body = client.get("/api/neighbors/5", params={"k": 12}).json()
    assert body["index"] == 5
    assert body["k"] == 12
    distances = [n["distance"] for n in body["neighbors"]]
    assert distances == sorted(distances)

    brute = np.linalg.norm(digits_space.z - digits_space.z[5], axis=1)
    brute[5] = np.inf
    expected = np.argsort(brute)[:12]
    assert [n["index"] for n in body["neighbors"]] == expected.tolist()
    np.testing.assert_allclose(distances, brute[expected], rtol=1e-5)
    first = body["neighbors"][0]
    assert first["id"] == str(expected[0])
    assert first["label"] == str(digits_space.dataset.labels[expected[0]])


def test_neighbors_explore_only(roll_client, roll_space):
    body = roll_client.get("/api/neighbors/0", params={"k": 3}).json()
    brute = np.linalg.norm(roll_space.z - roll_space.z[0], axis=1)
    brute[0] = np.inf
    assert [n["index"] for n in body["neighbors"]] == np.argsort(brute)[:3].tolist()


@pytest.mark.parametrize("path, status, message", [
    ("/api/neighbors/5?k=0", 422, "k: Input should be greater than or equal to 1, received '0'"),
    ("/api/neighbors/5?k=101", 422, "less than or equal to 100"),
    ("/api/neighbors/1797", 404, "valid indices are 0..1796"),
])
def test_neighbors_rejected(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    assert message in detail(response)


def test_neighbors_k_above_items(tmp_path):
    space = fit_space(load_dataset("digits", n_samples=20), 4)
    client = TestClient(create_app(space, static_dir=tmp_path))
    response = client.get("/api/neighbors/0", params={"k": 20})
    assert response.status_code == 422
    assert "only 19 other items exist; use 1..19" in detail(response)


def test_search_label_and_id(client, digits_space):
    body = client.get("/api/search", params={"q": "7", "limit": 5}).json()
    ids = digits_space.dataset.ids
    expected = np.flatnonzero((digits_space.dataset.labels == 7)
                              | np.array(["7" in i for i in ids]))
    assert body["total"] == len(expected)
    assert body["indices"] == expected[:5].tolist()


def test_search_ignores_case(roll_client):
    data = load_dataset("digits", n_samples=30)
    data.label_names = [f"Digit {d}" for d in range(10)]
    client = TestClient(create_app(fit_space(data, 4), static_dir=None))
    body = client.get("/api/search", params={"q": "DIGIT 3"}).json()
    assert body["indices"] == np.flatnonzero(data.labels == 3).tolist()


@pytest.mark.parametrize("params, message", [
    ({"q": ""}, "at least 1 character"),
    ({"q": "x" * 201}, "at most 200 characters"),
    ({"q": "1", "limit": 0}, "greater than or equal to 1"),
])
def test_search_rejected(client, params, message):
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    assert message in detail(response)


# ------------------------------------------------------------------ decode


def test_decode_latent_equals_space_decode(client, digits_space):
    latent = (digits_space.z[3] + 0.5).tolist()
    body = client.post("/api/decode", json={"latent": latent}).json()
    assert body["inverse"] == "latent"
    assert body["row"] is None
    expected = digits_space.decode(np.asarray([latent], dtype=np.float32))[0]
    np.testing.assert_array_equal(png_pixels(body["image"]), to_uint8(expected))
    assert png_pixels(body["image"]).shape == (8, 8)


def test_decode_position_on_pca_is_exact(client, digits_space):
    position = [1.5, -2.0]
    body = client.post("/api/decode", json={"projection": "pca-2d", "position": position}).json()
    assert body["inverse"] == "exact"
    expected = digits_space.projectors["pca-2d"].inverse_transform([position])[0]
    np.testing.assert_allclose(body["latent"], expected, rtol=1e-4, atol=1e-4)


def test_decode_position_knn_weighted(client, digits_space):
    index = 100
    position = digits_space.projections["warp-2d"][index].tolist()
    body = client.post("/api/decode", json={"projection": "warp-2d", "position": position}).json()
    assert body["inverse"] == "knn-weighted"
    np.testing.assert_allclose(body["latent"], digits_space.z[index], rtol=1e-5, atol=1e-5)


def test_decode_position_between_items_averages(client, digits_space):
    coords = digits_space.projections["warp-2d"]
    midpoint = ((coords[0] + coords[1]) / 2).tolist()
    latent = client.post("/api/decode",
                         json={"projection": "warp-2d", "position": midpoint}).json()["latent"]
    low, high = digits_space.z.min(axis=0), digits_space.z.max(axis=0)
    assert np.all((latent >= low - 1e-5) & (latent <= high + 1e-5))


def test_decode_on_latent_map(tmp_path):
    space = fit_space(load_dataset("digits", n_samples=200), 2)
    client = TestClient(create_app(space, static_dir=tmp_path))
    assert client.get("/api/space").json()["projections"][0]["inverse"] == "exact"
    body = client.post("/api/decode",
                       json={"projection": "latent-2d", "position": [0.5, 1.0]}).json()
    assert body["inverse"] == "latent"
    assert body["latent"] == [0.5, 1.0]


@pytest.mark.parametrize("payload, message", [
    ({"latent": [0.0] * 9}, "latent: expected 8 values (the latent dimension), received 9"),
    ({"latent": [0.0] * 7 + [1e7]}, "less than or equal to 1000000"),
    ({"latent": [0.0] * 7 + ["x"]}, "latent.7: Input should be a valid number"),
    ({"latent": []}, "at least 1 item"),
    ({}, "give latent, or projection together with position"),
    ({"projection": "pca-2d"}, "give latent, or projection together with position"),
    ({"latent": [0.0] * 8, "projection": "pca-2d", "position": [0, 0]}, "not both"),
    ({"projection": "pca-2d", "position": [0.0]}, "at least 2 items"),
    ({"projection": "pca-2d", "position": [0.0, 0.0, 0.0]},
     "projection 'pca-2d' has 2 dimensions, received 3 values"),
    ({"latent": [0.0] * 8, "temperature": 1}, "temperature: Extra inputs are not permitted"),
])
def test_decode_rejected(client, payload, message):
    response = client.post("/api/decode", json=payload)
    assert response.status_code == 422
    assert message in detail(response)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_decode_rejects_non_finite(client, number):
    body = '{"latent": [0, 0, 0, 0, 0, 0, 0, ' + number + "]}"
    response = client.post("/api/decode", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "latent.7: Input should be a finite number" in detail(response)


def test_decode_unknown_projection(client):
    response = client.post("/api/decode", json={"projection": "tsne-2d", "position": [0, 0]})
    assert response.status_code == 404
    assert "'tsne-2d' not found" in detail(response)


def test_decode_malformed_json(client):
    response = client.post("/api/decode", content="{latent: [1,",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "JSON decode error" in detail(response)


# ------------------------------------------------------------------ walks


def test_interpolate_endpoints_and_images(client, digits_space):
    body = client.post("/api/interpolate", json={"a": 3, "b": 40, "steps": 7,
                                                 "method": "slerp", "projection": "pca-2d"}).json()
    latents = np.asarray(body["latents"])
    assert latents.shape == (7, LATENT_DIM)
    np.testing.assert_allclose(latents[0], digits_space.z[3], rtol=1e-6)
    np.testing.assert_allclose(latents[-1], digits_space.z[40], rtol=1e-6)
    assert len(body["images"]) == 7
    expected = digits_space.decode(latents.astype(np.float32))
    for image, sample in zip(body["images"], expected, strict=True):
        np.testing.assert_array_equal(png_pixels(image), to_uint8(sample))
    assert body["placement"] == "transform"
    coords = digits_space.projections["pca-2d"]
    np.testing.assert_allclose(body["positions"][0], coords[3], atol=1e-4)
    np.testing.assert_allclose(body["positions"][-1], coords[40], atol=1e-4)


def test_interpolate_positions_nearest(client, digits_space):
    body = client.post("/api/interpolate",
                       json={"a": 3, "b": 40, "steps": 5, "projection": "warp-2d"}).json()
    assert body["placement"] == "nearest-neighbours"
    coords = digits_space.projections["warp-2d"]
    np.testing.assert_allclose(body["positions"][0], coords[3], atol=1e-5)
    np.testing.assert_allclose(body["positions"][-1], coords[40], atol=1e-5)


def test_interpolate_without_projection(client):
    body = client.post("/api/interpolate", json={"a": 0, "b": 1}).json()
    assert len(body["images"]) == 10
    assert body["positions"] is None


@pytest.mark.parametrize("payload, message", [
    ({"a": 0, "b": 1, "steps": 1}, "steps: Input should be greater than or equal to 2, received 1"),
    ({"a": 0, "b": 1, "steps": 65}, "less than or equal to 64"),
    ({"a": 0, "b": 1797}, "b: item index 1797 is out of range; valid indices are 0..1796"),
    ({"a": -3, "b": 1}, "a: Input should be greater than or equal to 0"),
    ({"a": 0, "b": 1, "method": "cubic"}, "method: Input should be 'lerp' or 'slerp'"),
    ({"a": 0}, "b: Field required"),
])
def test_interpolate_rejected(client, payload, message):
    response = client.post("/api/interpolate", json=payload)
    assert response.status_code == 422
    assert message in detail(response)


def test_sample_is_seeded(client, digits_space):
    first = client.post("/api/sample", json={"n": 5, "seed": 3, "projection": "pca-2d"}).json()
    again = client.post("/api/sample", json={"n": 5, "seed": 3}).json()
    assert first["seed"] == 3
    assert len(first["images"]) == 5
    assert first["latents"] == again["latents"]
    expected = digits_space.sample(5, seed=3, decode=False)
    np.testing.assert_allclose(first["latents"], expected, rtol=1e-6)
    placed = digits_space.projectors["pca-2d"].transform(expected)
    np.testing.assert_allclose(first["positions"], placed, atol=1e-4)


def test_sample_without_seed_returns_one(client):
    body = client.post("/api/sample", json={"n": 2}).json()
    again = client.post("/api/sample", json={"n": 2, "seed": body["seed"]}).json()
    assert again["latents"] == body["latents"]


@pytest.mark.parametrize("payload, message", [
    ({"n": 0}, "greater than or equal to 1"),
    ({"n": 257}, "n: Input should be less than or equal to 256, received 257"),
    ({"n": 2, "seed": -1}, "seed: Input should be greater than or equal to 0"),
    ({"n": 2, "projection": "nope"}, "'nope' not found"),
])
def test_sample_rejected(client, payload, message):
    response = client.post("/api/sample", json=payload)
    assert response.status_code in (404, 422)
    assert message in detail(response)


def test_traverse_sets_one_dimension(client, digits_space):
    values = [-3.0, 0.0, 3.0]
    body = client.post("/api/traverse", json={"index": 9, "dim": 2, "values": values}).json()
    assert body["values"] == values
    latents = np.asarray(body["latents"])
    np.testing.assert_allclose(latents[:, 2], values)
    np.testing.assert_allclose(np.delete(latents, 2, axis=1),
                               np.repeat(np.delete(digits_space.z[9], 2)[None], 3, axis=0),
                               rtol=1e-6)
    expected = digits_space.decode(latents.astype(np.float32))
    np.testing.assert_array_equal(png_pixels(body["images"][1]), to_uint8(expected[1]))


@pytest.mark.parametrize("payload, message", [
    ({"index": 0, "dim": 8, "values": [1]}, "dim: latent dimension 8 is out of range; "
                                             "valid dimensions are 0..7"),
    ({"index": 0, "dim": 0, "values": []}, "at least 1 item"),
    ({"index": 0, "dim": 0, "values": [0] * 65}, "at most 64 items"),
    ({"index": 5000, "dim": 0, "values": [1]}, "index: item index 5000 is out of range"),
])
def test_traverse_rejected(client, payload, message):
    response = client.post("/api/traverse", json=payload)
    assert response.status_code == 422
    assert message in detail(response)


@pytest.mark.parametrize("path, payload", [
    ("/api/decode", {"latent": [0.0, 0.0, 0.0]}),
    ("/api/interpolate", {"a": 0, "b": 1}),
    ("/api/sample", {"n": 2}),
    ("/api/traverse", {"index": 0, "dim": 0, "values": [1.0]}),
])
def test_walks_need_decoder(roll_client, path, payload):
    response = roll_client.post(path, json=payload)
    assert response.status_code == 409
    message = detail(response)
    assert "no decoder" in message
    assert "\n" not in message


def test_explore_only_metadata(roll_client):
    meta = roll_client.get("/api/space").json()
    assert meta["has_decoder"] is False
    assert "no decoder" in meta["decoder_note"]
    assert meta["model"] is None
    assert meta["is_image"] is False


# ------------------------------------------------------------------ limits, errors, frontend


def test_body_too_large_by_header(client):
    response = client.post("/api/decode", content=b"{" + b" " * MAX_BODY_BYTES + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert f"{MAX_BODY_BYTES + 2} bytes received; the maximum is {MAX_BODY_BYTES}" in detail(
        response)


def test_body_too_large_when_chunked(client):
    def chunks():
        for _ in range(10):
            yield b" " * 8192

    response = client.post("/api/decode", content=chunks(),
                           headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert "at least" in detail(response)


def test_invalid_content_length(client):
    response = client.post("/api/decode", content=b"{}",
                           headers={"content-type": "application/json",
                                    "content-length": "12abc"})
    assert response.status_code == 400
    assert "Content-Length: invalid value" in detail(response)


def test_rejection_logged_with_request(client, caplog):
    with caplog.at_level(logging.WARNING, logger="latentspace.server"):
        client.get("/api/items/99999")
    assert "GET /api/items/99999 rejected with 404" in caplog.text


def test_server_error_logged_once(tmp_path, caplog):
    space = fit_space(load_dataset("digits", n_samples=30), 4)

    def broken_neighbors(item, k=10):
        raise RuntimeError("index file vanished")

    space.neighbors = broken_neighbors
    client = TestClient(create_app(space, static_dir=tmp_path))
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/neighbors/2")
    assert response.status_code == 500
    assert detail(response) == "internal error (RuntimeError); see the server log"
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1
    assert failures[0].getMessage() == "GET /api/neighbors/2 failed"
    assert "index file vanished" in caplog.text


def test_unknown_api_path(client):
    response = client.get("/api/nothing/here")
    assert response.status_code == 404
    assert "no API endpoint GET /api/nothing/here" in detail(response)


def test_frontend_not_built(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "make web" in response.text


def test_frontend_served_when_built(digits_space, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>explorer</title>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    client = TestClient(create_app(digits_space, static_dir=tmp_path))
    assert "<title>explorer</title>" in client.get("/").text
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert client.get("/api/space").json()["n_points"] == 1797
    assert client.get("/../pyproject.toml").status_code == 404


# ------------------------------------------------------------------ serving


def test_serve_binds_loopback_and_answers(digits_space):
    server = serve(digits_space, port=0, block=False)
    try:
        assert server.socket.getsockname()[0] == "127.0.0.1"
        assert server.port > 0
        with urllib.request.urlopen(f"{server.url}api/space", timeout=10) as response:
            assert json.loads(response.read())["n_points"] == 1797
    finally:
        server.stop()
    assert not server.is_running
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.url}api/space", timeout=2)


SERVE_SCRIPT = """
from latentspace.data import load_dataset
from latentspace.server import serve
from latentspace.space import LatentSpace

space = LatentSpace.from_embeddings(load_dataset("swiss_roll", n_samples=100))
space.projections["latent-3d"] = space.z
serve(space, port=0)
print("serve returned")
"""


def test_serve_blocks_until_interrupted():
    process = subprocess.Popen([sys.executable, "-c", SERVE_SCRIPT], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    # Kills the server if it never starts, so that reading its log cannot hang the test.
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        log = ""
        for line in process.stderr:
            log += line
            if "running at" in line:
                break
        url = re.search(r"http://127\.0\.0\.1:\d+/", log)
        assert url, log
        with urllib.request.urlopen(f"{url.group(0)}api/space", timeout=10) as response:
            assert json.loads(response.read())["has_decoder"] is False

        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "serve returned" in out
    assert "stopped" in err


def test_serve_port_in_use(digits_space):
    occupied = socket.socket()
    occupied.bind(("127.0.0.1", 0))
    occupied.listen(1)
    try:
        with pytest.raises(InvalidParameterError, match="Cannot listen on 127.0.0.1"):
            serve(digits_space, port=occupied.getsockname()[1], block=False)
    finally:
        occupied.close()


def test_warning_when_not_loopback(caplog):
    class ExposedSocket:
        def getsockname(self):
            return ("0.0.0.0", 8000)

    with caplog.at_level(logging.WARNING, logger="latentspace.server"):
        warn_if_exposed(ExposedSocket())
    assert "other machines" in caplog.text


def test_notebook_show_displays_iframe(digits_space, monkeypatch):
    from latentspace import notebook

    displayed = []
    display_module = types.ModuleType("IPython.display")
    display_module.IFrame = lambda src, width, height: ("iframe", src, width, height)
    display_module.display = displayed.append
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    try:
        notebook.show(digits_space, height=500)
        notebook.show(digits_space, height=500)
        assert len(displayed) == 2
        kind, url, width, height = displayed[0]
        assert displayed[1] == displayed[0]
        assert url.startswith("http://127.0.0.1:")
        assert (width, height) == ("100%", 500)
        with urllib.request.urlopen(f"{url}api/space", timeout=10) as response:
            assert json.loads(response.read())["name"] == "digits"
    finally:
        notebook.stop(digits_space)


def test_notebook_show_rejects_height(digits_space):
    from latentspace import notebook

    with pytest.raises(InvalidParameterError, match="height must be"):
        notebook.show(digits_space, height=50)
