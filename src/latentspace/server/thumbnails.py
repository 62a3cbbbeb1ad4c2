"""Sprite atlases of the data set's images, for drawing thousands of thumbnails at once.

Each image becomes a tile of at most `MAX_TILE` pixels a side (native size when smaller,
aspect ratio kept). Tiles fill atlases of at most `MAX_ATLAS_SIZE` pixels a side, row by
row: tile ``i`` sits in column ``i % per_row`` and row ``(i % per_atlas) // per_row`` of
atlas ``i // per_atlas``. Atlases are rendered on first request, kept in memory and, when
a cache folder is given, written there with a manifest so the next start reads them back.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from latentspace.data.dataset import Dataset
from latentspace.server.images import encode_png, to_uint8
from latentspace.store import read_json, write_bytes, write_json

logger = logging.getLogger(__name__)

MAX_TILE = 32
MAX_ATLAS_SIZE = 2048
# Bump when the layout or the pixels change, so that caches written earlier are rebuilt.
THUMBNAIL_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class AtlasLayout:
    """Placement of tiles in atlases: tile size in pixels, tiles per row and per atlas."""

    count: int
    tile_width: int
    tile_height: int
    per_row: int
    per_atlas: int

    @classmethod
    def for_images(cls, count: int, height: int, width: int) -> AtlasLayout:
        """Lay out `count` images of `height` x `width` pixels."""
        scale = min(1.0, MAX_TILE / max(height, width))
        tile_width = max(1, round(width * scale))
        tile_height = max(1, round(height * scale))
        per_row = MAX_ATLAS_SIZE // tile_width
        rows = MAX_ATLAS_SIZE // tile_height
        return cls(count, tile_width, tile_height, per_row, per_row * rows)

    @property
    def n_atlases(self) -> int:
        """Number of atlases needed for all tiles."""
        return math.ceil(self.count / self.per_atlas)

    def tiles_in(self, atlas: int) -> range:
        """Row positions of the images in atlas number `atlas`."""
        start = atlas * self.per_atlas
        return range(start, min(start + self.per_atlas, self.count))

    def atlas_size(self, atlas: int) -> tuple[int, int]:
        """Width and height in pixels of atlas number `atlas`; the last one can be smaller."""
        n_tiles = len(self.tiles_in(atlas))
        columns = min(n_tiles, self.per_row)
        rows = math.ceil(n_tiles / self.per_row)
        return columns * self.tile_width, rows * self.tile_height


class ThumbnailAtlases:
    """Renders, caches and returns the PNG atlases of an image data set.

    Parameters
    ----------
    dataset : Dataset
        An image data set (samples shaped (channels, height, width)).
    cache_dir : path, optional
        Folder for the atlases and their manifest, usually ``run_dir/thumbnails``.
        Atlases are kept only in memory when None or when the folder cannot be written.
    """

    def __init__(self, dataset: Dataset, cache_dir: Path | None = None) -> None:
        if not dataset.is_image:
            raise ValueError(
                f"Thumbnails need an image data set; {dataset.name!r} has samples of "
                f"shape {dataset.sample_shape}."
            )
        self.dataset = dataset
        self.cache_dir = cache_dir
        _, height, width = dataset.sample_shape
        self.layout = AtlasLayout.for_images(len(dataset), height, width)
        self._png: dict[int, bytes] = {}
        self._lock = threading.Lock()
        self._cache_key: dict | None = None

    def metadata(self) -> dict:
        """Describe the layout for the frontend's ``thumbnails`` field of ``/api/space``."""
        layout = self.layout
        return {
            "count": layout.count,
            "tile": [layout.tile_width, layout.tile_height],
            "per_row": layout.per_row,
            "per_atlas": layout.per_atlas,
            "atlases": layout.n_atlases,
            "atlas_sizes": [list(layout.atlas_size(i)) for i in range(layout.n_atlases)],
        }

    def png(self, atlas: int) -> bytes:
        """Return atlas number `atlas` as PNG bytes; raises IndexError when out of range."""
        if not 0 <= atlas < self.layout.n_atlases:
            raise IndexError(
                f"atlas {atlas} is out of range; valid atlases are 0..{self.layout.n_atlases - 1}"
            )
        with self._lock:
            cached = self._png.get(atlas)
            if cached is None:
                cached = self._read_cached(atlas)
            if cached is None:
                cached = encode_png(self.render(atlas))
                self._write_cached(atlas, cached)
            self._png[atlas] = cached
            return cached

    def render(self, atlas: int) -> np.ndarray:
        """Paste the tiles of atlas number `atlas` into one uint8 pixel array."""
        layout = self.layout
        tiles = np.stack([self._tile(i) for i in layout.tiles_in(atlas)])  # (n, th, tw[, C])
        n_tiles = len(tiles)
        columns = min(n_tiles, layout.per_row)
        rows = math.ceil(n_tiles / layout.per_row)

        # Pad the last row with empty tiles, then interleave tile rows with pixel rows.
        padding = np.zeros((rows * columns - n_tiles, *tiles.shape[1:]), dtype=np.uint8)
        grid = np.concatenate([tiles, padding]).reshape(rows, columns, *tiles.shape[1:])
        grid = grid.swapaxes(1, 2)  # (rows, th, columns, tw[, C])
        return grid.reshape(rows * layout.tile_height, columns * layout.tile_width,
                            *tiles.shape[3:])

    def _tile(self, index: int) -> np.ndarray:
        pixels = to_uint8(self.dataset.x[index])
        size = (self.layout.tile_width, self.layout.tile_height)
        if pixels.shape[1::-1] == size:
            return pixels
        # Box filtering averages the source pixels under each tile pixel.
        return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BOX))

    # ------------------------------------------------------------------ disk cache

    def _key(self) -> dict:
        # The fingerprint hashes every sample, so it is computed once and only with a cache.
        if self._cache_key is None:
            self._cache_key = {
                "format_version": THUMBNAIL_FORMAT_VERSION,
                "data_fingerprint": self.dataset.fingerprint(),
                "sample_shape": list(self.dataset.sample_shape),
                **asdict(self.layout),
            }
        return self._cache_key

    def _atlas_path(self, atlas: int) -> Path:
        assert self.cache_dir is not None
        return self.cache_dir / f"atlas-{int(atlas):04d}.png"

    def _read_cached(self, atlas: int) -> bytes | None:
        if self.cache_dir is None:
            return None
        manifest = self.cache_dir / MANIFEST_NAME
        path = self._atlas_path(atlas)
        if not (manifest.is_file() and path.is_file()):
            return None
        try:
            if read_json(manifest) != self._key():
                return None
            return path.read_bytes()
        except (OSError, ValueError) as error:
            logger.warning("Ignoring unreadable thumbnail cache %s: %s", path, error)
            return None

    def _write_cached(self, atlas: int, png: bytes) -> None:
        if self.cache_dir is None:
            return
        manifest = self.cache_dir / MANIFEST_NAME
        try:
            key = self._key()
            if not manifest.is_file() or read_json(manifest) != key:
                # A stale manifest is replaced first, so that old atlases stop matching.
                for stale in self.cache_dir.glob("atlas-*.png"):
                    stale.unlink()
                write_json(manifest, key)
            write_bytes(self._atlas_path(atlas), png)
        except (OSError, ValueError) as error:
            logger.warning(
                "Could not write thumbnail atlas %d to %s (%s); keeping it in memory only.",
                atlas, self.cache_dir, error,
            )
