"""The training loop: Adam, early stopping on validation loss, checkpoints, exact resume.

Each epoch follows one order: forward, backward, clip, step and log for every batch, then
evaluate, checkpoint, log and stop. Data stay as tensors and are batched by slicing a
shuffled index, so a run is reproducible on CPU from `TrainConfig.seed` alone.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from latentspace.errors import InvalidParameterError, TrainingError
from latentspace.models.base import LatentModel, check_int
from latentspace.training.checkpoint import (
    LAST_FILE,
    Checkpoint,
    check_identity,
    load_best_weights,
    load_checkpoint,
    save_best_weights,
    save_checkpoint,
)
from latentspace.training.hardware import (
    PRECISIONS,
    TrainingStep,
    available_cpus,
    choose_threads,
    make_optimizer,
    precision_name,
    recheck_threads,
    resolve_device,
    resolve_precision,
    torch_threads,
    usable_threads,
)

logger = logging.getLogger(__name__)

# Settings that change the result of the remaining epochs when changed between resumes.
RESULT_SETTINGS = ("batch_size", "learning_rate", "weight_decay", "grad_clip", "seed",
                   "precision")


@dataclass
class TrainConfig:
    """Settings of a training run.

    Parameters
    ----------
    epochs : int, default 100
        Maximum number of passes over the training data.
    batch_size : int, default 64
        Samples per optimizer step.
    learning_rate : float, default 1e-3
        Adam step size.
    weight_decay : float, default 0.0
        L2 penalty added by Adam.
    patience : int or None, default 10
        Stop after this many epochs without a validation loss lower than the best by more
        than `min_delta`. None trains for all `epochs`.
    min_delta : float, default 0.0
        Smallest decrease of the validation loss that counts as an improvement.
    grad_clip : float or None, default 1.0
        Maximum L2 norm of the gradient of all parameters; None disables clipping. Adam
        rescales steps anyway, so clipping mostly guards against rare huge gradients.
    seed : int, default 0
        Seed for shuffling and for VAE sampling. The same seed, data, model, precision
        and thread count give the same weights on CPU.
    num_threads : int or None, default None
        Torch CPU threads during training. None gives small models one thread and times
        a few steps of larger ones to pick between one thread and all CPUs, timing them
        again after an epoch that ran far slower (other programs using the CPUs). A
        resumed run keeps the count it started with. Set it for bitwise-repeatable runs
        of convolutional models, whose gradients can differ in the last bits between
        thread counts.
    device : str, default "auto"
        Where to train: ``cpu``, ``cuda``, ``cuda:N``, or ``auto`` for the first CUDA GPU
        when torch detects one and the CPU otherwise. The model is back on the CPU when
        training ends.
    precision : str, default "auto"
        ``fp32``, or ``bf16`` for bfloat16 mixed precision (weights and optimizer stay
        float32). ``auto`` is ``bf16`` on CUDA GPUs that support it and ``fp32``
        otherwise.
    eval_batch_size : int, default 1024
        Samples per forward pass when computing validation loss; affects speed only.
    kl_warmup_epochs : int, default 20
        VAEs only: the KL weight rises linearly from 0 in the first epoch to `beta` after
        this many epochs, which keeps more latent dimensions in use (less posterior
        collapse). Early stopping does not count these epochs. The training loss in the
        history uses the lowered weight, the validation loss always the full `beta`.
        0 disables the warm-up.
    """

    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int | None = 10
    min_delta: float = 0.0
    grad_clip: float | None = 1.0
    seed: int = 0
    num_threads: int | None = None
    device: str = "auto"
    precision: str = "auto"
    eval_batch_size: int = 1024
    kl_warmup_epochs: int = 20

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_int("eval_batch_size", self.eval_batch_size, 1)
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_int("kl_warmup_epochs", self.kl_warmup_epochs, 0)
        if self.patience is not None:
            check_int("patience", self.patience, 1, fix="Use None to disable early stopping.")
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, 1)
        if self.precision not in PRECISIONS:
            raise InvalidParameterError(
                f"Invalid precision {self.precision!r}; use one of {', '.join(PRECISIONS)}."
            )
        if not isinstance(self.device, str):
            raise InvalidParameterError(
                f"device must be a string such as 'cpu' or 'cuda', got {self.device!r}."
            )
        check_positive("learning_rate", self.learning_rate)
        check_positive("weight_decay", self.weight_decay, allow_zero=True)
        check_positive("min_delta", self.min_delta, allow_zero=True)
        if self.grad_clip is not None:
            check_positive("grad_clip", self.grad_clip, fix="Use None to disable clipping.")


def check_positive(name: str, value: object, allow_zero: bool = False, fix: str = "") -> None:
    """Raise InvalidParameterError unless `value` is a finite number > 0 (or >= 0)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(
            f"{name} must be a finite number {rule}, got {value!r}.{' ' + fix if fix else ''}"
        )


@dataclass
class TrainResult:
    """Outcome of `train`: per-epoch history and where the best weights came from.

    Attributes
    ----------
    history : list of dict
        One entry per epoch with ``epoch``, ``train_loss``, ``val_loss``, ``train_recon``,
        ``val_recon``, ``train_kl``, ``val_kl`` (None where not applicable), ``seconds``
        and ``samples_per_s`` (training samples per second of the epoch's training pass).
    best_epoch : int
        Epoch whose weights were loaded into the model at the end.
    best_loss : float
        Validation loss of that epoch (training loss when there is no validation set).
    stopped_early : bool
        True when early stopping ended the run before `TrainConfig.epochs`.
    resumed_from_epoch : int or None
        Last complete epoch of the checkpoint this run resumed from.
    hardware : dict
        Where the run trained: ``device``, ``precision`` (fp32 or bf16) and ``threads``
        (torch CPU threads).
    """

    history: list[dict]
    best_epoch: int
    best_loss: float
    stopped_early: bool
    resumed_from_epoch: int | None = None
    hardware: dict = field(default_factory=dict)


@dataclass
class RunState:
    """Mutable state of a run between epochs: what a checkpoint stores besides tensors."""

    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_loss: float = math.inf
    epochs_without_improvement: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early: bool = False
    resumed_from_epoch: int | None = None
    threads: int | None = None

    def record(self, entry: dict, model: LatentModel, config: TrainConfig) -> bool:
        """Add an epoch's history entry and update the best weights. Returns True if improved."""
        self.epoch = entry["epoch"]
        self.history.append(entry)
        monitored = entry["val_loss"] if entry["val_loss"] is not None else entry["train_loss"]
        improved = monitored < self.best_loss - config.min_delta
        warming_up = model.is_variational and self.epoch <= config.kl_warmup_epochs
        if improved:
            self.best_epoch, self.best_loss = self.epoch, monitored
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            self.epochs_without_improvement = 0
        elif not warming_up:
            self.epochs_without_improvement += 1
        patience = config.patience
        self.stopped_early = patience is not None and self.epochs_without_improvement >= patience
        return improved


def train(
    model: LatentModel,
    x_train: np.ndarray,
    x_val: np.ndarray | None,
    config: TrainConfig | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    identity: dict | None = None,
    progress: bool = True,
    callbacks: Sequence[Callable[[dict], bool | None]] = (),
) -> TrainResult:
    """Train `model` on `x_train` with Adam, stopping early on the loss on `x_val`.

    PCA is fitted in closed form instead, giving a one-entry history.

    Parameters
    ----------
    model : LatentModel
        Model to train in place; the best epoch's weights are loaded into it at the end.
    x_train, x_val : ndarray, shape (n_samples, *model.input_shape)
        Training and validation samples. With `x_val` None, early stopping and the best
        epoch use the training loss.
    config : TrainConfig, optional
        Settings; `TrainConfig()` by default.
    checkpoint_dir : path, optional
        Folder for ``last.safetensors`` and ``best.safetensors``, written atomically after
        every epoch. None keeps no checkpoint.
    resume : bool, default False
        Continue from the last checkpoint in `checkpoint_dir`. With the same settings the
        final weights equal those of an uninterrupted run. With no checkpoint there yet,
        training starts from the beginning. A run that stopped early is returned as it
        is, and PCA is simply fitted again.
    identity : dict, optional
        Extra JSON-serialisable facts that must match to resume, such as the data set's
        fingerprint. The model config and fingerprints of `x_train` and `x_val` are always
        included.
    progress : bool, default True
        Show a progress bar with the current losses.
    callbacks : sequence of callables, optional
        Each is called with each epoch's history entry after its checkpoint is written;
        training stops after that epoch when any of them returns True.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingError
        When a loss becomes NaN or infinite; the message names the epoch and batch, and
        the last good checkpoint stays in place.
    RunDirectoryError
        When resuming from a checkpoint written for another model config or data.
    """
    config = config or TrainConfig()
    train_tensor = as_tensor(model, x_train, "x_train")
    val_tensor = None if x_val is None or len(x_val) == 0 else as_tensor(model, x_val, "x_val")
    directory = None if checkpoint_dir is None else Path(checkpoint_dir)
    if resume and directory is None:
        raise InvalidParameterError("resume=True needs checkpoint_dir, got None.")
    run_id = run_identity(model, train_tensor, val_tensor, identity)

    if not model.trainable:
        threads = config.num_threads or torch.get_num_threads()
        with torch_threads(threads):
            return fit_closed_form(model, train_tensor, val_tensor, config, directory, run_id)
    # NOTE: the CUDA path (data and model on the GPU, bf16 autocast, CUDA random state in
    # checkpoints) has not run on a GPU yet; tests cover only its errors on CPU-only torch.
    device = resolve_device(config.device)
    rng_devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=rng_devices):
            return run_training(model, train_tensor.to(device), to_device(val_tensor, device),
                                config, directory, resume, run_id, progress, callbacks)
    finally:
        model.to("cpu")


def to_device(x: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
    """Move `x` to `device`, passing None through."""
    return None if x is None else x.to(device)


def run_training(model, x_train, x_val, config, directory, resume, run_id, progress,
                 callbacks) -> TrainResult:
    """Run the epochs of `train` for a gradient-trained model, on `x_train`'s device."""
    model.to(x_train.device)
    torch.manual_seed(config.seed)
    shuffle = torch.Generator().manual_seed(config.seed)
    optimizer = make_optimizer(model, config.learning_rate, config.weight_decay)
    step = TrainingStep(model, optimizer, resolve_precision(config.precision, x_train.device),
                        config.grad_clip)
    run = start_or_resume(model, optimizer, shuffle, directory, resume, run_id, config)
    sanity_check(model, x_train, config.batch_size)
    max_threads = usable_threads()  # read before training sets the thread count
    run.threads, timed_step_s = pick_threads(step, x_train, config, run.threads)
    hardware = {"device": str(x_train.device), "precision": precision_name(step.autocast_dtype),
                "threads": run.threads}
    logger.info("Training on %s, %s, %d CPU thread(s).", *hardware.values())

    n_batches = math.ceil(len(x_train) / config.batch_size)
    bar = TrainingProgress(progress, config.epochs, n_batches, start_epoch=run.epoch)
    with torch_threads(run.threads), bar, keep_best_on_error(model, run, directory):
        while run.epoch < config.epochs and not run.stopped_early:
            epoch = run.epoch + 1
            started = time.perf_counter()
            train_losses = train_epoch(step, x_train, shuffle, config, epoch, bar, directory,
                                       run)
            train_seconds = time.perf_counter() - started
            if timed_step_s is not None:
                run.threads, timed_step_s = recheck_threads(
                    step, x_train, config.batch_size, run.threads, timed_step_s, train_seconds,
                    max_threads)
                torch.set_num_threads(run.threads)
                hardware["threads"] = run.threads

            # Evaluate, record, checkpoint.
            val_losses = evaluate(model, x_val, config.eval_batch_size)
            if val_losses is not None and not math.isfinite(val_losses["loss"]):
                raise non_finite_error(val_losses["loss"], f"epoch {epoch}, validation",
                                       config, directory, run)
            entry = history_entry(epoch, train_losses, val_losses, time.perf_counter() - started,
                                  samples_per_s=len(x_train) / train_seconds)
            if run.record(entry, model, config) and directory is not None:
                save_best_weights(directory, run.best_state, epoch, run.best_loss)
            if directory is not None:
                save_checkpoint(directory, make_checkpoint(run, model, optimizer, shuffle,
                                                           run_id, config))

            # Log, then stop on early stopping (checked by the while) or a callback.
            bar.end_epoch(entry)
            logger.info("Epoch %d/%d: %s", epoch, config.epochs, format_losses(entry))
            if any([callback(entry) for callback in callbacks]):
                logger.info("A callback stopped training after epoch %d.", epoch)
                break

    if run.stopped_early:
        logger.info("Early stopping after epoch %d. Best epoch: %d (loss %.6g).",
                    run.epoch, run.best_epoch, run.best_loss)
    model.load_state_dict(run.best_state)
    model.eval()
    return TrainResult(run.history, run.best_epoch, run.best_loss, run.stopped_early,
                       run.resumed_from_epoch, hardware)


def pick_threads(step: TrainingStep, x_train: torch.Tensor, config: TrainConfig,
                 previous: int | None) -> tuple[int, float | None]:
    """Return the CPU threads to train with: the setting, the resumed run's, or the fastest.

    The second value is the timed seconds per step, or None when nothing was timed.
    """
    if config.num_threads is not None:
        warn_thread_setting(config.num_threads, previous)
        return config.num_threads, None
    if previous is not None:  # the same count keeps a resumed run identical to an unbroken one
        return previous, None
    if x_train.device.type != "cpu":
        return torch.get_num_threads(), None
    return choose_threads(step, x_train, config.batch_size)


def warn_thread_setting(num_threads: int, previous: int | None) -> None:
    """Log a warning for a thread count above the CPU count or unlike the resumed run's."""
    cpus = available_cpus()
    if num_threads > cpus:
        logger.warning(
            "Training with %d CPU threads on %d CPU(s): threads beyond the CPU count take "
            "turns on the same CPUs and slow training down.", num_threads, cpus)
    if previous is not None and previous != num_threads:
        logger.warning(
            "Resuming with %d CPU thread(s) where the run started with %d. Convolutional "
            "models can then differ in the last bits from an uninterrupted run.",
            num_threads, previous)


def train_epoch(step, x_train, shuffle, config, epoch, bar, directory, run):
    """Run one pass over shuffled `x_train`, returning the sample-weighted mean losses."""
    model = step.model
    model.train()
    if model.is_variational:
        model.kl_weight = kl_warmup_weight(epoch, config.kl_warmup_epochs)
    order = torch.randperm(len(x_train), generator=shuffle).to(x_train.device)
    n_batches = math.ceil(len(x_train) / config.batch_size)
    totals: dict[str, float] = {}
    for batch, start in enumerate(range(0, len(x_train), config.batch_size), start=1):
        x = x_train[order[start : start + config.batch_size]]  # (B, *input_shape)

        losses = step.forward(x)
        loss_value = losses["loss"].item()
        if not math.isfinite(loss_value):
            raise non_finite_error(loss_value, f"epoch {epoch}, batch {batch} of {n_batches}",
                                   config, directory, run)
        step.update(losses["loss"])  # backward, clip, Adam

        for name, value in losses.items():  # log
            totals[name] = totals.get(name, 0.0) + value.item() * len(x)
        bar.advance(epoch, loss_value)
    if model.is_variational:
        model.kl_weight = 1.0
    return {name: total / len(x_train) for name, total in totals.items()}


def kl_warmup_weight(epoch: int, warmup_epochs: int) -> float:
    """Return the KL weight of `epoch` (from 1): 0 at first, 1 after `warmup_epochs`."""
    if warmup_epochs == 0:
        return 1.0
    return min(1.0, (epoch - 1) / warmup_epochs)


@torch.no_grad()
def evaluate(model: LatentModel, x: torch.Tensor | None, batch_size: int) -> dict | None:
    """Return the mean losses on `x` in eval mode, or None when `x` is None."""
    if x is None:
        return None
    model.eval()
    totals: dict[str, float] = {}
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        for name, value in model.loss(batch).items():
            totals[name] = totals.get(name, 0.0) + value.item() * len(batch)
    return {name: total / len(x) for name, total in totals.items()}


def history_entry(epoch: int, train: dict, val: dict | None, seconds: float,
                  samples_per_s: float | None = None) -> dict:
    """Build one history entry; missing parts (no KL, no validation set) are None."""
    val = val or {}
    return {
        "epoch": epoch,
        "train_loss": train["loss"],
        "val_loss": val.get("loss"),
        "train_recon": train["recon"],
        "val_recon": val.get("recon"),
        "train_kl": train.get("kl"),
        "val_kl": val.get("kl"),
        "seconds": seconds,
        "samples_per_s": samples_per_s,
    }


def format_losses(entry: dict) -> str:
    """Format the losses of a history entry for logs and the progress bar."""
    parts = [f"train {entry['train_loss']:.4g}"]
    if entry["val_loss"] is not None:
        parts.append(f"val {entry['val_loss']:.4g}")
    if entry["val_kl"] is not None:
        parts.append(f"val KL {entry['val_kl']:.3g}")
    return ", ".join(parts)


def sanity_check(model: LatentModel, x_train: torch.Tensor, batch_size: int) -> None:
    """Run one batch through the model before training, without touching any random state.

    Catches shape mismatches and non-finite losses before the first optimizer step.
    """
    model.eval()
    x = x_train[:batch_size]
    with torch.no_grad():
        z = model.encode(x)
        decoded = model.decode(z)
        loss = model.loss(x)["loss"].item()
    if tuple(z.shape) != (len(x), model.latent_dim) or decoded.shape != x.shape:
        raise TrainingError(
            f"Sanity check failed: the {model.name} model maps a batch of shape "
            f"{tuple(x.shape)} to latents {tuple(z.shape)} and back to {tuple(decoded.shape)}; "
            f"expected latents {(len(x), model.latent_dim)} and the input shape back."
        )
    if not math.isfinite(loss):
        raise TrainingError(
            f"Sanity check failed: the loss of the first batch is {loss} before any training "
            "step. Check the data and the model options."
        )


def non_finite_error(value: float, where: str, config: TrainConfig, directory: Path | None,
                     run: RunState) -> TrainingError:
    """Build the TrainingError for a NaN or infinite loss, naming what to try next."""
    if directory is not None and run.epoch > 0:
        checkpoint_note = (
            f"The last good checkpoint ({directory / LAST_FILE}, epoch {run.epoch}) is kept."
        )
    else:
        checkpoint_note = "No checkpoint was written before this point."
    return TrainingError(
        f"Training loss is {value} at {where}. {checkpoint_note} Lower learning_rate (now "
        f"{config.learning_rate:g}), set grad_clip, or check the data for extreme values."
    )


@contextmanager
def keep_best_on_error(model: LatentModel, run: RunState, directory: Path | None) -> Iterator:
    """Load the best weights into `model` when training stops on an error or Ctrl-C."""
    try:
        yield
    except (KeyboardInterrupt, TrainingError) as error:
        if model.is_variational:
            model.kl_weight = 1.0
        if run.best_state is not None:
            model.load_state_dict(run.best_state)
        model.eval()
        if isinstance(error, KeyboardInterrupt):
            where = f"{directory / LAST_FILE}" if directory is not None else "no checkpoint"
            logger.warning("Training interrupted after epoch %d. Last complete checkpoint: %s.",
                           run.epoch, where)
        raise


def start_or_resume(model, optimizer, shuffle, directory, resume, run_id, config) -> RunState:
    """Return a fresh run state, or restore weights, optimizer and RNG from a checkpoint."""
    if not resume:
        if directory is not None and (directory / LAST_FILE).exists():
            logger.info("Starting over and overwriting the checkpoint in %s.", directory)
        return RunState()
    checkpoint = load_checkpoint(directory)
    if checkpoint is None:
        logger.info("No checkpoint in %s yet, so training starts at epoch 1.", directory)
        return RunState()
    check_identity(directory, checkpoint, run_id)
    warn_changed_settings(checkpoint.train_config, config)

    model.load_state_dict(checkpoint.model_state)
    optimizer.load_state_dict(checkpoint.optimizer_state)
    torch.set_rng_state(checkpoint.rng_state["torch"])
    shuffle.set_state(checkpoint.rng_state["shuffle"])
    device = next(model.parameters()).device
    if device.type == "cuda" and "cuda" in checkpoint.rng_state:
        torch.cuda.set_rng_state(checkpoint.rng_state["cuda"], device)
    logger.info("Resuming from %s after epoch %d.", directory / LAST_FILE, checkpoint.epoch)
    return RunState(
        epoch=checkpoint.epoch,
        history=list(checkpoint.history),
        best_epoch=checkpoint.best_epoch,
        best_loss=checkpoint.best_loss,
        epochs_without_improvement=checkpoint.epochs_without_improvement,
        best_state=load_best_weights(directory),
        stopped_early=checkpoint.finished,
        resumed_from_epoch=checkpoint.epoch,
        threads=checkpoint.threads,
    )


def warn_changed_settings(saved: dict, config: TrainConfig) -> None:
    """Log a warning for settings that differ from the checkpoint and change the result."""
    current = asdict(config)
    changed = [f"{k} {saved.get(k)!r} -> {current[k]!r}" for k in RESULT_SETTINGS
               if saved.get(k) != current[k]]
    if changed:
        logger.warning(
            "Resuming with changed settings (%s). The optimizer keeps its saved learning rate, "
            "and the result will differ from an uninterrupted run.", ", ".join(changed)
        )


def make_checkpoint(run, model, optimizer, shuffle, run_id, config) -> Checkpoint:
    """Collect the current state of a run into a `Checkpoint`."""
    rng_state = {"torch": torch.get_rng_state(), "shuffle": shuffle.get_state()}
    device = next(model.parameters()).device
    if device.type == "cuda":
        rng_state["cuda"] = torch.cuda.get_rng_state(device)
    return Checkpoint(
        epoch=run.epoch,
        history=run.history,
        best_epoch=run.best_epoch,
        best_loss=run.best_loss,
        epochs_without_improvement=run.epochs_without_improvement,
        identity=run_id,
        train_config=asdict(config),
        model_state=model.state_dict(),
        optimizer_state=optimizer.state_dict(),
        rng_state=rng_state,
        finished=run.stopped_early,
        threads=run.threads,
    )


def fit_closed_form(model, x_train, x_val, config, directory, run_id) -> TrainResult:
    """Fit a model without an optimizer (PCA) and record it as a single epoch.

    The fit runs on the CPU in float32, whatever `config.device` and `config.precision`
    are set to.
    """
    if config.precision == "bf16" or config.device not in ("auto", "cpu"):
        logger.info("%s is fitted in closed form on the CPU in float32; the device and "
                    "precision settings apply only to trained models.", model.name)
    started = time.perf_counter()
    model.fit_closed_form(x_train)
    train_losses = evaluate(model, x_train, config.eval_batch_size)
    val_losses = evaluate(model, x_val, config.eval_batch_size)
    entry = history_entry(1, train_losses, val_losses, time.perf_counter() - started)
    run = RunState()
    run.record(entry, model, config)
    if directory is not None:
        save_best_weights(directory, run.best_state, 1, run.best_loss)
        checkpoint = Checkpoint(
            epoch=1, history=run.history, best_epoch=1, best_loss=run.best_loss,
            epochs_without_improvement=0, identity=run_id, train_config=asdict(config),
            model_state=model.state_dict(), finished=True,
        )
        save_checkpoint(directory, checkpoint)
    logger.info("Fitted %s in closed form: %s", model.name, format_losses(entry))
    hardware = {"device": "cpu", "precision": "fp32", "threads": torch.get_num_threads()}
    return TrainResult(run.history, 1, run.best_loss, stopped_early=False, hardware=hardware)


def as_tensor(model: LatentModel, x: np.ndarray, name: str) -> torch.Tensor:
    """Check `x` against the model and return it as a contiguous float32 tensor."""
    tensor = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
    if tensor.ndim < 2 or len(tensor) == 0:
        raise InvalidParameterError(
            f"{name} must hold at least one sample of shape {model.input_shape}, got an array "
            f"of shape {tuple(tensor.shape)}."
        )
    model.check_data(tensor, name)
    return tensor


def fingerprint(x: torch.Tensor | None) -> str | None:
    """Return a SHA-256 digest of a data tensor's shape and values."""
    if x is None:
        return None
    digest = hashlib.sha256(str(tuple(x.shape)).encode())
    digest.update(x.numpy().tobytes())
    return digest.hexdigest()


def run_identity(model, x_train, x_val, extra: dict | None) -> dict:
    """Collect what must match for a checkpoint to be resumed: model config and data."""
    identity = {
        "model_config": model.config,
        "train_data": fingerprint(x_train),
        "val_data": fingerprint(x_val),
    }
    identity.update(extra or {})
    return identity


class TrainingProgress:
    """Progress bar over the batches of the remaining epochs, showing the current losses."""

    def __init__(self, enabled: bool, epochs: int, batches_per_epoch: int, start_epoch: int):
        self.enabled = enabled
        self.epochs = epochs
        self.total = (epochs - start_epoch) * batches_per_epoch
        self.last_epoch = ""
        self.progress = None
        self.task = None

    def __enter__(self) -> TrainingProgress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
            )
            self.progress.start()
            self.task = self.progress.add_task("training", total=self.total, losses="")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def advance(self, epoch: int, loss: float) -> None:
        """Count one batch and show its loss."""
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=f"epoch {epoch}/{self.epochs}",
                                 losses=f"batch loss {loss:.4g}{self.last_epoch}")

    def end_epoch(self, entry: dict) -> None:
        """Show the losses of the epoch that just ended next to the batch loss."""
        self.last_epoch = f" | epoch {entry['epoch']}: {format_losses(entry)}"
