"""Exports run in the browser by stock npm packages, with no help from our JS:
plain onnxruntime-web reads the class name from the ONNX file's ``label`` output,
and MediaPipe's @mediapipe/tasks-vision ImageClassifier loads the TFLite file
with default options. The pages are docs/snippets/onnxruntime-web.html and
mediapipe.html, as documented. Both must name the class the trained model gives the golden
image, and give its novelty. The packages are installed from npm by .ci/run (tests/npm-clients)."""

from __future__ import annotations

import json
import shutil

import pytest
from browser import browser_available, chromium_page, static_server
from paths import ROOT, TESTS

CLIENTS = TESTS / "npm-clients" / "node_modules"
pytestmark = pytest.mark.skipif(
    not browser_available() or not CLIENTS.is_dir(),
    reason="needs Debian's chromium, playwright and `npm ci --prefix tests/npm-clients` (.ci/run does all)")

SNIPPETS = ROOT / "docs" / "snippets"
PAGES = {"onnxruntime-web": ("onnxruntime-web.html", "model.onnx"),
         "tasks-vision": ("mediapipe.html", "model.tflite")}


@pytest.fixture(scope="module")
def site(trained, tmp_path_factory):
    from pocketvision.exports.job import export

    folder = tmp_path_factory.mktemp("stock-clients")
    export(trained.bundle, folder, ["onnx", "tflite"], quantize=["int8"])
    shutil.copytree(CLIENTS / "onnxruntime-web" / "dist", folder / "ort")
    shutil.copytree(CLIENTS / "@mediapipe" / "tasks-vision", folder / "mp")
    golden = json.loads((folder / "golden.json").read_text())
    return folder, golden


@pytest.mark.parametrize("client, model", [
    ("onnxruntime-web", "model.onnx"), ("onnxruntime-web", "model-int8.onnx"),
    ("tasks-vision", "model.tflite"), ("tasks-vision", "model-int8.tflite"),
])
def test_a_stock_web_client_names_the_right_class(site, client, model, artifacts):
    """The documented snippet as written (the int8 run only changes the file name)."""
    folder, golden = site
    expected = max(golden["probabilities"], key=golden["probabilities"].get)
    snippet, documented_model = PAGES[client]
    page_text = (SNIPPETS / snippet).read_text().replace(documented_model, model)
    (folder / f"{client}-{model}.html").write_text(page_text)
    with static_server(folder) as url, chromium_page() as page:
        page.goto(f"{url}/{client}-{model}.html")
        page.wait_for_function("window.result !== undefined", timeout=120_000)
        result = page.evaluate("window.result")
        assert page.outside_requests == []
    assert "error" not in result, result
    assert result["label"] == expected, result
    # unknown detection, read as the snippet documents it (int8: from int8 features)
    tolerance = 0.3 if "int8" in model else 1e-4
    assert abs(result["novelty"] - golden["novelty"]) <= tolerance, (result, golden)
