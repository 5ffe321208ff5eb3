"""ExecuTorch (``.pte``) with the XNNPACK delegate: PyTorch's successor to ``.ptl``.

The export graph goes through ``torch.export``, is lowered with XNNPACK taking
every op it supports, and is serialized with two constant methods beside
``forward``: ``get_classes`` (the labels) and ``pocketvision_contract`` (the
contract JSON), which an app reads with ``Module.execute("get_classes")``.
int8 uses ExecuTorch's XNNPACK quantizer (per-channel weights, static
activations) on the calibration images. It runs in ExecuTorch's own Python
runtime (XNNPACK on the CPU).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np

from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError, converter_errors
from pocketvision.exports.contract import checked_contract, contract, novelty_entry
from pocketvision.exports.formats import Format, Runner, register_format
from pocketvision.native_output import quiet_import, silenced

LABELS_METHOD = "get_classes"
CONTRACT_METHOD = "pocketvision_contract"


def export_pte(bundle, path: Path, precision: str = "fp32", calibration=None) -> Path:
    import torch

    from pocketvision.exports.graph import ExportGraph

    quiet_import("executorch.exir")
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    crop = bundle.preprocessing.crop
    novelty = bundle.novelty
    graph, example = ExportGraph(bundle, novelty).eval(), torch.rand(1, 3, crop, crop)
    written = contract(bundle, "pte", precision)
    if novelty is not None:  # forward's second output; apps reading [0] are unaffected
        written["novelty"] = novelty_entry(output=1)
    with converter_errors("ExecuTorch export failed"), silenced():
        if precision == "int8":
            graph = _quantized(graph, example, calibration)
        program = torch.export.export(graph, (example,))
        edge = to_edge_transform_and_lower(
            program, partitioner=[XnnpackPartitioner()],
            constant_methods={LABELS_METHOD: list(bundle.labels),
                              CONTRACT_METHOD: json.dumps(written, sort_keys=True)})
        data = edge.to_executorch().buffer
    write_atomically(path, data)
    return path


def _quantized(graph, example, calibration):
    """XNNPACK's per-channel int8, with the trained head and the stem (the first
    convolution, reading the normalized image) left in float. The stem is 864
    weights; quantizing its input cost 1.3-2.0 points of accuracy on held-out
    images, keeping it float cost nothing (benchmarks/RESULTS.md section 5)."""
    import copy

    import torch
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )

    from pocketvision.exports.graph import NoveltyScore
    from pocketvision.exports.pt2e import quantize_int8

    graph = copy.deepcopy(graph)  # the stem is re-typed below, not the caller's model
    if graph.novelty is not None:
        graph.novelty.store_bank_in_int8()
    stem = next(m for m in graph.modules() if isinstance(m, torch.nn.Conv2d))
    float_conv = type("FloatConv2d", (torch.nn.Conv2d,), {})  # a type the quantizer skips
    stem.__class__ = float_conv  # this quantizer skips by module type, not by name
    quantizer = (XNNPACKQuantizer()
                 .set_global(get_symmetric_quantization_config(is_per_channel=True))
                 .set_module_type(torch.nn.Linear, None)  # the head (see pt2e.py)
                 # novelty: ranges calibrated on known images would clip unknown ones
                 .set_module_type(NoveltyScore, None)
                 .set_module_type(float_conv, None))
    return quantize_int8(graph, example, quantizer, calibration)


def load_program(path: Path):
    """The program, loaded by ExecuTorch's own runtime."""
    runtime = quiet_import("executorch.runtime")
    with converter_errors(f"{path}: ExecuTorch cannot load it", 120), silenced():
        return runtime.Runtime.get().load_program(str(path))  # silenced: XNNPACK's CPU probe


def inspect_pte(path: Path) -> dict:
    """The contract and labels from the program's constant methods, read from the
    flatbuffer itself (ExecuTorch's Python runtime would import torch: 5 s)."""
    with converter_errors(f"{path}: not a readable ExecuTorch program", 120):
        methods = _constant_methods(Path(path).read_bytes())
    if not methods.get(CONTRACT_METHOD):
        raise ExportError(f"{path}: no {CONTRACT_METHOD} method; not a pocketvision export")
    return checked_contract(methods[CONTRACT_METHOD][0], path, methods.get(LABELS_METHOD, []))


# program.fbs field slots (4 + 2 x the field's index) of what _constant_methods reads
_PROGRAM_PLANS, _PLAN_NAME, _PLAN_VALUES, _PLAN_OUTPUTS = 6, 4, 8, 12
_VALUE_TYPE, _VALUE, _STRING_TEXT = 4, 6, 4
_STRING_TYPE = 6  # KernelTypes: NONE, Null, Int, Bool, Double, Tensor, String, ...


def _constant_methods(data: bytes) -> dict[str, list[str]]:
    """{method name: the strings it returns} for every execution plan whose outputs
    are all strings (the constant methods), walking the program's flatbuffer."""
    from flatbuffers import encode, number_types, packer
    from flatbuffers.table import Table

    if data[4:6] != b"ET":
        raise ValueError("no ExecuTorch file identifier")

    def tables(table: Table, slot: int) -> list[Table]:
        offset = table.Offset(slot)
        if not offset:
            return []
        start = table.Vector(offset)
        return [Table(data, table.Indirect(start + 4 * k)) for k in range(table.VectorLen(offset))]

    def ints(table: Table, slot: int) -> list[int]:
        offset = table.Offset(slot)
        start = table.Vector(offset) if offset else 0
        return [table.Get(number_types.Int32Flags, start + 4 * k)
                for k in range(table.VectorLen(offset) if offset else 0)]

    def text(table: Table, slot: int) -> str | None:
        offset = table.Offset(slot)
        return table.String(table.Pos + offset).decode() if offset else None

    root = Table(data, encode.Get(packer.uoffset, data, 0))
    methods = {}
    for plan in tables(root, _PROGRAM_PLANS):
        values = tables(plan, _PLAN_VALUES)
        returned = [values[k] for k in ints(plan, _PLAN_OUTPUTS)]
        if returned and all(v.Get(number_types.Uint8Flags, v.Pos + v.Offset(_VALUE_TYPE))
                            == _STRING_TYPE for v in returned if v.Offset(_VALUE_TYPE)):
            strings = [text(_union(v), _STRING_TEXT) for v in returned]
            if all(s is not None for s in strings):
                methods[text(plan, _PLAN_NAME)] = strings
    return methods


def _union(value):
    from flatbuffers.table import Table

    union = Table(bytearray(), 0)
    value.Union(union, value.Offset(_VALUE))
    return union


def program_contract(program, path: Path) -> dict:
    """The contract and labels of a loaded program (the runner loads it only once)."""
    if CONTRACT_METHOD not in program.method_names:
        raise ExportError(f"{path}: no {CONTRACT_METHOD} method; not a pocketvision export")
    with converter_errors(f"{path}: its contract methods cannot run", 120):
        text = program.load_method(CONTRACT_METHOD).execute([])[0]
        labels = list(program.load_method(LABELS_METHOD).execute([]))
    return checked_contract(text, path, labels)


def load_pte(path: Path, threads: int | None = None) -> Runner:
    if threads:  # XNNPACK's thread pool is per process
        from executorch.extension.pybindings import portable_lib

        portable_lib._unsafe_reset_threadpool(threads)
    program = load_program(path)
    found = program_contract(program, path)
    with converter_errors(f"{path}: ExecuTorch cannot load its forward method", 120), silenced():
        forward = program.load_method("forward")  # silenced: XNNPACK's CPU probe

    import torch

    def run(image: np.ndarray) -> np.ndarray:
        return forward.execute([torch.from_numpy(image)])[0].numpy()[0]

    def run_with_novelty(image: np.ndarray) -> tuple[np.ndarray, float]:
        outputs = forward.execute([torch.from_numpy(image)])
        return outputs[0].numpy()[0], float(outputs[found["novelty"]["output"]][0])

    return Runner(contract=found, runtime=f"executorch {version('executorch')}", run=run,
                  run_with_novelty=run_with_novelty if "novelty" in found else None)


register_format(Format(
    name="pte", suffix=".pte",
    description="ExecuTorch with XNNPACK (Android, iOS)",
    modules=("torch", "executorch",), extra="executorch", export=export_pte, inspect=inspect_pte,
    load=load_pte, precisions=("fp32", "int8"),
))
