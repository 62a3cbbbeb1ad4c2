"""The `LatentModel` interface shared by every model, and the losses they use."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn

from latentspace.errors import DataError, InvalidParameterError

MODEL_FORMAT = "latentspace-model/1"
LIKELIHOODS = ("bernoulli", "gaussian")


def check_int(name: str, value: object, low: int, high: int | None = None, fix: str = "") -> int:
    """Check that `value` is an integer in ``[low, high]`` and return it as an int."""
    in_range = (
        isinstance(value, (int, np.integer))
        and not isinstance(value, bool)
        and value >= low
        and (high is None or value <= high)
    )
    if not in_range:
        allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise InvalidParameterError(
            f"{name} must be {allowed}, got {value!r}.{' ' + fix if fix else ''}"
        )
    return int(value)


def resolve_likelihood(likelihood: str | None, input_shape: tuple[int, ...]) -> str:
    """Pick the reconstruction likelihood: Bernoulli for images, Gaussian for vectors."""
    if likelihood is None:
        return "bernoulli" if len(input_shape) == 3 else "gaussian"
    if likelihood not in LIKELIHOODS:
        raise InvalidParameterError(
            f"likelihood must be one of {', '.join(LIKELIHOODS)} (or None to choose from the "
            f"input shape), got {likelihood!r}."
        )
    return likelihood


def reconstruction_loss(output: torch.Tensor, x: torch.Tensor, likelihood: str) -> torch.Tensor:
    """Return the reconstruction loss of each sample, summed over its features.

    Parameters
    ----------
    output : Tensor, shape (B, *input_shape)
        Decoder output before the output activation: logits for ``"bernoulli"``, values in
        data units for ``"gaussian"``.
    x : Tensor, shape (B, *input_shape)
        Target samples; in [0, 1] for ``"bernoulli"``.
    likelihood : {"bernoulli", "gaussian"}
        Binary cross-entropy on the sigmoid of `output`, or squared error.

    Returns
    -------
    Tensor, shape (B,)
    """
    if likelihood == "bernoulli":
        per_feature = F.binary_cross_entropy_with_logits(output, x, reduction="none")
    else:
        per_feature = (output - x).square()
    return per_feature.flatten(1).sum(dim=1)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Return KL(N(mu, exp(logvar)) || N(0, I)) of each sample, shape (B,)."""
    return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(dim=1)


class LatentModel(nn.Module):
    """Base class of every model: an encoder to a `latent_dim`-dimensional latent and back.

    Subclasses set the class attributes, build their networks in ``__init__`` and implement
    `encode`, `decode` and `forward` (which returns the loss dictionary).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample: ``(channels, height, width)`` for images, ``(n_features,)`` for
        vectors.
    latent_dim : int
        Number of latent dimensions, from 1 to the number of input features.
    **hyperparameters
        Model-specific settings, stored in `config` so that `model_from_config` can rebuild
        the model.
    """

    name: str = ""
    is_variational: bool = False
    trainable: bool = True
    requires_image: bool = False

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int, **hyperparameters) -> None:
        super().__init__()
        self.input_shape = check_input_shape(type(self), input_shape)
        self.n_features = math.prod(self.input_shape)
        self.latent_dim = check_int(
            "latent_dim", latent_dim, 1, self.n_features,
            fix=f"The input has {self.n_features} features (shape {self.input_shape}), "
            "so the latent cannot have more dimensions than that.",
        )
        self.hyperparameters = hyperparameters

    @property
    def config(self) -> dict:
        """JSON-serialisable description from which `model_from_config` rebuilds the model."""
        return {
            "model": self.name,
            "input_shape": list(self.input_shape),
            "latent_dim": self.latent_dim,
            **self.hyperparameters,
        }

    @property
    def is_image(self) -> bool:
        """True when samples are images, shaped (channels, height, width)."""
        return len(self.input_shape) == 3

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map samples (B, *input_shape) to latents (B, latent_dim), posterior means for VAEs."""
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map latents (B, latent_dim) to samples (B, *input_shape) in data units."""
        raise NotImplementedError

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return the training loss of a batch and its parts.

        Returns
        -------
        dict of str to Tensor
            ``"loss"``: mean over the batch of the per-sample summed reconstruction loss,
            plus ``beta * KL`` for VAEs. ``"recon"``: the reconstruction part. ``"kl"``: the
            KL divergence to the prior (VAEs only).
        """
        return self(x)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Encode and decode `x`, returning a tensor of the same shape."""
        return self.decode(self.encode(x))

    def check_data(self, x: np.ndarray | torch.Tensor, name: str = "x") -> None:
        """Raise DataError when `x` does not fit this model's input shape or likelihood."""
        shape = tuple(x.shape[1:])
        if shape != self.input_shape:
            raise DataError(
                f"{name} has samples of shape {shape}, but the {self.name} model was built for "
                f"{self.input_shape}. Build the model with input_shape={shape}."
            )
        values = torch.as_tensor(x)
        bad = ~torch.isfinite(values.flatten(1)).all(dim=1)
        if bad.any():
            rows = torch.nonzero(bad).flatten()
            raise DataError(
                f"{name} contains NaN or infinite values in {len(rows)} samples (first at row "
                f"{int(rows[0])}). Remove or impute those samples before training."
            )
        if self.hyperparameters.get("likelihood") == "bernoulli" and len(values):
            low, high = float(values.min()), float(values.max())
            if low < 0 or high > 1:
                raise DataError(
                    f"{name} has values in [{low:.3g}, {high:.3g}], but likelihood='bernoulli' "
                    "needs values in [0, 1]. Scale the data to [0, 1] or build the model with "
                    "likelihood='gaussian'."
                )

    def save(self, path: str | Path) -> None:
        """Write the weights and `config` to a safetensors file, atomically."""
        path = Path(path)
        tensors = {key: value.contiguous() for key, value in self.state_dict().items()}
        metadata = {"format": MODEL_FORMAT, "config": json.dumps(self.config)}
        save_tensors_atomic(tensors, path, metadata)

    def extra_repr(self) -> str:
        return f"input_shape={self.input_shape}, latent_dim={self.latent_dim}"


def check_input_shape(cls: type[LatentModel], input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Validate `input_shape` for model class `cls` and return it as a tuple of ints."""
    shape = tuple(input_shape)
    if not shape or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape):
        raise InvalidParameterError(
            f"input_shape must be a non-empty tuple of positive integers, got {input_shape!r}."
        )
    shape = tuple(int(s) for s in shape)
    if cls.requires_image and len(shape) != 3:
        dense = cls.name.removeprefix("conv-")
        raise InvalidParameterError(
            f"Model {cls.name!r} needs images shaped (channels, height, width), but the input "
            f"shape is {shape}. Use model {dense!r} (--model {dense}) for vectors and tables."
        )
    return shape


def save_tensors_atomic(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]
) -> None:
    """Write a safetensors file through a temporary file and `os.replace`.

    A reader sees either the old file or the complete new one, even when the process is
    killed or interrupted while writing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(tensors, str(temporary), metadata=metadata)
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
