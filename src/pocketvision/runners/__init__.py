"""One runtime per export format: load(path) -> Runner."""

from pocketvision.runners import onnx_runner as _onnx  # noqa: F401  (registers)
from pocketvision.runners import torchscript_runner as _ptl  # noqa: F401
from pocketvision.runners.registry import Runner, load_runner, register_runner, runner_names

__all__ = ["Runner", "load_runner", "register_runner", "runner_names"]
