"""The command line: JSON shapes, and one clear line with exit 2 for every user mistake."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli as run
from conftest import save, user_error


def run_json(*args, **kwargs):
    result = run(*args, "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # exactly one JSON document


def test_train_json(fashion3, tmp_path):
    document = run_json("train", fashion3, "--out", tmp_path / "m.pvb")
    assert set(document) >= {"bundle", "classes", "train_images", "val_images", "val_accuracy",
                             "skipped", "seconds"}
    assert document["classes"] == ["sneaker", "t-shirt", "trouser"]
    assert document["val_accuracy"] >= 0.9 and document["skipped"] == []
    assert (tmp_path / "m.pvb").exists()


def test_train_json_lists_broken_files(fashion3, tmp_path):
    data = tmp_path / "data"
    for label in ("t-shirt", "trouser"):
        for source in sorted((fashion3 / "train" / label).iterdir())[:5]:
            (data / label).mkdir(parents=True, exist_ok=True)
            (data / label / source.name).write_bytes(source.read_bytes())
    (data / "t-shirt" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (data / "t-shirt" / "readme.txt").write_text("ignored")
    document = run_json("train", data, "--out", tmp_path / "m.pvb")
    assert [entry["path"] for entry in document["skipped"]] == [str(data / "t-shirt" / "broken.png")]
    assert document["train_images"] + document["val_images"] == 10


def test_evaluate_json_and_report(trained, fashion3, tmp_path):
    document = run_json("evaluate", trained.bundle, fashion3 / "val", "--report", tmp_path / "r")
    assert set(document) >= {"accuracy", "per_class", "confusion", "classes", "ece"}
    assert set(document["per_class"]["t-shirt"]) == {"precision", "recall", "f1", "support"}
    assert np.array(document["confusion"]).shape == (3, 3)
    assert (tmp_path / "r" / "confusion_matrix.png").exists()
    assert (tmp_path / "r" / "misclassified.png").exists()


def test_predict_json(trained, fashion3):
    folder = fashion3 / "val" / "trouser"
    document = run_json("predict", trained.bundle, next(folder.iterdir()), folder, "--top", "2")
    assert len(document) == 1 + 15
    for entry in document:
        assert set(entry) == {"path", "label", "probabilities", "novelty"}
        assert 0 <= entry["novelty"] <= 1
        values = list(entry["probabilities"].values())
        assert len(values) == 2 and values == sorted(values, reverse=True)
    assert sum(e["label"] == "trouser" for e in document) >= 14


def test_predict_with_the_backbone_imagenet_head(photos, tmp_path):
    cat = save(photos["chelsea"], tmp_path / "chelsea.jpg")
    [entry] = run_json("predict", "--backbone", "efficientnet_lite0", cat, "--top", "3")
    assert entry["label"] in {"tabby", "tiger cat", "Egyptian cat"}
    assert len(entry["probabilities"]) == 3


def test_backbones_json():
    rows = {row["name"]: row for row in run_json("backbones")}
    assert rows["efficientnet_lite0"]["weights_available"] is True
    assert rows["mobilenet_v3_large"]["feature_dim"] == 1280
    assert rows["efficientnet_lite0_lite2"]["input_size"] == 260


def test_backbones_table_prints_descriptions_as_written():
    shown = run("backbones", env={"COLUMNS": "200"}).stdout
    assert "weights from the [lite2] extra" in shown  # not eaten as markup
    assert "260 px" in shown


def test_every_help_text_is_shown_as_written():
    """Help lines go through rich markup: a bracketed word in one ('[scale]', the
    extra to install) must be shown, not eaten as a style."""
    import re

    import typer
    from typer.testing import CliRunner

    from pocketvision.cli import app

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        shown = CliRunner().invoke(app, [name, "--help"], terminal_width=300).output
        shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", shown).split())
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        for bracketed in re.findall(r"\[[^\]\s]+\]", " ".join(texts)):
            assert bracketed in shown, (name, bracketed)


def test_export_help_says_all_leaves_out_the_web_app():
    shown = " ".join(run("export", "--help", env={"COLUMNS": "300"}).stdout.split())
    assert "all: every model format installed here, without web" in shown and "all,web" in shown


def test_ctrl_c_while_a_c_extension_imports_is_an_interruption(capsys):
    """pybind11 turns a KeyboardInterrupt during a C extension's import into
    ImportError("initialization failed"): the command still ends as interrupted."""
    import typer

    from pocketvision.cli import _user_errors

    def importing():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise ImportError("initialization failed") from interrupt

    def missing():
        raise ImportError("no module named zzz")

    with pytest.raises(typer.Exit) as stopped:
        _user_errors(importing)()
    assert stopped.value.exit_code == 130
    assert capsys.readouterr().err.startswith("interrupted: nothing was written")
    with pytest.raises(ImportError, match="zzz"):  # any other failed import is a bug
        _user_errors(missing)()


def test_demo_runs_offline(tmp_path):
    document = run_json("demo", "--out", tmp_path / "demo")
    assert document["train"]["val_accuracy"] >= 0.9
    assert (tmp_path / "demo" / "model.pvb").exists()
    assert (tmp_path / "demo" / "report" / "confusion_matrix.png").exists()
    human = run("demo", "--out", tmp_path / "demo2")
    assert "model.pvb" in human.stdout and "confusion_matrix.png" in human.stdout


def test_error_missing_folder(tmp_path):
    assert "does not exist" in user_error("train", tmp_path / "nope")


def test_error_too_few_images(tmp_path):
    for label, count in (("up", 3), ("down", 1)):
        for k in range(count):
            save(np.full((30, 30, 3), 50 * k, np.uint8), tmp_path / label / f"{k}.png")
    line = user_error("train", tmp_path)
    assert "class 'down'" in line and "has 1 usable image" in line and "at least 2" in line


def test_error_single_class(tmp_path):
    for k in range(3):
        save(np.full((30, 30, 3), 50 * k, np.uint8), tmp_path / "up" / f"{k}.png")
    assert "at least 2 sub-folders" in user_error("train", tmp_path)


def test_error_unknown_backbone(fashion3, tmp_path):
    assert "unknown backbone 'resnet9000'" in user_error(
        "train", fashion3, "--backbone", "resnet9000", "--out", tmp_path / "m.pvb")


def test_error_weights_offline(fashion3, tmp_path):
    line = user_error("train", fashion3, "--backbone", "mobilenet_v3_large", "--out",
                      tmp_path / "m.pvb")
    assert "mobilenet_v3_large" in line and ".pth" in line and "efficientnet_lite0" in line


def test_error_unreadable_weights(fashion3, tmp_path):
    bad = tmp_path / "w.pth"
    bad.write_text("garbage")
    assert "cannot read weights file" in user_error(
        "train", fashion3, "--backbone", "resnet18", "--weights", bad, "--out", tmp_path / "m.pvb")


def test_error_not_a_bundle(tmp_path):
    fake = tmp_path / "model.pvb"
    fake.write_text("hello")
    assert "not a pocketvision bundle" in user_error("evaluate", fake, tmp_path)
    assert "does not exist" in user_error("predict", tmp_path / "missing.pvb", fake)


def test_error_predict_without_images(trained):
    assert "at least one image" in user_error("predict", trained.bundle)


def test_error_predict_missing_image(trained, tmp_path):
    assert "does not exist" in user_error("predict", trained.bundle, tmp_path / "nope.jpg")


def test_error_output_is_a_folder(trained, fashion3, tmp_path):
    target = tmp_path / "out.pvb"
    target.mkdir()
    (target / "keep").write_text("x")
    assert "is a folder" in user_error("train", fashion3, "--out", target)
    assert (target / "keep").exists()
