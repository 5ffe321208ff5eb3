"""Run a ``.ptl`` export with PyTorch's lite interpreter (what PyTorch Mobile runs)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from pocketvision.errors import ExportError
from pocketvision.runners.registry import Runner, register_runner


@register_runner("ptl")
def load_ptl(path: Path) -> Runner:
    from torch.jit.mobile import _load_for_lite_interpreter

    from pocketvision.exporters.torchscript_format import inspect_ptl

    found = inspect_ptl(path)
    try:
        with warnings.catch_warnings():  # "Lite Interpreter is deprecated": we know
            warnings.simplefilter("ignore", FutureWarning)
            module = _load_for_lite_interpreter(str(path))
    except Exception as error:
        raise ExportError(f"{path}: the lite interpreter cannot load it ({str(error)[:160]})") from None
    found["labels"] = list(module.run_method("get_classes"))  # what an app would read

    def run(image: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(image)).numpy()[0]

    return Runner(contract=found, runtime=f"torch lite interpreter {torch.__version__}", run=run)
