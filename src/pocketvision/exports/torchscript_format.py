"""TorchScript Lite (``.ptl``): what the original tutorial shipped to Android.

The export graph is traced, wrapped in a scripted module that adds
``get_classes()`` (the method PyTorch's Android demo app reads labels from), and
saved for the lite interpreter with the contract as an extra file
(``pocketvision.contract.json``). ``optimize_for_mobile`` runs where the PyTorch
build has XNNPACK; where it has not (the CUDA wheels), the file is saved without
that pass and the contract's ``notes`` say so in one sentence. PyTorch Mobile is
no longer maintained upstream; ExecuTorch (``.pte``) is the PyTorch route we
recommend. It runs in PyTorch's lite interpreter, what
PyTorch Mobile runs.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError, converter_errors
from pocketvision.exports.contract import checked_contract, contract, novelty_entry, read_bounded
from pocketvision.exports.formats import Format, Runner, register_format

CONTRACT_FILE = "pocketvision.contract.json"
MAX_CONTRACT_BYTES = 8 * 2**20  # a contract is a few KB; a zip member may claim gigabytes
NOVELTY_METHOD = "classify_with_novelty"  # -> (probabilities, novelty), one network run
NOT_OPTIMIZED = ("saved without optimize_for_mobile: this PyTorch build has no XNNPACK, which "
                 "that pass needs; the file runs, more slowly. PyTorch Mobile is no longer "
                 "maintained upstream: prefer the ExecuTorch file (.pte)")


def _xnnpack_built_in() -> bool:
    """optimize_for_mobile asserts (an internal error) on builds without XNNPACK,
    e.g. the CUDA wheels: ask the build instead of catching the assertion."""
    import torch

    probe = getattr(torch._C, "_is_xnnpack_enabled", None)
    return bool(probe and probe())


def export_ptl(bundle, path: Path, precision: str = "fp32", calibration=None) -> Path:
    """fp32 only: quantized mobile models belong to ExecuTorch (.pte) now."""
    import torch

    from pocketvision.exports.graph import ExportGraph, LabelledGraph, LabelledNoveltyGraph

    crop = bundle.preprocessing.crop
    novelty = bundle.novelty
    wrapper = LabelledGraph if novelty is None else LabelledNoveltyGraph
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(ExportGraph(bundle, novelty).eval(),
                                 torch.rand(1, 3, crop, crop), check_trace=False)
        scripted = torch.jit.script(wrapper(traced, list(bundle.labels)))
    found = contract(bundle, "ptl")
    found["notes"] = []
    if novelty is not None:
        found["novelty"] = novelty_entry(method=NOVELTY_METHOD, output=1)
    if _xnnpack_built_in():
        from torch.utils.mobile_optimizer import optimize_for_mobile

        scripted = optimize_for_mobile(scripted, preserved_methods=[
            "get_classes", *([NOVELTY_METHOD] if novelty is not None else [])])
    else:
        found["notes"].append(NOT_OPTIMIZED)
    with warnings.catch_warnings():  # "Lite Interpreter is deprecated": it is what .ptl is
        warnings.simplefilter("ignore", FutureWarning)
        data = scripted._save_to_buffer_for_lite_interpreter(
            _extra_files={CONTRACT_FILE: json.dumps(found)})
    write_atomically(path, data)
    return path


def inspect_ptl(path: Path) -> dict:
    """The contract from the file's extra files. A .ptl is a zip archive whose
    extra files lie under ``<archive>/extra/``: read it as one, without torch."""
    import zipfile

    with converter_errors(f"{path}: not a readable TorchScript file", 120), \
            zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(f"/extra/{CONTRACT_FILE}")]
        if not names:
            raise ExportError(f"{path}: no {CONTRACT_FILE} inside; not a pocketvision export")
        with archive.open(names[0]) as member:
            text = read_bounded(member, MAX_CONTRACT_BYTES, f"{path}: {CONTRACT_FILE}")
    return checked_contract(text, path)


def load_ptl(path: Path, threads: int | None = None) -> Runner:
    """PyTorch's lite interpreter; the labels as an app reads them (get_classes)."""
    import torch
    from torch.jit.mobile import _load_for_lite_interpreter

    if threads:
        torch.set_num_threads(threads)
    found = inspect_ptl(path)
    with converter_errors(f"{path}: the lite interpreter cannot load it", 160), \
            warnings.catch_warnings():  # "Lite Interpreter is deprecated": we know
        warnings.simplefilter("ignore", FutureWarning)
        module = _load_for_lite_interpreter(str(path))
    found["labels"] = list(module.run_method("get_classes"))

    def run(image: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return module(torch.from_numpy(image)).numpy()[0]

    def run_with_novelty(image: np.ndarray) -> tuple[np.ndarray, float]:
        with torch.no_grad():
            probabilities, novelty = module.run_method(NOVELTY_METHOD, torch.from_numpy(image))
        return probabilities.numpy()[0], float(novelty[0])

    return Runner(contract=found, runtime=f"torch lite interpreter {torch.__version__}", run=run,
                  run_with_novelty=run_with_novelty if "novelty" in found else None)


register_format(Format(
    name="ptl", suffix=".ptl",
    description="TorchScript Lite (PyTorch Mobile, Android)",
    modules=("torch",), extra="ptl", export=export_ptl, inspect=inspect_ptl, load=load_ptl,
))
