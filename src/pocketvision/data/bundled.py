"""The sample pictures shipped inside the package (for ``demo`` and for checking
an ImageNet export): 150 real Fashion-MNIST images, MIT licence (NOTICE beside them)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def sample_data_dir() -> Path:
    """The bundled Fashion-MNIST sample: ``<class>/`` folders of real images."""
    return Path(str(files("pocketvision") / "sample_data" / "fashion"))
