"""Metrics of a `LatentSpace`: how much it compresses, reconstructs and preserves."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from latentspace import metrics

logger = logging.getLogger(__name__)

MAX_HELD_OUT_FOR_MSE = 10_000


def evaluate_space(space: Any, k: int = 10) -> dict[str, Any]:
    """Compute every metric that applies to `space` and return them as a nested dict.

    Keys: ``compression_ratio``, ``reconstruction`` (held-out MSE and PSNR),
    ``latent`` (kNN accuracy and silhouette of the labels), ``projections`` (per map:
    trustworthiness and silhouette) and, for VAEs, ``kl_per_dimension`` and
    ``active_units``.
    """
    data = space.dataset
    result: dict[str, Any] = {
        "n_samples": len(data),
        "n_features": data.n_features,
        "latent_dim": space.latent_dim,
        "compression_ratio": metrics.compression_ratio(data.n_features, space.latent_dim),
    }
    if space.has_decoder:
        result["reconstruction"] = _reconstruction(space)

    labels = data.labels if data.has_class_labels else None
    result["latent"] = {
        "knn_accuracy": metrics.knn_accuracy(space.z, labels, k=k, random_state=0)
        if labels is not None else None,
        "silhouette": metrics.silhouette(space.z, labels, random_state=0)
        if labels is not None else None,
    }
    result["projections"] = {
        name: _projection_metrics(space, coords, labels, k)
        for name, coords in sorted(space.projections.items())
    }
    if space.is_variational:
        result.update(_variational(space))
    return result


def _reconstruction(space: Any) -> dict[str, Any]:
    index = space.val_index if len(space.val_index) else space.train_index
    index = index[:MAX_HELD_OUT_FOR_MSE]
    x = space.dataset.x[index]
    x_hat = space.reconstruct(index)
    return {
        "split": "held-out" if len(space.val_index) else "training",
        "n_samples": int(len(index)),
        "mse": metrics.reconstruction_mse(x, x_hat),
        "psnr": metrics.psnr(x, x_hat) if space.dataset.is_image else None,
    }


def _projection_metrics(space: Any, coords: np.ndarray, labels: np.ndarray | None,
                        k: int) -> dict[str, Any]:
    return {
        "trustworthiness": metrics.trustworthiness(space.z, coords, k=k),
        "silhouette": metrics.silhouette(coords, labels, random_state=0)
        if labels is not None else None,
        "knn_accuracy": metrics.knn_accuracy(coords, labels, k=k, random_state=0)
        if labels is not None else None,
    }


def _variational(space: Any) -> dict[str, Any]:
    import torch

    model = space.model
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(space.dataset.x[space.train_index])
        mu, logvar = model.encode_distribution(x)
    kl = metrics.kl_per_dimension(mu.numpy(), logvar.numpy())
    return {
        "kl_per_dimension": [float(v) for v in kl],
        "active_units": int(metrics.active_units(mu.numpy())),
    }
