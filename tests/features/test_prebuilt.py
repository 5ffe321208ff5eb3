"""The backbone graph pocketvision ships for its default backbone (features/prebuilt/):
it is the installed weights' own graph, and a first run on a machine needs no PyTorch."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from pocketvision.backbones import create_backbone, get_spec
from pocketvision.backbones.weights import weights_fingerprint
from pocketvision.cache import weights_hash
from pocketvision.data.preprocessing import load_array
from pocketvision.features.graph import GRAPH_VERSION, PREBUILT, _rebound, bundle_extractor

NAME = "efficientnet_lite0"
SHIPPED = PREBUILT / NAME


@pytest.fixture(scope="module")
def backbone():
    return create_backbone(NAME)


def shipped_info() -> dict:
    return json.loads((SHIPPED / "info.json").read_text())


def test_the_shipped_graph_is_of_the_installed_weights_and_this_version(backbone):
    info = shipped_info()
    assert info["version"] == GRAPH_VERSION, "rebuild it: pocketvision.features.graph.prebuild"
    assert info["weights_sha256"] == weights_fingerprint(get_spec(NAME))
    from safetensors.numpy import load_file

    body = load_file(str(SHIPPED / "body.safetensors"))
    assert weights_hash(body) == info["weights_hash"] == backbone.weights_hash()


@pytest.mark.parametrize("size", [224, 160])
def test_the_shipped_graph_gives_the_backbones_features(backbone, fashion3, size):
    """On real pictures, at the bundle's size and at a game's smaller one."""
    spec = replace(backbone.preprocessing, resize=size, crop=size)
    paths = sorted((fashion3 / "train").rglob("*.png"))[::15][:6]
    batch = np.stack([load_array(path, spec) for path in paths])
    with torch.inference_mode():
        expected = backbone(torch.from_numpy(batch)).numpy()
    shipped = bundle_extractor(NAME, backbone.body_tensors())
    assert shipped.folder == SHIPPED
    np.testing.assert_allclose(shipped(batch), expected, atol=1e-4)


def run_without_torch(code: str, cache) -> dict:
    """Run ``code`` in a fresh interpreter with an empty cache; its last line is JSON."""
    done = subprocess.run([sys.executable, "-c", "import json, sys\n" + code], check=True,
                          capture_output=True, text=True,
                          env={"POCKETVISION_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_first_run_on_a_machine_imports_no_torch_and_writes_no_graph(tmp_path):
    found = run_without_torch(
        "from pocketvision.features.graph import pretrained_extractor\n"
        "import numpy as np\n"
        f"extractor = pretrained_extractor({NAME!r})\n"
        "features = extractor(np.zeros((1, 3, 224, 224), np.float32))\n"
        "print(json.dumps({'folder': str(extractor.folder), 'torch': 'torch' in sys.modules,"
        " 'shape': list(features.shape)}))", tmp_path)
    assert found == {"folder": str(SHIPPED), "torch": False, "shape": [1, 1280]}
    assert not (tmp_path / "graphs").exists()


def test_a_fine_tuned_body_runs_on_the_shipped_graph_without_torch(backbone, fashion3, tmp_path):
    """A bundle whose backbone was fine-tuned: the shipped network, its own tensors."""
    from safetensors.numpy import save_file

    tuned = create_backbone(NAME)
    with torch.no_grad():
        tuned.body.conv_head.weight.mul_(1.05)
        tuned.body.blocks[6][0].bn2.running_var.mul_(0.9)
    save_file(tuned.body_tensors(), str(tmp_path / "tuned.safetensors"))
    picture = sorted((fashion3 / "train").rglob("*.png"))[0]
    batch = load_array(picture, backbone.preprocessing)[None]
    np.save(tmp_path / "batch.npy", batch)
    found = run_without_torch(
        "import numpy as np\n"
        "from safetensors.numpy import load_file\n"
        "from pocketvision.features.graph import bundle_extractor\n"
        f"extractor = bundle_extractor({NAME!r}, load_file({str(tmp_path / 'tuned.safetensors')!r}))\n"
        f"features = extractor(np.load({str(tmp_path / 'batch.npy')!r}))\n"
        "print(json.dumps({'features': features[0].tolist(), 'torch': 'torch' in sys.modules,"
        " 'folder': str(extractor.folder)}))", tmp_path / "cache")
    assert found["torch"] is False and found["folder"] != str(SHIPPED)
    with torch.inference_mode():
        expected = tuned(torch.from_numpy(batch)).numpy()[0]
    np.testing.assert_allclose(found["features"], expected, atol=1e-4)
    assert not np.allclose(expected, backbone(torch.from_numpy(batch)).numpy()[0], atol=1e-3)


def test_tensors_laid_out_otherwise_are_not_put_on_the_shipped_graph(backbone, tmp_path):
    body = backbone.body_tensors()
    missing = {key: value for key, value in body.items() if key != "conv_head.weight"}
    reshaped = {**body, "conv_head.weight": body["conv_head.weight"][:-1]}
    extra = {**body, "conv_tail.weight": body["conv_head.weight"]}
    for wrong in (missing, reshaped, extra):
        assert _rebound(tmp_path, NAME, wrong, weights_hash(wrong)) is None
    assert not (tmp_path / "graphs").exists()
