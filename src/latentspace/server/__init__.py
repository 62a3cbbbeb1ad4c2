"""The interactive explorer: a FastAPI app over a latent space and the code that serves it.

Start it with ``latentspace serve RUN_DIR``, `serve(space)` from Python, or
`latentspace.notebook.show(space)` inside Jupyter.
"""

from latentspace.server.app import create_app
from latentspace.server.run import ExplorerServer, serve

__all__ = ["ExplorerServer", "create_app", "serve"]
