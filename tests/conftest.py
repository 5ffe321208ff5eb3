"""Shared fixtures: real images (Fashion-MNIST from Debian, scikit-image photos),
the real default backbone, an isolated feature cache, and no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Before anything imports pocketvision: never download, never touch the user's cache.
os.environ["POCKETVISION_OFFLINE"] = "1"
os.environ["POCKETVISION_NO_PROGRESS"] = "1"

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def run_cli(*args, cwd=None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``pocketvision ARGS`` in a fresh interpreter, as a user runs it (``env``: added
    to this process's environment)."""
    return subprocess.run([sys.executable, "-m", "pocketvision.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=600,
                          env=None if env is None else os.environ | env)


def user_error(*args, cwd=None) -> str:
    """Run a command that must fail as a user mistake: exit 2, one line, no traceback."""
    result = run_cli(*args, cwd=cwd)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("feature-cache")
    os.environ["POCKETVISION_CACHE_DIR"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave pictures for people to look at (kept after the run)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


SAMPLE_CLASSES = ["sneaker", "t-shirt", "trouser"]


def sample_dir() -> Path:
    """The 3 x 50 Fashion-MNIST images shipped inside the package."""
    from pocketvision.data.bundled import sample_data_dir

    return sample_data_dir()


def subset(out: Path, classes: list[str], count: int, start: int = 0) -> Path:
    """Copy images ``start .. start+count`` of each sample class to ``out/<class>/``."""
    for label in classes:
        (out / label).mkdir(parents=True, exist_ok=True)
        for source in sorted((sample_dir() / label).iterdir())[start : start + count]:
            (out / label / source.name).write_bytes(source.read_bytes())
    return out


@pytest.fixture(scope="session")
def fashion3(tmp_path_factory) -> Path:
    """3 classes x (35 train + 15 val) real Fashion-MNIST images, explicit split."""
    root = tmp_path_factory.mktemp("fashion3")
    subset(root / "train", SAMPLE_CLASSES, 35)
    subset(root / "val", SAMPLE_CLASSES, 15, start=35)
    return root


@pytest.fixture(scope="session")
def trained(fashion3, tmp_path_factory):
    """A bundle trained once on ``fashion3`` with the default backbone."""
    from pocketvision.training.job import train

    out = tmp_path_factory.mktemp("trained") / "model.pvb"
    return train(fashion3, out)


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    from skimage import data

    return {name: getattr(data, name)() for name in ("chelsea", "coffee", "astronaut", "rocket")}


def save(array: np.ndarray, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **options)
    return path
