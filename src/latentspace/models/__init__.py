"""Latent models by name: PCA, dense and convolutional autoencoders and VAEs."""

from latentspace.models.autoencoder import Autoencoder, ConvAutoencoder
from latentspace.models.base import LatentModel
from latentspace.models.pca import PCA
from latentspace.models.registry import (
    MODELS,
    build_model,
    load_model,
    model_from_config,
    read_model_config,
)
from latentspace.models.vae import VAE, ConvVAE

__all__ = [
    "MODELS",
    "PCA",
    "VAE",
    "Autoencoder",
    "ConvAutoencoder",
    "ConvVAE",
    "LatentModel",
    "build_model",
    "load_model",
    "model_from_config",
    "read_model_config",
]
