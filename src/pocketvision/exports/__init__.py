"""Exports to phone and browser runtimes, one format per module."""

from pocketvision.exporters import coreml_format as _coreml  # noqa: F401  (registers)
from pocketvision.exporters import executorch_format as _pte  # noqa: F401
from pocketvision.exporters import onnx_format as _onnx  # noqa: F401
from pocketvision.exporters import tflite_format as _tflite  # noqa: F401
from pocketvision.exporters import torchscript_format as _ptl  # noqa: F401
from pocketvision.exporters.registry import (
    ExporterSpec, artifact_name, export_artifact, exporter_for_file, get_exporter,
    list_exporters, missing_modules, register_exporter,
)

__all__ = ["ExporterSpec", "artifact_name", "export_artifact", "exporter_for_file",
           "get_exporter", "list_exporters", "missing_modules", "register_exporter"]
