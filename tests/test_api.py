"""The public Python API: pinned, importable, and usable as the README shows."""

from __future__ import annotations

import subprocess
import sys

import pytest
from paths import ROOT

import pocketvision

PUBLIC = [
    "BackboneError", "Bundle", "BundleError", "DatasetError", "Evaluation", "ExportError",
    "ImageError", "LiveError", "MissingExtraError", "NotThereError", "PocketVisionError",
    "RuntimeUnavailable",
    "SettingError", "TrainConfig", "TrainResult", "WeightsUnavailableError", "__version__",
    "create_backbone", "evaluate", "export", "list_backbones", "load_bundle", "predict",
    "predict_imagenet", "register_backbone", "save_bundle", "train",
]


def test_all_is_pinned():
    assert sorted(pocketvision.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(pocketvision, name) is not None


def test_every_error_a_user_can_catch_is_public():
    """The whole tree of errors.py, so ``except pv.SettingError`` works for the error
    ``TrainConfig(val_fraction=2)`` raises."""
    import inspect

    from pocketvision import errors

    tree = {name for name, value in vars(errors).items()
            if inspect.isclass(value) and issubclass(value, errors.PocketVisionError)}
    assert tree <= set(pocketvision.__all__)
    with pytest.raises(pocketvision.SettingError, match="--val-fraction"):
        pocketvision.TrainConfig(val_fraction=2)


def test_version_is_the_packages():
    import tomllib

    pyproject = ROOT / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["version"] == pocketvision.__version__


def test_import_is_light():
    """``import pocketvision`` must not pull in torch (the CLI's --help stays fast)."""
    code = "import sys, pocketvision; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True).stdout.strip() == "False"


def test_readme_example(fashion3, tmp_path):
    import pocketvision as pv

    result = pv.train(fashion3, tmp_path / "model.pvb", pv.TrainConfig(seed=1))
    bundle = pv.load_bundle(result.bundle)
    [answer] = pv.predict(bundle, [next((fashion3 / "val" / "t-shirt").iterdir())])
    assert answer["label"] == "t-shirt"
    evaluation = pv.evaluate(bundle, fashion3 / "val", report_dir=tmp_path / "report")
    assert evaluation.metrics["accuracy"] >= 0.9
