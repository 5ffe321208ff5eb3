"""Run an ONNX export with onnxruntime (2 threads, CPU)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pocketvision.errors import ExportError
from pocketvision.runners.registry import Runner, register_runner

CONTRACT_KEY = "pocketvision.contract"


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
    metadata = session.get_modelmeta().custom_metadata_map
    if CONTRACT_KEY not in metadata:
        raise ExportError(f"{path}: no {CONTRACT_KEY} in its metadata; not a pocketvision export")
    input_name = session.get_inputs()[0].name

    def run(image: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: image.astype(np.float32)})[0][0]

    return Runner(contract=json.loads(metadata[CONTRACT_KEY]),
                  runtime=f"onnxruntime {onnxruntime.__version__}", run=run)
