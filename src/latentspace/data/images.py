"""Loading a folder of image files as a `Dataset`.

Two layouts are read:

- class folders: ``root/<class>/**/<image>``, one class per subfolder, named verbatim by
  the folder name;
- a flat folder with a CSV of file names and labels (``labels_csv``, or a ``labels.csv``
  in the folder), where other CSV columns are kept as metadata. A flat folder without a
  CSV loads unlabelled.

Files are chosen by extension: every format this Pillow decodes (see
`readable_extensions`). Hidden files and folders (names starting with ``.``) are skipped.
Decoded images are cached as an ``.npz`` file keyed by the file paths, sizes and
modification times, the options and `IMAGE_CACHE_VERSION`, so a second load of an
unchanged folder reads one file.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import PIL

from latentspace.data import imagefiles
from latentspace.data.cache import (
    cache_key,
    default_cache_dir,
    read_cached_arrays,
    write_cached_arrays,
)
from latentspace.data.columns import encode_text_labels
from latentspace.data.dataset import Dataset
from latentspace.data.imagefiles import FITS, fit_image, oriented_size, to_channels
from latentspace.data.textfiles import read_csv_table
from latentspace.errors import DataError, InvalidParameterError

logger = logging.getLogger(__name__)

# Raise this when decoding or the cache layout changes, so old cache entries are not used.
IMAGE_CACHE_VERSION = 1
DEFAULT_LABELS_CSV = "labels.csv"
FILE_COLUMN_NAMES = ("file", "filename", "file_name", "path", "image", "image_path")
MAX_THREADS = 8
BATCH_SIZE = 64


@dataclass
class ImageListing:
    """Image files found under a root folder, with their labels and extra CSV columns."""

    root: Path
    files: list[str]
    layout: str
    labels: np.ndarray | None = None
    label_names: list[str] | None = None
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    csv_path: Path | None = None


def load_image_folder(
    path: str | Path,
    *,
    channels: int | None = None,
    image_size: int | tuple[int, int] | None = None,
    fit: str = "pad",
    background: float = 1.0,
    labels_csv: str | Path | None = None,
    file_column: str | None = None,
    label_column: str = "label",
    skip_bad: bool = False,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    n_threads: int | None = None,
    name: str | None = None,
) -> Dataset:
    """Load every image under a folder as one array of shape (N, channels, height, width).

    Parameters
    ----------
    path : path
        The folder (see the module docstring for the layouts).
    channels : {1, 3}, optional
        Output channels. Default: 1 when every image is grayscale, else 3. RGB becomes
        gray by BT.601 luma; gray becomes RGB by repeating the channel.
    image_size : int or (height, width), optional
        Output size. Default: the most common size among the images, after EXIF rotation.
    fit : {"pad", "crop", "stretch"}
        How images of another aspect ratio reach `image_size` (see
        `latentspace.data.imagefiles.fit_image`): padding with the border colour (default),
        centre crop, or stretching.
    background : float
        Gray level in [0, 1] that transparent pixels are composited on; 1.0 is white.
    labels_csv : path, optional
        CSV with one row per image: a file column (path relative to the folder) and
        `label_column`. Other columns become metadata.
    file_column : str, optional
        File column of `labels_csv`. Default: the first of ``file, filename, file_name,
        path, image, image_path`` present.
    label_column : str
        Label column of `labels_csv`.
    skip_bad : bool
        When False (default), unreadable, truncated or unsupported files raise a DataError
        that lists all of them. When True they are skipped and listed in
        ``info["skipped_files"]``.
    cache, cache_dir : bool, path
        Use the decoded-image cache, stored in `cache_dir` (default
        `latentspace.data.cache.default_cache_dir`) under ``images/``.
    progress : bool
        Show a progress bar on standard error while decoding.
    n_threads : int, optional
        Decoding threads; default ``min(8, CPU count)``.
    name : str, optional
        Data set name; default the folder name.

    Raises
    ------
    DataError
        When the folder is missing or contains no images, when a CSV row names a missing
        file, or when files fail to decode and `skip_bad` is False.
    InvalidParameterError
        When `channels`, `image_size`, `fit` or `background` is invalid.
    """
    size = _check_options(channels, image_size, fit, background)
    listing = list_images(Path(path).expanduser(), labels_csv, file_column, label_column)
    options = {"channels": channels, "image_size": size, "fit": fit,
               "background": background, "skip_bad": skip_bad}
    entry = None
    if cache:
        key = cache_key(_cache_description(listing, options))
        entry = Path(cache_dir or default_cache_dir()).expanduser() / "images" / f"{key}.npz"
        cached = read_cached_arrays(entry)
        if cached is not None:
            logger.info("Loaded %d decoded images of %s from cache %s",
                        len(cached["x"]), listing.root, entry)
            return _build_dataset(listing, cached, options, name, entry)
    arrays = decode_listing(listing, channels, size, fit, background, skip_bad, progress,
                            n_threads)
    if entry is not None:
        write_cached_arrays(entry, arrays)
    return _build_dataset(listing, arrays, options, name, entry)


def _check_options(channels, image_size, fit, background) -> tuple[int, int] | None:
    if channels not in (None, 1, 3):
        raise InvalidParameterError(
            f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}.")
    if fit not in FITS:
        raise InvalidParameterError(f"fit must be one of {', '.join(FITS)}, got {fit!r}.")
    if not 0.0 <= background <= 1.0:
        raise InvalidParameterError(
            f"background must be a gray level in [0, 1] (1.0 is white), got {background!r}.")
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, int) and s >= 1 for s in size):
        raise InvalidParameterError(
            "image_size must be a positive integer or a (height, width) pair of positive "
            f"integers, got {image_size!r}.")
    return size


def list_images(root: Path, labels_csv=None, file_column=None,
                label_column: str = "label") -> ImageListing:
    """Find the image files under `root` and their labels (see the module docstring)."""
    if not root.is_dir():
        raise DataError(f"Image folder not found: {root}.")
    if labels_csv is not None:
        csv_path = Path(locate_labels_csv(labels_csv, root))
        csv_path = csv_path if csv_path.is_absolute() else root / csv_path
        return _list_from_csv(root, csv_path, file_column, label_column)
    if (root / DEFAULT_LABELS_CSV).is_file():
        logger.info("Reading labels from %s", root / DEFAULT_LABELS_CSV)
        return _list_from_csv(root, root / DEFAULT_LABELS_CSV, file_column, label_column)
    extensions = imagefiles.readable_extensions()
    top_files = [e for e in _visible(root.iterdir()) if e.is_file() and _is_image(e, extensions)]
    folders = sorted(e for e in _visible(root.iterdir()) if e.is_dir())
    class_files = {
        folder.name: sorted(
            p.relative_to(root).as_posix() for p in _walk_files(folder) if _is_image(p, extensions)
        )
        for folder in folders
    }
    class_files = {name: files for name, files in class_files.items() if files}
    if top_files and class_files:
        raise DataError(
            f"{root} contains images both directly ({len(top_files)} files) and in class "
            f"folders ({', '.join(sorted(class_files))}). Move the loose images into a class "
            "folder, or give a labels CSV for a flat folder."
        )
    if class_files:
        names = sorted(class_files)
        files = [f for n in names for f in class_files[n]]
        labels = np.concatenate([np.full(len(class_files[n]), i) for i, n in enumerate(names)])
        return ImageListing(root, files, "class-folders", labels.astype(np.int64), names)
    if not top_files:
        raise DataError(
            f"No image files found in {root} or its subfolders. Supported extensions "
            f"include .png, .jpg, .bmp, .gif, .tif and .webp ({len(extensions)} in all)."
        )
    return ImageListing(root, sorted(p.name for p in top_files), "flat")


def locate_labels_csv(labels_csv: str | Path, folder: Path) -> str:
    """Return the path of an image folder's labels CSV, relative to `folder` when inside it.

    A relative path that exists from the working folder is used from there, and any other
    relative path is looked up inside `folder`. A path relative to `folder` still finds the
    CSV after the folder moves (``--data PATH``).
    """
    path = Path(labels_csv).expanduser()
    if not path.is_absolute() and path.is_file():
        path = path.resolve()
    if path.is_absolute() and path.is_relative_to(folder.resolve()):
        return path.relative_to(folder.resolve()).as_posix()
    return str(path)


def _visible(entries) -> list[Path]:
    return [entry for entry in entries if not entry.name.startswith(".")]


def _walk_files(folder: Path) -> list[Path]:
    found = []
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        found.extend(Path(directory) / f for f in files if not f.startswith("."))
    return found


def _is_image(path: Path, extensions: frozenset[str]) -> bool:
    return path.suffix.lower() in extensions


def _list_from_csv(root: Path, csv_path: Path, file_column, label_column) -> ImageListing:
    if not csv_path.is_file():
        raise DataError(
            f"Labels CSV not found: {csv_path}. A relative path is looked up from the working "
            "folder first, then inside the image folder."
        )
    text_columns = (label_column, *([file_column] if file_column else FILE_COLUMN_NAMES))
    table, _ = read_csv_table(csv_path, string_columns=text_columns)
    columns = table.column_names
    if file_column is None:
        file_column = next((c for c in FILE_COLUMN_NAMES if c in columns), None)

    if file_column not in columns:
        looked_for = file_column or ", ".join(FILE_COLUMN_NAMES)
        raise DataError(
            f"{csv_path}: no file column found (looked for {looked_for}). Columns: "
            f"{', '.join(columns)}. Name the column of file paths with --file-column "
            "(file_column in Python)."
        )
    if label_column not in columns:
        raise DataError(f"{csv_path}: label column {label_column!r} not found. Columns: "
                        f"{', '.join(columns)}. Name the label column with --label-column "
                        "(label_column in Python).")

    files = [str(f) for f in table[file_column].to_pylist()]
    repeated = sorted(f for f, n in Counter(files).items() if n > 1)
    if repeated:
        raise DataError(f"{csv_path}: {len(repeated)} files are listed more than once, for "
                        f"example {', '.join(repeated[:5])}. List each file once.")
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise DataError(
            f"{csv_path} lists {len(missing)} files that are not in {root}: "
            f"{', '.join(missing[:20])}{' ...' if len(missing) > 20 else ''}. Fix the paths "
            "(relative to the image folder) or remove those rows."
        )

    _log_unlisted_images(root, csv_path, {Path(f).as_posix() for f in files})

    labels, names = encode_text_labels(table[label_column].to_pylist(),
                                       f"{csv_path}, column {label_column!r}")
    metadata = {
        c: np.asarray(["" if v is None else str(v) for v in table[c].to_pylist()], dtype=str)
        for c in columns if c not in (file_column, label_column)
    }
    return ImageListing(root, files, "csv", labels, names, metadata, csv_path)


def _log_unlisted_images(root: Path, csv_path: Path, listed: set[str]) -> None:
    """Log the images under `root` that the labels CSV leaves out, since they go unused."""
    extensions = imagefiles.readable_extensions()
    unlisted = sorted(
        relative for relative in (p.relative_to(root).as_posix() for p in _walk_files(root)
                                  if _is_image(p, extensions))
        if relative not in listed
    )
    if unlisted:
        logger.warning(
            "%d images in %s are not listed in %s and are left out, for example %s.",
            len(unlisted), root, csv_path.name, ", ".join(unlisted[:5]),
        )


def _cache_description(listing: ImageListing, options: dict) -> dict:
    def stamp(path: Path) -> list:
        status = path.stat()
        return [status.st_size, status.st_mtime_ns]

    return {
        "version": IMAGE_CACHE_VERSION,
        "pillow": PIL.__version__,
        "root": str(listing.root.resolve()),
        "files": [[f, *stamp(listing.root / f)] for f in listing.files],
        "csv": None if listing.csv_path is None else [str(listing.csv_path.resolve()),
                                                      *stamp(listing.csv_path)],
        "options": options,
    }


def check_memory(n_images: int, size: tuple[int, int]) -> None:
    """Reject an image size whose decoded array would not fit in this machine's memory.

    Counts RGB float32 pixels (the largest layout), since the channel count is known only
    after decoding, and rejects anything above 80% of physical memory.
    """
    needed = n_images * 3 * size[0] * size[1] * 4
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return  # NOTE: no memory check where the platform does not report physical memory
    if needed > 0.8 * available:
        raise InvalidParameterError(
            f"image_size {size[0]}x{size[1]} for {n_images} images needs about "
            f"{needed / 2**30:.1f} GiB as float32, more than this machine's "
            f"{available / 2**30:.1f} GiB of memory allows. Give a smaller --image-size."
        )


def decode_listing(listing: ImageListing, channels, size, fit, background, skip_bad,
                   progress=True, n_threads=None) -> dict[str, np.ndarray]:
    """Decode and resize every listed file; return the arrays stored in the cache.

    Returns ``x`` (N, C, H, W) float32, ``kept`` (indices into ``listing.files``),
    ``skipped_files`` and ``skipped_errors`` (str arrays).
    """
    paths = [listing.root / f for f in listing.files]
    n_threads = n_threads or min(MAX_THREADS, os.cpu_count() or 1)
    failures: dict[int, str] = {}
    if size is None:
        size = _most_common_size(paths, failures, n_threads)
    check_memory(len(paths), size)
    decoded: dict[int, np.ndarray] = {}
    all_gray = True

    def work(index: int):
        try:
            pixels, is_gray = imagefiles.decode_image(paths[index], background)
            return index, fit_image(pixels, size, fit), is_gray, None
        except imagefiles.DECODE_ERRORS as error:
            return index, None, False, f"{type(error).__name__}: {error}"

    todo = [i for i in range(len(paths)) if i not in failures]
    for index, pixels, is_gray, error in _run_batched(work, todo, n_threads, progress,
                                                      f"Decoding images in {listing.root.name}"):
        if error is not None:
            failures[index] = error
            continue
        decoded[index] = pixels
        all_gray = all_gray and is_gray
    _report_failures(listing, failures, skip_bad)

    channels = channels or (1 if all_gray else 3)
    kept = sorted(decoded)
    x = np.empty((len(kept), channels, *size), dtype=np.float32)
    for row, index in enumerate(kept):
        x[row] = to_channels(decoded.pop(index), channels)

    skipped = sorted(failures)
    return {
        "x": x,
        "kept": np.asarray(kept, dtype=np.int64),
        "skipped_files": np.asarray([listing.files[i] for i in skipped], dtype=str),
        "skipped_errors": np.asarray([failures[i] for i in skipped], dtype=str),
    }


def _most_common_size(paths: list[Path], failures: dict[int, str], n_threads: int):
    def read_size(index: int):
        try:
            return index, oriented_size(paths[index]), None
        except imagefiles.DECODE_ERRORS as error:
            return index, None, f"{type(error).__name__}: {error}"

    sizes: Counter = Counter()
    for index, size, error in _run_batched(read_size, list(range(len(paths))), n_threads):
        if error is None:
            sizes[size] += 1
        else:
            failures[index] = error
    if not sizes:
        return (1, 1)
    size, count = sizes.most_common(1)[0]
    if len(sizes) > 1:
        logger.info("Images have %d different sizes; resizing all to the most common, %dx%d "
                    "(height x width, %d images).", len(sizes), size[0], size[1], count)
    return size


def _run_batched(function, items: list, n_threads: int, progress: bool = False,
                 description: str = ""):
    """Yield ``function(item)`` for every item, in order, computed by a thread pool.

    Items go to the threads in batches of `BATCH_SIZE`, because one task per small image
    costs more in scheduling than in decoding.
    """
    batches = [items[start : start + BATCH_SIZE] for start in range(0, len(items), BATCH_SIZE)]

    def run(batch: list) -> list:
        return [function(item) for item in batch]

    with ThreadPoolExecutor(n_threads) as pool, _progress_bar(progress, description,
                                                              len(items)) as advance:
        for results in pool.map(run, batches):
            advance(len(results))
            yield from results


@contextlib.contextmanager
def _progress_bar(show: bool, description: str, total: int):
    """Yield a function that advances a progress bar on standard error (or does nothing)."""
    if not show:
        yield lambda steps: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda steps: bar.advance(task, steps)


def _report_failures(listing: ImageListing, failures: dict[int, str], skip_bad: bool) -> None:
    if not failures:
        return
    lines = "\n".join(f"  {listing.files[i]}: {failures[i]}" for i in sorted(failures))
    if not skip_bad:
        raise DataError(
            f"{len(failures)} of {len(listing.files)} image files in {listing.root} could "
            f"not be decoded:\n{lines}\nFix or remove these files, or pass skip_bad=True "
            "(--skip-bad) to skip them."
        )
    if len(failures) == len(listing.files):
        raise DataError(f"None of the {len(listing.files)} image files in {listing.root} "
                        f"could be decoded:\n{lines}")
    logger.warning("Skipped %d unreadable image files in %s:\n%s",
                   len(failures), listing.root, lines)


def _build_dataset(listing: ImageListing, arrays: dict, options: dict, name: str | None,
                   entry: Path | None) -> Dataset:
    kept = arrays["kept"]
    x = arrays["x"]

    def take(values) -> np.ndarray:
        return np.asarray(values)[kept]

    return Dataset(
        x=x,
        name=name or listing.root.name,
        sample_shape=x.shape[1:],
        labels=None if listing.labels is None else take(listing.labels),
        label_names=listing.label_names,
        ids=take(listing.files),
        metadata={column: take(values) for column, values in listing.metadata.items()},
        info={
            "source": str(listing.root),
            "layout": listing.layout,
            "channels": int(x.shape[1]),
            "image_size": [int(x.shape[2]), int(x.shape[3])],
            "fit": options["fit"],
            "background": options["background"],
            "skipped_files": [
                {"file": str(f), "error": str(e)}
                for f, e in zip(arrays["skipped_files"], arrays["skipped_errors"], strict=True)
            ],
            "cache_file": None if entry is None else str(entry),
        },
    )
