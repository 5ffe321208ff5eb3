"""ONNX: one self-contained file, contract in ``metadata_props``; run by onnxruntime.

Exported with the torch.export-based (dynamo) exporter at opset 20 and no external
data file, so onnxruntime-web can load it in a browser; checked with
``onnx.checker`` before it is written under its final name.

int8 is onnxruntime's static QDQ quantization (per-channel int8 weights, uint8
activations calibrated on the calibration images), head left in float. There is no fp16 export:
onnxruntime's CPU and WebAssembly backends run few fp16 kernels, so it would be
smaller but slower where this file runs.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError, converter_errors
from pocketvision.exports.contract import (
    CONTRACT_KEY,
    INPUT_NAME,
    NOVELTY_OUTPUT,
    OUTPUT_NAME,
    contract,
    contract_from,
    novelty_entry,
)
from pocketvision.exports.formats import Format, Runner, register_format
from pocketvision.exports.graph_paths import feeding_only
from pocketvision.exports.protobuf import fields, message, string_map
from pocketvision.features.graph import runtime_session
from pocketvision.model.novelty import NEIGHBOURS

OPSET = 20
LABEL_OUTPUT = "label"
# The pooled features and the trained head stay float in int8 exports: the head's
# weights carry the folded feature standardization, whose per-feature scales span
# orders of magnitude that one int8 scale per class cannot hold (agreement fell
# to 64 % with it quantized). It is a few KB; the backbone is where the size is.
# The stem (the first convolution, reading the normalized image) stays float too,
# as in every int8 export: 2 KB, and up to 2 points of accuracy on held-out images.
HEAD_OPS = ("GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Gemm", "MatMul", "Softmax")


def export_onnx(bundle, path: Path, precision: str = "fp32", calibration=None) -> Path:
    """Outputs: ``probabilities``, ``label`` and, when the bundle has unknown
    detection, ``novelty`` (computed from the backbone's features in the graph)."""
    import onnx

    novelty = bundle.novelty
    model = _float_model(bundle, novelty)
    if precision == "int8":
        model = _quantize_int8(model, calibration)
    _add_label_output(model, bundle.labels)
    written = contract(bundle, "onnx", precision)
    if novelty is not None:
        written["novelty"] = novelty_entry(output=NOVELTY_OUTPUT)
    _write_metadata(model, written, bundle.labels)
    onnx.checker.check_model(model)
    buffer = io.BytesIO()
    onnx.save_model(model, buffer)
    write_atomically(path, buffer.getvalue())
    return path


def _write_metadata(model, written: dict, labels: list[str]) -> None:
    """The contract and the labels, as ``metadata_props`` (all of them)."""
    del model.metadata_props[:]
    for key, value in ((CONTRACT_KEY, json.dumps(written, sort_keys=True)),
                       ("labels", json.dumps(list(labels), ensure_ascii=False))):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value



def _add_label_output(model, labels: list[str]) -> None:
    """A second output, ``label`` (string, (1,)): the name of the most probable
    class, so a stock client (onnxruntime-web exposes no model metadata) needs no
    label list of its own."""
    from onnx import TensorProto, helper

    graph = model.graph
    names = helper.make_tensor("class_names", TensorProto.STRING, [len(labels)],
                               [label.encode() for label in labels])
    graph.initializer.append(names)
    graph.node.extend([
        helper.make_node("ArgMax", [OUTPUT_NAME], ["best_class"], axis=1, keepdims=0),
        helper.make_node("Gather", ["class_names", "best_class"], [LABEL_OUTPUT], axis=0),
    ])
    # second, after the probabilities, in every ONNX file pocketvision writes
    outputs = list(graph.output)
    outputs.insert(1, helper.make_tensor_value_info(LABEL_OUTPUT, TensorProto.STRING, [1]))
    del graph.output[:]
    graph.output.extend(outputs)


def _float_model(bundle, novelty=None):
    import torch

    from pocketvision.exports.graph import ExportGraph

    graph = ExportGraph(bundle, novelty).eval()
    example = torch.rand(1, 3, bundle.preprocessing.crop, bundle.preprocessing.crop)
    outputs = [OUTPUT_NAME] if novelty is None else [OUTPUT_NAME, NOVELTY_OUTPUT]
    with converter_errors("ONNX export failed"):
        program = torch.onnx.export(graph, (example,), dynamo=True, opset_version=OPSET,
                                    input_names=[INPUT_NAME], output_names=outputs,
                                    external_data=False, verbose=False)
    return program.model_proto


def _quantize_int8(model, calibration: list):
    """Static QDQ quantization; the calibration images set the activation ranges."""
    import tempfile

    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class Images(CalibrationDataReader):
        def __init__(self):
            self.remaining = iter(calibration)

        def get_next(self):
            image = next(self.remaining, None)
            return None if image is None else {INPUT_NAME: image.numpy()}

    with tempfile.TemporaryDirectory(prefix="pocketvision-onnx-") as folder:
        float_path, prepared, quantized = (Path(folder) / n for n in ("f.onnx", "p.onnx", "q.onnx"))
        onnx.save_model(model, float_path)
        quant_pre_process(str(float_path), str(prepared), skip_symbolic_shape=True)
        nodes = onnx.load(str(prepared)).graph.node
        head = [node.name for node in nodes if node.op_type in HEAD_OPS]
        stem = next(node.name for node in nodes if node.op_type == "Conv")  # reads the image
        # novelty stays float: its activation ranges, calibrated on known images
        # only, would clip exactly the values that mark an unknown one
        novelty = _feeding_only(nodes, NOVELTY_OUTPUT, OUTPUT_NAME)
        quantize_static(str(prepared), str(quantized), Images(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, nodes_to_exclude=[*head, stem, *novelty],
                        # 7-bit weights: x86 CPUs without VNNI saturate u8 x s8
                        # products in int16 (agreement 94 % -> 97 % here)
                        reduce_range=True)
        model = onnx.load(str(quantized))
    _bank_in_int8(model, _feeding_only(model.graph.node, NOVELTY_OUTPUT, OUTPUT_NAME))
    return model


def _bank_in_int8(model, novelty: list[str]) -> None:
    """Store the novelty bank (the training features the novelty MatMul compares
    with, (F, N)) in int8 with one scale per training vector, dequantized in the
    graph: novelty still computes in float (nothing is clipped) and the file holds a
    quarter of the bank's bytes (the bank grows with the training images)."""
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    floats = {i.name: i for i in graph.initializer
              if i.data_type == TensorProto.FLOAT and len(i.dims) == 2}
    matmuls = [n for n in graph.node if n.name in set(novelty) and n.op_type == "MatMul"]
    banks = [name for node in matmuls for name in node.input if name in floats]
    if not banks:
        return
    name = max(banks, key=lambda n: np.prod(floats[n].dims))
    bank = numpy_helper.to_array(floats[name])  # (F, N)
    scale = np.maximum(np.abs(bank).max(axis=0), 1e-12) / 127.0  # (N,)
    quantized = np.clip(np.round(bank / scale), -127, 127).astype(np.int8)
    graph.initializer.remove(floats[name])
    graph.initializer.extend([numpy_helper.from_array(quantized, f"{name}_int8"),
                              numpy_helper.from_array(scale.astype(np.float32), f"{name}_scale"),
                              numpy_helper.from_array(np.zeros_like(scale, np.int8), f"{name}_zero")])
    graph.node.insert(0, helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale",
                                                               f"{name}_zero"], [name], axis=1,
                                          name=f"{name}_dequantize"))


def _feeding_only(nodes, output: str, other: str) -> list[str]:
    """Names of the nodes that ``output`` depends on and ``other`` does not."""
    producer = {name: node.name for node in nodes for name in node.output}
    inputs = {node.name: node.input for node in nodes}
    return sorted(feeding_only(producer, inputs.__getitem__, output, [other]))


def composed_onnx(predictor) -> bytes:
    """The bundle as an ONNX classifier with the same contract as :func:`export_onnx`,
    assembled from its cached backbone graph and its head: a fraction of a second
    and no torch, where a full export takes ~10 s. The studio's live preview and
    ``play`` run it; ``export`` still converts (and verifies) the whole model.

    image (B, 3, crop, crop) 0..1 -> (x - mean) / std -> backbone -> Gemm -> Softmax.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(predictor.extractor.folder / "backbone.onnx"))
    graph = model.graph
    for node in graph.node:  # the backbone now reads the normalized image
        node.input[:] = ["normalized" if name == INPUT_NAME else name for name in node.input]
    spec, head = predictor.preprocessing, predictor.head
    constants = {"pv_mean": np.asarray(spec.mean, np.float32).reshape(1, 3, 1, 1),
                 "pv_std": np.asarray(spec.std, np.float32).reshape(1, 3, 1, 1),
                 "pv_head_weight": head.weight, "pv_head_bias": head.bias}
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in constants.items())
    graph.node.insert(0, helper.make_node("Sub", [INPUT_NAME, "pv_mean"], ["pv_centered"]))
    graph.node.insert(1, helper.make_node("Div", ["pv_centered", "pv_std"], ["normalized"]))
    features = graph.output[0].name
    graph.node.extend([
        helper.make_node("Gemm", [features, "pv_head_weight", "pv_head_bias"], ["pv_logits"],
                         transB=1),
        helper.make_node("Softmax", ["pv_logits"], [OUTPUT_NAME], axis=1),
    ])
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(
        OUTPUT_NAME, onnx.TensorProto.FLOAT, ["batch", len(predictor.labels)]))
    _add_label_output(model, predictor.labels)
    written = contract(predictor, "onnx")
    if predictor.novelty is not None:
        _add_novelty_output(model, features, predictor.novelty, written)
    _write_metadata(model, written, predictor.labels)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _add_novelty_output(model, features: str, novelty, written: dict) -> None:
    """A third output, ``novelty`` (B,) in 0..1, computed as novelty.py does:
    neighbours / scale + (1 - top probability) = raw; 1 - 2 ** (-raw / threshold);
    and the contract entry that names it (clients call a frame unknown above
    ``threshold``). For the assembled model, which has no PyTorch graph; exports
    convert :class:`pocketvision.exports.graph.NoveltyScore` instead."""
    import math

    import onnx
    from onnx import helper, numpy_helper

    written["novelty"] = novelty_entry(output=NOVELTY_OUTPUT)
    graph = model.graph
    k = min(NEIGHBOURS, novelty.bank.shape[0])
    constants = {"pv_bank_t": np.ascontiguousarray(novelty.bank.T), "pv_k": np.array([k], np.int64),
                 "pv_axis": np.array([1], np.int64), "pv_one": np.array(1.0, np.float32),
                 "pv_scale": np.array(novelty.scale, np.float32),
                 "pv_rate": np.array(-math.log(2) / novelty.threshold, np.float32)}
    graph.initializer.extend(numpy_helper.from_array(v, n) for n, v in constants.items())
    graph.node.extend([
        helper.make_node("LpNormalization", [features], ["pv_unit"], axis=1, p=2),
        helper.make_node("MatMul", ["pv_unit", "pv_bank_t"], ["pv_similarity"]),
        helper.make_node("TopK", ["pv_similarity", "pv_k"], ["pv_nearest", "pv_nearest_index"],
                         axis=1),
        helper.make_node("ReduceMean", ["pv_nearest", "pv_axis"], ["pv_mean_similarity"],
                         keepdims=0),
        helper.make_node("Sub", ["pv_one", "pv_mean_similarity"], ["pv_distance"]),
        helper.make_node("Div", ["pv_distance", "pv_scale"], ["pv_neighbours"]),
        helper.make_node("ReduceMax", [OUTPUT_NAME, "pv_axis"], ["pv_top"], keepdims=0),
        helper.make_node("Sub", ["pv_one", "pv_top"], ["pv_doubt"]),
        helper.make_node("Add", ["pv_neighbours", "pv_doubt"], ["pv_raw"]),
        helper.make_node("Mul", ["pv_raw", "pv_rate"], ["pv_exponent"]),
        helper.make_node("Exp", ["pv_exponent"], ["pv_kept"]),
        helper.make_node("Sub", ["pv_one", "pv_kept"], [NOVELTY_OUTPUT]),
    ])
    graph.output.append(helper.make_tensor_value_info(NOVELTY_OUTPUT, onnx.TensorProto.FLOAT,
                                                      ["batch"]))


def inspect_onnx(path: Path) -> dict:
    """The contract from ``metadata_props``, with the input shape taken from the graph,
    read from the protobuf directly: importing onnx was most of ``inspect``'s time."""
    with converter_errors(f"{path}: not a readable ONNX file", 120):
        model = Path(path).read_bytes()
        metadata = string_map(fields(model, 14))               # ModelProto.metadata_props
        graph_inputs = fields(message(model, 7), 11)            # .graph.input
    found = contract_from(metadata, path)
    if not graph_inputs:
        raise ExportError(f"{path}: its graph has no input; not a pocketvision export")
    with converter_errors(f"{path}: not a readable ONNX file", 120):
        found["input"]["name"] = message(graph_inputs[0], 1).decode()  # ValueInfoProto.name
        found["input"]["shape"] = _shape(graph_inputs[0])
    return found


def _shape(value_info: bytes) -> list:
    """ValueInfoProto.type.tensor_type.shape.dim: dim_value, else dim_param ('' if neither)."""
    tensor = message(message(value_info, 2), 1)
    dims = fields((fields(tensor, 2) or [b""])[0], 1)
    return [(fields(d, 1) or [0])[0] or (fields(d, 2) or [b""])[0].decode() for d in dims]


def load_onnx(path: Path, threads: int | None = None) -> Runner:
    """onnxruntime on the CPU, a thread per core that sleeps rather than spins."""
    import onnxruntime

    with converter_errors(f"{path}: onnxruntime cannot load it", 160):
        session = runtime_session(path, threads)
    found = contract_from(session.get_modelmeta().custom_metadata_map, path)
    input_name = session.get_inputs()[0].name

    def run(image: np.ndarray) -> np.ndarray:
        return session.run([OUTPUT_NAME], {input_name: image.astype(np.float32)})[0][0]

    def run_with_novelty(image: np.ndarray) -> tuple[np.ndarray, float]:
        probabilities, novelty = session.run([OUTPUT_NAME, NOVELTY_OUTPUT],
                                             {input_name: image.astype(np.float32)})
        return probabilities[0], float(novelty[0])

    return Runner(contract=found, runtime=f"onnxruntime {onnxruntime.__version__}", run=run,
                  run_with_novelty=run_with_novelty if "novelty" in found else None)


register_format(Format(
    name="onnx", suffix=".onnx",
    description="ONNX (onnxruntime, onnxruntime-web in the browser)",
    modules=("torch", "onnx", "onnxscript", "onnxruntime"), extra="onnx", export=export_onnx,
    inspect=inspect_onnx, load=load_onnx, precisions=("fp32", "int8"),
))
