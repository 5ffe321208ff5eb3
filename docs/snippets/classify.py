"""Classify one image with a pocketvision export, without pocketvision installed.

    python classify.py exports/model.onnx photo.jpg     # onnxruntime
    python classify.py exports/model.tflite photo.jpg   # ai-edge-litert
    python classify.py exports/model.pte photo.jpg      # executorch

Everything the app needs (labels, input size, layout, what to do to the pixels)
is read from the file itself. The steps are the same on a phone: resize the
shorter side, centre-crop, RGB values / 255, and the model does the rest.
"""

import io
import json
import sys
import zipfile

import numpy as np
from PIL import Image, ImageOps


def prepare(path, contract):
    """Resize the shorter side to `resize`, centre-crop `crop`, scale to the model's range."""
    steps = contract["preprocessing"]
    image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    scale = steps["resize"] / min(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)),
                         Image.Resampling.BILINEAR)
    left, top = (image.width - steps["crop"]) // 2, (image.height - steps["crop"]) // 2
    image = image.crop((left, top, left + steps["crop"], top + steps["crop"]))
    pixels = np.asarray(image, np.float32) * (contract["input"]["range"][1] / 255.0)
    if contract["input"]["layout"] == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    # contiguous: runtimes that take the buffer as is (ExecuTorch) would read a
    # transposed view in the wrong order
    return np.ascontiguousarray(pixels[None])  # add the batch dimension


def run_onnx(model_path, image_path):
    import onnxruntime

    session = onnxruntime.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    contract = json.loads(session.get_modelmeta().custom_metadata_map["pocketvision.contract"])
    inputs = {session.get_inputs()[0].name: prepare(image_path, contract)}
    return contract, session.run(None, inputs)[0][0]


def run_tflite(model_path, image_path):
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.interpreter import Interpreter

    data = open(model_path, "rb").read()
    model = schema.Model.GetRootAs(data, 0)
    entries = {model.Metadata(k).Name().decode(): model.Metadata(k).Buffer()
               for k in range(model.MetadataLength())}
    contract = json.loads(model.Buffers(entries["pocketvision.contract"]).DataAsNumpy().tobytes())
    contract["labels"] = zipfile.ZipFile(io.BytesIO(data)).read("labels.txt").decode().splitlines()
    interpreter = Interpreter(model_path=model_path)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], prepare(image_path, contract))
    interpreter.invoke()
    return contract, interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]


def run_pte(model_path, image_path):
    import torch
    from executorch.runtime import Runtime

    program = Runtime.get().load_program(model_path)
    contract = json.loads(program.load_method("pocketvision_contract").execute([])[0])
    contract["labels"] = list(program.load_method("get_classes").execute([]))
    image = torch.from_numpy(prepare(image_path, contract))
    return contract, program.load_method("forward").execute([image])[0].numpy()[0]


if __name__ == "__main__":
    model_path, image_path = sys.argv[1], sys.argv[2]
    runner = {"onnx": run_onnx, "tflite": run_tflite, "pte": run_pte}[model_path.rsplit(".", 1)[1]]
    contract, probabilities = runner(model_path, image_path)
    best = int(np.argmax(probabilities))
    print(json.dumps({"label": contract["labels"][best], "probability": float(probabilities[best])}))
