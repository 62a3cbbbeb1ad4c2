"""Exceptions that users can cause and fix themselves.

The command line prints these as one clear message, without a traceback. Anything else
that escapes is a bug.
"""


class LatentSpaceError(Exception):
    """Base class for errors caused by input, options or files, with the fix in the message."""


class InvalidParameterError(LatentSpaceError, ValueError):
    """A parameter is outside its allowed range or set."""


class DataError(LatentSpaceError, ValueError):
    """A data set is missing, unreadable or unusable as given."""


class TrainingError(LatentSpaceError, RuntimeError):
    """Training stopped, for example on a NaN or infinite loss."""


class RunDirectoryError(LatentSpaceError, OSError):
    """A run directory is missing, incomplete or does not match the request."""


class NoDecoderError(LatentSpaceError, TypeError):
    """A walk needs a decoder, but the space has none (for example, precomputed embeddings)."""
