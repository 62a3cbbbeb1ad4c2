"""Training checkpoints: last and best weights, optimizer and random state, in safetensors.

A checkpoint directory contains two files:

``last.safetensors``
    Everything needed to resume after the last complete epoch: model weights
    (``model.*``), Adam state tensors (``optimizer.*``), the random generator states
    (``rng.*``), and in the metadata, as JSON, the epoch, history, early-stopping
    counters, the run identity, the optimizer's non-tensor settings and the CPU thread
    count.
``best.safetensors``
    Model weights of the epoch with the lowest validation loss.

Each file is replaced atomically (temporary file, then `os.replace`), so an interrupted
write leaves the previous complete checkpoint in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from latentspace.errors import RunDirectoryError
from latentspace.models.base import save_tensors_atomic

CHECKPOINT_FORMAT = "latentspace-checkpoint/1"
LAST_FILE = "last.safetensors"
BEST_FILE = "best.safetensors"


@dataclass
class Checkpoint:
    """State of a training run after a complete epoch."""

    epoch: int
    history: list[dict]
    best_epoch: int
    best_loss: float
    epochs_without_improvement: int
    identity: dict
    train_config: dict
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict | None = None
    rng_state: dict[str, torch.Tensor] = field(default_factory=dict)
    finished: bool = False
    threads: int | None = None


def save_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write `checkpoint` to ``directory/last.safetensors`` atomically and return the path."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous()
               for k, v in checkpoint.model_state.items()}
    tensors.update({f"rng.{k}": v.cpu().contiguous() for k, v in checkpoint.rng_state.items()})
    optimizer_json = None
    if checkpoint.optimizer_state is not None:
        optimizer_tensors, optimizer_json = split_optimizer_state(checkpoint.optimizer_state)
        tensors.update(optimizer_tensors)
    state = {
        "epoch": checkpoint.epoch,
        "history": checkpoint.history,
        "best_epoch": checkpoint.best_epoch,
        "best_loss": checkpoint.best_loss,
        "epochs_without_improvement": checkpoint.epochs_without_improvement,
        "identity": checkpoint.identity,
        "train_config": checkpoint.train_config,
        "optimizer": optimizer_json,
        "finished": checkpoint.finished,
        "threads": checkpoint.threads,
    }
    metadata = {"format": CHECKPOINT_FORMAT, "state": json.dumps(state)}
    path = directory / LAST_FILE
    save_tensors_atomic(tensors, path, metadata)
    return path


def save_best_weights(directory: Path, model_state: dict[str, torch.Tensor], epoch: int,
                      loss: float) -> None:
    """Write the best epoch's model weights to ``directory/best.safetensors`` atomically."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model_state.items()}
    metadata = {"format": CHECKPOINT_FORMAT, "epoch": str(epoch), "loss": repr(loss)}
    save_tensors_atomic(tensors, directory / BEST_FILE, metadata)


def load_checkpoint(directory: Path) -> Checkpoint | None:
    """Read ``directory/last.safetensors``, or return None when none was written yet."""
    path = directory / LAST_FILE
    if not path.is_file():
        return None
    metadata, tensors = read_safetensors(path)
    if metadata.get("format") != CHECKPOINT_FORMAT or "state" not in metadata:
        raise RunDirectoryError(
            f"{path} is not a latentspace training checkpoint (format "
            f"{metadata.get('format')!r}, expected {CHECKPOINT_FORMAT!r}). Delete it or pass "
            "another checkpoint directory."
        )
    state = json.loads(metadata["state"])
    optimizer_state = None
    if state["optimizer"] is not None:
        optimizer_state = join_optimizer_state(state["optimizer"], tensors)
    return Checkpoint(
        epoch=state["epoch"],
        history=state["history"],
        best_epoch=state["best_epoch"],
        best_loss=state["best_loss"],
        epochs_without_improvement=state["epochs_without_improvement"],
        identity=state["identity"],
        train_config=state["train_config"],
        model_state=strip_prefix(tensors, "model."),
        optimizer_state=optimizer_state,
        rng_state=strip_prefix(tensors, "rng."),
        finished=state["finished"],
        threads=state.get("threads"),
    )


def load_best_weights(directory: Path) -> dict[str, torch.Tensor]:
    """Read the model weights in ``directory/best.safetensors``."""
    path = directory / BEST_FILE
    if not path.is_file():
        raise RunDirectoryError(
            f"Best weights not found: {path}. The checkpoint directory is incomplete. "
            "Start over with resume=False."
        )
    return read_safetensors(path)[1]


def read_safetensors(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Return the metadata and tensors of a safetensors file, or raise RunDirectoryError."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        return metadata, load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise RunDirectoryError(
            f"Cannot read checkpoint file {path}: {error}. Delete it and start over "
            "with resume=False."
        ) from error


def split_optimizer_state(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split `torch.optim.Optimizer.state_dict()` into tensors and a JSON-serialisable rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict] = {}
    for index, values in state["state"].items():
        scalars[str(index)] = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{key}"] = value.cpu().contiguous()
            else:
                scalars[str(index)][key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def join_optimizer_state(saved: dict, tensors: dict[str, torch.Tensor]) -> dict:
    """Rebuild an optimizer state dict from `split_optimizer_state`'s two parts."""
    state: dict[int, dict] = {int(i): dict(values) for i, values in saved["scalars"].items()}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    groups = [dict(group) for group in saved["param_groups"]]
    for group in groups:
        if isinstance(group.get("betas"), list):
            group["betas"] = tuple(group["betas"])
    return {"state": state, "param_groups": groups}


def strip_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """Return the tensors whose names start with `prefix`, with the prefix removed."""
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def identity_differences(stored: dict, current: dict, prefix: str = "") -> list[str]:
    """List the entries that differ between two identity dictionaries, as readable lines."""
    differences = []
    for key in sorted(set(stored) | set(current), key=str):
        name = f"{prefix}{key}"
        old, new = stored.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += identity_differences(old, new, prefix=f"{name}.")
        elif json.dumps(old, sort_keys=True) != json.dumps(new, sort_keys=True):
            differences.append(f"{name} is {shorten(old)} in the checkpoint but {shorten(new)} now")
    return differences


def shorten(value: object, limit: int = 40) -> str:
    """Format `value` for an error message, cutting long values such as fingerprints."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_identity(directory: Path, checkpoint: Checkpoint, identity: dict) -> None:
    """Raise RunDirectoryError when a checkpoint was written for another model or data."""
    differences = identity_differences(checkpoint.identity, identity)
    if differences:
        raise RunDirectoryError(
            f"Cannot resume from {directory / LAST_FILE}: it belongs to a different run. "
            + "; ".join(differences)
            + ". Write this run to a new run directory (--out), or replace the old run "
            "(--overwrite instead of --resume)."
        )
