"""Core ML (``.mlpackage``, ML program) for iOS and macOS.

A classifier model: its input is an image (``ImageType``, RGB, crop x crop) with
scale 1/255 and bias 0 inside, so an app hands Vision or Core ML a camera frame
and gets ``classLabel`` plus ``classLabel_probs`` (label -> probability) back;
normalization happens in the graph as in every format. The labels live in the
program's ``classify`` op and the contract JSON in the model's user-defined
metadata. fp16 is Core ML's natural precision (what the Neural Engine runs);
int8 quantizes the weights linearly (per channel, symmetric).

Core ML runs only on Apple platforms: on macOS the runner calls Core ML through
coremltools; elsewhere the model is converted and its spec checked, but loading
it to run raises RuntimeUnavailable and the export report says ``ran: false``.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from pocketvision.errors import ExportError, RuntimeUnavailable, converter_errors
from pocketvision.exports.contract import (
    CONTRACT_KEY,
    INPUT_NAME,
    contract,
    contract_from,
    read_bounded,
)
from pocketvision.exports.formats import Format, Runner, register_format
from pocketvision.exports.protobuf import fields, message, string_map
from pocketvision.native_output import quiet_import, silenced


def export_coreml(bundle, path: Path, precision: str = "fp32", calibration=None) -> Path:
    import torch

    from pocketvision.exports.graph import ExportGraph

    ct = quiet_import("coremltools")
    crop = bundle.preprocessing.crop
    example = torch.rand(1, 3, crop, crop)
    with converter_errors("Core ML export failed"), silenced(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(ExportGraph(bundle).eval(), example, check_trace=False)
        model = ct.convert(
            traced, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS16,
            inputs=[ct.ImageType(name=INPUT_NAME, shape=example.shape, scale=1 / 255,
                                 bias=[0, 0, 0], color_layout=ct.colorlayout.RGB)],
            classifier_config=ct.ClassifierConfig(list(bundle.labels)),
            compute_precision=(ct.precision.FLOAT32 if precision == "fp32"
                               else ct.precision.FLOAT16))
        if precision == "int8":
            model = _weights_to_int8(model)
    model.short_description = f"pocketvision classifier: {', '.join(bundle.labels)}"
    model.user_defined_metadata[CONTRACT_KEY] = json.dumps(coreml_contract(bundle, precision))
    _save_package(model, path)
    return path


def coreml_contract(bundle, precision: str) -> dict:
    """The image input takes 0..255 RGB pixels (scale 1/255 inside)."""
    written = contract(bundle, "coreml", precision)
    crop = bundle.preprocessing.crop
    written["input"].update(kind="image", dtype="uint8", range=[0, 255], layout="NHWC",
                          shape=[1, crop, crop, 3], scale=1 / 255, bias=[0, 0, 0])
    written["output"] = {"name": "classLabel_probs", "kind": "label -> probability",
                       "label": "classLabel"}
    return written


def _weights_to_int8(model):
    import coremltools.optimize.coreml as optimize

    config = optimize.OptimizationConfig(
        global_config=optimize.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8"))
    return optimize.linear_quantize_weights(model, config)


def _save_package(model, path: Path) -> None:
    """An .mlpackage is a folder: build it beside the target, then swap it in."""
    staging = Path(tempfile.mkdtemp(prefix=".pocketvision-", dir=path.parent))
    try:
        model.save(str(staging / path.name))
        if path.exists():
            shutil.rmtree(path)
        (staging / path.name).rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def inspect_coreml(path: Path) -> dict:
    """The contract from the user-defined metadata and the image input's name and
    size, read from the package's model.mlmodel protobuf directly: coremltools
    imports torch when it is installed (8 s), and these are four fields."""
    with converter_errors(f"{path}: not a readable Core ML package", 120):
        manifest = json.loads(_package_file(path, "Manifest.json", MAX_MANIFEST_BYTES))
        entry = manifest["itemInfoEntries"][manifest["rootModelIdentifier"]]
        spec = _package_file(path, f"Data/{entry['path']}", MAX_SPEC_BYTES)
        description = message(spec, 2)                           # Model.description
        metadata = message(description, 100)                     # .metadata
        user_defined = string_map(fields(metadata, 100))         # .userDefined
        image = message(description, 1)                          # .input[0]
        size = message(message(image, 3), 4)                     # .type.imageType
        width, height = fields(size, 1)[0], fields(size, 2)[0]
        name = fields(image, 1)[0].decode()
    found = contract_from(user_defined, path)
    found["input"]["name"] = name
    found["input"]["shape"] = [1, height, width, 3]
    return found


MAX_MANIFEST_BYTES = 2**20
MAX_SPEC_BYTES = 512 * 2**20  # a spec with its weights inside; ours are ~15 MB


def _package_file(package: Path, name: str, limit: int) -> bytes:
    """A file of the package by the name its manifest gives: inside the package
    (no '..', no link out), a regular file (not a FIFO or a device), at most
    ``limit`` bytes."""
    root = Path(package).resolve()
    target = (root / name).resolve()
    if root not in target.parents:
        raise ExportError(f"{package}: its manifest names {name!r}, outside the package; "
                          "not a pocketvision export")
    if not target.is_file():
        raise ExportError(f"{package}: {name} is not a regular file; not a pocketvision export")
    with open(target, "rb") as stream:
        return read_bounded(stream, limit, f"{package}: {name}")


def program_labels(spec) -> list[str]:
    function = spec.mlProgram.functions["main"]
    block = function.block_specializations[function.opset]
    for op in block.operations:
        if op.type == "classify":
            values = op.inputs["classes"].arguments[0].value.immediateValue.list.values
            return [v.immediateValue.tensor.strings.values[0] for v in values]
    raise ExportError("the Core ML program has no classify op; not a classifier")


def load_coreml(path: Path, threads: int | None = None) -> Runner:
    """Core ML itself, on macOS; RuntimeUnavailable (with the contract) elsewhere."""
    from PIL import Image

    ct = quiet_import("coremltools")
    found = inspect_coreml(path)
    with converter_errors(f"{path}: not a readable Core ML package", 120), silenced():
        spec = ct.models.MLModel(str(path), skip_model_load=True).get_spec()
    found["labels"] = program_labels(spec)  # what the program's classify op returns
    if platform.system() != "Darwin":
        raise RuntimeUnavailable(f"Core ML runs only on macOS/iOS, not on {platform.system()}; "
                                 "the spec was checked instead", f"coremltools {ct.__version__}",
                                 found)
    model = ct.models.MLModel(str(path))
    labels = found["labels"]

    def run(image: np.ndarray) -> np.ndarray:  # (1, H, W, 3) in 0..255, per the contract
        picture = Image.fromarray(np.clip(image[0], 0, 255).round().astype(np.uint8))
        scores = model.predict({found["input"]["name"]: picture})["classLabel_probs"]
        return np.array([scores[label] for label in labels], np.float32)

    return Runner(contract=found, runtime=f"Core ML via coremltools {ct.__version__}", run=run)


register_format(Format(
    name="coreml", suffix=".mlpackage",
    description="Core ML ML program (iOS, macOS; cannot run on Linux)",
    modules=("torch", "coremltools"), extra="coreml", export=export_coreml, inspect=inspect_coreml,
    load=load_coreml, precisions=("fp32", "fp16", "int8"),
))
