"""Run an ONNX export with onnxruntime (2 threads, CPU)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pocketvision.errors import ExportError
from pocketvision.exporters.contract import contract_from
from pocketvision.runners.registry import Runner, register_runner


@register_runner("onnx")
def load_onnx(path: Path) -> Runner:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(str(path), options,
                                               providers=["CPUExecutionProvider"])
    except Exception as error:
        raise ExportError(f"{path}: onnxruntime cannot load it ({str(error)[:160]})") from None
    found = contract_from(session.get_modelmeta().custom_metadata_map, path)
    input_name = session.get_inputs()[0].name

    def run(image: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: image.astype(np.float32)})[0][0]

    return Runner(contract=found,
                  runtime=f"onnxruntime {onnxruntime.__version__}", run=run)
