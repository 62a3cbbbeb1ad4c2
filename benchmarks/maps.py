"""Map section: latentspace's default map against umap-learn, openTSNE and PaCMAP.

Every method runs in its own fresh process (benchmarks/map_worker.py) on the same latents.
The parent records wall time, CPU time and peak memory of that process, then scores the
map: kNN accuracy (k=10, 5-fold, on the 2-D map) and trustworthiness (k=10, on a seeded
subsample of at most 10,000 points).
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from pathlib import Path

import numpy as np
from common import (
    BENCH_DIR,
    PYTHON,
    digits,
    load_average,
    mnist_test_set,
    pca_latents,
    run_process,
    synthetic_latents,
)

logger = logging.getLogger("benchmarks.maps")

PEERS = ("latentspace", "umap", "opentsne", "pacmap")
REFERENCE = "umap"
# A peer predicted to run longer than this is skipped (the reference is always run).
SKIP_ABOVE_S = 600.0
TIMEOUT_S = 1500.0
TRUST_SAMPLE = 10_000

# Limits measured on this 2-core machine before the harness existed. They apply where
# scaling from the smaller data sets of the same run would predict too little.
KNOWN_LIMITS = {
    ("pacmap", 1_000_000): "PaCMAP did not finish 1,000,000 points within 15 min in an "
    "earlier measurement on this machine",
}

DATASETS = {
    "digits": "scikit-learn digits, 1,797 x 64 raw pixels",
    "mnist": "MNIST test set, 10,000 images as PCA-50 latents (stand-in for a trained encoder)",
    "synthetic-10k": "10,000 synthetic 32-d latents (20-cluster Gaussian mixture)",
    "synthetic-100k": "100,000 synthetic 32-d latents (20-cluster Gaussian mixture)",
    "synthetic-1m": "1,000,000 synthetic 32-d latents (20-cluster Gaussian mixture)",
}
QUICK_DATASETS = ("digits", "mnist")


def prepare(name: str, work_dir: Path) -> tuple[Path, Path]:
    """Write the latents and labels of data set `name` to `work_dir` once; return the paths."""
    latents_path = work_dir / f"{name}.latents.npy"
    labels_path = work_dir / f"{name}.labels.npy"
    if latents_path.exists() and labels_path.exists():
        return latents_path, labels_path
    if name == "digits":
        latents, labels = digits()
    elif name == "mnist":
        pixels, labels = mnist_test_set()
        latents = pca_latents(pixels, 50)
    else:
        size = {"synthetic-10k": 10_000, "synthetic-100k": 100_000, "synthetic-1m": 1_000_000}
        latents, labels = synthetic_latents(size[name])
    np.save(latents_path, latents)
    np.save(labels_path, labels)
    return latents_path, labels_path


def map_quality(latents: np.ndarray, labels: np.ndarray, coords: np.ndarray) -> dict:
    """Return kNN accuracy (k=10, 5-fold) of the map and its trustworthiness (k=10)."""
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    classifier = KNeighborsClassifier(n_neighbors=10, n_jobs=-1)
    accuracy = cross_val_score(classifier, coords, labels, cv=folds).mean()
    rng = np.random.default_rng(0)
    sample = rng.choice(len(latents), min(len(latents), TRUST_SAMPLE), replace=False)
    trust = trustworthiness(latents[sample], coords[sample], n_neighbors=10)
    return {"knn_accuracy": float(accuracy), "trustworthiness": float(trust)}


def predict_seconds(peer: str, n_points: int, rows: list[dict]) -> tuple[float | None, str]:
    """Predict the wall time of `peer` on `n_points` from its largest earlier run.

    Scales as N log N from the largest earlier data set of this run. Returns
    ``(seconds or None, reason)``; a known limit returns infinity and its reason.
    """
    if (peer, n_points) in KNOWN_LIMITS:
        return math.inf, KNOWN_LIMITS[(peer, n_points)]
    earlier = [r for r in rows if r["method"] == peer and r.get("ok") and r["n"] < n_points]
    if not earlier:
        return None, ""
    last = max(earlier, key=lambda r: r["n"])
    factor = n_points * math.log(n_points) / (last["n"] * math.log(last["n"]))
    seconds = last["wall_s"] * factor
    return seconds, f"predicted {seconds:.0f} s from {last['wall_s']:.0f} s at N={last['n']:,}"


def run_peer(
    peer: str, dataset: str, latents_path: Path, labels_path: Path, work_dir: Path,
    env: dict[str, str] | None = None, label: str | None = None,
) -> dict:
    """Map one data set with one method in a fresh process, then score the map."""
    out_path = work_dir / f"{dataset}.{label or peer}.map.npy"
    command = [PYTHON, str(BENCH_DIR / "map_worker.py"), peer, str(latents_path), str(out_path)]
    result = run_process(command, TIMEOUT_S, env=env)
    latents = np.load(latents_path, mmap_mode="r")
    row = {
        "dataset": dataset, "method": label or peer, "n": int(latents.shape[0]),
        "ok": result.ok, "wall_s": result.wall_s, "cpu_s": result.cpu_s,
        "peak_rss_mb": result.peak_rss_mb, "load": load_average(), **result.output,
    }
    if not result.ok:
        row["note"] = "timed out" if result.timed_out else _last_error(result.stderr)
        logger.warning("%s on %s failed: %s", peer, dataset, row["note"])
        return row
    coords = np.load(out_path)
    row.update(map_quality(np.asarray(latents), np.load(labels_path), coords))
    out_path.unlink()
    logger.info(
        "%-12s %-15s %7.1f s  %6.0f MB  acc %.4f  trust %.4f", row["method"], dataset,
        row["wall_s"], row["peak_rss_mb"], row["knn_accuracy"], row["trustworthiness"],
    )
    return row


def _last_error(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "failed without a message"


def run(work_dir: Path, quick: bool) -> dict:
    """Run the map section and return its rows and notes."""
    names = QUICK_DATASETS if quick else tuple(DATASETS)
    rows: list[dict] = []
    skipped: list[dict] = []
    numba_cache = work_dir / "numba-cache"
    warm_env = {"NUMBA_CACHE_DIR": str(numba_cache)}

    # Compile latentspace's numba kernels into the cache once, untimed; the cold-cache
    # row below measures what that first compilation costs.
    digits_paths = prepare("digits", work_dir)
    run_process([PYTHON, str(BENCH_DIR / "map_worker.py"), "latentspace",
                 str(digits_paths[0]), str(work_dir / "warmup.npy")], TIMEOUT_S, env=warm_env)

    for dataset in names:
        latents_path, labels_path = prepare(dataset, work_dir)
        n_points = int(np.load(latents_path, mmap_mode="r").shape[0])
        for peer in PEERS:
            predicted, reason = predict_seconds(peer, n_points, rows)
            if peer != REFERENCE and predicted is not None and predicted > SKIP_ABOVE_S:
                skipped.append({"dataset": dataset, "method": peer, "reason": reason})
                logger.info("skipping %s on %s: %s", peer, dataset, reason)
                continue
            env = warm_env if peer == "latentspace" else None
            rows.append(run_peer(peer, dataset, latents_path, labels_path, work_dir, env))
        if dataset == "mnist":
            with tempfile.TemporaryDirectory(dir=work_dir) as empty_cache:
                rows.append(run_peer(
                    "latentspace", dataset, latents_path, labels_path, work_dir,
                    env={"NUMBA_CACHE_DIR": empty_cache}, label="latentspace-cold",
                ))
    return {"rows": rows, "skipped": skipped, "datasets": {n: DATASETS[n] for n in names},
            "numba_cache": str(numba_cache), "cpu_count": os.cpu_count()}
