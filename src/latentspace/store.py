"""Reading and writing the run directory, the on-disk contract of a latent space.

Every write goes to a temporary file in the same folder and is then renamed over the
target, so an interrupted command leaves either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from latentspace.errors import RunDirectoryError

RUN_FORMAT_VERSION = 1


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        # mkstemp creates files readable by their owner only; run files are meant to be shared.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def write_json(path: str | Path, value: Any) -> None:
    """Write `value` as indented JSON, atomically; NaN and infinity become null."""
    text = json.dumps(_finite(value), indent=2, sort_keys=False, default=_to_builtin)
    write_bytes(path, (text + "\n").encode())


def read_json(path: str | Path) -> Any:
    """Read a JSON file, raising RunDirectoryError when it is missing or malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise RunDirectoryError(f"File not found: {path}.") from error
    except json.JSONDecodeError as error:
        raise RunDirectoryError(
            f"{path} is not valid JSON ({error}); restore it or train the run again."
        ) from error


def write_safetensors(path: str | Path, tensors: dict[str, Any], metadata: dict | None = None):
    """Write torch tensors or numpy arrays to a safetensors file, atomically."""
    import torch
    from safetensors.torch import save_file

    tensors = {
        name: (torch.from_numpy(np.ascontiguousarray(t)) if isinstance(t, np.ndarray) else t)
        .detach()
        .cpu()
        .contiguous()
        for name, t in tensors.items()
    }
    with atomic_path(path) as temporary:
        save_file(tensors, str(temporary), metadata=metadata)


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Read a safetensors file into numpy arrays; nothing is unpickled."""
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(f"File not found: {path}.")
    try:
        return load_file(str(path))
    except Exception as error:  # safetensors raises its own SafetensorError
        raise RunDirectoryError(
            f"{path} is not a readable safetensors file ({error}); restore it from "
            "checkpoints/ or train the run again."
        ) from error


def write_parquet(path: str | Path, columns: dict[str, Any]) -> None:
    """Write columns to a Parquet file atomically; 2-D float arrays become fixed-size lists."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if values.ndim == 2:
            flat = pa.array(np.ascontiguousarray(values, dtype=np.float32).ravel())
            arrays[name] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        elif values.dtype == object:
            arrays[name] = pa.array([None if v is None else str(v) for v in values])
        else:
            arrays[name] = pa.array(values)
    with atomic_path(path) as temporary:
        pq.write_table(pa.table(arrays), temporary)


def read_parquet(path: str | Path) -> dict[str, np.ndarray]:
    """Read a Parquet file written by `write_parquet` back into numpy columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise RunDirectoryError(f"File not found: {path}.")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise RunDirectoryError(
            f"{path} is not a readable Parquet file ({error}); restore it or train the run "
            "again."
        ) from error
    columns = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            width = column.type.list_size
            columns[name] = column.flatten().to_numpy().reshape(-1, width)
        else:
            columns[name] = column.to_numpy(zero_copy_only=False)
    return columns


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def _to_builtin(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Cannot write {type(value).__name__} to JSON: {value!r}")
