"""One runtime per export format: load(path) -> Runner."""

from pocketvision.runners import coreml_runner as _coreml  # noqa: F401  (registers)
from pocketvision.runners import executorch_runner as _pte  # noqa: F401
from pocketvision.runners import onnx_runner as _onnx  # noqa: F401
from pocketvision.runners import tflite_runner as _tflite  # noqa: F401
from pocketvision.runners import torchscript_runner as _ptl  # noqa: F401
from pocketvision.runners.registry import (
    Runner, RuntimeUnavailable, load_runner, register_runner, runner_names,
)

__all__ = ["Runner", "RuntimeUnavailable", "load_runner", "register_runner", "runner_names"]
