"""Run a ``.tflite`` export with the LiteRT interpreter (2 threads, XNNPACK)."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np

from pocketvision.errors import ExportError
from pocketvision.runners.registry import Runner, register_runner


@register_runner("tflite")
def load_tflite(path: Path) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    from pocketvision.exporters.tflite_format import inspect_tflite
    from pocketvision.native_output import silenced

    found = inspect_tflite(path)
    try:
        with silenced():
            interpreter = Interpreter(model_path=str(path), num_threads=2)
            interpreter.allocate_tensors()
    except Exception as error:
        raise ExportError(f"{path}: LiteRT cannot load it ({str(error)[:160]})") from None
    image_input = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]["index"]

    def run(image: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(image_input, image.astype(np.float32))
        interpreter.invoke()
        return interpreter.get_tensor(output)[0].copy()

    return Runner(contract=found, runtime=f"ai-edge-litert {version('ai-edge-litert')}", run=run)
