"""Training section: latentspace's training loop against a plain PyTorch loop.

Both loops train the same model (same architecture and initial weights) on the MNIST
test images for the same number of epochs, batch size and Adam settings, each in a fresh
process. The plain loop is the textbook one: a `torch.utils.data.Dataset` that returns
one sample per `__getitem__`, a shuffling `DataLoader` and torch's default thread count.
Throughput is training samples per second of wall time, startup excluded.

The step's FLOPs come from `torch.utils.flop_counter.FlopCounterMode` over one
forward + backward pass. The machine's matmul throughput is the best of several
2048 x 2048 float32 `torch.mm` calls with torch's default thread count.

Run as a script, this file is the worker: ``python benchmarks/training.py LOOP MODEL
EPOCHS`` (LOOP: latentspace, plain, plain-1-thread or matmul) prints one JSON line.
"""

from __future__ import annotations

import copy
import json
import sys
import time

from common import BENCH_DIR, PYTHON, load_average, run_process

MODELS = {"ae": {}, "conv-ae": {}}
LATENT_DIM = 16
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
EPOCHS = 3
QUICK_EPOCHS = 1
TIMEOUT_S = 1200.0
# "plain-1-thread" is the plain loop with torch.set_num_threads(1): it separates the
# cost of torch's thread pool on small steps from the cost of the DataLoader.
LOOPS = ("latentspace", "plain", "plain-1-thread")


def _mnist_images():
    import numpy as np
    from common import MNIST_DIR

    from latentspace.data.builtin import load_dataset

    data = load_dataset("mnist", data_dir=MNIST_DIR)
    return np.ascontiguousarray(data.x, dtype=np.float32)


def _build(model_name: str, input_shape: tuple[int, ...]):
    from latentspace.models.registry import build_model

    return build_model(model_name, input_shape, LATENT_DIM, seed=0, **MODELS[model_name])


def train_latentspace(model, x, epochs: int) -> dict:
    import torch

    from latentspace.training.loop import TrainConfig, choose_threads, train

    config = TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                         patience=None, seed=0)
    threads = choose_threads(model, torch.from_numpy(x[:1]), config)
    # One short untimed run loads the modules that train() imports on first use.
    warm_up = TrainConfig(epochs=1, batch_size=BATCH_SIZE, patience=None, seed=0)
    train(copy.deepcopy(model), x[:256], None, warm_up, progress=False)
    started = time.perf_counter()
    train(model, x, None, config, progress=False)
    return {"seconds": time.perf_counter() - started, "threads": threads}


def train_plain(model, x, epochs: int, threads: int | None = None) -> dict:
    import torch

    if threads is not None:
        torch.set_num_threads(threads)

    class PerSampleDataset(torch.utils.data.Dataset):
        def __init__(self, array):
            self.array = array

        def __len__(self):
            return len(self.array)

        def __getitem__(self, index):
            return torch.from_numpy(self.array[index])

    torch.manual_seed(0)
    loader = torch.utils.data.DataLoader(PerSampleDataset(x), batch_size=BATCH_SIZE,
                                         shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()
    next(iter(loader))  # untimed, like the warm-up run of the latentspace loop
    started = time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            loss = model.loss(batch)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"seconds": time.perf_counter() - started, "threads": torch.get_num_threads()}


def flops_per_sample(model, x) -> float:
    """Count the FLOPs of one forward + backward pass per sample (FlopCounterMode)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    batch = torch.from_numpy(x[:BATCH_SIZE])
    model.train()
    with FlopCounterMode(display=False) as counter:
        model.loss(batch)["loss"].backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(batch)


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Return the best float32 torch.mm throughput in GFLOP/s with torch's default threads."""
    import torch

    a = torch.randn(size, size)
    b = torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def worker(loop: str, model_name: str, epochs: int) -> dict:
    x = _mnist_images()
    model = _build(model_name, tuple(x.shape[1:]))
    if loop == "matmul":
        return {"gflops": matmul_gflops()}
    flops = flops_per_sample(model, x)
    if loop == "latentspace":
        outcome = train_latentspace(model, x, epochs)
    else:
        outcome = train_plain(model, x, epochs, threads=1 if loop == "plain-1-thread" else None)
    samples_per_s = epochs * len(x) / outcome["seconds"]
    return {
        "samples_per_s": samples_per_s,
        "seconds": outcome["seconds"],
        "threads": outcome["threads"],
        "flops_per_sample": flops,
        "achieved_gflops": samples_per_s * flops / 1e9,
    }


def run(work_dir, quick: bool) -> dict:
    """Run the training section and return its rows."""
    epochs = QUICK_EPOCHS if quick else EPOCHS
    script = str(BENCH_DIR / "training.py")
    peak = run_process([PYTHON, script, "matmul", "ae", "1"], TIMEOUT_S)
    peak_gflops = peak.output.get("gflops")
    rows = []
    for model_name in MODELS:
        for loop in LOOPS:
            result = run_process([PYTHON, script, loop, model_name, str(epochs)], TIMEOUT_S)
            row = {"model": model_name, "loop": loop, "epochs": epochs, "ok": result.ok,
                   "peak_rss_mb": result.peak_rss_mb, "load": load_average(), **result.output}
            if not result.ok:
                lines = result.stderr.strip().splitlines()
                row["note"] = lines[-1] if lines else "failed without a message"
            elif peak_gflops:
                row["fraction_of_matmul"] = row["achieved_gflops"] / peak_gflops
            rows.append(row)
    return {"rows": rows, "matmul_gflops": peak_gflops, "n_samples": 10_000,
            "batch_size": BATCH_SIZE}


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
