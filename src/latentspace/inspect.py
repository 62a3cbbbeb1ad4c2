"""`latentspace info`: what a run directory contains and what is wrong with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentspace import store
from latentspace.errors import LatentSpaceError, RunDirectoryError
from latentspace.runs import missing_run_error


def check_run(run_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """Read `run_dir` and return its run record and the problems found in it.

    Temporary files left by a killed write are not problems: every file they were meant
    to replace is still complete. `leftover_files` lists them.
    """
    if not run_dir.is_dir():
        what = "is a file, not a run directory" if run_dir.exists() else "not found"
        raise RunDirectoryError(f"Run directory {run_dir} {what}.")
    if not (run_dir / "run.json").is_file():
        raise missing_run_error(run_dir)
    problems: list[str] = []
    try:
        record = store.read_json(run_dir / "run.json")
    except RunDirectoryError as error:
        return {}, [str(error)]

    n_samples = record.get("data", {}).get("n_samples")
    try:
        latents = store.read_parquet(run_dir / "latents.parquet")
        if n_samples is not None and len(latents["z"]) != n_samples:
            problems.append(f"latents.parquet holds {len(latents['z'])} rows, run.json says "
                            f"{n_samples}.")
    except (LatentSpaceError, OSError, KeyError) as error:
        problems.append(f"latents.parquet: {error}")

    if record.get("config", {}).get("model") is not None:
        problems += _readable(run_dir / "model.safetensors")
    for name in record.get("projections", []):
        path = run_dir / "projections" / f"{name}.parquet"
        try:
            store.read_parquet(path)
        except (LatentSpaceError, OSError) as error:
            problems.append(f"projection {name}: {error}")
    return record, problems


def leftover_files(run_dir: Path) -> list[str]:
    """Return the temporary files that killed writes left in `run_dir`."""
    return sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob(".*.tmp"))


def _readable(path: Path) -> list[str]:
    try:
        store.read_safetensors(path)
    except LatentSpaceError as error:
        return [str(error)]
    return []


def describe_run(run_dir: str | Path) -> list[str]:
    """Print a summary of `run_dir` and return the problems found (empty when healthy)."""
    from rich.console import Console
    from rich.table import Table

    run_dir = Path(run_dir)
    record, problems = check_run(run_dir)
    console = Console()
    console.print(f"[bold]Run[/bold] {run_dir.resolve()}")
    if record:
        data, config = record.get("data", {}), record.get("config", {})
        model = config.get("model") or {"model": "precomputed embeddings"}
        console.print(f"Data: {data.get('name')} ({data.get('n_samples')} samples of shape "
                      f"{data.get('sample_shape')})", markup=False)
        console.print(f"Model: {model.get('model')}, latent_dim={record.get('latent_dim')}",
                      markup=False)
        if model.get("model") == "pca":
            trained = "fitted in closed form"
        else:
            trained = f"{len(record.get('history', []))} epochs"
        console.print(f"Training: {trained}; projections: "
                      f"{', '.join(record.get('projections', [])) or 'none'}", markup=False)
        hardware = config.get("training_hardware")
        if hardware:
            speeds = [e["samples_per_s"] for e in record.get("history", [])
                      if e.get("samples_per_s")]
            speed = f", {max(speeds):,.0f} samples/s at best" if speeds else ""
            console.print(f"Trained on {hardware['device']} in {hardware['precision']} with "
                          f"{hardware['threads']} CPU thread(s){speed}", markup=False)

    table = Table("file", "bytes")
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        table.add_row(str(path.relative_to(run_dir)), f"{path.stat().st_size:,}")
    console.print(table)
    for problem in problems:
        console.print(f"[red]Problem:[/red] {problem}", highlight=False)
    leftovers = leftover_files(run_dir)
    if leftovers:
        console.print(f"Note: an interrupted write left temporary files, safe to delete: "
                      f"{', '.join(leftovers)}", markup=False)
    if not problems:
        console.print("No problems found.")
    return problems
