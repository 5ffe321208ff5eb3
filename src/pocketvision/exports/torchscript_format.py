"""TorchScript Lite (``.ptl``): what the original tutorial shipped to Android.

The export graph is traced, wrapped in a scripted module that adds
``get_classes()`` (the method PyTorch's Android demo app reads labels from), and
saved for the lite interpreter with the contract as an extra file
(``pocketvision.contract.json``). ``optimize_for_mobile`` is tried first; on
wheels built without XNNPACK it fails, and the file is saved without that pass,
which the contract's ``notes`` say.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import List

import torch

from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError
from pocketvision.exporters.contract import ExportGraph, contract
from pocketvision.exporters.registry import ExporterSpec, register_exporter

CONTRACT_FILE = "pocketvision.contract.json"


class LabelledGraph(torch.nn.Module):
    """The traced export graph plus ``get_classes()``."""

    def __init__(self, graph: torch.nn.Module, labels: List[str]):
        super().__init__()
        self.graph = graph
        self.labels = labels

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.graph(image)

    @torch.jit.export
    def get_classes(self) -> List[str]:
        return self.labels


def export_ptl(bundle, path: Path, precision: str = "fp32", calibration=None) -> Path:
    """fp32 only: quantized mobile models belong to ExecuTorch (.pte) now."""
    crop = bundle.preprocessing.crop
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(ExportGraph(bundle).eval(), torch.rand(1, 3, crop, crop),
                                 check_trace=False)
        scripted = torch.jit.script(LabelledGraph(traced, list(bundle.labels)))
    found = contract(bundle, "ptl")
    found["notes"] = []
    try:
        from torch.utils.mobile_optimizer import optimize_for_mobile

        scripted = optimize_for_mobile(scripted, preserved_methods=["get_classes"])
    except Exception as error:  # e.g. "XNNPACK is not enabled" on these wheels
        found["notes"].append(f"saved without optimize_for_mobile ({str(error).splitlines()[0][:120]})")
    with warnings.catch_warnings():  # "Lite Interpreter is deprecated": it is what .ptl is
        warnings.simplefilter("ignore", FutureWarning)
        data = scripted._save_to_buffer_for_lite_interpreter(
            _extra_files={CONTRACT_FILE: json.dumps(found)})
    write_atomically(path, data)
    return path


def inspect_ptl(path: Path) -> dict:
    """The contract from the file's extra files, read with torch.jit."""
    extra = {CONTRACT_FILE: ""}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except Exception as error:
        raise ExportError(f"{path}: not a readable TorchScript file ({str(error)[:120]})") from None
    if not extra[CONTRACT_FILE]:
        raise ExportError(f"{path}: no {CONTRACT_FILE} inside; not a pocketvision export")
    return json.loads(extra[CONTRACT_FILE])


register_exporter(ExporterSpec(
    name="ptl", suffix=".ptl",
    description="TorchScript Lite (PyTorch Mobile, Android)",
    modules=("torch",), extra="ptl", export=export_ptl, inspect=inspect_ptl,
))
