"""Training hardware settings: device, mixed precision, CPU threads and the optimizer step.

The choices here change speed only, with two exceptions that the docstrings name: bfloat16
mixed precision changes the numbers, and on CPU the thread count can change the last bits
of convolution gradients.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from latentspace.errors import InvalidParameterError
from latentspace.models.base import LatentModel

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16")

# Below this many multiply-adds per optimizer step, training uses one CPU thread without
# timing anything. Such a step takes about a millisecond on one core (an estimate, at 40
# GFLOP/s), so coordinating threads costs more than they save, and small models stay
# repeatable across machines.
SMALL_STEP_MACS = 20_000_000
# Thread counts are compared over this many rounds of this many steps each, alternating
# the counts, so a burst of load from another process affects both sides.
TIMING_ROUNDS = 3
TIMED_STEPS = 3
# A step slower than this is big enough for all CPUs to pay off, so it is not timed.
SLOW_STEP_S = 0.25
# An epoch whose steps take this many times longer than the timed ones has the thread
# counts timed again. Epoch steps include data indexing and logging, which the timed steps
# leave out, so a smaller factor would time again without cause.
SLOWDOWN_FACTOR = 3.0
# Epochs shorter than this are not compared: their first steps' set-up costs dominate.
MIN_COMPARED_EPOCH_S = 1.0


class TrainingStep:
    """One optimizer step of a model: forward under autocast, backward, clip, Adam.

    Parameters
    ----------
    model : LatentModel
        Model to train, in training mode.
    optimizer : torch.optim.Adam
        Optimizer over the model's parameters, from `make_optimizer`.
    autocast_dtype : torch.dtype or None
        Lower precision for the forward pass (mixed precision), or None for float32.
    grad_clip : float or None
        Maximum total L2 norm of the gradients, or None for no clipping.
    """

    def __init__(self, model: LatentModel, optimizer: torch.optim.Adam,
                 autocast_dtype: torch.dtype | None = None, grad_clip: float | None = None):
        self.model = model
        self.optimizer = optimizer
        self.autocast_dtype = autocast_dtype
        self.grad_clip = grad_clip
        self.parameters = [p for group in optimizer.param_groups for p in group["params"]]
        self.fused = bool(optimizer.defaults.get("fused"))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return the model's losses on the batch `x`, computed under autocast if enabled."""
        if self.autocast_dtype is None:
            return self.model.loss(x)
        with torch.autocast(device_type=x.device.type, dtype=self.autocast_dtype):
            return self.model.loss(x)

    def update(self, loss: torch.Tensor) -> None:
        """Backpropagate `loss`, clip the gradients and take an Adam step."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.grad_clip is not None:
            self.clip_gradients()
        self.optimizer.step()

    def clip_gradients(self) -> None:
        """Scale the gradients down to a total L2 norm of at most `grad_clip`.

        The scale is the one `torch.nn.utils.clip_grad_norm_` applies. A fused Adam takes
        it as ``grad_scale`` (the attribute `torch.amp.GradScaler` sets) and divides the
        gradients by it inside its kernel, which saves one pass over them.
        """
        grads = [p.grad for p in self.parameters if p.grad is not None]
        total_norm = torch.nn.utils.get_total_norm(grads)
        if self.fused:
            # clip_grad_norm_ multiplies by max_norm / (norm + 1e-6) when that is below 1.
            scale = torch.clamp((total_norm + 1e-6) / self.grad_clip, min=1.0)
            self.optimizer.grad_scale = scale.to(torch.float32)
        else:
            torch.nn.utils.clip_grads_with_norm_(self.parameters, self.grad_clip, total_norm)


def make_optimizer(model: LatentModel, learning_rate: float, weight_decay: float
                   ) -> torch.optim.Adam:
    """Build Adam for `model`, fused into one kernel per step where torch supports it.

    The fused kernel computes the same update as torch's per-parameter loop, up to
    rounding, in one pass over each parameter's state.
    """
    parameters = list(model.parameters())
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters)
    return torch.optim.Adam(parameters, lr=learning_rate, weight_decay=weight_decay,
                            fused=fused or None)


def resolve_device(name: str) -> torch.device:
    """Return the torch device for a ``device`` setting: auto, cpu, cuda or cuda:N."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise InvalidParameterError(f"Invalid device {name!r}; use auto, cpu, cuda or cuda:N.")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InvalidParameterError(
                f"Device {name!r} needs a CUDA GPU, but this torch ({torch.__version__}) detects "
                "none. Train on the CPU (device 'cpu', --device cpu on the command line), or "
                "install a CUDA build of torch."
            )
        if device.index is not None and device.index >= count:
            raise InvalidParameterError(
                f"Device {name!r} does not exist: torch detects {count} CUDA GPU(s), numbered "
                f"from 0 to {count - 1}."
            )
    return device


def resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """Return the autocast dtype for a ``precision`` setting, or None for float32.

    ``auto`` means bfloat16 mixed precision on a CUDA GPU that supports it and float32
    everywhere else. On CPU, ``bf16`` helps only where the CPU has bfloat16 instructions
    (AVX512-BF16 or AMX); elsewhere it is slower than float32.
    """
    on_gpu = device.type == "cuda"
    if precision == "fp32" or (precision == "auto" and not on_gpu):
        return None
    if on_gpu and not torch.cuda.is_bf16_supported():
        if precision == "auto":
            return None
        raise InvalidParameterError(
            f"Precision 'bf16' needs a GPU with bfloat16 support, and {device} has none. "
            "Use precision 'fp32' (--precision fp32 on the command line)."
        )
    return torch.bfloat16


def precision_name(autocast_dtype: torch.dtype | None) -> str:
    """Return the ``precision`` setting that gives `autocast_dtype`: fp32 or bf16."""
    return "fp32" if autocast_dtype is None else "bf16"


def available_cpus() -> int:
    """Return the number of CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def usable_threads() -> int:
    """Return the most torch threads worth using: torch's default, capped at the CPU count."""
    return min(torch.get_num_threads(), available_cpus())


def choose_threads(step: TrainingStep, x_train: torch.Tensor, batch_size: int,
                   max_threads: int | None = None) -> tuple[int, float | None]:
    """Return the CPU thread count that trains `step.model` fastest on this machine now.

    Steps below `SMALL_STEP_MACS` multiply-adds get one thread. For larger ones, a copy of
    the model takes a few timed steps with one thread and with all CPUs, and the faster
    count wins. Timing them, rather than following a fixed rule, also catches other
    processes that keep some CPUs busy: torch's threads wait for each other at the end of
    every parallel operation, so one busy CPU slows them all.

    Returns
    -------
    threads : int
    step_seconds : float or None
        Seconds per timed step with `threads`, or None when nothing was timed.
    """
    if max_threads is None:
        max_threads = usable_threads()
    if max_threads == 1:
        return 1, None
    if estimate_step_macs(step.model, x_train[:1], batch_size) < SMALL_STEP_MACS:
        return 1, None
    return fastest_thread_count(step, x_train[:batch_size], (1, max_threads))


def recheck_threads(step: TrainingStep, x_train: torch.Tensor, batch_size: int,
                    threads: int, timed_step_s: float, epoch_seconds: float,
                    max_threads: int) -> tuple[int, float]:
    """Time the thread counts again when an epoch ran far slower than the timed steps.

    Other programs that start during training can make torch's threads wait for each
    other. Returns the thread count to continue with and its seconds per timed step.
    """
    epoch_step_s = epoch_seconds / math.ceil(len(x_train) / batch_size)
    slow = epoch_step_s >= SLOWDOWN_FACTOR * timed_step_s
    if epoch_seconds < MIN_COMPARED_EPOCH_S or not slow:
        return threads, timed_step_s
    new_threads, new_step_s = choose_threads(step, x_train, batch_size, max_threads)
    if new_threads != threads:
        logger.warning(
            "Training slowed from %.1f ms to %.1f ms per step, probably because other programs "
            "are using the CPUs. Continuing with %d CPU thread(s) instead of %d.",
            timed_step_s * 1e3, epoch_step_s * 1e3, new_threads, threads,
        )
    return new_threads, new_step_s or timed_step_s


def fastest_thread_count(step: TrainingStep, batch: torch.Tensor,
                         candidates: tuple[int, ...]) -> tuple[int, float]:
    """Time training steps of a copy of `step` at each thread count; return the fastest.

    Returns the fastest count and its median seconds per step.
    """
    model = copy.deepcopy(step.model).train()
    trial = TrainingStep(model, make_optimizer(model, 1e-3, 0.0), step.autocast_dtype,
                         step.grad_clip)
    seconds: dict[int, list[float]] = {n: [] for n in candidates}
    with torch.random.fork_rng(devices=[]):
        for _ in range(TIMING_ROUNDS):
            for threads in candidates:
                with torch_threads(threads):
                    seconds[threads].append(time_steps(trial, batch))
            if min(seconds[candidates[-1]]) > SLOW_STEP_S * TIMED_STEPS:
                return candidates[-1], min(seconds[candidates[-1]]) / TIMED_STEPS
    medians = {n: statistics.median(seconds[n]) / TIMED_STEPS for n in candidates}
    fastest = min(candidates, key=medians.__getitem__)
    timings = ", ".join(f"{medians[n] * 1e3:.2f} ms with {n}" for n in candidates)
    logger.info("Timed training steps: %s thread(s); using %d.", timings, fastest)
    return fastest, medians[fastest]


def time_steps(step: TrainingStep, batch: torch.Tensor) -> float:
    """Return the seconds of `TIMED_STEPS` training steps after one untimed step."""
    step.update(step.forward(batch)["loss"])
    started = time.perf_counter()
    for _ in range(TIMED_STEPS):
        step.update(step.forward(batch)["loss"])
    return time.perf_counter() - started


@torch.no_grad()
def estimate_step_macs(model: LatentModel, sample: torch.Tensor, batch_size: int) -> int:
    """Estimate the multiply-adds of one training step: 3x the forward pass of a batch."""
    macs = 0

    def count(module: torch.nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(module, torch.nn.Linear):
            macs += output.numel() * module.in_features
        elif isinstance(module, torch.nn.Conv2d):
            macs += output.numel() * module.weight[0].numel()
        elif isinstance(module, torch.nn.ConvTranspose2d):
            macs += inputs[0].numel() * module.weight[0].numel()

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    was_training = model.training
    try:
        model.eval()
        with torch.random.fork_rng(devices=[]):
            model.loss(sample)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return 3 * macs * batch_size


@contextmanager
def torch_threads(num_threads: int) -> Iterator[None]:
    """Set torch's CPU thread count inside the block, then restore it."""
    previous = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
