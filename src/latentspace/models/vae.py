"""Variational autoencoders (`vae`, `conv-vae`) with a `beta` weight on the KL term."""

from __future__ import annotations

import torch
from torch import nn

from latentspace.errors import InvalidParameterError
from latentspace.models.autoencoder import (
    DEFAULT_HIDDEN_DIMS,
    ConvDecoder,
    ConvEncoder,
    DenseDecoder,
    DenseEncoder,
    check_hidden_dims,
    conv_plan,
    output_activation,
)
from latentspace.models.base import (
    LatentModel,
    gaussian_kl,
    reconstruction_loss,
    resolve_likelihood,
)

# Bounds on the encoder's log-variance, so exp(logvar) cannot overflow early in training.
LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0


def check_beta(beta: float) -> float:
    """Validate the KL weight and return it as a float."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta >= 0:
        raise InvalidParameterError(
            f"beta must be a number >= 0 (1 is the standard VAE, larger values trade "
            f"reconstruction for a smoother latent), got {beta!r}."
        )
    return float(beta)


class VAEBase(LatentModel):
    """Shared posterior, sampling and ELBO loss of the VAEs.

    The encoder outputs ``2 * latent_dim`` values: the posterior mean and log-variance of
    a diagonal Gaussian. The prior is N(0, I).
    """

    is_variational = True
    # Factor on beta that the training loop lowers during the KL warm-up. It is not a
    # hyperparameter and is not saved, so a loaded model uses 1.
    kl_weight: float = 1.0
    encoder: nn.Module
    decoder: nn.Module
    likelihood: str
    beta: float

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior mean and log-variance of `x`, each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)  # (B, 2d) -> 2 x (B, d)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode_distribution(x)[0]  # posterior mean, (B, d)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return output_activation(self.decoder(z), self.likelihood)  # (B, *input_shape)

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Draw z = mu + sigma * eps with eps ~ N(0, I), differentiable in mu and logvar."""
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return the negative ELBO of `x` with the KL term weighted by `beta * kl_weight`.

        In training mode the latent is sampled with the reparameterisation trick, using
        torch's global random generator. In eval mode the posterior mean is decoded, so the
        validation loss is deterministic.
        """
        mu, logvar = self.encode_distribution(x)  # 2 x (B, d)
        z = self.reparameterize(mu, logvar) if self.training else mu  # (B, d)
        output = self.decoder(z)  # (B, *input_shape), logits for Bernoulli
        recon = reconstruction_loss(output, x, self.likelihood).mean()
        kl = gaussian_kl(mu, logvar).mean()
        return {"loss": recon + self.kl_weight * self.beta * kl, "recon": recon, "kl": kl}


class VAE(VAEBase):
    """Dense variational autoencoder, for vectors and (flattened) images.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample.
    latent_dim : int
        Number of latent dimensions.
    hidden_dims : sequence of int, default (512, 256)
        Widths of the encoder's hidden layers; the decoder uses them in reverse.
    beta : float, default 1.0
        Weight of the KL divergence to the prior. 1 is the standard VAE; values above 1
        give a smoother, more disentangled latent with blurrier reconstructions.
    likelihood : {"bernoulli", "gaussian"}, optional
        Binary cross-entropy on a sigmoid output (data in [0, 1]) or squared error on a
        linear output. Default: Bernoulli for images, Gaussian otherwise.
    """

    name = "vae"

    def __init__(self, input_shape, latent_dim, hidden_dims=DEFAULT_HIDDEN_DIMS, beta=1.0,
                 likelihood=None):
        hidden_dims = check_hidden_dims(hidden_dims)
        beta = check_beta(beta)
        likelihood = resolve_likelihood(likelihood, tuple(input_shape))
        super().__init__(input_shape, latent_dim, hidden_dims=hidden_dims, beta=beta,
                         likelihood=likelihood)
        self.beta, self.likelihood = beta, likelihood
        self.encoder = DenseEncoder(self.input_shape, hidden_dims, 2 * self.latent_dim)
        self.decoder = DenseDecoder(self.input_shape, hidden_dims, self.latent_dim)


class ConvVAE(VAEBase):
    """Convolutional variational autoencoder for images of any size.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)``.
    latent_dim : int
        Number of latent dimensions.
    channels : sequence of int, optional
        Output channels of each stride-2 convolution stage; chosen from the image size by
        default, as in ``conv-ae``.
    beta : float, default 1.0
        Weight of the KL divergence to the prior.
    likelihood : {"bernoulli", "gaussian"}, optional
        Bernoulli by default.
    """

    name = "conv-vae"
    requires_image = True

    def __init__(self, input_shape, latent_dim, channels=None, beta=1.0, likelihood=None):
        beta = check_beta(beta)
        likelihood = resolve_likelihood(likelihood, tuple(input_shape))
        super().__init__(input_shape, latent_dim, beta=beta, likelihood=likelihood)
        channels = conv_plan(self.input_shape, channels)
        self.hyperparameters["channels"] = channels
        self.beta, self.likelihood = beta, likelihood
        self.encoder = ConvEncoder(self.input_shape, channels, 2 * self.latent_dim)
        self.decoder = ConvDecoder(self.input_shape, channels, self.latent_dim)
