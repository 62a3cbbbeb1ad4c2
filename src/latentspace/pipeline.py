"""The end-to-end job behind `latentspace train` and `latentspace demo`."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latentspace.errors import InvalidParameterError, RunDirectoryError

logger = logging.getLogger(__name__)

DEFAULT_PROJECTIONS = ("fastmap-2d", "tsne-2d", "pca-2d", "fastmap-3d")


@dataclass
class JobOptions:
    """Everything `run_job` needs, as given on the command line."""

    data: str = "digits"
    data_dir: Path | None = None
    model: str = "vae"
    latent_dim: int = 8
    seed: int = 0
    out: Path = Path("runs/demo")
    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 10
    device: str = "auto"
    precision: str = "auto"
    threads: int | None = None
    val_fraction: float = 0.2
    beta: float = 1.0
    resume: bool = False
    overwrite: bool = False
    projections: tuple[str, ...] = DEFAULT_PROJECTIONS
    n_samples: int | None = None
    progress: bool = True
    data_options: dict[str, Any] = field(default_factory=dict)
    embeddings: Path | None = None


def parse_projection(name: str) -> tuple[str, int]:
    """Split a projection name like ``umap-2d`` into its method and dimension count."""
    method, _, dims = name.strip().lower().rpartition("-")
    if not method or dims not in ("2d", "3d"):
        raise InvalidParameterError(
            f"Invalid projection {name!r}; write METHOD-2d or METHOD-3d, for example umap-2d "
            "or pca-3d."
        )
    return method, int(dims[0])


def parse_projections(names: tuple[str, ...] | list[str]) -> list[tuple[str, int]]:
    """Parse the ``--projections`` list, rejecting an empty one."""
    parsed = [parse_projection(name) for name in names if name.strip()]
    if not parsed:
        raise InvalidParameterError(
            "--projections is empty; give at least one map, for example umap-2d."
        )
    return parsed


# Files and folders a run writes; `--overwrite` removes them so no stale map or figure stays.
RUN_OUTPUTS = ("run.json", "model.safetensors", "latents.parquet", "knn.safetensors",
               "report.html", "projections", "figures", "checkpoints", "thumbnails")


def check_run_dir(out: Path, resume: bool, overwrite: bool) -> bool:
    """Check `out` before any work, so a bad path fails fast and no run is lost.

    Returns True when `out` contains a run that `--overwrite` is to replace.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(
            f"--out {out} is a file, not a folder; give a new or existing run directory."
        )
    holds_run = (out / "run.json").is_file() or (out / "checkpoints").is_dir()
    if not holds_run or resume:
        return False
    if not overwrite:
        raise RunDirectoryError(
            f"{out} already contains a run. Continue it with --resume, replace it with "
            "--overwrite, or choose a new --out."
        )
    return True


def clear_run_dir(out: Path) -> None:
    """Remove what a previous run wrote to `out`, so no stale map or figure stays."""
    for name in RUN_OUTPUTS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    logger.info("Removed the previous run in %s (--overwrite)", out)


def parse_column_list(text: str) -> list[str]:
    """Parse ``--feature-columns`` as comma-separated column names."""
    columns = [name.strip() for name in text.split(",") if name.strip()]
    if not columns:
        raise InvalidParameterError(
            f"Invalid --feature-columns {text!r}; give column names separated by commas, "
            "for example height,weight."
        )
    return columns


def parse_image_size(text: str | None) -> int | tuple[int, int] | None:
    """Parse ``--image-size`` as one number (square) or ``HEIGHTxWIDTH``."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) in (1, 2) and all(p.strip().isdigit() and int(p) > 0 for p in parts):
        sizes = [int(p) for p in parts]
        return sizes[0] if len(sizes) == 1 else (sizes[0], sizes[1])
    raise InvalidParameterError(
        f"Invalid --image-size {text!r}; give one size in pixels (32) or HEIGHTxWIDTH (32x28)."
    )


def load_job_data(options: JobOptions):
    """Load and check the data set that `options` name, a built-in name or a path."""
    from latentspace.data import check_dataset, load_data

    spec = str(options.embeddings) if options.embeddings else options.data
    data_options = dict(options.data_options)
    drop_invalid = bool(data_options.pop("drop_invalid", False))
    if options.n_samples is not None:
        data_options["n_samples"] = options.n_samples
    data = load_data(spec, data_dir=options.data_dir, embeddings=bool(options.embeddings),
                     **data_options)
    source = data.info.get("source")
    data = check_dataset(data, drop_invalid=drop_invalid,
                         purpose="explore" if options.embeddings else "train")
    if source is not None and drop_invalid:
        source["options"]["drop_invalid"] = True
    return data


def run_job(options: JobOptions):
    """Train (or load embeddings), encode, project, measure, draw and report.

    Returns the saved `LatentSpace`; its report is at ``options.out / "report.html"``.
    """
    from latentspace.space import LatentSpace

    projections = parse_projections(options.projections)
    replace = check_run_dir(options.out, resume=options.resume, overwrite=options.overwrite)
    data = load_job_data(options)
    hyperparameters = {"beta": options.beta} if "vae" in options.model else {}
    if not options.embeddings:
        from latentspace.models.registry import build_model

        # Builds a throwaway model so that invalid model options fail before the old run goes.
        build_model(options.model, data.sample_shape, options.latent_dim, **hyperparameters)
        check_training_options(options)
    if replace:
        clear_run_dir(options.out)

    started = time.perf_counter()
    if options.embeddings:
        space = LatentSpace.from_embeddings(data)
    else:
        space = LatentSpace.fit(
            data, model=options.model, latent_dim=options.latent_dim, seed=options.seed,
            epochs=options.epochs, batch_size=options.batch_size,
            learning_rate=options.learning_rate, patience=options.patience,
            device=options.device, precision=options.precision, num_threads=options.threads,
            val_fraction=options.val_fraction, run_dir=options.out, resume=options.resume,
            progress=options.progress, **hyperparameters,
        )
    logger.info("Latents ready in %.1f s", time.perf_counter() - started)
    space.save(options.out)

    project_all(space, projections)
    space.evaluate()
    space.save(options.out)
    space.report(options.out)
    return space


def check_training_options(options: JobOptions) -> None:
    """Raise InvalidParameterError for training settings that would fail once training starts."""
    from latentspace.training.hardware import resolve_device, resolve_precision
    from latentspace.training.loop import TrainConfig

    config = TrainConfig(epochs=options.epochs, batch_size=options.batch_size,
                         learning_rate=options.learning_rate, patience=options.patience,
                         seed=options.seed, num_threads=options.threads,
                         device=options.device, precision=options.precision)
    resolve_precision(config.precision, resolve_device(config.device))


def project_all(space, projections: list[tuple[str, int]]) -> None:
    """Compute each requested map, logging the time each one takes."""
    for method, dims in projections:
        started = time.perf_counter()
        space.project(method, dims=dims)
        logger.info("Projection %s-%dd in %.1f s", method, dims, time.perf_counter() - started)
