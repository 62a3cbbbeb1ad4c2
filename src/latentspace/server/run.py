"""Running the explorer with uvicorn, in the foreground or in a background thread."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
import webbrowser
from typing import Any

import uvicorn

from latentspace.errors import InvalidParameterError
from latentspace.server.app import create_app

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class ExplorerServer:
    """An explorer app bound to a socket, with its address and a way to stop it.

    The socket is bound when the object is created, so `port` is known (and reserved)
    before the server starts, also when port 0 asked for a free one.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "info", access_log: bool = True) -> None:
        self.socket = bind_socket(host, port)
        self.host = host
        self.port = int(self.socket.getsockname()[1])
        # log_config=None leaves the logging setup of the CLI or the notebook untouched.
        config = uvicorn.Config(app, log_level=log_level, access_log=access_log,
                                lifespan="off", log_config=None)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Address of the explorer, like ``http://127.0.0.1:8000/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def is_running(self) -> bool:
        """True while the server accepts requests."""
        return self._server.started and not self._server.should_exit

    def run(self) -> None:
        """Serve until `stop` is called or the process gets Ctrl-C, then return."""
        logger.info("Explorer running at %s (press Ctrl-C to stop)", self.url)
        try:
            self._server.run(sockets=[self.socket])
        except KeyboardInterrupt:
            # uvicorn shuts down on Ctrl-C, then raises it again; stopping is the intent.
            pass
        finally:
            self.socket.close()
            logger.info("Explorer at %s stopped", self.url)

    def start(self) -> ExplorerServer:
        """Serve from a daemon thread and return once the server accepts requests."""
        self._thread = threading.Thread(target=self.run, name=f"explorer-{self.port}",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The explorer at {self.url} did not start; see the log.")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Ask the server to finish open requests and exit, and wait for its thread."""
        self._server.should_exit = True
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(STOP_TIMEOUT_S)
            if self._thread.is_alive():
                logger.warning("Explorer at %s did not stop within %.0f s", self.url,
                               STOP_TIMEOUT_S)

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<ExplorerServer {state} at {self.url}>"


def serve(space: Any, host: str = "127.0.0.1", port: int = 0, open_browser: bool = False, *,
          block: bool = True, log_level: str = "info", access_log: bool = True
          ) -> ExplorerServer:
    """Serve the interactive explorer for a latent space.

    Parameters
    ----------
    space : LatentSpace
        The space to explore.
    host : str
        Address to bind. The default, 127.0.0.1, is reachable from this machine only;
        any other address lets other machines read the data and run the model.
    port : int
        Port to listen on; 0 picks a free one, shown in the log and in the result's `url`.
    open_browser : bool
        Open the explorer in the default web browser once it listens.
    block : bool
        Serve in this thread until Ctrl-C (the command line's way) when True; otherwise
        serve from a background thread and return at once.
    log_level : str
        Level of uvicorn's own log messages.
    access_log : bool
        Log every request through uvicorn's access logger.

    Returns
    -------
    ExplorerServer
        The server, with its `url` and a `stop` method; when `block` is True it has
        already stopped.
    """
    show_server_log()
    if not space.projections:
        space.ensure_map()
    app = create_app(space)
    server = ExplorerServer(app, host, port, log_level=log_level, access_log=access_log)
    warn_if_exposed(server.socket)
    if open_browser:
        # The socket already listens, so the browser's request waits for the server.
        webbrowser.open(server.url)
    if block:
        server.run()
        return server
    return server.start()


def show_server_log() -> None:
    """Print the server's log to stderr when nothing else handles it.

    The command line configures logging itself; a script or notebook that did not would
    otherwise never see the address or the rejected requests.
    """
    server_logger = logging.getLogger("latentspace.server")
    if server_logger.hasHandlers():
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    server_logger.addHandler(handler)
    if server_logger.level == logging.NOTSET:
        server_logger.setLevel(logging.INFO)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen on `host`:`port`; raise InvalidParameterError naming the fix if taken."""
    if not 0 <= port <= 65535:
        raise InvalidParameterError(
            f"port must be from 0 to 65535 (0 picks a free one), got {port}."
        )
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise InvalidParameterError(
            f"host {host!r} is not a known address ({error}); use 127.0.0.1 for this machine."
        ) from error
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as error:
        sock.close()
        raise InvalidParameterError(
            f"Cannot listen on {host}:{port} ({error.strerror or error}); pick another port, "
            "or port 0 for a free one."
        ) from error
    return sock


def warn_if_exposed(sock: socket.socket) -> None:
    """Log a warning when the socket accepts connections from other machines."""
    address = sock.getsockname()[0]
    if not ipaddress.ip_address(address.split("%")[0]).is_loopback:
        logger.warning(
            "The explorer listens on %s, so other machines that can reach this one can read "
            "the data set and run the model. Use host 127.0.0.1 unless you mean to share it.",
            address,
        )
