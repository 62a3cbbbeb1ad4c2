"""Helpers shared by the benchmark sections: fresh-process runs, machine facts, data."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "benchmarks"
PYTHON = sys.executable
MNIST_DIR = REPO / "tests" / "data" / "mnist"


@dataclass
class ProcessResult:
    """Wall time, CPU time and peak memory of one finished (or killed) child process."""

    command: list[str]
    returncode: int | None
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    timed_out: bool
    stdout: str
    stderr: str
    output: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


# Runs in a small intermediate process. A child inherits the peak memory of the process it
# was forked from (Linux records the old address space's high-water mark at exec), so the
# measured program is started from this small launcher rather than from the benchmark.
_LAUNCHER = """
import json, os, sys, time
timeout, report, command = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
started = time.perf_counter()
pid = os.posix_spawn(command[0], command, os.environ)
timed_out = False
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if time.perf_counter() - started > timeout:
        os.kill(pid, 9)
        timed_out = True
        _, status, usage = os.wait4(pid, 0)
        break
    time.sleep(0.02)
with open(report, "w") as out:
    json.dump({"wall_s": time.perf_counter() - started, "timed_out": timed_out,
               "returncode": os.waitstatus_to_exitcode(status),
               "cpu_s": usage.ru_utime + usage.ru_stime,
               "peak_rss_mb": usage.ru_maxrss / 1024.0}, out)
"""


def run_process(
    command: list[str], timeout_s: float, env: dict[str, str] | None = None
) -> ProcessResult:
    """Run `command` in a fresh process and measure its wall time, CPU time and memory.

    Peak memory is the program's maximum resident set size (``ru_maxrss`` from
    ``os.wait4``). The program is killed after `timeout_s` seconds. Its last stdout
    line, when it is a JSON object, is parsed into `ProcessResult.output`.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    scratch = Path(_scratch_dir())
    stem = scratch / f"child-{os.getpid()}-{time.monotonic_ns()}"
    report_path = stem.with_suffix(".json")
    launcher = [PYTHON, "-S", "-c", _LAUNCHER, str(timeout_s), str(report_path)]
    executable = shutil.which(command[0]) or command[0]
    with open(stem.with_suffix(".out"), "wb") as out, open(stem.with_suffix(".err"), "wb") as err:
        subprocess.run([*launcher, executable, *command[1:]], stdout=out, stderr=err,
                       env=full_env, cwd=REPO, check=False)
    stdout = stem.with_suffix(".out").read_text(errors="replace")
    stderr = stem.with_suffix(".err").read_text(errors="replace")
    measured = json.loads(report_path.read_text())
    for suffix in (".out", ".err", ".json"):
        stem.with_suffix(suffix).unlink()
    result = ProcessResult(
        command=command,
        returncode=measured["returncode"],
        wall_s=measured["wall_s"],
        cpu_s=measured["cpu_s"],
        peak_rss_mb=measured["peak_rss_mb"],
        timed_out=measured["timed_out"],
        stdout=stdout,
        stderr=stderr,
    )
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    if lines and lines[-1].startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):
            result.output = json.loads(lines[-1])
    return result


def _scratch_dir() -> str:
    path = Path(os.environ.get("LATENTSPACE_BENCH_WORK", "/tmp/latentspace-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def machine_info() -> dict:
    """Return CPU model, core count, RAM and the versions of the measured packages."""
    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }
    for package in ("numpy", "scipy", "numba", "torch", "faiss", "sklearn", "umap",
                    "pynndescent", "openTSNE", "pacmap", "latentspace"):
        info[package] = _version(package)
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    code = f"import {package} as m; print(getattr(m, '__version__', 'unknown'))"
    done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=REPO)
    return done.stdout.strip() if done.returncode == 0 else "not installed"


def load_average() -> str:
    """Return the 1-, 5- and 15-minute load averages, which show other work on the machine."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


# --- data --------------------------------------------------------------------------------


def synthetic_latents(
    n_points: int, dim: int = 32, n_clusters: int = 20, intrinsic_dim: int = 6, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw latents from a mixture of `n_clusters` Gaussians, each on its own subspace.

    Each cluster is a random `intrinsic_dim`-dimensional linear patch around a centre
    drawn from N(0, 1.5^2), plus isotropic noise with standard deviation 0.3, so that the
    points look like an encoder's latents: clustered, locally low-dimensional. Returns
    float32 latents (n_points, dim) and int64 cluster labels.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, size=(n_clusters, dim))
    bases = rng.normal(size=(n_clusters, intrinsic_dim, dim)) / np.sqrt(intrinsic_dim)
    labels = rng.integers(0, n_clusters, size=n_points)
    latents = np.empty((n_points, dim), np.float32)
    chunk = 100_000
    for start in range(0, n_points, chunk):
        part = labels[start : start + chunk]
        coefficients = rng.normal(size=(len(part), intrinsic_dim))
        patch = np.einsum("ni,nid->nd", coefficients, bases[part])
        noise = rng.normal(0.0, 0.3, size=(len(part), dim))
        latents[start : start + chunk] = centres[part] + patch + noise
    return latents, labels.astype(np.int64)


def mnist_test_set() -> tuple[np.ndarray, np.ndarray]:
    """Return the 10,000 MNIST test images as float32 (N, 784) in [0, 1] and their labels."""
    from latentspace.data.builtin import load_dataset

    data = load_dataset("mnist", data_dir=MNIST_DIR)
    return data.flat().astype(np.float32), np.asarray(data.labels, dtype=np.int64)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Return scikit-learn's 1,797 8x8 digits as float32 (N, 64) in [0, 1] and labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64)


def pca_latents(x: np.ndarray, n_components: int, seed: int = 0) -> np.ndarray:
    """Return the first `n_components` principal components of `x` as float32."""
    from sklearn.decomposition import PCA

    return PCA(n_components, random_state=seed).fit_transform(x).astype(np.float32)
