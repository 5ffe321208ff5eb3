"""TFLite / LiteRT (``.tflite``) for Android, converted by litert-torch.

litert-torch converts the ``torch.export`` graph straight to a TFLite flatbuffer
without TensorFlow. The input is made channels-last (1, crop, crop, 3), the layout
Android's camera and bitmap code produces. The contract JSON is stored as a named
entry in the model's ``metadata`` table (``pocketvision.contract``) and the
labels as ``labels.txt`` in a zip appended to the flatbuffer, the TFLite
convention for associated files (``unzip model.tflite labels.txt`` works).
int8 is post-training static quantization of the float flatbuffer with Google's
ai-edge-quantizer: convolutions and residual adds in int8 (per-channel weights,
asymmetric activations calibrated on the calibration images); normalization,
pooled features, the head and softmax stay float, so the input and output are the
same float32 tensors as in fp32. (litert-torch's own PT2E quantizer was tried
first: it does not fuse ReLU6 and quantizes the pooled features, and lost 9 points
of accuracy on EfficientNet-Lite0.) It runs in the LiteRT interpreter (2 threads,
XNNPACK).
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError, converter_errors
from pocketvision.exports.contract import (
    CONTRACT_KEY,
    INPUT_NAME,
    NOVELTY_OUTPUT,
    OUTPUT_NAME,
    checked_contract,
    contract,
    contract_text,
    novelty_entry,
    read_bounded,
)
from pocketvision.exports.formats import Format, Runner, register_format
from pocketvision.exports.graph_paths import feeding_only
from pocketvision.exports.tflite_metadata import METADATA_NAME, model_metadata
from pocketvision.native_output import quiet_import, silenced

LABELS_FILE = "labels.txt"
MAX_LABELS_BYTES = 8 * 2**20


def export_tflite(bundle, path: Path, precision: str = "fp32", calibration=None) -> Path:
    import torch

    from pocketvision.exports.graph import ExportGraph, NoveltyColumn

    litert_torch = quiet_import("litert_torch")
    crop = bundle.preprocessing.crop
    novelty = bundle.novelty
    # NHWC in, permuted to NCHW inside the graph
    graph = litert_torch.to_channel_last_io(NoveltyColumn(ExportGraph(bundle, novelty)).eval(),
                                            args=[0])
    example = torch.rand(1, crop, crop, 3)
    with converter_errors("TFLite export failed"), silenced():
        flatbuffer = bytes(litert_torch.convert(graph, (example,)).model_content())
        if precision == "int8":
            flatbuffer = _quantized(flatbuffer, [i.permute(0, 2, 3, 1) for i in calibration])
    written = contract(bundle, "tflite", precision)
    written["input"].update(layout="NHWC", shape=[1, crop, crop, 3])
    if novelty is not None:  # a second output tensor, (1, 1); the first stays the classes
        written["novelty"] = novelty_entry(output=NOVELTY_OUTPUT)
    entries = {CONTRACT_KEY: json.dumps(written).encode(),
               METADATA_NAME: model_metadata(bundle.labels, bundle.backbone_name, LABELS_FILE,
                                             with_novelty=novelty is not None)}
    data = _with_metadata(bytes(flatbuffer), entries) + _labels_zip(bundle.labels)
    write_atomically(path, data)
    return path


INT8_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD")


def _quantized(flatbuffer: bytes, calibration: list) -> bytes:
    import copy

    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    template = recipe.static_wi8_ai8()[0]
    chosen = [dict(copy.deepcopy(template), operation=op) for op in INT8_OPS]
    # the stem (the first convolution, reading the normalized image) stays float, as
    # in ExecuTorch; the later rule wins
    chosen.append({"regex": re.escape(_stem_scope(flatbuffer)), "operation": "CONV_2D",
                   "algorithm_key": "no_quantize"})
    # novelty computes in float: ranges calibrated on known images would clip unknown
    # ones. Its bank of training features (the FULLY_CONNECTED's weights, N x 1,280)
    # is stored in int8, one scale per feature vector, and dequantized when loaded:
    # no activation is clipped, and the file holds a quarter of the bank's bytes.
    bank = dict(recipe.weight_only_wi8_afp32()[0])
    for scope, op in _novelty_only_ops(flatbuffer):
        if op in INT8_OPS:
            chosen.append({"regex": re.escape(scope), "operation": op, "algorithm_key": "no_quantize"})
        elif op == "FULLY_CONNECTED":
            chosen.append(dict(copy.deepcopy(bank), regex=re.escape(scope), operation=op))
    tool = quantizer.Quantizer(flatbuffer, chosen)
    signatures = Interpreter(model_content=flatbuffer).get_signature_list()
    [(signature, names)] = signatures.items()
    samples = [{names["inputs"][0]: image.numpy()} for image in calibration]
    ranges = tool.calibrate({signature: samples}, num_threads=2)
    return bytes(tool.quantize(ranges, enable_progress_bar=False).quantized_model)


def _stem_scope(flatbuffer: bytes) -> str:
    """The quantizer's scope name (output tensor names) of the first CONV_2D."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_quantizer.utils.tfl_flatbuffer_utils import get_op_scope

    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    graph = model.subgraphs[0]
    for op in graph.operators:
        if model.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.CONV_2D:
            return get_op_scope(op, graph.tensors)
    raise ExportError("the TFLite graph has no convolution: not a pocketvision classifier")


def _is_novelty(tensor) -> bool:
    """The novelty output is (1, 1); the probabilities are (1, classes >= 2)."""
    return list(tensor.shape) == [1, 1]


def _novelty_only_ops(flatbuffer: bytes) -> list[tuple[str, str]]:
    """(scope, operation name) of every op that feeds the novelty output and not the
    probabilities."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_quantizer.utils.tfl_flatbuffer_utils import get_op_scope

    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    graph = model.subgraphs[0]
    novelty = [k for k in graph.outputs if _is_novelty(graph.tensors[k])]
    if not novelty:
        return []
    operators = graph.operators
    producer = {int(tensor): k for k, op in enumerate(operators) for tensor in op.outputs}
    only = feeding_only(producer, lambda k: [int(t) for t in operators[k].inputs if t >= 0],
                        novelty[0], [k for k in graph.outputs if k != novelty[0]])
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return [(get_op_scope(operators[k], graph.tensors),
             names[model.operatorCodes[operators[k].opcodeIndex].builtinCode]) for k in sorted(only)]


def _with_metadata(flatbuffer: bytes, entries: dict[str, bytes]) -> bytes:
    """Add (name -> buffer) metadata entries to the model, and name its input and
    output tensors as the contract does (the converter calls them
    ``serving_default_args_0`` and ``..._output_0``, ``_1``); inner tensors get short
    names."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(flatbuffer, 0)
    for stored in model.buffers:  # data kept after the flatbuffer: bring it inside
        if stored.offset > 1:
            stored.data = flatbuffer[stored.offset:stored.offset + stored.size]
            stored.offset = stored.size = 0
    graph = model.subgraphs[0]
    for index, tensor in enumerate(graph.tensors):  # converter names are long Python
        tensor.name = f"t{index}".encode()           # paths: 180 KB a file, read by nothing
    graph.tensors[graph.inputs[0]].name = INPUT_NAME.encode()
    # the classes first (clients take output 0 as the classifier), then novelty (1, 1)
    graph.outputs = sorted(graph.outputs, key=lambda k: _is_novelty(graph.tensors[k]))
    for index, name in zip(graph.outputs, (OUTPUT_NAME, NOVELTY_OUTPUT)):
        graph.tensors[index].name = name.encode()
    kept = [m for m in (model.metadata or []) if m.name.decode() not in entries]
    for name, content in entries.items():
        buffer = schema.BufferT()
        buffer.data = list(content)
        model.buffers.append(buffer)
        entry = schema.MetadataT()
        entry.name, entry.buffer = name, len(model.buffers) - 1
        kept.append(entry)
    model.metadata = kept
    builder = flatbuffers.Builder(len(flatbuffer) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _labels_zip(labels: list[str]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr(LABELS_FILE, "\n".join(labels) + "\n")
    return archive.getvalue()


def inspect_tflite(path: Path) -> dict:
    """The contract from the metadata table, the labels from the packed labels.txt."""
    from ai_edge_litert import schema_py_generated as schema

    data = Path(path).read_bytes()
    with converter_errors(f"{path}: not a readable TFLite file", 120):
        model = schema.Model.GetRootAs(data, 0)
        entries = [model.Metadata(k) for k in range(model.MetadataLength())]
        metadata = {entry.Name().decode(): model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
                    for entry in entries}
    text = contract_text(metadata, path)  # a file that is not ours is said so first
    with converter_errors(f"{path}: its packed {LABELS_FILE} cannot be read", 120), \
            zipfile.ZipFile(io.BytesIO(data)) as packed, packed.open(LABELS_FILE) as member:
        labels = read_bounded(member, MAX_LABELS_BYTES, f"{path}: {LABELS_FILE}").decode()
    return checked_contract(text, path, labels.splitlines())  # the labels a runtime reads


def load_tflite(path: Path, threads: int | None = None) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    found = inspect_tflite(path)
    with converter_errors(f"{path}: LiteRT cannot load it", 160), silenced():
        interpreter = Interpreter(model_path=str(path), num_threads=threads or os.cpu_count() or 1)
        interpreter.allocate_tensors()
    image_input = interpreter.get_input_details()[0]["index"]
    outputs = {detail["name"]: detail["index"] for detail in interpreter.get_output_details()}

    def run(image: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(image_input, image.astype(np.float32))
        interpreter.invoke()
        return interpreter.get_tensor(outputs[OUTPUT_NAME])[0].copy()

    def run_with_novelty(image: np.ndarray) -> tuple[np.ndarray, float]:
        probabilities = run(image)
        return probabilities, float(interpreter.get_tensor(outputs[NOVELTY_OUTPUT])[0, 0])

    return Runner(contract=found, runtime=f"ai-edge-litert {version('ai-edge-litert')}", run=run,
                  run_with_novelty=run_with_novelty if "novelty" in found else None)


register_format(Format(
    name="tflite", suffix=".tflite",
    description="TFLite / LiteRT (Android)",
    modules=("torch", "litert_torch", "ai_edge_litert", "ai_edge_quantizer", "mediapipe"), extra="tflite",
    export=export_tflite, inspect=inspect_tflite, load=load_tflite, precisions=("fp32", "int8"),
))
