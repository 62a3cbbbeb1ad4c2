"""Models by name: build one from options or from a saved config, load saved weights."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from latentspace.errors import InvalidParameterError, RunDirectoryError
from latentspace.models.autoencoder import Autoencoder, ConvAutoencoder
from latentspace.models.base import MODEL_FORMAT, LatentModel
from latentspace.models.pca import PCA
from latentspace.models.vae import VAE, ConvVAE

MODELS: dict[str, type[LatentModel]] = {
    "pca": PCA,
    "ae": Autoencoder,
    "conv-ae": ConvAutoencoder,
    "vae": VAE,
    "conv-vae": ConvVAE,
}


def build_model(
    name: str,
    input_shape: tuple[int, ...],
    latent_dim: int,
    *,
    seed: int | None = None,
    **hyperparameters,
) -> LatentModel:
    """Build an untrained model by name.

    Parameters
    ----------
    name : str
        One of ``pca``, ``ae``, ``conv-ae``, ``vae``, ``conv-vae``.
    input_shape : tuple of int
        Shape of one sample: ``(channels, height, width)`` for images (needed by the
        ``conv-*`` models), ``(n_features,)`` for vectors.
    latent_dim : int
        Number of latent dimensions, from 1 to the number of input features.
    seed : int, optional
        Seed for the initial weights. The global torch random state is left unchanged.
        None draws from the global state.
    **hyperparameters
        Model options such as ``hidden_dims``, ``channels``, ``beta`` or ``likelihood``;
        see each model class.

    Returns
    -------
    LatentModel

    Examples
    --------
    >>> from latentspace.models import build_model
    >>> model = build_model("vae", (1, 8, 8), latent_dim=2, beta=4.0, seed=0)
    >>> model.config["beta"]
    4.0
    """
    cls = MODELS.get(name)
    if cls is None:
        raise InvalidParameterError(
            f"Unknown model {name!r}. Valid models: {', '.join(MODELS)}."
        )
    check_hyperparameters(cls, hyperparameters)
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    if seed is None:
        return cls(tuple(input_shape), latent_dim, **hyperparameters)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(tuple(input_shape), latent_dim, **hyperparameters)


def check_hyperparameters(cls: type[LatentModel], hyperparameters: dict) -> None:
    """Raise InvalidParameterError for options that model class `cls` does not take."""
    accepted = [
        p for p in inspect.signature(cls.__init__).parameters
        if p not in ("self", "input_shape", "latent_dim")
    ]
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise InvalidParameterError(
            f"Model {cls.name!r} does not take the option(s) {', '.join(unknown)}. "
            f"Its options are: {', '.join(accepted) or 'none'}."
        )


def model_from_config(config: dict) -> LatentModel:
    """Build an untrained model from a `LatentModel.config` dictionary."""
    options = dict(config)
    missing = [key for key in ("model", "input_shape", "latent_dim") if key not in options]
    if missing:
        raise InvalidParameterError(
            f"Model config is missing {', '.join(missing)}; got keys {sorted(options)}. "
            "Use the dictionary from model.config."
        )
    name = options.pop("model")
    input_shape = tuple(options.pop("input_shape"))
    latent_dim = options.pop("latent_dim")
    return build_model(name, input_shape, latent_dim, **options)


def read_model_config(path: str | Path) -> dict:
    """Return the model config stored in a safetensors file written by `LatentModel.save`."""
    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(f"Model file not found: {path}.")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError) as error:
        raise RunDirectoryError(
            f"Cannot read model file {path}: {error}. The file is damaged or not a "
            "safetensors file; train the model again."
        ) from error
    if metadata.get("format") != MODEL_FORMAT or "config" not in metadata:
        raise RunDirectoryError(
            f"{path} is not a latentspace model file: its metadata has format "
            f"{metadata.get('format')!r}, expected {MODEL_FORMAT!r} with a config."
        )
    return json.loads(metadata["config"])


def load_model(path: str | Path) -> LatentModel:
    """Rebuild a model from a file written by `LatentModel.save` and load its weights.

    The model is returned in eval mode.
    """
    from safetensors.torch import load_file

    model = model_from_config(read_model_config(path))
    model.load_state_dict(load_file(str(path)))
    return model.eval()

