"""Real image data sets read from their distributed files, and their download.

Each set is looked up in ``data_dir``, then ``data_dir/<name>``; without ``data_dir``, in
``<default data folder>/<name>`` (see `latentspace.data.cache.default_data_dir`).
`download` fetches a set's files from its source and verifies their SHA-256 digests.
Licences and sources are listed in docs/datasets.md and in `REAL_SETS`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentspace.data.cache import default_data_dir
from latentspace.data.dataset import Dataset
from latentspace.data.download import RemoteFile, fetch_file
from latentspace.errors import DataError, InvalidParameterError

logger = logging.getLogger(__name__)

MIRROR_ENV = "LATENTSPACE_DATA_MIRROR"
SPLITS = ("all", "train", "test")
IDX_TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
IDX_TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


@dataclass
class RealSet:
    """A downloadable data set: its files, where they come from and under which terms.

    `base_urls` are tried in order (the official source first, then mirrors); a file's URL
    is a base URL followed by its remote name.
    """

    title: str
    files: tuple[RemoteFile, ...]
    base_urls: tuple[str, ...]
    licence: str
    citation: str


def _idx_files(digests: dict[str, str]) -> tuple[RemoteFile, ...]:
    return tuple(
        RemoteFile(name, (digest,), split="train" if name.startswith("train") else "test")
        for name, digest in digests.items()
    )


REAL_SETS: dict[str, RealSet] = {
    "mnist": RealSet(
        "MNIST",
        _idx_files({
            "t10k-images-idx3-ubyte.gz":
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz":
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "train-images-idx3-ubyte.gz":
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz":
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        }),
        # yann.lecun.com often refuses automated downloads; these mirrors serve the same bytes.
        ("https://ossci-datasets.s3.amazonaws.com/mnist/",
         "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        "CC BY-SA 3.0",
        "Y. LeCun, C. Cortes, C. J. C. Burges, The MNIST database of handwritten digits.",
    ),
    "fashion_mnist": RealSet(
        "Fashion-MNIST",
        _idx_files({
            "t10k-images-idx3-ubyte.gz":
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz":
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "train-images-idx3-ubyte.gz":
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz":
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        }),
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "MIT (Copyright 2017 Zalando SE)",
        "H. Xiao, K. Rasul, R. Vollgraf, Fashion-MNIST, arXiv:1708.07747, 2017.",
    ),
    "kmnist": RealSet(
        "Kuzushiji-MNIST",
        _idx_files({
            "t10k-images-idx3-ubyte.gz":
                "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
            "t10k-labels-idx1-ubyte.gz":
                "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c",
            "train-images-idx3-ubyte.gz":
                "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
            "train-labels-idx1-ubyte.gz":
                "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
        }),
        ("https://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        "CC BY-SA 4.0",
        "KMNIST Dataset (created by CODH), adapted from Kuzushiji Dataset (created by NIJL "
        "and others), doi:10.20676/00000341.",
    ),
    "frey_faces": RealSet(
        "Frey faces",
        (RemoteFile("frey_rawface.mat",
                    ("265a83a23adb081755cd3de375509828e690324d1d60f076b8ecebc840d59c64",)),),
        ("https://cs.nyu.edu/~roweis/data/",),
        "none stated; credit Brendan Frey and Sam Roweis",
        "B. J. Frey, A. Colmenarez, T. S. Huang, Mixtures of local linear subspaces for "
        "face recognition, CVPR 1998.",
    ),
    "olivetti_faces": RealSet(
        "Olivetti faces",
        (RemoteFile(
            "olivettifaces.mat",
            # Roweis's file as scikit-learn pins it, and a 2013 re-save of it whose pixel
            # data was compared equal to the original.
            ("b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794",
             "b1988d02c72fe5b8ee82b5ef3bb7982eafc74f1e1ff0ae0ade35061ad0af534d"),
            # The figshare copy is the one scikit-learn's fetch_olivetti_faces downloads.
            mirror_urls=("https://ndownloader.figshare.com/files/5976027",),
        ),),
        ("https://cs.nyu.edu/~roweis/data/",),
        "no formal licence; credit AT&T Laboratories Cambridge",
        "F. Samaria, A. Harter, Parameterisation of a stochastic model for human face "
        "identification, IEEE WACV 1994.",
    ),
    "coil20": RealSet(
        "COIL-20 (32x32)",
        (RemoteFile("COIL20_32x32.mat",
                    ("b22b9beb0668f707990eda2b5f922384fd3e6d63d6df7ede3a3b5e2319c4e397",),
                    remote_name="COIL20.mat"),),
        # Columbia distributes 128x128 PNG files only; this 32x32 MAT file is a widely used
        # third-party downsampling, pinned to one repository commit.
        ("https://raw.githubusercontent.com/hyzhang98/AdaGAE/"
         "6d04946060bacd41ee31eba5c124887bca44f369/data/",),
        "research use only (Columbia University CAVE)",
        "S. A. Nene, S. K. Nayar, H. Murase, Columbia Object Image Library (COIL-20), "
        "Technical Report CUCS-005-96, 1996.",
    ),
}


def download(
    name: str,
    dest: str | Path | None = None,
    *,
    split: str = "all",
    mirror: str | None = None,
    force: bool = False,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Download a data set's files into ``dest/<name>`` and verify their SHA-256 digests.

    Parameters
    ----------
    name : str
        One of `REAL_SETS`: mnist, fashion_mnist, kmnist, frey_faces, olivetti_faces, coil20.
    dest : path, optional
        Parent folder; default `latentspace.data.cache.default_data_dir`.
    split : {"all", "train", "test"}
        For the MNIST-format sets, which split's files to fetch.
    mirror : str, optional
        Base URL of a mirror laid out as ``<mirror>/<name>/<file name>``, used instead of
        the sources. Default: the ``LATENTSPACE_DATA_MIRROR`` environment variable.
    force : bool
        Download again even when a verified file is present.
    timeout : float
        Seconds to wait for each connection.
    progress : bool
        Show a progress bar on standard error.

    Returns
    -------
    Path
        The folder holding the files, to pass as ``data_dir``.

    Raises
    ------
    DataError
        When a file cannot be fetched from any URL with an accepted checksum.
    """
    source = _real_set(name)
    if split not in SPLITS:
        raise InvalidParameterError(f"split must be one of {', '.join(SPLITS)}, got {split!r}.")
    folder = Path(dest).expanduser() if dest is not None else default_data_dir()
    folder = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    mirror = mirror or os.environ.get(MIRROR_ENV)
    for remote in source.files:
        if split != "all" and remote.split not in ("all", split):
            continue
        if mirror:
            urls = [f"{mirror.rstrip('/')}/{name}/{remote.name}"]
        else:
            urls = [base + (remote.remote_name or remote.name) for base in source.base_urls]
            urls.extend(remote.mirror_urls)
        fetch_file(remote, urls, folder, force=force, timeout=timeout, progress=progress)
    return folder


def _real_set(name: str) -> RealSet:
    if name not in REAL_SETS:
        raise DataError(f"No download for {name!r}. Downloadable data sets: "
                        f"{', '.join(sorted(REAL_SETS))}.")
    return REAL_SETS[name]


def find_folder(name: str, data_dir: str | Path | None, file_sets: list[tuple[str, ...]],
                download_missing: bool = False) -> Path:
    """Return the first candidate folder holding every file of one of `file_sets`.

    Candidates are ``data_dir`` and ``data_dir/<name>``, or ``<default data folder>/<name>``
    without `data_dir`. With `download_missing`, a set that is not found is downloaded.
    """
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        candidates = [root, root / name]
    else:
        root = default_data_dir()
        candidates = [root / name]
    for folder in candidates:
        if any(all((folder / f).is_file() for f in files) for files in file_sets):
            return folder
    if download_missing:
        return download(name, root)
    source = REAL_SETS[name]
    wanted = " and ".join(file_sets[0])
    raise DataError(
        f"{source.title} files not found: looked for {wanted} in "
        f"{' and '.join(str(c) for c in candidates)}. Run `latentspace download {name}`, "
        "pass download=True, or point data_dir at the folder holding the files "
        f"(source: {source.base_urls[0]})."
    )


def _load_idx_set(name: str, label_names: list[str], data_dir, n_samples, download_missing):
    from latentspace.data.builtin import _head, load_idx_pair

    folder = find_folder(name, data_dir, [IDX_TRAIN_FILES, IDX_TEST_FILES], download_missing)
    has_train = all((folder / f).is_file() for f in IDX_TRAIN_FILES)
    files = IDX_TRAIN_FILES if has_train else IDX_TEST_FILES
    data = load_idx_pair(folder, *files, name=name, label_names=label_names)
    data.info.update(split="train" if has_train else "test", source=str(folder))
    logger.info("Loaded %d %s images from %s", len(data), REAL_SETS[name].title, folder)
    return _head(data, n_samples)


FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]
# The hiragana of each class and its romanisation, from the KMNIST class map.
KMNIST_CLASSES = ["お (o)", "き (ki)", "す (su)", "つ (tsu)", "な (na)", "は (ha)", "ま (ma)",
                  "や (ya)", "れ (re)", "を (wo)"]


def load_fashion_mnist(data_dir=None, n_samples=None, download=False, **_) -> Dataset:
    """Load Fashion-MNIST (28x28 clothing images, 10 classes) from its IDX `.gz` files.

    The training split is used when its files are present, else the test split.
    """
    return _load_idx_set("fashion_mnist", FASHION_MNIST_CLASSES, data_dir, n_samples, download)


def load_kmnist(data_dir=None, n_samples=None, download=False, **_) -> Dataset:
    """Load Kuzushiji-MNIST (28x28 cursive Japanese characters, 10 classes) from its IDX
    `.gz` files. The training split is used when its files are present, else the test split.
    """
    return _load_idx_set("kmnist", KMNIST_CLASSES, data_dir, n_samples, download)


def read_mat_variables(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Read variables from a MATLAB 5 MAT-file, raising DataError when unreadable or missing."""
    from scipy.io import loadmat

    try:
        contents = loadmat(path, variable_names=names)
    except (OSError, ValueError, TypeError, NotImplementedError) as error:
        raise DataError(f"Cannot read MAT-file {path}: {error}. Download it again.") from error
    missing = [n for n in names if n not in contents]
    if missing:
        raise DataError(f"MAT-file {path} has no variable {', '.join(missing)}; it is not "
                        "the expected file. Download it again.")
    return {n: contents[n] for n in names}


def _image_set(pixels: np.ndarray, name: str, path: Path, expected: tuple[int, int],
               labels=None, label_names=None) -> Dataset:
    if pixels.shape[1:] != expected:
        raise DataError(f"{path} contains images of shape {pixels.shape[1:]}, expected "
                        f"{expected}; it is not the expected file. Download it again.")
    x = (pixels.astype(np.float32) / 255.0)[:, None]
    return Dataset(x=x, name=name, sample_shape=x.shape[1:], labels=labels,
                   label_names=label_names, info={"source": str(path)})


def load_frey_faces(data_dir=None, n_samples=None, download=False, **_) -> Dataset:
    """Load the Frey faces: 1,965 video frames of one face, 28x20 pixels, unlabelled."""
    from latentspace.data.builtin import _head

    folder = find_folder("frey_faces", data_dir, [("frey_rawface.mat",)], download)
    path = folder / "frey_rawface.mat"
    ff = read_mat_variables(path, ["ff"])["ff"]
    data = _image_set(ff.T.reshape(len(ff.T), 28, -1), "frey_faces", path, (28, 20))
    return _head(data, n_samples)


def load_olivetti_faces(data_dir=None, n_samples=None, download=False, **_) -> Dataset:
    """Load the Olivetti faces: 400 images of 40 people (``s1`` to ``s40``), 64x64 pixels."""
    from latentspace.data.builtin import _head

    folder = find_folder("olivetti_faces", data_dir, [("olivettifaces.mat",)], download)
    path = folder / "olivettifaces.mat"
    faces = read_mat_variables(path, ["faces"])["faces"]
    # Each column is one image stored column-major, hence the final transpose.
    pixels = faces.T.reshape(-1, 64, 64).transpose(0, 2, 1)
    if faces.dtype != np.uint8:
        pixels = np.round(pixels * (255.0 / max(float(pixels.max()), 1e-12)))
    labels = np.arange(len(pixels)) // 10
    names = [f"s{i + 1}" for i in range(int(labels.max()) + 1)]
    data = _image_set(pixels, "olivetti_faces", path, (64, 64), labels, names)
    return _head(data, n_samples)


def load_coil20(data_dir=None, n_samples=None, download=False, **_) -> Dataset:
    """Load COIL-20 at 32x32: 1,440 images of 20 objects (``obj1`` to ``obj20``), 72 poses
    each, 5 degrees apart."""
    from latentspace.data.builtin import _head

    folder = find_folder("coil20", data_dir, [("COIL20_32x32.mat",)], download)
    path = folder / "COIL20_32x32.mat"
    variables = read_mat_variables(path, ["X", "Y"])
    pixels = variables["X"].reshape(-1, 32, 32).transpose(0, 2, 1)
    labels = variables["Y"].ravel().astype(np.int64) - 1
    names = [f"obj{i + 1}" for i in range(int(labels.max()) + 1)]
    data = _image_set(pixels, "coil20", path, (32, 32), labels, names)
    return _head(data, n_samples)


REAL_LOADERS: dict[str, Callable[..., Dataset]] = {
    "fashion_mnist": load_fashion_mnist,
    "kmnist": load_kmnist,
    "frey_faces": load_frey_faces,
    "olivetti_faces": load_olivetti_faces,
    "coil20": load_coil20,
}
