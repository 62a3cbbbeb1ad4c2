"""Principal component analysis as a `LatentModel`, fitted in closed form."""

from __future__ import annotations

import torch

from latentspace.errors import InvalidParameterError
from latentspace.models.base import LatentModel


class PCA(LatentModel):
    """Linear latent space spanned by the top `latent_dim` principal components.

    The mean and the components are buffers, so the fitted model saves to safetensors like
    the trained models. ``train`` calls `fit_closed_form` instead of running an optimizer.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample.
    latent_dim : int
        Number of principal components kept.

    Examples
    --------
    >>> import torch
    >>> from latentspace.models import build_model
    >>> model = build_model("pca", (3,), latent_dim=2)
    >>> model.fit_closed_form(torch.randn(100, 3))
    >>> model.encode(torch.randn(5, 3)).shape
    torch.Size([5, 2])
    """

    name = "pca"
    trainable = False

    def __init__(self, input_shape: tuple[int, ...], latent_dim: int) -> None:
        super().__init__(input_shape, latent_dim)
        self.register_buffer("mean", torch.zeros(self.n_features))
        self.register_buffer("components", torch.zeros(self.latent_dim, self.n_features))

    @torch.no_grad()
    def fit_closed_form(self, x: torch.Tensor) -> None:
        """Set `mean` and `components` from the singular value decomposition of `x`.

        Signs follow scikit-learn's convention: the largest-magnitude entry of each
        component is positive, so refitting on the same data gives the same latents.
        """
        x = torch.as_tensor(x).flatten(1).double()
        if len(x) < self.latent_dim:
            raise InvalidParameterError(
                f"latent_dim={self.latent_dim} needs at least {self.latent_dim} samples to fit "
                f"PCA, got {len(x)}. Lower latent_dim or give more samples."
            )
        mean = x.mean(dim=0)
        _, _, vh = torch.linalg.svd(x - mean, full_matrices=False)
        components = vh[: self.latent_dim]  # (d, F)
        largest = components.abs().argmax(dim=1)
        signs = torch.sign(components[torch.arange(self.latent_dim), largest])
        self.mean.copy_(mean.float())
        self.components.copy_((components * signs[:, None]).float())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1) - self.mean) @ self.components.T  # (B, d)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        x = z @ self.components + self.mean  # (B, F)
        if self.is_image:
            # Images are in [0, 1], but the linear map can overshoot.
            x = x.clamp(0.0, 1.0)
        return x.reshape(len(z), *self.input_shape)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        # Squared error summed per sample, the quantity PCA minimises.
        recon = (self.decode(self.encode(x)) - x).square().flatten(1).sum(dim=1).mean()
        return {"loss": recon, "recon": recon}
