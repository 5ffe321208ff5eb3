"""Shared helpers for the benchmarks: few-shot Fashion-MNIST folders, timing."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

# the Fashion-MNIST reader lives with the tests, which use it too
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fashion_mnist import write_few_shot  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
FIRST_THREE = ["t-shirt", "trouser", "pullover"]


def few_shot(name: str, classes: list[str], train: int, val: int, train_offset: int = 0) -> Path:
    """DATA/train/<class>/ (``train`` per class) + DATA/val/<class>/ (``val`` per class).

    Validation images come from offset 1000 on, so they never overlap training ones.
    """
    root = OUT / "data" / f"{name}-{train_offset}"
    if not root.exists():
        write_few_shot(root / "train", classes, train, offset=train_offset)
        write_few_shot(root / "val", classes, val, offset=1000)
    return root


def timed_command(args: list[str], env: dict | None = None) -> float:
    """Wall time of a whole command (interpreter start included), in seconds."""
    started = time.perf_counter()
    subprocess.run(args, check=True, env=dict(os.environ, **(env or {})),
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def pocketvision_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pocketvision.cli", *args]


def median(values: list[float]) -> float:
    return statistics.median(values)
