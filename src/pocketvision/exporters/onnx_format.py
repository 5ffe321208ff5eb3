"""ONNX: one self-contained file, contract in ``metadata_props``.

Exported with the torch.export-based (dynamo) exporter at opset 20 and no external
data file, so onnxruntime-web can load it in a browser; checked with
``onnx.checker`` before it is written under its final name.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError
from pocketvision.exporters.contract import INPUT_NAME, OUTPUT_NAME, ExportGraph, contract_json
from pocketvision.exporters.registry import ExporterSpec, register_exporter

OPSET = 20
CONTRACT_KEY = "pocketvision.contract"


def export_onnx(bundle, path: Path) -> Path:
    import onnx

    graph = ExportGraph(bundle).eval()
    example = torch.rand(1, 3, bundle.preprocessing.crop, bundle.preprocessing.crop)
    try:
        program = torch.onnx.export(graph, (example,), dynamo=True, opset_version=OPSET,
                                    input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                    external_data=False, verbose=False)
    except Exception as error:
        raise ExportError(f"ONNX export failed: {type(error).__name__}: {str(error)[:200]}") from None
    model = program.model_proto
    entry = model.metadata_props.add()
    entry.key, entry.value = CONTRACT_KEY, contract_json(bundle, "onnx")
    labels = model.metadata_props.add()
    labels.key, labels.value = "labels", ",".join(bundle.labels)
    onnx.checker.check_model(model)
    buffer = io.BytesIO()
    onnx.save_model(model, buffer)
    write_atomically(path, buffer.getvalue())
    return path


def inspect_onnx(path: Path) -> dict:
    """The contract from ``metadata_props``, with the input shape taken from the graph."""
    import json

    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as error:
        raise ExportError(f"{path}: not a readable ONNX file ({str(error)[:120]})") from None
    metadata = {entry.key: entry.value for entry in model.metadata_props}
    if CONTRACT_KEY not in metadata:
        raise ExportError(f"{path}: no {CONTRACT_KEY} metadata; not a pocketvision export")
    found = json.loads(metadata[CONTRACT_KEY])
    graph_input = model.graph.input[0]
    found["input"]["name"] = graph_input.name
    found["input"]["shape"] = [d.dim_value or d.dim_param for d in
                               graph_input.type.tensor_type.shape.dim]
    return found


register_exporter(ExporterSpec(
    name="onnx", suffix=".onnx",
    description="ONNX (onnxruntime, onnxruntime-web in the browser)",
    modules=("onnx", "onnxscript", "onnxruntime"), extra="onnx", export=export_onnx,
    inspect=inspect_onnx,
))
