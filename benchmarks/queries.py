"""Neighbour-query section: `KNNGraph` build time, single-query latency and recall.

For each size, a fresh process builds `latentspace.neighbors.KNNGraph` on the synthetic
32-d latents, then runs `QUERIES` single-point queries (k=10) for held-out points from
the same mixture, one call per point as the explorer makes them. Recall@10 is measured
against an exact faiss search.

Run as a script, this file is the worker: ``python benchmarks/queries.py N`` prints one
JSON line.
"""

from __future__ import annotations

import json
import sys
import time

from common import BENCH_DIR, PYTHON, load_average, run_process, synthetic_latents

SIZES = (100_000, 1_000_000)
QUICK_SIZES = (100_000,)
QUERIES = 200
K = 10
TIMEOUT_S = 1200.0


def worker(n_points: int) -> dict:
    import faiss
    import numpy as np

    from latentspace.neighbors import KNNGraph

    latents, _ = synthetic_latents(n_points + QUERIES)
    data, queries = latents[:n_points], latents[n_points:]

    started = time.perf_counter()
    graph = KNNGraph.build(data, k=15, random_state=0)
    build_s = time.perf_counter() - started

    graph.query(queries[:1], k=K)  # builds or loads the search index once
    latencies = []
    found = []
    for point in queries:
        started = time.perf_counter()
        _, indices = graph.query(point[None, :], k=K)
        latencies.append(time.perf_counter() - started)
        found.append(indices[0])

    exact = faiss.IndexFlatL2(data.shape[1])
    exact.add(data)
    _, truth = exact.search(queries, K)
    hits = sum(np.intersect1d(a, b).size for a, b in zip(found, truth, strict=True))
    latencies_ms = np.array(latencies) * 1000.0
    return {
        "n": n_points,
        "method": graph.method,
        "build_s": build_s,
        "graph_recall": graph.estimated_recall,
        "median_ms": float(np.median(latencies_ms)),
        "p95_ms": float(np.percentile(latencies_ms, 95)),
        "query_recall": hits / truth.size,
    }


def run(work_dir, quick: bool) -> dict:
    """Run the query section and return its rows."""
    rows = []
    for n_points in QUICK_SIZES if quick else SIZES:
        result = run_process([PYTHON, str(BENCH_DIR / "queries.py"), str(n_points)], TIMEOUT_S)
        row = {"n": n_points, "ok": result.ok, "wall_s": result.wall_s,
               "peak_rss_mb": result.peak_rss_mb, "load": load_average(), **result.output}
        if result.timed_out:
            row["note"] = "timed out"
        elif not result.ok:
            lines = result.stderr.strip().splitlines()
            row["note"] = lines[-1] if lines else "failed without a message"
        rows.append(row)
    return {"rows": rows, "queries": QUERIES, "k": K}


if __name__ == "__main__":
    print(json.dumps(worker(int(sys.argv[1]))))
