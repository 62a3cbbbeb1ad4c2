"""Reading CSV files into Arrow tables, with text encoding detection and delimiter choice.

Encoding rules, in order, when no encoding is given:

1. A byte-order mark selects UTF-8, UTF-16 or UTF-32.
2. A NUL byte without a byte-order mark is rejected: the file is binary, or UTF-16/UTF-32
   text that needs an explicit ``encoding``.
3. Strict UTF-8.
4. Windows-1252 (cp1252), then Latin-1, with a logged warning that names the first byte
   that is not UTF-8. Latin-1 decodes any byte, so this step never fails.

An explicit ``encoding`` is decoded strictly, and a failure names the line and byte offset.
"""

from __future__ import annotations

import codecs
import gzip
import io
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from latentspace.errors import DataError, InvalidParameterError

logger = logging.getLogger(__name__)

FALLBACK_ENCODINGS = ("cp1252", "latin-1")
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
# The UTF-32 marks come first because the UTF-32-LE mark starts with the UTF-16-LE mark.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def describe_offset(raw: bytes, offset: int) -> str:
    """Return 'line N, byte offset B' for a byte position in `raw` (lines count from 1)."""
    line = raw.count(b"\n", 0, offset) + 1
    return f"line {line}, byte offset {offset}"


def decode_text(raw: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode the bytes of a text file and return ``(text, encoding used)``.

    Raises
    ------
    DataError
        When an explicit encoding (or the one a byte-order mark selects) fails, or when the
        file contains NUL bytes and no byte-order mark. The message names the line and byte
        offset.
    InvalidParameterError
        When `encoding` is not the name of a Python codec.
    """
    if encoding is not None:
        return _decode_strict(raw, encoding, path), encoding
    for mark, name in BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            return _decode_strict(raw, name, path), name
    nul = raw.find(b"\x00")
    if nul >= 0:
        # ASCII text in UTF-16 puts the zero byte second (little-endian) or first (big-endian).
        guess = "utf-16-le" if nul % 2 == 1 else "utf-16-be"
        raise DataError(
            f"{path} contains a NUL byte at {describe_offset(raw, nul)} and has no byte-order "
            "mark, so it is a binary file or UTF-16/UTF-32 text. Save it as UTF-8, or give "
            f"the encoding it was saved in, probably --encoding {guess} "
            f"(encoding='{guess}' in Python)."
        )
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        first_error = error
    for fallback in FALLBACK_ENCODINGS:
        try:
            text = raw.decode(fallback)
        except UnicodeDecodeError:
            continue
        logger.warning(
            "%s is not valid UTF-8 (byte 0x%02x at %s), so it was read as %s. If the text "
            "looks wrong, give its encoding with --encoding (encoding in Python).",
            path, raw[first_error.start], describe_offset(raw, first_error.start), fallback,
        )
        return text, fallback
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _decode_strict(raw: bytes, encoding: str, path: Path) -> str:
    try:
        return raw.decode(encoding)
    except LookupError as error:
        raise InvalidParameterError(
            f"Unknown text encoding {encoding!r} for {path}. Use a Python codec name such as "
            "'utf-8', 'utf-16', 'cp1252' or 'latin-1'."
        ) from error
    except UnicodeDecodeError as error:
        bad = raw[error.start : error.start + 4]
        raise DataError(
            f"{path} is not valid {encoding}: bytes {bad!r} at {describe_offset(raw, error.start)} "
            f"cannot be decoded ({error.reason}). Give the encoding the file was saved in, "
            "for example --encoding cp1252 (encoding='cp1252' in Python), or save the file "
            "as UTF-8."
        ) from error


def choose_delimiter(path: Path, header: str) -> str:
    """Pick the delimiter that occurs most often in the header line, outside quotes.

    ``.tsv`` and ``.tab`` files always use a tab. A header without any candidate is read as
    a single column, with a comma delimiter.
    """
    if path.name.lower().removesuffix(".gz").endswith((".tsv", ".tab")):
        return "\t"
    counts = dict.fromkeys(DELIMITER_CANDIDATES, 0)
    quoted = False
    for character in header:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    best = max(DELIMITER_CANDIDATES, key=lambda candidate: counts[candidate])
    return best if counts[best] > 0 else ","


def read_csv_bytes(path: Path) -> bytes:
    """Read a file's bytes, decompressing it when the name ends with ``.gz``."""
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path) as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:
        raise DataError(f"Cannot read {path}: {error}.") from error


def read_csv_table(
    path: Path,
    encoding: str | None = None,
    delimiter: str | None = None,
    string_columns: tuple[str, ...] = (),
) -> tuple[pa.Table, dict]:
    """Read a CSV file into an Arrow table.

    Parameters
    ----------
    path : Path
        CSV or TSV file, optionally gzip-compressed (``.csv.gz``).
    encoding : str, optional
        Text encoding. Detected when omitted (see the module docstring).
    delimiter : str, optional
        Field delimiter. Chosen from ``, ; tab |`` by the header line when omitted.
    string_columns : tuple of str
        Columns read as text, verbatim, even when they look numeric (labels and ids, so
        that ``007`` stays ``007``).

    Returns
    -------
    table : pyarrow.Table
    info : dict
        ``{"encoding": ..., "delimiter": ...}``.
    """
    raw = read_csv_bytes(path)
    if not raw.strip():
        raise DataError(f"{path} is empty; it needs a header line and at least 2 data rows.")
    text, used_encoding = decode_text(raw, path, encoding)
    text = text.removeprefix("\ufeff")
    if delimiter is None:
        delimiter = choose_delimiter(path, text.split("\n", 1)[0])
    elif delimiter == "\\t":  # typed as backslash-t on a command line
        delimiter = "\t"
    if len(delimiter) != 1:
        raise InvalidParameterError(
            f"Invalid delimiter {delimiter!r}; give one character, such as ',' or ';', "
            "or \\t for tab."
        )
    convert = pa_csv.ConvertOptions(
        column_types={column: pa.string() for column in string_columns},
        strings_can_be_null=False,
    )
    try:
        table = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=convert,
        )
    except pa.ArrowInvalid as error:
        raise DataError(
            f"Cannot parse CSV file {path}: {error}. The delimiter used was {delimiter!r}; "
            "check the quoting of that row, or give the delimiter with --delimiter "
            "(delimiter in Python) if it is wrong."
        ) from error
    check_unique_columns(table, path)
    return table, {"encoding": used_encoding, "delimiter": delimiter}


def check_unique_columns(table: pa.Table, path: Path) -> None:
    """Raise DataError when two columns of `table` share a name."""
    seen: set[str] = set()
    repeated = sorted({name for name in table.column_names if name in seen or seen.add(name)})
    if repeated:
        raise DataError(
            f"{path} has more than one column named {', '.join(map(repr, repeated))}; "
            "rename the columns so that each name is unique."
        )
