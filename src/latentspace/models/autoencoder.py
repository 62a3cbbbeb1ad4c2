"""Deterministic autoencoders: a dense MLP (`ae`) and a convolutional one (`conv-ae`).

The encoder and decoder networks defined here are shared with the VAEs in `vae.py`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from latentspace.errors import InvalidParameterError
from latentspace.models.base import (
    LatentModel,
    check_int,
    reconstruction_loss,
    resolve_likelihood,
)

DEFAULT_HIDDEN_DIMS = (512, 256)
DEFAULT_CHANNELS = (32, 64, 128, 256)
# Convolution stages halve the image until its longer side is at most this many pixels.
CONV_MIN_SIDE = 7


def mlp(dims: list[int]) -> nn.Sequential:
    """Linear layers through `dims` with leaky ReLU between them and no activation at the end."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2:
            layers.append(nn.LeakyReLU())
    return nn.Sequential(*layers)


class DenseEncoder(nn.Module):
    """Flatten a sample and map it through an MLP to `out_dim` values."""

    def __init__(self, input_shape: tuple[int, ...], hidden_dims: list[int], out_dim: int):
        super().__init__()
        self.net = mlp([math.prod(input_shape), *hidden_dims, out_dim])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))  # (B, *input_shape) -> (B, out_dim)


class DenseDecoder(nn.Module):
    """Map a latent through an MLP to one sample's shape, without output activation."""

    def __init__(self, input_shape: tuple[int, ...], hidden_dims: list[int], latent_dim: int):
        super().__init__()
        self.input_shape = input_shape
        self.net = mlp([latent_dim, *reversed(hidden_dims), math.prod(input_shape)])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(len(z), *self.input_shape)  # (B, d) -> (B, *input_shape)


def conv_plan(input_shape: tuple[int, ...], channels: list[int] | None) -> list[int]:
    """Return the channels of each stride-2 stage for images of `input_shape`.

    By default the number of stages halves the longer side to at most `CONV_MIN_SIDE` pixels
    (8x8 -> 4x4, 28x28 -> 7x7, 28x20 -> 7x5, 64x64 -> 4x4), with 32, 64, 128, 256 channels.
    """
    if channels is None:
        longest = max(input_shape[1:])
        n_stages = max(1, math.ceil(math.log2(longest / CONV_MIN_SIDE)))
        return list(DEFAULT_CHANNELS[: min(n_stages, len(DEFAULT_CHANNELS))])
    channels = [check_int(f"channels[{i}]", c, 1) for i, c in enumerate(channels)]
    if not channels:
        raise InvalidParameterError("channels must list at least one stage, got [].")
    return channels


def padded_size(size: int, n_stages: int) -> int:
    """Round `size` up to a multiple of 2**n_stages, so every stage halves it exactly."""
    step = 2**n_stages
    return step * math.ceil(size / step)


class ConvEncoder(nn.Module):
    """Pad an image, halve it with stride-2 convolutions, then map it to `out_dim` values."""

    def __init__(self, input_shape: tuple[int, ...], channels: list[int], out_dim: int):
        super().__init__()
        c, h, w = input_shape
        self.pad_h = padded_size(h, len(channels)) - h
        self.pad_w = padded_size(w, len(channels)) - w
        stages = []
        for c_in, c_out in zip([c, *channels[:-1]], channels, strict=True):
            stages += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.LeakyReLU()]
        self.convs = nn.Sequential(*stages)
        scale = 2 ** len(channels)
        flat = channels[-1] * ((h + self.pad_h) // scale) * ((w + self.pad_w) // scale)
        self.head = nn.Linear(flat, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (0, self.pad_w, 0, self.pad_h))  # (B, C, H', W'), H' and W' padded
        x = self.convs(x)  # (B, channels[-1], H' / 2^n, W' / 2^n)
        return self.head(x.flatten(1))  # (B, out_dim)


class ConvDecoder(nn.Module):
    """Map a latent to a small feature map, double it with transposed convolutions, crop."""

    def __init__(self, input_shape: tuple[int, ...], channels: list[int], latent_dim: int):
        super().__init__()
        c, self.height, self.width = input_shape
        scale = 2 ** len(channels)
        self.start_shape = (
            channels[-1],
            padded_size(self.height, len(channels)) // scale,
            padded_size(self.width, len(channels)) // scale,
        )
        self.head = nn.Linear(latent_dim, math.prod(self.start_shape))
        stages: list[nn.Module] = []
        widths = list(reversed(channels))
        for c_in, c_out in zip(widths, [*widths[1:], c], strict=True):
            stages += [nn.LeakyReLU(), nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1)]
        self.deconvs = nn.Sequential(*stages)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.head(z).reshape(len(z), *self.start_shape)  # (B, channels[-1], h, w)
        x = self.deconvs(x)  # (B, C, H', W')
        return x[:, :, : self.height, : self.width]  # (B, C, H, W), padding cropped


class AutoencoderBase(LatentModel):
    """Shared encode, decode and loss of the deterministic autoencoders."""

    encoder: nn.Module
    decoder: nn.Module
    likelihood: str

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, d)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return output_activation(self.decoder(z), self.likelihood)  # (B, *input_shape)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = self.encoder(x)  # (B, d)
        output = self.decoder(z)  # (B, *input_shape), logits for Bernoulli
        recon = reconstruction_loss(output, x, self.likelihood).mean()
        return {"loss": recon, "recon": recon}


class Autoencoder(AutoencoderBase):
    """Dense autoencoder: an MLP encoder to the latent and a mirrored MLP decoder.

    Works on vectors and on images (flattened).

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample.
    latent_dim : int
        Number of latent dimensions.
    hidden_dims : sequence of int, default (512, 256)
        Widths of the encoder's hidden layers; the decoder uses them in reverse.
    likelihood : {"bernoulli", "gaussian"}, optional
        Reconstruction loss: binary cross-entropy on a sigmoid output (data in [0, 1]) or
        squared error on a linear output. Default: Bernoulli for images, Gaussian otherwise.
    """

    name = "ae"

    def __init__(self, input_shape, latent_dim, hidden_dims=DEFAULT_HIDDEN_DIMS, likelihood=None):
        hidden_dims = check_hidden_dims(hidden_dims)
        likelihood = resolve_likelihood(likelihood, tuple(input_shape))
        super().__init__(input_shape, latent_dim, hidden_dims=hidden_dims, likelihood=likelihood)
        self.likelihood = likelihood
        self.encoder = DenseEncoder(self.input_shape, hidden_dims, self.latent_dim)
        self.decoder = DenseDecoder(self.input_shape, hidden_dims, self.latent_dim)


class ConvAutoencoder(AutoencoderBase):
    """Convolutional autoencoder for images of any size (padded, then cropped back).

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)``.
    latent_dim : int
        Number of latent dimensions.
    channels : sequence of int, optional
        Output channels of each stride-2 convolution stage. By default the stages halve the
        longer side to at most 7 pixels, with 32, 64, 128 and 256 channels.
    likelihood : {"bernoulli", "gaussian"}, optional
        As for `Autoencoder`; Bernoulli by default.
    """

    name = "conv-ae"
    requires_image = True

    def __init__(self, input_shape, latent_dim, channels=None, likelihood=None):
        likelihood = resolve_likelihood(likelihood, tuple(input_shape))
        super().__init__(input_shape, latent_dim, likelihood=likelihood)
        channels = conv_plan(self.input_shape, channels)
        self.hyperparameters["channels"] = channels
        self.likelihood = likelihood
        self.encoder = ConvEncoder(self.input_shape, channels, self.latent_dim)
        self.decoder = ConvDecoder(self.input_shape, channels, self.latent_dim)


def check_hidden_dims(hidden_dims) -> list[int]:
    """Validate the hidden layer widths of a dense network and return them as a list."""
    hidden_dims = [check_int(f"hidden_dims[{i}]", h, 1) for i, h in enumerate(hidden_dims)]
    if not hidden_dims:
        raise InvalidParameterError(
            "hidden_dims must list at least one hidden layer width, got []. "
            f"The default is {list(DEFAULT_HIDDEN_DIMS)}."
        )
    return hidden_dims


def output_activation(output: torch.Tensor, likelihood: str) -> torch.Tensor:
    """Map raw decoder output to data units: sigmoid for Bernoulli, identity for Gaussian."""
    return torch.sigmoid(output) if likelihood == "bernoulli" else output
