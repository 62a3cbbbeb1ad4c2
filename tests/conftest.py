import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MNIST_DIR = REPO / "tests" / "data" / "mnist"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST test set copied into the repository (CC BY-SA 3.0)."""
    return MNIST_DIR


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The face and COIL-20 files, which may not be redistributed with the repository.

    Tests that need them skip when the folder is absent, except in CI, where they fail.
    """
    if not SHARED_DATA.is_dir():
        message = (f"shared data folder {SHARED_DATA} not found; it holds the Frey and "
                   "Olivetti faces and COIL-20, which cannot ship with the repository")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return SHARED_DATA
