"""Per-phase timing of a training step, in the plain PyTorch loop and in latentspace's.

Run as a script, ``python benchmarks/train_profile.py MODEL`` trains two copies of MODEL
on the MNIST test images in one process, alternating one epoch of each loop for
`ROUNDS` rounds, and prints one JSON line with the median milliseconds per step of each
phase: data (the next batch), forward, backward (with zero_grad), clip and Adam.
Alternating epochs in one process exposes both loops to the same load from other
programs. The phases are timed with `time.perf_counter` between them, which is exact on
CPU, where every operation finishes before it returns.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from common import BENCH_DIR, PYTHON, run_process
from training import BATCH_SIZE, LEARNING_RATE, _build, _mnist_images

ROUNDS = 3
TIMEOUT_S = 900.0
PHASES = ("data", "forward", "backward", "clip", "adam")


class PhaseTimer:
    """Seconds spent in each named phase, summed over the steps of one epoch."""

    def __init__(self):
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.last = time.perf_counter()

    def mark(self, phase: str) -> None:
        """Charge the time since the previous mark to `phase`."""
        now = time.perf_counter()
        self.seconds[phase] += now - self.last
        self.last = now


def plain_epoch(model, optimizer, loader) -> dict[str, float]:
    """Run one epoch of the textbook loop and return the seconds of each phase."""
    timer = PhaseTimer()
    for batch in loader:
        timer.mark("data")
        loss = model.loss(batch)["loss"]
        timer.mark("forward")
        optimizer.zero_grad()
        loss.backward()
        timer.mark("backward")
        optimizer.step()
        timer.mark("adam")
    return timer.seconds


def latentspace_epoch(step, x, generator) -> dict[str, float]:
    """Run one epoch of latentspace's step, phase by phase, and return their seconds."""
    import torch

    timer = PhaseTimer()
    order = torch.randperm(len(x), generator=generator)
    for start in range(0, len(x), BATCH_SIZE):
        batch = x[order[start : start + BATCH_SIZE]]
        timer.mark("data")
        loss = step.forward(batch)["loss"]
        loss.item()  # the loop checks every loss for NaN
        timer.mark("forward")
        step.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        timer.mark("backward")
        step.clip_gradients()
        timer.mark("clip")
        step.optimizer.step()
        timer.mark("adam")
    return timer.seconds


def worker(model_name: str) -> dict:
    import torch

    from latentspace.training.hardware import (
        TrainingStep,
        choose_threads,
        make_optimizer,
        torch_threads,
    )
    from latentspace.training.loop import TrainConfig

    x_numpy = _mnist_images()
    x = torch.from_numpy(x_numpy)
    plain_model = _build(model_name, tuple(x.shape[1:]))
    ours_model = _build(model_name, tuple(x.shape[1:]))
    plain_model.train()
    ours_model.train()

    dataset = [torch.from_numpy(sample) for sample in x_numpy]  # one tensor per __getitem__
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=True)
    plain_optimizer = torch.optim.Adam(plain_model.parameters(), lr=LEARNING_RATE)
    grad_clip = TrainConfig().grad_clip
    step = TrainingStep(ours_model, make_optimizer(ours_model, LEARNING_RATE, 0.0),
                        grad_clip=grad_clip)
    threads, _ = choose_threads(step, x, BATCH_SIZE)
    generator = torch.Generator().manual_seed(0)

    epochs: dict[str, list[dict]] = {"plain": [], "latentspace": []}
    for _ in range(ROUNDS):
        epochs["plain"].append(plain_epoch(plain_model, plain_optimizer, loader))
        with torch_threads(threads):
            epochs["latentspace"].append(latentspace_epoch(step, x, generator))
    n_steps = -(-len(x) // BATCH_SIZE)
    result = {"model": model_name, "threads": {"plain": torch.get_num_threads(),
                                               "latentspace": threads}}
    for loop, runs in epochs.items():
        result[loop] = {phase: statistics.median(run[phase] for run in runs) / n_steps * 1e3
                        for phase in PHASES}
    return result


def run(models: tuple[str, ...]) -> list[dict]:
    """Profile each model in a fresh process and return the results, or failure notes."""
    results = []
    for model_name in models:
        outcome = run_process([PYTHON, str(BENCH_DIR / "train_profile.py"), model_name],
                              TIMEOUT_S)
        if outcome.ok and outcome.output:
            results.append(outcome.output)
        else:
            lines = outcome.stderr.strip().splitlines()
            results.append({"model": model_name, "failed": lines[-1] if lines else "no output"})
    return results


if __name__ == "__main__":
    print(json.dumps(worker(sys.argv[1])))
