"""The `Dataset` type that every loader returns and every model consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from latentspace.errors import DataError


@dataclass
class Dataset:
    """Samples with their labels, ids and shape, ready for a model.

    Parameters
    ----------
    x : ndarray of float32, shape (n_samples, *sample_shape)
        Samples scaled to [0, 1] for images; standardised or raw features for tables.
    name : str
        Short name shown in figures, reports and the explorer.
    sample_shape : tuple of int
        Shape of one sample: ``(channels, height, width)`` for images, ``(n_features,)``
        for vectors.
    labels : ndarray, shape (n_samples,), optional
        Integer class codes into `label_names`, or floats for a continuous label
        (for example the position along a swiss roll).
    label_names : list of str, optional
        Name of each class code. None when the label is continuous or absent.
    ids : ndarray of str, shape (n_samples,), optional
        Stable identifiers; defaults to the row numbers as strings.
    metadata : dict of str to ndarray, optional
        Extra per-sample columns kept for the explorer and the latents table.
    feature_mean, feature_scale : ndarray, shape (n_features,), optional
        Standardisation applied to tabular features. Decoded rows are mapped back to the
        original units with ``x * feature_scale + feature_mean``.
    """

    x: np.ndarray
    name: str
    sample_shape: tuple[int, ...]
    labels: np.ndarray | None = None
    label_names: list[str] | None = None
    ids: np.ndarray | None = None
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    feature_mean: np.ndarray | None = None
    feature_scale: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = np.ascontiguousarray(self.x, dtype=np.float32)
        self.sample_shape = tuple(int(s) for s in self.sample_shape)
        if self.x.ndim < 2 or len(self.x) == 0:
            raise DataError(
                f"Data set {self.name!r} is empty (array shape {self.x.shape}); "
                "give at least 2 samples."
            )
        expected = (len(self.x), *self.sample_shape)
        if self.x.shape != expected:
            self.x = self.x.reshape(expected)
        if self.ids is None:
            self.ids = np.arange(len(self.x)).astype(str)
        self.ids = np.asarray(self.ids).astype(str)
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if len(self.labels) != len(self.x):
                raise DataError(
                    f"Data set {self.name!r} has {len(self.x)} samples but "
                    f"{len(self.labels)} labels; give one label per sample."
                )

    def __len__(self) -> int:
        return len(self.x)

    @property
    def n_features(self) -> int:
        """Number of input dimensions of one sample."""
        return int(np.prod(self.sample_shape))

    @property
    def is_image(self) -> bool:
        """True when samples are images, shaped (channels, height, width)."""
        return len(self.sample_shape) == 3

    @property
    def has_class_labels(self) -> bool:
        """True when labels are integer class codes, not a continuous value."""
        return self.labels is not None and self.label_names is not None

    def flat(self) -> np.ndarray:
        """Return the samples as a (n_samples, n_features) float32 view."""
        return self.x.reshape(len(self.x), -1)

    def label_text(self) -> np.ndarray | None:
        """Return each sample's label as a string (class name or formatted number)."""
        if self.labels is None:
            return None
        if self.label_names is not None:
            return np.asarray(self.label_names, dtype=object)[self.labels.astype(int)]
        return np.asarray([f"{v:.3g}" for v in self.labels], dtype=object)

    def subset(self, index: np.ndarray) -> Dataset:
        """Return the samples at `index`, keeping ids, labels and metadata aligned."""
        index = np.asarray(index)
        return Dataset(
            x=self.x[index],
            name=self.name,
            sample_shape=self.sample_shape,
            labels=None if self.labels is None else self.labels[index],
            label_names=self.label_names,
            ids=self.ids[index],
            metadata={k: np.asarray(v)[index] for k, v in self.metadata.items()},
            feature_mean=self.feature_mean,
            feature_scale=self.feature_scale,
            info=dict(self.info),
        )

    def to_original_units(self, x: np.ndarray) -> np.ndarray:
        """Map model-space samples (for example decoded rows) back to the input's units."""
        if self.feature_mean is None or self.feature_scale is None:
            return x
        flat = x.reshape(len(x), -1) * self.feature_scale + self.feature_mean
        return flat.reshape(x.shape)

    def fingerprint(self) -> str:
        """Return a SHA-256 digest of the samples and labels, to tie a run to its data."""
        digest = hashlib.sha256()
        digest.update(str(self.x.shape).encode())
        digest.update(self.x.tobytes())
        if self.labels is not None:
            digest.update(np.ascontiguousarray(self.labels).tobytes())
        return digest.hexdigest()
