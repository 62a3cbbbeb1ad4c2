"""Training section: latentspace's training loop against a plain PyTorch loop.

Both loops train the same model (same architecture and initial weights) on the MNIST
test images for the same number of epochs, batch size and Adam settings, each in a fresh
process. The plain loop is the textbook one: a `torch.utils.data.Dataset` that returns
one sample per `__getitem__`, a shuffling `DataLoader`, `torch.optim.Adam` with its
defaults and torch's default thread count. `latentspace-bf16` is latentspace's loop with
bfloat16 mixed precision.

Throughput is training samples per second over the epochs' training passes. For
latentspace this comes from the history that `train` returns. The wall time of the whole
`train` call (thread timing, data fingerprint, sanity check) is reported beside it.
Each loop runs `ROUNDS` times, alternating with the others, and the report uses the
median. On a shared virtual machine one process can run 30% slower than the next.

The step's FLOPs come from `torch.utils.flop_counter.FlopCounterMode` over one
forward + backward pass. The machine's matmul throughput is the best of several
2048 x 2048 float32 `torch.mm` calls with torch's default thread count.

Run as a script, this file is the worker: ``python benchmarks/training.py LOOP MODEL
EPOCHS`` (LOOP: plain, latentspace, latentspace-bf16 or matmul) prints one JSON line.
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
ROUNDS = 3
QUICK_ROUNDS = 1
TIMEOUT_S = 1200.0
LOOPS = ("plain", "latentspace", "latentspace-bf16")


def _mnist_images():
    import numpy as np
    from common import MNIST_DIR

    from latentspace.data.builtin import load_dataset

    data = load_dataset("mnist", data_dir=MNIST_DIR)
    return np.ascontiguousarray(data.x, dtype=np.float32)


def _build(model_name: str, input_shape: tuple[int, ...]):
    from latentspace.models.registry import build_model

    return build_model(model_name, input_shape, LATENT_DIM, seed=0, **MODELS[model_name])


def train_latentspace(model, x, epochs: int, precision: str) -> dict:
    from latentspace.training.loop import TrainConfig, train

    config = TrainConfig(epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                         patience=None, seed=0, precision=precision)
    # One short untimed run loads the modules that train() imports on first use.
    warm_up = TrainConfig(epochs=1, batch_size=BATCH_SIZE, patience=None, seed=0,
                          num_threads=1)
    train(copy.deepcopy(model), x[:256], None, warm_up, progress=False)
    started = time.perf_counter()
    result = train(model, x, None, config, progress=False)
    train_seconds = sum(len(x) / entry["samples_per_s"] for entry in result.history)
    return {"seconds": train_seconds, "call_s": time.perf_counter() - started,
            "threads": result.hardware["threads"]}


def train_plain(model, x, epochs: int) -> dict:
    import torch

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
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "call_s": seconds, "threads": torch.get_num_threads()}


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
    if loop == "plain":
        outcome = train_plain(model, x, epochs)
    else:
        precision = "bf16" if loop == "latentspace-bf16" else "fp32"
        outcome = train_latentspace(model, x, epochs, precision)
    samples_per_s = epochs * len(x) / outcome["seconds"]
    return {
        "samples_per_s": samples_per_s,
        "seconds": outcome["seconds"],
        "call_s": outcome["call_s"],
        "threads": outcome["threads"],
        "flops_per_sample": flops,
        "achieved_gflops": samples_per_s * flops / 1e9,
    }


def run(work_dir, quick: bool) -> dict:
    """Run the training section and return its rows."""
    epochs = QUICK_EPOCHS if quick else EPOCHS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    script = str(BENCH_DIR / "training.py")
    peak = run_process([PYTHON, script, "matmul", "ae", "1"], TIMEOUT_S)
    peak_gflops = peak.output.get("gflops")
    rows = []
    for model_name in MODELS:
        runs: dict[str, list[dict]] = {loop: [] for loop in LOOPS}
        for _ in range(rounds):
            for loop in LOOPS:
                runs[loop].append(measure(script, loop, model_name, epochs))
        rows += [summarize(model_name, loop, epochs, runs[loop], peak_gflops) for loop in LOOPS]
    import train_profile

    return {"rows": rows, "matmul_gflops": peak_gflops, "n_samples": 10_000,
            "batch_size": BATCH_SIZE, "rounds": rounds,
            "profile": train_profile.run(tuple(MODELS))}


def measure(script: str, loop: str, model_name: str, epochs: int) -> dict:
    """Run one worker process and return its output with its peak memory, or a failure note."""
    result = run_process([PYTHON, script, loop, model_name, str(epochs)], TIMEOUT_S)
    if not result.ok:
        lines = result.stderr.strip().splitlines()
        return {"ok": False, "note": lines[-1] if lines else "failed without a message"}
    return {"ok": True, "peak_rss_mb": result.peak_rss_mb, "load": load_average(),
            **result.output}


def summarize(model_name: str, loop: str, epochs: int, runs: list[dict],
              peak_gflops: float | None) -> dict:
    """Build a report row from the runs of one loop: medians, with every run's throughput."""
    row = {"model": model_name, "loop": loop, "epochs": epochs}
    good = [run for run in runs if run["ok"]]
    if not good:
        return {**row, "ok": False, "note": runs[-1]["note"]}
    median_run = sorted(good, key=lambda run: run["samples_per_s"])[(len(good) - 1) // 2]
    row.update(median_run)
    row["all_samples_per_s"] = [run["samples_per_s"] for run in good]
    row["failed_runs"] = len(runs) - len(good)
    if peak_gflops:
        row["fraction_of_matmul"] = row["achieved_gflops"] / peak_gflops
    return row


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1], sys.argv[2], int(sys.argv[3]))))
