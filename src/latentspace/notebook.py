"""The explorer inside a Jupyter notebook, in an IFrame served from a background thread."""

from __future__ import annotations

import logging
from typing import Any

from latentspace.errors import InvalidParameterError

logger = logging.getLogger(__name__)

MIN_HEIGHT = 200
MAX_HEIGHT = 4000

# One running explorer per space, so that showing a space again reuses its server.
# A server holds a reference to its space, so the id stays unique while the entry lives.
_servers: dict[int, Any] = {}


def show(space: Any, height: int = 640, width: str = "100%", port: int = 0) -> None:
    """Display the interactive explorer of `space` in the current notebook cell.

    The first call starts a server for the space on 127.0.0.1 in a background thread;
    later calls for the same space reuse it. `stop` shuts it down.

    NOTE: the IFrame loads from 127.0.0.1, so the browser must run on the same machine
    as the kernel. For a remote kernel, forward the port or use jupyter-server-proxy.

    Parameters
    ----------
    space : LatentSpace
        The space to explore.
    height : int
        Height of the explorer in pixels, from 200 to 4000.
    width : str
        CSS width of the explorer, for example ``"100%"`` or ``"900px"``.
    port : int
        Port of a newly started server; 0 picks a free one.

    Examples
    --------
    >>> space = ls.LatentSpace.fit(ls.load_dataset("digits"), model="pca")  # doctest: +SKIP
    >>> ls.notebook.show(space, height=700)  # doctest: +SKIP
    """
    if isinstance(height, bool) or not isinstance(height, int) or not (
            MIN_HEIGHT <= height <= MAX_HEIGHT):
        raise InvalidParameterError(
            f"height must be a whole number of pixels from {MIN_HEIGHT} to {MAX_HEIGHT}, "
            f"got {height!r}."
        )
    try:
        from IPython.display import IFrame, display
    except ImportError as error:
        raise ModuleNotFoundError(
            "latentspace.notebook.show needs IPython, which Jupyter installs; run "
            "`pip install ipython`, or start the explorer with `latentspace serve RUN_DIR`."
        ) from error

    server = _servers.get(id(space))
    if server is None or not server.is_running:
        from latentspace.server.run import serve

        server = serve(space, host="127.0.0.1", port=port, block=False, log_level="warning",
                       access_log=False)
        _servers[id(space)] = server
    display(IFrame(server.url, width=width, height=height))


def stop(space: Any | None = None) -> None:
    """Stop the explorer started by `show` for `space`, or every one when `space` is None."""
    keys = list(_servers) if space is None else [id(space)]
    for key in keys:
        server = _servers.pop(key, None)
        if server is not None:
            server.stop()
