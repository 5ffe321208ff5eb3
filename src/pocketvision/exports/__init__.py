"""Exports to phone and browser runtimes: one module per format, one registry.

    formats.py       the Format registry (name -> export, inspect, load) and Runner
    contract.py      what every exported file promises (ExportGraph, the contract
                     JSON) and preparing a runtime's input from a contract
    <name>_format.py one per format: write it, read its contract back, run it
    pt2e.py          int8 through PyTorch 2 export quantization (ExecuTorch)
    verification.py  prove an export gives the bundle's answers in its runtime
    report.py        ExportEntry (one line of the report) and report.md
    job.py           ``pocketvision export``: formats x precisions -> report
    latency.py       ``pocketvision bench``: latency of every export vs eager
"""

from pocketvision.exports import coreml_format as _coreml  # noqa: F401  (registers)
from pocketvision.exports import executorch_format as _pte  # noqa: F401
from pocketvision.exports import onnx_format as _onnx  # noqa: F401
from pocketvision.exports import tflite_format as _tflite  # noqa: F401
from pocketvision.exports import torchscript_format as _ptl  # noqa: F401
from pocketvision.exports.formats import (
    Format,
    Runner,
    artifact_name,
    export_artifact,
    format_for_file,
    format_names,
    get_format,
    list_formats,
    load_runner,
    missing_modules,
    register_format,
)

__all__ = ["Format", "Runner", "artifact_name", "export_artifact", "format_for_file",
           "format_names", "get_format", "list_formats", "load_runner", "missing_modules", "register_format"]
