"""Exports run in the browser by stock npm packages, with no help from our JS:
plain onnxruntime-web reads the class name from the ONNX file's ``label`` output,
and MediaPipe's @mediapipe/tasks-vision ImageClassifier loads the TFLite file
with default options. Both must name the class the trained model gives the golden
image. The packages are installed from npm by .ci/run (tests/npm-clients)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from browser import browser_available, chromium_page, static_server

CLIENTS = Path(__file__).resolve().parent / "npm-clients" / "node_modules"
pytestmark = pytest.mark.skipif(
    not browser_available() or not CLIENTS.is_dir(),
    reason="needs Debian's chromium, playwright and `npm ci --prefix tests/npm-clients` (.ci/run does all)")

ONNX_PAGE = """<!doctype html><script src="ort/ort.wasm.min.js"></script><script>
ort.env.wasm.wasmPaths = new URL("ort/", location.href).href;
(async () => {
  try {
    const session = await ort.InferenceSession.create("MODEL");
    const picture = new Image(); picture.src = "golden.png"; await picture.decode();
    const canvas = document.createElement("canvas");
    canvas.width = picture.width; canvas.height = picture.height;
    const context = canvas.getContext("2d"); context.drawImage(picture, 0, 0);
    const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
    const area = canvas.width * canvas.height, planes = new Float32Array(3 * area);
    for (let i = 0; i < area; i++) for (let c = 0; c < 3; c++) planes[c * area + i] = rgba[4 * i + c] / 255;
    const input = new ort.Tensor("float32", planes, [1, 3, canvas.height, canvas.width]);
    const out = await session.run({ [session.inputNames[0]]: input });
    window.result = { label: out.label.data[0], outputs: session.outputNames };
  } catch (error) { window.result = { error: String(error) }; }
})();
</script>"""

MEDIAPIPE_PAGE = """<!doctype html><script type="module">
import { FilesetResolver, ImageClassifier } from "./mp/vision_bundle.mjs";
try {
  const files = await FilesetResolver.forVisionTasks("./mp/wasm");
  const classifier = await ImageClassifier.createFromOptions(files,
    { baseOptions: { modelAssetPath: "MODEL" } });
  const picture = new Image(); picture.src = "golden.png"; await picture.decode();
  const best = classifier.classify(picture).classifications[0].categories[0];
  window.result = { label: best.categoryName, score: best.score };
} catch (error) { window.result = { error: String(error) }; }
</script>"""


@pytest.fixture(scope="module")
def site(trained, tmp_path_factory):
    from pocketvision.exports.job import export

    folder = tmp_path_factory.mktemp("stock-clients")
    export(trained.bundle, folder, ["onnx", "tflite"], quantize=["int8"])
    shutil.copytree(CLIENTS / "onnxruntime-web" / "dist", folder / "ort")
    shutil.copytree(CLIENTS / "@mediapipe" / "tasks-vision", folder / "mp")
    golden = json.loads((folder / "golden.json").read_text())["probabilities"]
    return folder, max(golden, key=golden.get)


@pytest.mark.parametrize("client, model", [
    ("onnxruntime-web", "model.onnx"), ("onnxruntime-web", "model-int8.onnx"),
    ("tasks-vision", "model.tflite"), ("tasks-vision", "model-int8.tflite"),
])
def test_a_stock_web_client_names_the_right_class(site, client, model, artifacts):
    folder, expected = site
    page_text = (ONNX_PAGE if client == "onnxruntime-web" else MEDIAPIPE_PAGE).replace("MODEL", model)
    (folder / f"{client}-{model}.html").write_text(page_text)
    with static_server(folder) as url, chromium_page() as page:
        page.goto(f"{url}/{client}-{model}.html")
        page.wait_for_function("window.result !== undefined", timeout=120_000)
        result = page.evaluate("window.result")
        assert page.outside_requests == []
    assert "error" not in result, result
    assert result["label"] == expected, result
