"""Downloading data files over HTTP(S), verified by SHA-256 before they are kept.

A file is streamed to a temporary file beside its target and renamed over the target only
when its SHA-256 digest is one of the accepted ones, so an interrupted or corrupt download
never leaves a file where the loaders look.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from latentspace.errors import DataError
from latentspace.store import atomic_path

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
USER_AGENT = "latentspace (https://pypi.org/project/latentspace/)"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a downloadable data set.

    Attributes
    ----------
    name : str
        File name on disk.
    sha256 : tuple of str
        Accepted SHA-256 hex digests (more than one when byte-different copies hold the
        same data).
    remote_name : str, optional
        File name at the source URL when it differs from `name`.
    split : str
        ``train`` or ``test`` for files of one split; ``all`` otherwise.
    mirror_urls : tuple of str
        Full URLs of copies, tried after the data set's base URLs.
    """

    name: str
    sha256: tuple[str, ...]
    remote_name: str | None = None
    split: str = "all"
    mirror_urls: tuple[str, ...] = ()


class ChecksumMismatch(DataError):
    """A downloaded file's SHA-256 digest is not one of the accepted ones."""


def sha256_of(path: Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_file(remote: RemoteFile, urls: list[str], folder: Path, *, force: bool = False,
               timeout: float = 60.0, progress: bool = True) -> Path:
    """Ensure that `folder` contains `remote` with an accepted checksum, downloading it if needed.

    The URLs are tried in order; the first download with an accepted checksum is kept.

    Raises
    ------
    DataError
        When every URL fails, listing each URL with its error.
    """
    target = folder / remote.name
    if target.is_file() and not force:
        if sha256_of(target) in remote.sha256:
            logger.debug("%s is present and verified.", target)
            return target
        logger.warning("%s does not match its published SHA-256; downloading it again.", target)
    errors = []
    for url in urls:
        try:
            _download(url, target, remote.sha256, timeout, progress)
        except (urllib.error.URLError, OSError, ChecksumMismatch) as error:
            logger.warning("Download of %s failed: %s", url, error)
            errors.append(f"  {url}: {error}")
            continue
        logger.info("Downloaded %s to %s", url, target)
        return target
    raise DataError(
        f"Could not download {remote.name}:\n" + "\n".join(errors) + "\nCheck the network "
        f"connection, or download the file by hand into {folder} (the loaders verify nothing "
        "then, so use the official source)."
    )


def _download(url: str, target: Path, accepted: tuple[str, ...], timeout: float,
              progress: bool) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest = hashlib.sha256()
    with urllib.request.urlopen(request, timeout=timeout) as response, \
            atomic_path(target) as temporary, open(temporary, "wb") as handle:
        total = int(response.headers.get("Content-Length") or 0) or None
        for block in _progress(response, total, target.name, progress):
            digest.update(block)
            handle.write(block)
        handle.flush()
        if digest.hexdigest() not in accepted:
            raise ChecksumMismatch(
                f"SHA-256 {digest.hexdigest()} is not the published "
                f"{' or '.join(accepted)}; the file was not kept."
            )


def _progress(response, total: int | None, label: str, progress: bool):
    blocks = iter(lambda: response.read(CHUNK_BYTES), b"")
    if not progress:
        yield from blocks
        return
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    columns = (*Progress.get_default_columns(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"Downloading {label}", total=total)
        for block in blocks:
            bar.advance(task, len(block))
            yield block
