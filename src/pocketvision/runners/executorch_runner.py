"""Run a ``.pte`` export with ExecuTorch's Python runtime (XNNPACK on the CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pocketvision.runners.registry import Runner, register_runner


@register_runner("pte")
def load_pte(path: Path) -> Runner:
    from importlib.metadata import version

    from pocketvision.exporters.executorch_format import inspect_pte, load_program

    found = inspect_pte(path)
    from pocketvision.native_output import silenced

    with silenced():  # XNNPACK's CPU probe logs to stderr when the method loads
        forward = load_program(path).load_method("forward")

    def run(image: np.ndarray) -> np.ndarray:
        return forward.execute([torch.from_numpy(image)])[0].numpy()[0]

    return Runner(contract=found, runtime=f"executorch {version('executorch')}", run=run)
