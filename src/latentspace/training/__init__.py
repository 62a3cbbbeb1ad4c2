"""Training: the loop with early stopping, checkpoints and exact resume."""

from latentspace.training.checkpoint import BEST_FILE, LAST_FILE, Checkpoint, load_checkpoint
from latentspace.training.loop import TrainConfig, TrainResult, train

__all__ = [
    "BEST_FILE",
    "LAST_FILE",
    "Checkpoint",
    "TrainConfig",
    "TrainResult",
    "load_checkpoint",
    "train",
]
