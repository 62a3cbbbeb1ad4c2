"""Built-in data sets: scikit-learn's digits, MNIST from IDX files, synthetic manifolds."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from latentspace.data.dataset import Dataset
from latentspace.data.realsets import REAL_LOADERS
from latentspace.errors import DataError

logger = logging.getLogger(__name__)

MNIST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
MNIST_TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
MNIST_SOURCE = "https://ossci-datasets.s3.amazonaws.com/mnist/ (or yann.lecun.com/exdb/mnist/)"
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801


def load_digits(n_samples: int | None = None, **_: object) -> Dataset:
    """Load scikit-learn's 1,797 handwritten digits (8x8 pixels, 16 grey levels)."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    data = Dataset(
        x=x,
        name="digits",
        sample_shape=(1, 8, 8),
        labels=bunch.target.astype(np.int64),
        label_names=[str(d) for d in range(10)],
    )
    return _head(data, n_samples)


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one gzip-compressed IDX file (the MNIST format) into a uint8 array."""
    try:
        with gzip.open(path) as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"Cannot read IDX file {path}: {error}. Download it again.") from error
    header = np.frombuffer(raw[:4], dtype=">u4")[0] if len(raw) >= 4 else None
    if header != magic:
        raise DataError(
            f"File {path} is not an IDX file of the expected kind "
            f"(magic number {header!r}, expected {magic:#010x})."
        )
    n_dims = magic & 0xFF
    shape = tuple(int(d) for d in np.frombuffer(raw[4 : 4 + 4 * n_dims], dtype=">u4"))
    offset = 4 + 4 * n_dims
    expected = int(np.prod(shape))
    if len(raw) - offset != expected:
        raise DataError(
            f"IDX file {path} is truncated: header says {shape} ({expected} bytes), "
            f"file holds {len(raw) - offset} bytes. Download it again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def load_idx_pair(
    folder: Path, images_name: str, labels_name: str, name: str, label_names: list[str]
) -> Dataset:
    """Load an IDX images file and its labels file from `folder` as an image data set."""
    images = read_idx(folder / images_name, IDX_IMAGES_MAGIC)
    labels = read_idx(folder / labels_name, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(
            f"{folder}: {images_name} contains {len(images)} images but {labels_name} "
            f"contains {len(labels)} labels; the two files must come from the same split."
        )
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]
    return Dataset(
        x=x,
        name=name,
        sample_shape=x.shape[1:],
        labels=labels.astype(np.int64),
        label_names=label_names,
    )


def load_mnist(data_dir: str | Path | None = None, n_samples: int | None = None,
               **_: object) -> Dataset:
    """Load MNIST from the IDX `.gz` files in `data_dir`.

    The folder must hold the test split (``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz``); when the training split is there too, it is used
    instead, since it is six times larger.
    """
    if data_dir is None:
        raise DataError(
            "MNIST needs --data-dir, the folder holding "
            f"{' and '.join(MNIST_FILES)}; `latentspace download mnist` fetches them."
        )
    folder = Path(data_dir).expanduser()
    files = MNIST_TRAIN_FILES if all((folder / f).is_file() for f in MNIST_TRAIN_FILES) else (
        MNIST_FILES
    )
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise DataError(
            f"MNIST files not found in {folder}: missing {', '.join(missing)}. "
            f"The folder must hold {' and '.join(MNIST_FILES)}; `latentspace download mnist` "
            f"fetches them from {MNIST_SOURCE}."
        )
    data = load_idx_pair(folder, *files, name="mnist", label_names=[str(d) for d in range(10)])
    logger.info("Loaded %d MNIST images from %s", len(data), folder)
    return _head(data, n_samples)


def _manifold(kind: str, n_samples: int | None, noise: float, seed: int) -> Dataset:
    from sklearn import datasets

    make = datasets.make_swiss_roll if kind == "swiss_roll" else datasets.make_s_curve
    points, position = make(n_samples=n_samples or 2000, noise=noise, random_state=seed)
    return Dataset(
        x=points.astype(np.float32),
        name=kind,
        sample_shape=(3,),
        labels=position.astype(np.float32),
        info={"label": "position along the manifold"},
    )


def load_swiss_roll(n_samples: int | None = None, noise: float = 0.0, seed: int = 0,
                    **_: object) -> Dataset:
    """Generate a 3-D swiss roll; the label is the position along the roll."""
    return _manifold("swiss_roll", n_samples, noise, seed)


def load_s_curve(n_samples: int | None = None, noise: float = 0.0, seed: int = 0,
                 **_: object) -> Dataset:
    """Generate a 3-D S-curve; the label is the position along the curve."""
    return _manifold("s_curve", n_samples, noise, seed)


def _head(data: Dataset, n_samples: int | None) -> Dataset:
    if n_samples is None or n_samples >= len(data):
        return data
    if n_samples < 1:
        raise DataError(f"n_samples must be at least 1, got {n_samples}.")
    return data.subset(np.arange(n_samples))


BUILTIN: dict[str, Callable[..., Dataset]] = {
    "digits": load_digits,
    "mnist": load_mnist,
    "swiss_roll": load_swiss_roll,
    "s_curve": load_s_curve,
    **REAL_LOADERS,
}


def load_dataset(name: str, data_dir: str | Path | None = None, **options: object) -> Dataset:
    """Load a built-in data set by name.

    Parameters
    ----------
    name : str
        One of ``digits`` (the default of the command line), ``mnist``, ``swiss_roll``,
        ``s_curve``, or a set read from its distributed files: ``fashion_mnist``,
        ``kmnist``, ``frey_faces``, ``olivetti_faces``, ``coil20`` (see
        `latentspace.data.realsets`).
    data_dir : path, optional
        Folder with the data set's files, for sets that are not generated or bundled.
    **options
        Passed to the loader, for example ``n_samples``, ``seed``, or ``download=True`` to
        fetch a missing real data set.

    Examples
    --------
    >>> import latentspace as ls
    >>> data = ls.load_dataset("digits")
    >>> data.x.shape
    (1797, 1, 8, 8)
    """
    loader = BUILTIN.get(name)
    if loader is None:
        raise DataError(
            f"Unknown data set {name!r}. Built-in data sets: {', '.join(sorted(BUILTIN))}."
        )
    return loader(data_dir=data_dir, **options)
