"""The `latentspace` command line.

Heavy packages (torch, umap-learn, matplotlib) are imported inside the commands, so
`latentspace --help` starts quickly.
"""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from latentspace.errors import InvalidParameterError, LatentSpaceError

app = typer.Typer(
    help="Learn, see, walk through and measure the latent space of your data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataOption = Annotated[str, typer.Option(
    "--data", help="Data set: a built-in name (digits, mnist, fashion_mnist, kmnist, "
    "frey_faces, olivetti_faces, coil20, swiss_roll, s_curve) or a path to an image folder, "
    ".npy, .npz, .csv or .parquet file.")]
DataDirOption = Annotated[Path | None, typer.Option(
    "--data-dir", help="Folder holding the data set's files (for mnist and the other "
    "downloaded sets).")]
ModelOption = Annotated[str, typer.Option(
    "--model", help="Model: pca, ae, conv-ae, vae or conv-vae.")]
LatentDimOption = Annotated[int, typer.Option(
    "--latent-dim", help="Number of latent dimensions.", min=1)]
SeedOption = Annotated[int, typer.Option(
    "--seed", help="Random seed for the split, weights, batch order and projections.")]
EpochsOption = Annotated[int, typer.Option(
    help="Maximum passes over the training data; early stopping may end sooner.", min=1)]
MovedDataOption = Annotated[Path | None, typer.Option(
    "--data", help="New location of the run's data file or folder, if it has moved since "
    "training.")]
ProjectionsOption = Annotated[str, typer.Option(
    "--projections", help="Comma-separated maps to compute, each METHOD-2d or METHOD-3d with "
    "METHOD one of fastmap (the fast default, UMAP-like), umap, tsne, pca, isomap, lle.")]


def _configure_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    handler = RichHandler(show_path=False, show_time=False, markup=False)
    package_logger = logging.getLogger("latentspace")
    package_logger.handlers[:] = [handler]
    package_logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    package_logger.propagate = False


def _user_errors(command):
    """Print user errors as one line and exit 2; report Ctrl-C without a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LatentSpaceError as error:
            typer.secho(f"Error: {error}", fg="red", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.secho("Interrupted. Files already written are complete; run the same "
                        "command with --resume to continue training.", fg="yellow", err=True)
            raise typer.Exit(130) from None

    return wrapper


DATA_OPTION_NAMES = ("channels", "image_size", "fit", "labels_csv", "file_column", "key",
                     "label_column", "id_column", "feature_columns", "encoding", "delimiter",
                     "drop_invalid", "skip_bad", "standardize")


def _job_options(**values):
    from latentspace.pipeline import JobOptions, parse_column_list, parse_image_size

    projections = tuple(p for p in values.pop("projections").split(",") if p.strip())
    data_options = {key: values.pop(key) for key in DATA_OPTION_NAMES}
    data_options["image_size"] = parse_image_size(data_options["image_size"])
    if data_options["feature_columns"] is not None:
        data_options["feature_columns"] = parse_column_list(data_options["feature_columns"])
    for column in ("label_column", "id_column"):
        # Arrays have no column names, so a number picks a column by position.
        if data_options[column] is not None and data_options[column].isdigit():
            data_options[column] = int(data_options[column])
    if data_options.pop("standardize"):
        data_options["standardize_features"] = None
    else:
        data_options["standardize_features"] = False
    data_options = {k: v for k, v in data_options.items() if v not in (None, False)}
    return JobOptions(projections=projections, data_options=data_options, **values)


def _finish(space, out: Path, serve: bool, host: str, port: int) -> None:
    typer.echo(f"Report: {(out / 'report.html').resolve()}")
    if serve:
        from latentspace.server.run import serve as serve_space

        serve_space(space, host=host, port=port, open_browser=False)


@app.command()
@_user_errors
def train(
    data: DataOption = "digits",
    data_dir: DataDirOption = None,
    model: ModelOption = "vae",
    latent_dim: LatentDimOption = 8,
    seed: SeedOption = 0,
    out: Annotated[Path, typer.Option("--out", help="Run directory to write.")] = Path("runs/run"),
    epochs: EpochsOption = 100,
    batch_size: Annotated[int, typer.Option(help="Samples per training step.", min=1)] = 64,
    learning_rate: Annotated[float, typer.Option(help="Adam step size, above 0.")] = 1e-3,
    patience: Annotated[int, typer.Option(
        help="Epochs without a better validation loss before training stops.", min=1)] = 10,
    device: Annotated[str, typer.Option(
        help="Where to train: auto (a CUDA GPU if torch detects one, else the CPU), cpu, cuda "
        "or cuda:N.")] = "auto",
    precision: Annotated[str, typer.Option(
        help="fp32, or bf16 for bfloat16 mixed precision. auto: bf16 on CUDA GPUs that "
        "support it, fp32 otherwise.")] = "auto",
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for training. Default: measured, one thread or all CPUs, "
        "whichever trains faster.", min=1)] = None,
    val_fraction: Annotated[float, typer.Option(
        help="Fraction of samples held out for validation and metrics (0 to 1).")] = 0.2,
    beta: Annotated[float, typer.Option(help="Weight of the KL term (VAEs only).", min=0.0)] = 1.0,
    resume: Annotated[bool, typer.Option(
        help="Continue an interrupted run from its last checkpoint in --out.")] = False,
    overwrite: Annotated[bool, typer.Option(
        help="Replace the run already in --out instead of stopping.")] = False,
    projections: ProjectionsOption = "fastmap-2d,tsne-2d,pca-2d,fastmap-3d",
    n_samples: Annotated[int | None, typer.Option(
        help="Use only the first N samples of the data set.", min=1)] = None,
    channels: Annotated[int | None, typer.Option(
        help="Image channels after loading: 1 (grayscale) or 3 (RGB). Default: 1 when all "
        "images are grayscale.")] = None,
    image_size: Annotated[str | None, typer.Option(
        help="Image size in pixels: one number for squares (32) or HEIGHTxWIDTH (32x28). "
        "Default: the most common size.")] = None,
    fit: Annotated[str | None, typer.Option(
        help="How images of another aspect ratio reach --image-size: pad (keep the whole "
        "image), crop (centre crop) or stretch.")] = None,
    labels_csv: Annotated[Path | None, typer.Option(
        help="CSV of file names and labels, for a flat image folder.")] = None,
    file_column: Annotated[str | None, typer.Option(
        help="Column of --labels-csv holding the image file names. Default: the first of "
        "file, filename, file_name, path, image, image_path.")] = None,
    key: Annotated[str | None, typer.Option(help="Array name inside an .npz file.")] = None,
    label_column: Annotated[str | None, typer.Option(
        help="Table column holding the labels; a number picks an array column.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Table column holding ids.")] = None,
    feature_columns: Annotated[str | None, typer.Option(
        help="Comma-separated table columns to learn from. Default: every numeric column "
        "except the label and id columns.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Text encoding of a CSV file; detected when not given.")] = None,
    delimiter: Annotated[str | None, typer.Option(
        help="Field delimiter of a CSV file: one character, or \\t for tab. Default: the "
        "most frequent of comma, semicolon, tab and | in the header line.")] = None,
    standardize: Annotated[bool, typer.Option(
        help="Standardise table features to zero mean and unit variance; decoded rows come "
        "back in the original units.")] = True,
    drop_invalid: Annotated[bool, typer.Option(
        help="Drop rows with NaN or infinite values instead of stopping.")] = False,
    skip_bad: Annotated[bool, typer.Option(
        help="Skip unreadable image files instead of stopping; they are listed in run.json.")]
        = False,
    embeddings: Annotated[Path | None, typer.Option(
        help="File of precomputed vectors (.npy, .npz, CSV, Parquet): explore them without "
        "training a model.")] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Train a model, encode the data, project it, and write figures and a report."""
    _configure_logging(verbose)
    options = {k: v for k, v in locals().items() if k != "verbose"}
    from latentspace.pipeline import run_job

    run_job(_job_options(**options))
    typer.echo(f"Report: {(out / 'report.html').resolve()}")


@app.command()
@_user_errors
def demo(
    data: DataOption = "digits",
    data_dir: DataDirOption = None,
    model: ModelOption = "vae",
    latent_dim: LatentDimOption = 8,
    seed: SeedOption = 0,
    out: Annotated[Path, typer.Option("--out", help="Run directory to write.")] =
        Path("runs/demo"),
    epochs: EpochsOption = 100,
    serve: Annotated[bool, typer.Option(
        "--serve/--no-serve", help="Open the interactive explorer when done.")] = True,
    host: Annotated[str, typer.Option(help="Address the explorer binds to.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the explorer; 0 picks a free one.")] = 0,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Run the whole job on a built-in data set (digits and a VAE by default)."""
    _configure_logging(verbose)
    from latentspace.pipeline import JobOptions, run_job

    space = run_job(JobOptions(data=data, data_dir=data_dir, model=model, latent_dim=latent_dim,
                               seed=seed, out=out, epochs=epochs, progress=progress,
                               overwrite=True))
    _finish(space, out, serve, host, port)


@app.command()
@_user_errors
def project(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: MovedDataOption = None,
    projections: ProjectionsOption = "fastmap-2d",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Compute more maps of a run's latents and update its metrics."""
    _configure_logging(verbose)
    from latentspace.pipeline import parse_projections, project_all
    from latentspace.space import LatentSpace

    wanted = parse_projections(projections.split(","))
    space = LatentSpace.load(run, data_path=data)
    project_all(space, wanted)
    space.evaluate()
    space.save(run)
    typer.echo(f"Projections in {run}: {', '.join(sorted(space.projections))}")


@app.command()
@_user_errors
def figures(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: MovedDataOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Draw every figure of a run into RUN/figures."""
    _configure_logging(verbose)
    from latentspace.space import LatentSpace

    written = LatentSpace.load(run, data_path=data).figures()
    for figure in written:
        typer.echo(str(figure.path))


@app.command()
@_user_errors
def report(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: MovedDataOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Write RUN/report.html with the metrics and every figure."""
    _configure_logging(verbose)
    from latentspace.space import LatentSpace

    path = LatentSpace.load(run, data_path=data).report()
    typer.echo(f"Report: {Path(path).resolve()}")


@app.command()
@_user_errors
def info(run: Annotated[Path, typer.Argument(help="Run directory.")]) -> None:
    """Describe a run directory's contents and report any problem found in it."""
    from latentspace.inspect import describe_run

    problems = describe_run(run)
    if problems:
        raise typer.Exit(1)


@app.command()
@_user_errors
def serve(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: MovedDataOption = None,
    host: Annotated[str, typer.Option(help="Address to bind; anything but 127.0.0.1 exposes "
                                      "the explorer to other machines.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 0,
    open_browser: Annotated[bool, typer.Option(
        "--open/--no-open", help="Open the explorer in a web browser.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug details.")] = False,
) -> None:
    """Start the interactive explorer for a run directory."""
    _configure_logging(verbose)
    from latentspace.server.run import serve as serve_space
    from latentspace.space import LatentSpace

    space = LatentSpace.load(run, data_path=data)
    serve_space(space, host=host, port=port, open_browser=open_browser)


@app.command()
@_user_errors
def interpolate(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    a: Annotated[int, typer.Argument(help="Row position of the first item.")],
    b: Annotated[int, typer.Argument(help="Row position of the second item.")],
    data: MovedDataOption = None,
    steps: Annotated[int, typer.Option(help="Points on the path, endpoints included.")] = 10,
    out: Annotated[Path | None, typer.Option(
        help="PNG to write. Default: RUN/figures/interpolation-A-B.png.")] = None,
) -> None:
    """Decode the lerp and slerp paths between two items into one image strip."""
    _require_png(out)
    from latentspace.figures import plot_interpolations
    from latentspace.space import LatentSpace

    space = LatentSpace.load(run, data_path=data)
    strips = [space.interpolate(a, b, steps=steps, method=m)[None] for m in ("lerp", "slerp")]
    _require_images(space, "interpolate")
    path = out or run / "figures" / f"interpolation-{a}-{b}.png"
    ids = space.dataset.ids
    plot_interpolations(*strips, path, pair_labels=[f"{ids[a]} to {ids[b]}"])
    typer.echo(str(path))


@app.command()
@_user_errors
def sample(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: MovedDataOption = None,
    n: Annotated[int, typer.Option("-n", help="Number of samples to draw.", min=1, max=1024)]
        = 16,
    seed: Annotated[int | None, typer.Option(help="Random seed of the draws.")] = None,
    out: Annotated[Path | None, typer.Option(
        help="PNG to write. Default: RUN/figures/samples-N.png.")] = None,
) -> None:
    """Decode draws from the prior into an image grid."""
    _require_png(out)
    from latentspace.figures import plot_image_grid
    from latentspace.space import LatentSpace

    space = LatentSpace.load(run, data_path=data)
    images = space.sample(n, seed=seed)
    _require_images(space, "sample")
    path = out or run / "figures" / f"samples-{n}.png"
    plot_image_grid(images, path)
    typer.echo(str(path))


def _require_png(out: Path | None) -> None:
    if out is not None and out.suffix.lower() != ".png":
        raise InvalidParameterError(f"--out {out} must end in .png; figures are written as PNG.")


def _require_images(space, command: str) -> None:
    if not space.dataset.is_image:
        raise InvalidParameterError(
            f"`latentspace {command}` draws images, but this run's samples are vectors of "
            f"shape {space.dataset.sample_shape}; use LatentSpace.{command} in Python instead."
        )


@app.command()
@_user_errors
def download(
    name: Annotated[str, typer.Argument(
        help="Data set: mnist, fashion_mnist, kmnist, frey_faces, olivetti_faces or coil20.")],
    dest: Annotated[Path | None, typer.Option(
        help="Folder to download into; the files go to DEST/NAME. Default: "
        "$LATENTSPACE_DATA_DIR or ~/.cache/latentspace/data.")] = None,
) -> None:
    """Download a real data set from its official source and verify its checksums."""
    _configure_logging(False)
    from latentspace.data import download as fetch

    folder = fetch(name, dest)
    typer.echo(f"Downloaded {name} to {folder}; use --data {name} --data-dir {folder}")


def main() -> None:
    """Run the command line; the console script entry point."""
    app(prog_name="latentspace")


if __name__ == "__main__":
    sys.exit(main())
