"""Folders for cached arrays and downloaded data sets, and an `.npz` array cache.

The cache stores decoded inputs (for example an image folder) so that a second load reads
one file instead of decoding every source file again. Entries are `.npz` files read with
``allow_pickle=False``, so a cache file cannot run code when loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from latentspace.store import atomic_path

logger = logging.getLogger(__name__)

CACHE_DIR_ENV = "LATENTSPACE_CACHE_DIR"
DATA_DIR_ENV = "LATENTSPACE_DATA_DIR"


def default_cache_dir() -> Path:
    """Return the cache folder: ``$LATENTSPACE_CACHE_DIR``, else ``$XDG_CACHE_HOME/latentspace``,
    else ``~/.cache/latentspace``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "latentspace"


def default_data_dir() -> Path:
    """Return the folder for downloaded data sets: ``$LATENTSPACE_DATA_DIR``, else
    ``<cache folder>/data``."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    return default_cache_dir() / "data"


def cache_key(description: dict) -> str:
    """Return a SHA-256 hex digest of a JSON-serialisable description of the cached input."""
    text = json.dumps(description, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_cached_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Read every array of a cache entry, or return None when the entry is missing or unreadable.

    An unreadable entry (truncated, not an `.npz`, or holding object arrays) is logged and
    treated as missing, so the caller rebuilds it.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        logger.warning("Ignoring unreadable cache file %s (%s); rebuilding it.", path, error)
        return None


def write_cached_arrays(path: Path, arrays: dict[str, np.ndarray]) -> bool:
    """Write arrays to a cache entry atomically; return False (and log) when the write fails.

    A failed write, for example on a read-only or full disk, does not stop the load: the
    data is already in memory, and the next load decodes again.
    """
    try:
        with atomic_path(path) as temporary, open(temporary, "wb") as handle:
            np.savez(handle, **arrays)
    except OSError as error:
        logger.warning("Could not write cache file %s (%s); continuing without cache.",
                       path, error)
        return False
    return True
