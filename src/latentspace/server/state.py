"""Data the explorer serves from one latent space, prepared once and cached.

`ExplorerState` wraps the space and contains the binary arrays, the label codes, the
projection maps, the thumbnail atlases and the search index. The routes read from it and
call the space's decoder through it, one call at a time.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentspace.errors import DataError
from latentspace.server.images import png_data_url
from latentspace.server.mapping import ProjectionMap, build_projection_map
from latentspace.server.schemas import LIMITS
from latentspace.server.thumbnails import ThumbnailAtlases
from latentspace.space import NO_DECODER_NOTE

logger = logging.getLogger(__name__)

MAX_LATENT_COLUMNS = 64
ERROR_BATCH_SIZE = 1024


@dataclass
class Labels:
    """The labels as the frontend reads them: codes for classes, floats for continuous."""

    kind: str  # "class", "continuous" or "none"
    values: np.ndarray | None  # uint8/uint16 codes or float32 values; None for "none"
    names: list[str]
    counts: list[int]

    @classmethod
    def from_dataset(cls, labels: np.ndarray | None, names: list[str] | None) -> Labels:
        """Encode a data set's labels; integer labels without names become their own names."""
        if labels is None:
            return cls("none", None, [], [])
        labels = np.asarray(labels)
        if names is None and labels.dtype.kind in "iub":
            uniques = np.unique(labels)
            names = [str(v) for v in uniques.tolist()]
            labels = np.searchsorted(uniques, labels)
        if names is None:
            return cls("continuous", labels.astype(np.float32), [], [])

        codes = labels.astype(np.int64)
        if len(codes) and (codes.min() < 0 or codes.max() >= len(names)):
            raise DataError(
                f"Label codes must index label_names (0..{len(names) - 1}), got codes from "
                f"{codes.min()} to {codes.max()}; fix the data set's labels or label_names."
            )
        if len(names) > 65536:
            raise DataError(
                f"The explorer supports at most 65536 label classes, got {len(names)}; "
                "give a continuous label or fewer classes."
            )
        dtype = np.uint8 if len(names) <= 256 else np.uint16
        counts = np.bincount(codes, minlength=len(names)).tolist()
        return cls("class", codes.astype(dtype), [str(n) for n in names], counts)

    def describe(self) -> dict:
        """Describe the labels for the ``labels`` field of ``/api/space``."""
        info: dict[str, Any] = {"kind": self.kind, "names": self.names, "counts": self.counts,
                                "min": None, "max": None, "dtype": None}
        if self.values is not None:
            info["dtype"] = str(self.values.dtype)
        if self.kind == "continuous" and np.isfinite(self.values).any():
            info["min"] = float(np.nanmin(self.values[np.isfinite(self.values)]))
            info["max"] = float(np.nanmax(self.values[np.isfinite(self.values)]))
        return info

    def of(self, index: int) -> str | float | None:
        """Return one item's label: its class name, its value, or None."""
        if self.kind == "class":
            return self.names[int(self.values[index])]
        if self.kind == "continuous":
            value = float(self.values[index])
            return value if math.isfinite(value) else None
        return None

    def text(self) -> np.ndarray | None:
        """Return every label as text, for search."""
        if self.kind == "class":
            return np.asarray(self.names, dtype=str)[self.values.astype(np.int64)]
        if self.kind == "continuous":
            return np.asarray([f"{v:.3g}" for v in self.values.tolist()], dtype=str)
        return None


class ExplorerState:
    """The space behind an explorer app and everything derived from it.

    Parameters
    ----------
    space : LatentSpace
        Needs ``dataset``, ``z``, ``projections``, ``has_decoder``, ``latent_dim``,
        ``config``, ``neighbors``, ``decode``, ``reconstruct``, ``interpolate`` and
        ``sample``; ``run_dir``, ``metrics`` and ``decoder_note`` are used when present.
    """

    def __init__(self, space: Any) -> None:
        self.space = space
        self.dataset = space.dataset
        self.z = np.asarray(space.z, dtype=np.float32)
        self.n_items = len(self.z)
        self.labels = Labels.from_dataset(self.dataset.labels, self.dataset.label_names)
        self.maps: dict[str, ProjectionMap] = {
            name: build_projection_map(name, coords, self.z)
            for name, coords in space.projections.items()
        }
        self.point_bytes = {
            name: np.ascontiguousarray(m.coords, dtype="<f4").tobytes()
            for name, m in self.maps.items()
        }
        # Traversal sliders span the 1st to 99th percentile of each latent dimension.
        low, high = np.nanpercentile(self.z, [1, 99], axis=0)
        self.latent_range = {"min": low.tolist(), "max": high.tolist()}
        self.thumbnails = self._thumbnails()
        self.columns = self._column_sources()
        self._column_cache: dict[str, bytes] = {}
        self._search_fields = self._search_text()
        # Decoders are torch modules switched to eval mode on each call, and the neighbour
        # graph is built on first use, so calls into the space run one at a time.
        self.model_lock = threading.Lock()
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------------ metadata

    @property
    def has_decoder(self) -> bool:
        """True when the space can decode latents, so walks are available."""
        return bool(self.space.has_decoder)

    @property
    def decoder_note(self) -> str | None:
        """Why walks are unavailable, or None when the space has a decoder."""
        if self.has_decoder:
            return None
        return getattr(self.space, "decoder_note", None) or NO_DECODER_NOTE

    def metadata(self) -> dict:
        """Build the body of ``/api/space``."""
        dataset = self.dataset
        return {
            "name": dataset.name,
            "n_points": self.n_items,
            "latent_dim": int(self.z.shape[1]),
            "model": model_name(self.space.config),
            "has_decoder": self.has_decoder,
            "decoder_note": self.decoder_note,
            "is_image": dataset.is_image,
            "sample_shape": list(dataset.sample_shape),
            "labels": self.labels.describe(),
            "projections": [m.describe() for m in self.maps.values()],
            "numeric_columns": list(self.columns),
            "thumbnails": None if self.thumbnails is None else self.thumbnails.metadata(),
            "metrics": json_safe(getattr(self.space, "metrics", None) or {}),
            "limits": dict(LIMITS),
            "latent_range": self.latent_range,
        }

    # ------------------------------------------------------------------ columns and search

    def column_bytes(self, name: str) -> bytes:
        """Return numeric column `name` as little-endian float32; KeyError when unknown."""
        source = self.columns[name]
        with self._cache_lock:
            if name not in self._column_cache:
                values = source() if callable(source) else source
                self._column_cache[name] = np.ascontiguousarray(values, dtype="<f4").tobytes()
            return self._column_cache[name]

    def ids_text(self) -> str:
        """Return the item ids, one per line in index order.

        Line breaks inside an id become spaces, so that line ``i`` is always item ``i``.
        """
        ids = np.asarray(self.dataset.ids, dtype=str)
        ids = np.char.replace(np.char.replace(ids, "\r", " "), "\n", " ")
        return "\n".join(ids.tolist()) + "\n"

    def search(self, query: str) -> np.ndarray:
        """Return the row positions whose id or label text contains `query`, ignoring case."""
        needle = query.lower()
        found = np.zeros(self.n_items, dtype=bool)
        for field in self._search_fields:
            found |= np.char.find(field, needle) >= 0
        return np.flatnonzero(found)

    # ------------------------------------------------------------------ decoding

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """Decode latents with the space's decoder, one call at a time."""
        with self.model_lock:
            return np.asarray(self.space.decode(np.asarray(latents, dtype=np.float32)))

    def reconstruct(self, indices: list[int]) -> np.ndarray:
        """Reconstruct the items at `indices` (encode, then decode)."""
        with self.model_lock:
            return np.asarray(self.space.reconstruct(np.asarray(indices, dtype=np.int64)))

    def neighbors(self, index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the `k` nearest items of item `index` and their latent distances.

        The lock also covers the space building its neighbour graph on first use.
        """
        with self.model_lock:
            indices, distances = self.space.neighbors(index, k=k)
        return np.asarray(indices), np.asarray(distances)

    def samples_payload(self, samples: np.ndarray) -> tuple[list[str] | None,
                                                            list[list[float]] | None]:
        """Return decoded samples as PNG data URLs for images, else as rows in data units."""
        if self.dataset.is_image:
            return [png_data_url(sample) for sample in samples], None
        rows = self.dataset.to_original_units(np.asarray(samples, dtype=np.float32))
        return None, rows.reshape(len(rows), -1).astype(float).tolist()

    def item_metadata(self, index: int) -> dict:
        """Return one item's metadata values as JSON scalars (NaN becomes null)."""
        return {str(name): json_scalar(np.asarray(values)[index])
                for name, values in self.dataset.metadata.items()}

    # ------------------------------------------------------------------ construction helpers

    def _thumbnails(self) -> ThumbnailAtlases | None:
        if not self.dataset.is_image:
            return None
        run_dir = getattr(self.space, "run_dir", None)
        cache_dir = Path(run_dir) / "thumbnails" if run_dir is not None else None
        return ThumbnailAtlases(self.dataset, cache_dir)

    def _column_sources(self) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        for name, values in self.dataset.metadata.items():
            values = np.asarray(values)
            if values.ndim == 1 and values.dtype.kind in "iufb" and len(values) == self.n_items:
                columns[str(name)] = values
        if self.has_decoder:
            columns.setdefault("reconstruction_error", self._reconstruction_errors)
        if self.z.shape[1] <= MAX_LATENT_COLUMNS:
            for dim in range(self.z.shape[1]):
                columns.setdefault(f"latent_{dim}", self.z[:, dim])
        return columns

    def _reconstruction_errors(self) -> np.ndarray:
        """Mean squared error of each item's reconstruction, in model units."""
        errors = np.empty(self.n_items, dtype=np.float32)
        flat = self.dataset.flat()
        for start in range(0, self.n_items, ERROR_BATCH_SIZE):
            index = list(range(start, min(start + ERROR_BATCH_SIZE, self.n_items)))
            recon = self.reconstruct(index).reshape(len(index), -1)
            errors[index] = np.mean((recon - flat[index]) ** 2, axis=1)
        return errors

    def _search_text(self) -> list[np.ndarray]:
        fields = [np.char.lower(np.asarray(self.dataset.ids, dtype=str))]
        text = self.labels.text()
        if text is not None:
            fields.append(np.char.lower(text))
        return fields


def model_name(config: dict | None) -> str | None:
    """Return the model's name from a space's config, like ``"vae"``; None for embeddings."""
    model = (config or {}).get("model")
    if isinstance(model, dict):
        return model.get("model")
    return None if model is None else str(model)


def json_scalar(value: Any) -> str | float | int | bool | None:
    """Convert a numpy scalar to a JSON value; NaN and infinity become None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def json_safe(value: Any) -> Any:
    """Convert nested metrics to JSON values, dropping what JSON cannot hold."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    return json_scalar(value)
