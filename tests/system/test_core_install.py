"""The core install (``pip install .``) has no PyTorch: what it runs, and what it says
for the rest. PyTorch is hidden from a fresh interpreter (``sys.modules[name] = None``
makes ``import torch`` fail as it does where torch is not installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fashion_mnist import write_few_shot

WITHOUT_TORCH = (
    "import sys\n"
    "for name in ('torch', 'torchvision', 'timm', 'scipy'):\n"
    "    sys.modules[name] = None\n"
    "from pocketvision.cli import main\n"
    "sys.argv = ['pocketvision'] + sys.argv[1:]\n"
    "main()\n"
)


def without_torch(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, POCKETVISION_CACHE_DIR=str(cache), POCKETVISION_NO_PROGRESS="1")
    return subprocess.run([sys.executable, "-c", WITHOUT_TORCH, *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    """A bundle trained without PyTorch (the first run: an empty cache)."""
    root = tmp_path_factory.mktemp("core")
    write_few_shot(root / "data", ["sneaker", "trouser"], 12)
    trained = without_torch("train", str(root / "data"), "--out", str(root / "m.pvb"), "--json",
                            cache=root / "cache")
    assert trained.returncode == 0, trained.stderr
    return root


def test_the_demo_runs_without_pytorch(tmp_path):
    run = without_torch("demo", "--out", str(tmp_path / "demo"), cache=tmp_path / "cache")
    assert run.returncode == 0, run.stderr
    assert "Validation accuracy" in run.stdout
    assert (tmp_path / "demo" / "report" / "confusion_matrix.png").stat().st_size > 10_000


def test_predict_evaluate_doctor_and_the_web_app_run_without_pytorch(core):
    image = next((core / "data" / "trouser").iterdir())
    predicted = without_torch("predict", str(core / "m.pvb"), str(image), "--json", cache=core / "cache")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)[0]["label"] == "trouser"
    evaluated = without_torch("evaluate", str(core / "m.pvb"), str(core / "data"), "--json",
                              cache=core / "cache")
    assert evaluated.returncode == 0, evaluated.stderr
    diagnosed = without_torch("doctor", str(core / "data"), "--json", cache=core / "cache")
    assert diagnosed.returncode == 0, diagnosed.stderr
    assert json.loads(diagnosed.stdout)["images"] == 24
    site = without_torch("web", str(core / "site"), cache=core / "cache")
    assert site.returncode == 0, site.stderr
    assert (core / "site" / "backbone.onnx").stat().st_size > 10_000_000  # tensors inlined


def test_what_needs_pytorch_says_how_to_install_it(core):
    exported = without_torch("export", str(core / "m.pvb"), "--format", "onnx", "--out",
                             str(core / "exports"), cache=core / "cache")
    assert exported.returncode == 2
    assert "torch" in exported.stderr and "pip install 'pocketvision[onnx]'" in exported.stderr
    tuned = without_torch("train", str(core / "data"), "--out", str(core / "tuned.pvb"),
                          "--fine-tune", "1", cache=core / "cache")
    assert tuned.returncode == 2
    assert tuned.stderr.strip().splitlines() == [
        "error: this needs PyTorch (torch is not installed), which the core install leaves out; "
        "install it with \"pip install 'pocketvision[torch]'\""]
    assert not (core / "tuned.pvb").exists()
