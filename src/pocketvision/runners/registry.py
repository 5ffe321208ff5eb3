"""Runners: load an exported file with its format's real runtime and classify.

A runner reads the contract from the file itself (never from the bundle), so a
missing or wrong contract shows up as a failed verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pocketvision.errors import ExportError


@dataclass
class Runner:
    """A loaded artifact.

    Attributes:
        contract: the self-description read back from the file.
        runtime: "<package> <version>" of the runtime that executes it.
        run: image (1, 3, H, W) float32 RGB 0..1 -> probabilities (classes,).
    """

    contract: dict
    runtime: str
    run: Callable[[np.ndarray], np.ndarray]


class RuntimeUnavailable(ExportError):
    """The format's runtime does not exist on this platform (Core ML on Linux).

    Attributes:
        runtime: what would run it, e.g. "coremltools 9.0".
        contract: the self-description read back from the file all the same.
    """

    def __init__(self, reason: str, runtime: str, contract: dict):
        super().__init__(reason)
        self.runtime, self.contract = runtime, contract


_REGISTRY: dict[str, Callable[[Path], Runner]] = {}


def register_runner(name: str):
    def decorate(load: Callable[[Path], Runner]) -> Callable[[Path], Runner]:
        if name in _REGISTRY:
            raise ValueError(f"runner {name!r} is registered twice")
        _REGISTRY[name] = load
        return load

    return decorate


def load_runner(name: str, path: Path) -> Runner:
    if name not in _REGISTRY:
        raise ExportError(f"no runner for format {name!r}")
    return _REGISTRY[name](Path(path))


def runner_names() -> list[str]:
    return sorted(_REGISTRY)
