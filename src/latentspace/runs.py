"""Saving a `LatentSpace` to a run directory and loading it back.

Layout::

    run.json                 config, data fingerprint and source, versions, metrics, history
    model.safetensors        model weights (absent for precomputed embeddings)
    latents.parquet          id, label, split, metadata columns, z (fixed-size list of float32)
    projections/NAME.parquet id and the map coordinates x, y (and z for 3-D maps)
    knn.safetensors          the latents' k-nearest-neighbour graph
"""

from __future__ import annotations

import logging
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from latentspace import store
from latentspace.errors import RunDirectoryError

logger = logging.getLogger(__name__)

VERSIONED_PACKAGES = ("latentspace", "torch", "numpy", "scikit-learn", "umap-learn", "openTSNE")
AXES = ("x", "y", "z")


def save_space(space: Any, run_dir: str | Path) -> Path:
    """Write `space` to `run_dir`, each file atomically, and return the folder."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    data = space.dataset

    if space.model is not None:
        store.write_safetensors(run_dir / "model.safetensors", space.model.state_dict())
    split = np.full(len(data), "train", dtype=object)
    split[space.val_index] = "validation"
    columns: dict[str, Any] = {"id": data.ids, "split": split}
    if data.labels is not None:
        columns["label"] = data.labels
        if data.label_names is not None:
            columns["label_name"] = data.label_text()
    for name, values in data.metadata.items():
        columns[f"meta_{name}"] = np.asarray(values)
    columns["z"] = space.z
    store.write_parquet(run_dir / "latents.parquet", columns)

    for name, coords in space.projections.items():
        table = {"id": data.ids} | {AXES[i]: coords[:, i] for i in range(coords.shape[1])}
        store.write_parquet(run_dir / "projections" / f"{name}.parquet", table)
    if space._knn is not None:
        store.write_safetensors(run_dir / "knn.safetensors", space.knn.to_arrays())

    store.write_json(run_dir / "run.json", _run_record(space))
    space.run_dir = run_dir
    logger.info("Saved the space to %s", run_dir)
    return run_dir


def _run_record(space: Any) -> dict[str, Any]:
    data = space.dataset
    return {
        "format_version": store.RUN_FORMAT_VERSION,
        "config": space.config,
        "data": {
            "name": data.name,
            "source": data.info.get("source", {"name": data.name}),
            "fingerprint": data.fingerprint(),
            "n_samples": len(data),
            "sample_shape": list(data.sample_shape),
            "label_names": data.label_names,
            "info": {k: v for k, v in data.info.items() if k != "source"},
        },
        "latent_dim": space.latent_dim,
        "projections": sorted(space.projections),
        "metrics": space.metrics,
        "history": space.history,
        "versions": _versions(),
    }


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def missing_run_error(run_dir: Path) -> RunDirectoryError:
    """Build the error for a folder without run.json, telling an unfinished run apart."""
    if (run_dir / "checkpoints" / "last.safetensors").is_file():
        return RunDirectoryError(
            f"The run in {run_dir} is unfinished: training stopped before run.json was "
            f"written, and its checkpoint is in {run_dir / 'checkpoints'}. Continue it with "
            f"`latentspace train --resume --out {run_dir}` and the options it started with."
        )
    return RunDirectoryError(
        f"{run_dir} is not a latentspace run: run.json not found. Give the folder that "
        "`latentspace train --out` or `LatentSpace.save` wrote."
    )


def load_space(cls: type, run_dir: str | Path, data: Any = None,
               data_path: str | Path | None = None) -> Any:
    """Restore a space from `run_dir`, reloading its data set from the recorded source.

    `data_path` replaces the recorded file or folder, for data that has moved; the
    recorded loading options still apply and the fingerprint must still match.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise missing_run_error(run_dir)
    record = store.read_json(run_dir / "run.json")
    data = data if data is not None else _reload_data(record, run_dir, data_path)
    model = _load_model(record, run_dir)

    latents = store.read_parquet(run_dir / "latents.parquet")
    if len(latents["z"]) != len(data):
        raise RunDirectoryError(
            f"{run_dir / 'latents.parquet'} contains {len(latents['z'])} latents but the data set "
            f"has {len(data)} samples; the data changed since the run was saved."
        )
    split = latents["split"]
    space = cls(data, model, latents["z"], record["config"],
                train_index=np.flatnonzero(split == "train"),
                val_index=np.flatnonzero(split == "validation"),
                history=record.get("history", []))
    space.metrics = record.get("metrics", {})
    for name in record.get("projections", []):
        path = run_dir / "projections" / f"{name}.parquet"
        if not path.is_file():
            logger.warning("Projection %s is listed in run.json but %s is missing; compute it "
                           "again with `latentspace project %s --projections %s`",
                           name, path, run_dir, name)
            continue
        table = store.read_parquet(path)
        axes = [table[a] for a in AXES if a in table]
        space.projections[name] = np.stack(axes, axis=1).astype(np.float32)
    if (run_dir / "knn.safetensors").is_file():
        from latentspace.neighbors import KNNGraph

        space._knn = KNNGraph.from_arrays(store.read_safetensors(run_dir / "knn.safetensors"),
                                          space.z)
    space.run_dir = run_dir
    return space


def _reload_data(record: dict, run_dir: Path, data_path: str | Path | None) -> Any:
    from latentspace.data import check_dataset, load_data

    source = record["data"]["source"]
    spec = str(data_path) if data_path is not None else source.get("spec") or source["name"]
    options = dict(source.get("options", {}))
    drop_invalid = bool(options.pop("drop_invalid", False))
    try:
        data = load_data(spec, data_dir=source.get("data_dir"),
                         embeddings=source.get("embeddings", False), **options)
        if drop_invalid:
            # Checks without dropping leave the values unchanged, so only this one reruns.
            data = check_dataset(data, drop_invalid=True,
                                 purpose="explore" if record["config"].get("model") is None
                                 else "train")
    except Exception as error:
        raise RunDirectoryError(
            f"Cannot reload the data set {spec!r} of run {run_dir}: {error} If the data has "
            "moved, give its new location with --data PATH (LatentSpace.load(run_dir, "
            "data_path=...) in Python)."
        ) from error
    if data.fingerprint() != record["data"]["fingerprint"]:
        raise RunDirectoryError(
            f"The data set {spec!r} differs from the one run {run_dir} was trained on "
            "(fingerprints do not match); restore the original files or train again."
        )
    return data


def _load_model(record: dict, run_dir: Path) -> Any:
    config = record["config"].get("model")
    if config is None:
        return None
    import torch

    from latentspace.models.registry import model_from_config

    model = model_from_config(config)
    weights = store.read_safetensors(run_dir / "model.safetensors")
    try:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    except RuntimeError as error:
        raise RunDirectoryError(
            f"{run_dir / 'model.safetensors'} does not match the model in run.json: {error}"
        ) from error
    model.eval()
    return model
