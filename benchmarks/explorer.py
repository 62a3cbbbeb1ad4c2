"""Explorer benchmark: 1,000,000 synthetic 32-d latents served to headless Chromium.

Measures the bytes per point that coordinates and labels take on the wire, the time from
opening the page to its first drawn frame, and the latency of the neighbour endpoint.
Targets: at most 12 bytes per point, under 3 s to the first frame, median neighbour
latency under 20 ms.
"""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import numpy as np
from common import synthetic_latents

log = logging.getLogger("benchmarks.explorer")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NEIGHBOUR_REQUESTS = 200
PAGE_LOADS = 3


def build_space(n_points: int):
    """Build an explore-only space of synthetic latents with a PCA map and its kNN graph."""
    import latentspace as ls

    latents, labels = synthetic_latents(n_points)
    data = ls.Dataset(x=latents, name=f"synthetic-{n_points}", sample_shape=(latents.shape[1],),
                      labels=labels, label_names=[f"cluster {i}" for i in range(labels.max() + 1)])
    started = time.perf_counter()
    space = ls.LatentSpace.from_embeddings(data)
    space.project("pca", dims=2)
    _ = space.knn  # built here so that the neighbour timings measure queries only
    return space, time.perf_counter() - started


def wire_bytes(url: str, n_points: int) -> dict:
    """Fetch the points and labels as the page does and count their bytes per point."""
    import httpx

    with httpx.Client(base_url=url, timeout=120.0) as client:
        projection = client.get("/api/space").json()["projections"][0]["name"]
        points = client.get("/api/points", params={"projection": projection}).content
        labels = client.get("/api/labels").content
    return {"points_bytes": len(points), "labels_bytes": len(labels),
            "bytes_per_point": (len(points) + len(labels)) / n_points}


def neighbour_latency(url: str, n_points: int) -> dict:
    """Time NEIGHBOUR_REQUESTS sequential neighbour requests for random items, k = 10."""
    import httpx

    rng = np.random.default_rng(0)
    times = []
    with httpx.Client(base_url=url, timeout=60.0) as client:
        client.get("/api/neighbors/0", params={"k": 10}).raise_for_status()
        for index in rng.integers(0, n_points, NEIGHBOUR_REQUESTS):
            started = time.perf_counter()
            client.get(f"/api/neighbors/{index}", params={"k": 10}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(times), "p95_ms": float(np.percentile(times, 95)),
            "requests": len(times)}


def first_frame(url: str) -> dict:
    """Open the page PAGE_LOADS times in fresh browser contexts; read its first-frame time."""
    from playwright.sync_api import sync_playwright

    frames = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(PAGE_LOADS):
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("[data-testid=map][data-ready=true]", timeout=120_000)
            frames.append(float(page.get_attribute("[data-testid=map]", "data-first-frame-ms")))
            context.close()
        browser.close()
    return {"first_frame_ms": frames, "median_ms": statistics.median(frames)}


def run(work_dir: Path, quick: bool) -> dict:
    """Run the explorer benchmark at 1,000,000 points (100,000 with `quick`)."""
    from latentspace.server.run import serve

    n_points = 100_000 if quick else 1_000_000
    space, build_s = build_space(n_points)
    log.info("explorer: space of %d points ready in %.1f s", n_points, build_s)
    server = serve(space, block=False, log_level="warning", access_log=False)
    try:
        result = {"n_points": n_points, "build_s": build_s, "knn_method": space.knn.method,
                  "wire": wire_bytes(server.url, n_points),
                  "neighbours": neighbour_latency(server.url, n_points)}
        if CHROMIUM.exists():
            result["page"] = first_frame(server.url)
        else:
            result["page"] = {"skipped": f"{CHROMIUM} not found; run `make chromium`"}
    finally:
        server.stop()
    return result
