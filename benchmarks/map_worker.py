"""Compute one 2-D map in this (fresh) process and report its timings as a JSON line.

Usage: python benchmarks/map_worker.py METHOD LATENTS.npy MAP_OUT.npy

METHOD is one of: latentspace, umap, opentsne, pacmap. Each runs at its package's
defaults except where noted in `METHODS`. The parent process measures wall time and
peak memory of the whole process; this script adds the time spent importing, loading
and fitting.
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.perf_counter()


def run_latentspace(z):
    from latentspace.projection.fastmap import FastMap

    model = FastMap(n_components=2, random_state=0)
    coords = model.fit_transform(z)
    return coords, {f"{stage}_s": round(seconds, 3) for stage, seconds in model.timings_.items()}


def run_umap(z):
    import umap

    # Default random_state=None lets umap-learn use all cores (a seed makes it serial).
    return umap.UMAP(n_components=2).fit_transform(z), {}


def run_opentsne(z):
    import openTSNE

    # openTSNE defaults to n_jobs=1; -1 uses all cores like the other methods do.
    return openTSNE.TSNE(n_components=2, n_jobs=-1, random_state=0).fit(z), {}


def run_pacmap(z):
    import pacmap

    return pacmap.PaCMAP(n_components=2, random_state=0).fit_transform(z), {}


METHODS = {
    "latentspace": run_latentspace,
    "umap": run_umap,
    "opentsne": run_opentsne,
    "pacmap": run_pacmap,
}


def main() -> None:
    method, latents_path, out_path = sys.argv[1:4]
    import numpy as np

    loaded = time.perf_counter()
    z = np.load(latents_path)
    fit_started = time.perf_counter()
    coords, details = METHODS[method](z)
    fit_s = time.perf_counter() - fit_started
    np.save(out_path, np.asarray(coords, dtype=np.float32))
    report = {
        "startup_s": round(loaded - STARTED, 3),
        "fit_s": round(fit_s, 3),
        "in_process_s": round(time.perf_counter() - STARTED, 3),
    }
    report.update(details)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
