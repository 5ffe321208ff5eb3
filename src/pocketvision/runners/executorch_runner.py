"""Run a ``.pte`` export with ExecuTorch's Python runtime (XNNPACK on the CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from pocketvision.runners.registry import Runner, register_runner


@register_runner("pte")
def load_pte(path: Path) -> Runner:
    from importlib.metadata import version

    from pocketvision.exporters.executorch_format import load_program, program_contract
    from pocketvision.native_output import silenced

    program = load_program(path)
    found = program_contract(program, path)
    with silenced():  # XNNPACK's CPU probe logs to stderr when the method loads
        forward = program.load_method("forward")

    def run(image: np.ndarray) -> np.ndarray:
        return forward.execute([torch.from_numpy(image)])[0].numpy()[0]

    return Runner(contract=found, runtime=f"executorch {version('executorch')}", run=run)
