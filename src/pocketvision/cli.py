"""The ``pocketvision`` command: parse, call one library function, print.

Exit codes: 0 success; 2 a mistake the user can fix (one line on stderr, no
traceback); 1 an unexpected failure (with traceback); 130 interrupted.
With ``--json`` each command prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import json
import signal
import sys
from pathlib import Path
from typing import List, Optional

import typer

from pocketvision.config import NOVELTY_THRESHOLD, ExportConfig, SmoothingConfig, TrainConfig
from pocketvision.errors import PocketVisionError, first_line, install_command

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Train your own image classifier in seconds and put it on a phone.")

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def _print_version(asked: bool) -> None:
    if asked:
        from pocketvision import __version__

        typer.echo(f"pocketvision {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True,
                                          callback=_print_version,
                                          help="Print the version and exit.")):
    """Train your own image classifier in seconds and put it on a phone."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception raised at the job's next stop point, so a
    stopped run unwinds as Ctrl-C does (Ray's core, left to the signal, aborted with a
    native stack dump)."""


def _terminated(signum, frame):
    """A long job stops at its next stop point (see stopping.py);
    one with no steps (a camera loop) is interrupted as by Ctrl-C a moment later."""
    import _thread
    import threading

    from pocketvision.stopping import ask_to_stop

    ask_to_stop(Terminated())
    fallback = threading.Timer(SIGTERM_GRACE_SECONDS, _thread.interrupt_main)
    fallback.daemon = True
    fallback.start()


SIGTERM_GRACE_SECONDS = 5.0
# What the [torch] extra brings: a command that reaches one of them without it gets the
# install command, not a traceback (the core install has no PyTorch).
TORCH_MODULES = {"torch", "torchvision", "timm"}


def _user_errors(command):
    """Turn a PocketVisionError into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return _interruptible(command, *args, **kwargs)
        except PocketVisionError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
        except OSError as error:  # disk full, read-only folder, permissions: the user's to fix
            where = f" {error.filename}" if error.filename else ""
            full = error.errno in (errno.ENOSPC, errno.EDQUOT)
            typer.echo(f"error: cannot read or write{where}: {error.strerror or error}; "
                       + ("free some space or choose another folder" if full
                          else "check the path and its permissions"), err=True)
            raise typer.Exit(2) from None
        except ModuleNotFoundError as error:
            if (error.name or "").split(".")[0] not in TORCH_MODULES:
                raise
            typer.echo(f"error: this needs PyTorch ({error.name} is not installed), which the "
                       f"core install leaves out; install it with \"{install_command('torch')}\"",
                       err=True)
            raise typer.Exit(2) from None
        except (RuntimeError, AttributeError, ImportError) as error:
            pair = _broken_torch_pair(error)
            if pair is None:
                raise
            typer.echo(f"error: {pair}", err=True)
            raise typer.Exit(2) from None
        except Terminated:
            typer.echo("stopped (SIGTERM): nothing was written over existing files", err=True)
            raise typer.Exit(143) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: nothing was written over existing files", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _broken_torch_pair(error: BaseException) -> str | None:
    """What to say when torchvision failed inside its own code and its version is not
    the one built for the installed torch (torch 2.N goes with torchvision 0.N+15): an
    install that mixed a CPU wheel of one with a CUDA wheel of the other, or upgraded
    one alone, fails with 60 lines about an operator that does not exist."""
    import traceback
    from importlib.metadata import PackageNotFoundError, version

    if not any("/torchvision/" in frame.filename.replace("\\", "/")
               for frame in traceback.extract_tb(error.__traceback__)):
        return None
    try:
        torch, vision = version("torch"), version("torchvision")
    except PackageNotFoundError:
        return None
    torch_minor, vision_minor = (int(v.split(".")[1]) for v in (torch, vision))
    if vision_minor == torch_minor + 15:
        return None  # a matching pair: another failure, shown as it is
    wanted = f"0.{torch_minor + 15}"
    return (f"torch {torch} and torchvision {vision} do not work together "
            f"({first_line(error, 120)}); install "
            f"the torchvision made for this torch: pip install 'torchvision=={wanted}.*' (from "
            "the same index as torch, e.g. PyTorch's CPU index)")


def _interruptible(command, *args, **kwargs):
    """``command(...)``, with a Ctrl-C that lands while a C extension is being imported
    (onnxruntime's, in a command's first second) raised as the KeyboardInterrupt it
    is: pybind11 raises ImportError("initialization failed") from it instead."""
    try:
        return command(*args, **kwargs)
    except ImportError as error:
        if isinstance(error.__cause__, KeyboardInterrupt):
            raise error.__cause__ from None
        raise


def _flag(config: type, name: str, *flags: str):
    """The option for field ``name`` of a config dataclass: its default and help,
    written once in config.py. Tuples are typed as comma-separated lists."""
    spec = next(f for f in dataclasses.fields(config) if f.name == name)
    default = ",".join(spec.default) if isinstance(spec.default, tuple) else spec.default
    return typer.Option(default, *flags, help=spec.metadata["help"])


def _config(config: type, values: dict):
    """A config dataclass built from the command's parameters of the same names."""
    return config(**{f.name: values[f.name] for f in dataclasses.fields(config)
                     if f.name in values})


def _print_json(document) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    sys.stdout.flush()  # file names that are not UTF-8 come out escaped, never as a crash
    sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
    sys.stdout.flush()


# typer renders help lines as rich markup, in which '[scale]' is a style: escaped
ENGINE_OPTION = typer.Option(
    "local", "--engine", help="Where the images are read and run: local (this machine) or "
                              "ray (a Ray cluster; pip install 'pocketvision\\[scale]').")
RAY_ADDRESS_OPTION = typer.Option(
    None, "--ray-address", help="With --engine ray: a running cluster (auto, or HOST:PORT from "
                                "`ray start --head`); left out, Ray starts on this machine.")


def _engine(engine: str, ray_address: str | None):
    """None for this machine, else the Ray engine, connected before any work."""
    if engine not in ("local", "ray"):
        raise PocketVisionError(f"--engine {engine}: choose local or ray")
    if engine == "local":
        if ray_address is not None:
            raise PocketVisionError("--ray-address needs --engine ray")
        return None
    from pocketvision.inference.ray_engine import RayEngine

    runner = RayEngine(ray_address)
    runner.connect()
    return runner


def _within(flag: str, value, low, high) -> None:
    """config.check_range for an option that may be left out (None passes)."""
    from pocketvision.config import check_range

    if value is not None:
        check_range(flag, value, low, high)


@app.command()
@_user_errors
def train(
    data: Path = typer.Argument(..., help="DATA/<class>/* or DATA/train/<class>/* + DATA/val/<class>/*"),
    out: Path = typer.Option(Path("model.pvb"), "--out", "-o", help="Bundle file to write."),
    backbone: str = _flag(TrainConfig, "backbone"),
    weights: Optional[Path] = _flag(TrainConfig, "weights"),
    val_fraction: float = _flag(TrainConfig, "val_fraction"),
    seed: int = _flag(TrainConfig, "seed"),
    crop_fraction: float = _flag(TrainConfig, "crop_fraction"),
    augment: int = _flag(TrainConfig, "augment"),
    weight_decay: float = _flag(TrainConfig, "weight_decay"),
    std_floor: float = _flag(TrainConfig, "std_floor"),
    max_iterations: int = _flag(TrainConfig, "max_iterations"),
    fine_tune: int = _flag(TrainConfig, "fine_tune"),
    fine_tune_epochs: int = _flag(TrainConfig, "fine_tune_epochs"),
    fine_tune_lr: float = _flag(TrainConfig, "fine_tune_lr"),
    engine: str = ENGINE_OPTION,
    ray_address: Optional[str] = RAY_ADDRESS_OPTION,
    as_json: bool = JSON_OPTION,
):
    """Train a classifier on a folder of images and write a bundle."""
    config = _config(TrainConfig, locals())  # bad values fail before torch is imported
    runner = _engine(engine, ray_address)
    from pocketvision.training.job import train as run_training

    replacing = out.is_file()  # said, not silently done
    result = run_training(data, out, config, engine=runner)
    if as_json:
        return _print_json(result.to_json() | {"replaced": replacing})
    from pocketvision.cli_text import print_training

    print_training(result, backbone, replaced=replacing)


@app.command()
@_user_errors
def evaluate(
    bundle: Path = typer.Argument(..., help="A .pvb bundle."),
    data: Path = typer.Argument(..., help="Labelled images: DATA/<class>/*"),
    report: Optional[Path] = typer.Option(None, help="Folder for the PNG report."),
    unknown: Optional[Path] = typer.Option(None, help="A folder of images of no known class: "
                                                      "how well they are told apart (AUROC)."),
    as_json: bool = JSON_OPTION,
):
    """Measure a bundle on labelled images; optionally draw the report."""
    from pocketvision.evaluation.job import evaluate as run_evaluation

    evaluation = run_evaluation(bundle, data, report_dir=report, unknown=unknown)
    if as_json:
        return _print_json(evaluation.to_json())
    from pocketvision.cli_text import print_evaluation

    print_evaluation(evaluation)


@app.command()
@_user_errors
def doctor(
    data: Path = typer.Argument(..., help="A training folder (DATA/<class>/, train/ + val/) "
                                          "or a studio project."),
    report: Optional[Path] = typer.Option(None, help="Folder for a picture per kind of finding."),
    backbone: str = typer.Option("efficientnet_lite0", help="Backbone whose features judge the images."),
    as_json: bool = JSON_OPTION,
):
    """Find what to fix in a training folder: wrong labels, duplicates, leaks, outliers."""
    from pocketvision.training.doctor import diagnose

    if report is not None and report.exists() and not report.is_dir():
        raise PocketVisionError(f"--report {report} is not a folder; pass a folder for the pictures")
    diagnosis = diagnose(data, backbone=backbone)
    pictures = {}
    if report is not None:
        from pocketvision.evaluation.report import write_findings

        pictures = write_findings(diagnosis, report)
    if as_json:
        return _print_json(diagnosis.to_json() | {"report": {k: str(v) for k, v in pictures.items()}})
    from pocketvision.cli_text import print_diagnosis

    print_diagnosis(diagnosis, pictures)


@app.command()
@_user_errors
def predict(
    inputs: List[Path] = typer.Argument(..., help="[BUNDLE] then image files or folders."),
    backbone: Optional[str] = typer.Option(None, help="Use this backbone's ImageNet classifier instead of a bundle."),
    weights: Optional[Path] = typer.Option(None, help="Weights file for --backbone."),
    top: Optional[int] = typer.Option(None, help="Keep the K most likely labels."),
    threshold: Optional[float] = typer.Option(None, help="Label 'uncertain' below this probability."),
    novelty_threshold: float = typer.Option(
        NOVELTY_THRESHOLD, help="Label 'unknown' above this novelty (0..1; 0.5 accepts ~95 % of "
                                "images like the training ones; 1 turns it off)."),
    output: Optional[Path] = typer.Option(
        None, help="Stream rows to results.parquet (a folder of part files) or results.csv, "
                   "resuming where a previous run stopped. Sources: files, folders, "
                   "@list.txt, glob patterns."),
    engine: str = ENGINE_OPTION,
    ray_address: Optional[str] = RAY_ADDRESS_OPTION,
    as_json: bool = JSON_OPTION,
):
    """Classify images with a bundle (or with --backbone's ImageNet classes)."""
    _within("--top", top, 1, 100_000)
    _within("--threshold", threshold, 0.0, 1.0)
    _within("--novelty-threshold", novelty_threshold, 0.0, 1.0)
    from pocketvision.inference import prediction as predicting

    if engine == "ray" and output is None:
        raise PocketVisionError("--engine ray labels into a file: add --output results.parquet")
    runner = _engine(engine, ray_address)
    if output is not None:
        return _predict_to_file(inputs, output, novelty_threshold, runner, as_json)

    if backbone:
        results = predicting.predict_imagenet(backbone, inputs, top or 5, weights, threshold)
    elif len(inputs) < 2:
        raise PocketVisionError("pass a bundle and at least one image: pocketvision predict model.pvb photo.jpg")
    else:
        results = predicting.predict(inputs[0], inputs[1:], top, threshold, novelty_threshold)
    if as_json:
        _print_json(results)
    else:
        from pocketvision.cli_text import print_predictions

        print_predictions(results)
    if all(entry["label"] is None for entry in results):  # each entry says why
        first = results[0]
        typer.echo(f"error: none of the {len(results)} image(s) could be classified "
                   f"({first['path']} {first['error']})", err=True)
        raise typer.Exit(2)


def _predict_to_file(inputs: list[Path], output: Path, novelty_threshold: float, engine,
                     as_json: bool) -> None:
    from pocketvision.inference.bulk import predict_to_file

    if len(inputs) < 2:
        raise PocketVisionError("pass a bundle and at least one source: pocketvision predict "
                                "model.pvb photos/ --output results.parquet")
    result = predict_to_file(inputs[0], [str(s) for s in inputs[1:]], output, novelty_threshold,
                             engine)
    if as_json:
        return _print_json(result.to_json())
    summary = result.to_json()
    typer.echo(f"{summary['written']} rows written to {output} ({summary['done_before']} done "
               f"before, {summary['errors']} unreadable) at {summary['images_per_second'] or 0} "
               "images/s")


FORMAT_OPTION = _flag(ExportConfig, "formats", "--format")


def _list_formats_in_help() -> None:
    """``export --help`` names the formats the registry holds; the exporters are
    imported for that command only, so every other command starts as fast as before."""
    from pocketvision.exports import format_names

    FORMAT_OPTION.help = (f"Comma-separated, from: {', '.join(format_names())}. web: the phone "
                          "studio and runner game as an installable web app; all: every model "
                          "format installed here, without web (a site, not a model file): "
                          "ask for both with all,web.")


@app.command()
@_user_errors
def export(
    bundle: Optional[Path] = typer.Argument(None, help="A .pvb bundle (or use --backbone)."),
    out: Path = typer.Option(Path("exports"), "--out", "-o", help="Folder for the exports."),
    format: str = FORMAT_OPTION,
    quantize: str = _flag(ExportConfig, "quantize"),
    verify: Optional[Path] = typer.Option(None, help="Labelled images to verify on (DATA/<class>/*)."),
    backbone: Optional[str] = typer.Option(None, help="Export this backbone's ImageNet classifier instead of a bundle."),
    weights: Optional[Path] = typer.Option(None, help="Weights file for --backbone."),
    mapping: List[str] = typer.Option([], "--map", help="With --format web: LABEL=jump or LABEL=duck."),
    web_input: Optional[int] = _flag(ExportConfig, "web_input"),
    as_json: bool = JSON_OPTION,
):
    """Export to phone/browser runtimes and verify each export in its real runtime.

    --format web also writes OUT/web/: the runner game as an installable, offline web app."""
    from pocketvision.exports.job import export as run_export
    from pocketvision.exports.job import sample_images
    from pocketvision.model.bundle import imagenet_bundle

    formats = _comma_list(format)
    precisions = _comma_list(quantize)
    if backbone and bundle:
        raise PocketVisionError("give a bundle or --backbone, not both")
    if backbone:
        report = run_export(imagenet_bundle(backbone, weights), out, formats,
                            quantize=precisions, images=sample_images())
    elif bundle:
        report = run_export(bundle, out, formats, verify, precisions, game_map=mapping,
                            web_input=web_input)
    else:
        raise PocketVisionError("give a bundle to export, or --backbone NAME for an ImageNet classifier")
    if as_json:
        return _print_json(report.to_json())
    from pocketvision.cli_text import print_export

    print_export(report, out)


def _comma_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


@app.command()
@_user_errors
def web(
    site: Path = typer.Argument(Path("pocketvision-web"), help="Folder for the web app "
                                "(created; serve it with any static server)."),
    backbone: str = _flag(TrainConfig, "backbone"),
    as_json: bool = JSON_OPTION,
):
    """Write the phone studio: collect, train and play on a phone, offline, no laptop.

    The site holds the backbone and everything the page needs; models trained on it
    download as .pvb bundles that predict, evaluate and export here as usual."""
    from pocketvision.exports.web_app import write_new_web_app

    written = write_new_web_app(site, backbone)
    if as_json:
        return _print_json(written)
    from pocketvision.cli_text import print_site

    print_site(written)


@app.command()
@_user_errors
def inspect(
    artifact: Path = typer.Argument(..., help="An exported file, e.g. exports/model.onnx."),
    as_json: bool = JSON_OPTION,
):
    """Show the labels and input contract an exported file or a .pvb bundle carries,
    read from the file (a bundle: also its backbone, metrics and unknown detection)."""
    from pocketvision.exports import format_for_file
    from pocketvision.exports.folder import check_member

    if not artifact.exists():
        raise PocketVisionError(f"{artifact} does not exist")
    if not (artifact.is_file() or artifact.is_dir()):  # a FIFO would hang, a device never end
        raise PocketVisionError(f"{artifact} is not a regular file; pass an exported file")
    if artifact.suffix == ".pvb":
        return _inspect_bundle(artifact, as_json)
    spec = format_for_file(artifact)
    check_member(artifact)
    found = spec.inspect(artifact)
    if as_json:
        return _print_json(found)
    from pocketvision.cli_text import print_contract

    print_contract(artifact, found)


def _inspect_bundle(path: Path, as_json: bool) -> None:
    from pocketvision.model.bundle import describe_bundle

    found = describe_bundle(path)
    if as_json:
        return _print_json(found)
    from pocketvision.cli_text import print_bundle

    print_bundle(path, found)


@app.command()
@_user_errors
def bench(
    folder: Path = typer.Argument(Path("exports"), help="A folder written by 'pocketvision export'."),
    runs: int = typer.Option(50, help="Timed runs per export (after 5 warm-up runs)."),
    threads: int = typer.Option(1, help="Threads every runtime may use (the same for all, "
                                        "so the ratios to eager hold when the machine is busy)."),
    as_json: bool = JSON_OPTION,
):
    """Latency of every export in FOLDER on this machine, against PyTorch eager."""
    from pocketvision.exports.latency import bench as run_bench

    if not folder.is_dir():
        raise PocketVisionError(f"{folder} is not a folder of exports")
    results = run_bench(folder, runs=runs, threads=threads)
    if as_json:
        return _print_json(results)
    from pocketvision.cli_text import print_bench

    print_bench(results, folder)


@app.command()
@_user_errors
def studio(
    project: Path = typer.Argument(Path("pocketvision-project"), help="Project folder (created if missing)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8765, help="Port to listen on."),
    https: bool = typer.Option(False, help="Serve https with a self-signed certificate (for a phone's camera)."),
):
    """The local web app: collect with the webcam, train, preview live, export."""
    from pocketvision.live.studio import studio_app

    _within("--port", port, 1, 65535)
    _serve(studio_app(project, host), f"pocketvision studio for {project}", host, port, https)


@app.command()
@_user_errors
def collect(
    project: Path = typer.Argument(..., help="Project folder (samples go to PROJECT/samples/<class>/)."),
    label: str = typer.Option(..., "--class", help="The class these frames show."),
    count: Optional[int] = typer.Option(None, help="Frames to keep (camera default 40; video: all)."),
    source: str = typer.Option("0", help="Camera index, or a video file (same as --video)."),
    video: Optional[Path] = typer.Option(None, help="Take frames from this video file."),
    every: int = typer.Option(1, help="Keep every N-th frame."),
    as_json: bool = JSON_OPTION,
):
    """Capture one burst of frames for a class from the camera or a video file."""
    from pocketvision.live.collect import collect as run_collect

    if video is not None:
        source = str(video)
    if count is None and source.isdigit():
        count = 40
    saved = run_collect(project, label, source, count, every)
    if as_json:
        return _print_json({"class": label, "saved": [str(p) for p in saved]})
    typer.echo(f"saved {len(saved)} frames of {label!r} in {project / 'samples' / label}")


@app.command()
@_user_errors
def control(
    model: Path = typer.Argument(..., help="A .pvb bundle or an export (.onnx, .tflite, ...)."),
    mapping: List[str] = typer.Option(..., "--map", help="LABEL=KEY (tap) or LABEL=KEY:hold, e.g. up=space."),
    source: str = typer.Option("0", help="Camera index or a video file."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the events instead of pressing keys."),
    threshold: float = _flag(SmoothingConfig, "threshold"),
    frames: int = _flag(SmoothingConfig, "frames"),
    cooldown: float = _flag(SmoothingConfig, "cooldown"),
    release: float = _flag(SmoothingConfig, "release"),
    as_json: bool = typer.Option(False, "--json", help="With --dry-run: one JSON object per event."),
):
    """Turn what the camera sees into key presses (e.g. hand up = jump in any game)."""
    config = _config(SmoothingConfig, locals())
    from pocketvision.live.control import run_control
    from pocketvision.live.keys import DryRunSink, KeyboardSink

    if not model.exists():
        raise PocketVisionError(f"{model} does not exist")
    sink = DryRunSink(as_json) if dry_run else KeyboardSink()
    stats = run_control(model, mapping, sink, source, config)
    summary = stats.summary()
    typer.echo(f"{summary['frames']} frames at {summary['fps'] or 0:.1f} fps, "
               f"{summary['events']} events", err=True)


@app.command()
@_user_errors
def play(
    model: Path = typer.Argument(..., help="A .pvb bundle; the game runs it on the page."),
    mapping: List[str] = typer.Option([], "--map", help="LABEL=jump or LABEL=duck (default: classes up/down)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0 to open from a phone)."),
    port: int = typer.Option(8765, help="Port to listen on."),
    https: bool = typer.Option(False, help="Serve https with a self-signed certificate (phones need it for the camera)."),
):
    """The runner game in your browser, steered by your model through the webcam.

    It is the web app for the bundle (see 'pocketvision web'), opening on its game:
    collecting and retraining on the page work too."""
    from pocketvision.live.server import game_app

    _within("--port", port, 1, 65535)
    if not model.exists():
        raise PocketVisionError(f"{model} does not exist")
    _serve(game_app(model, mapping, host), "runner game", host, port, https)


def _serve(app, what: str, host: str, port: int, https: bool) -> None:
    """Say where the page is (warning when others can reach it), then serve it."""
    from pocketvision.live.server import serve

    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: anyone on your network can open this page",
                   err=True)
    typer.echo(f"{what} at {'https' if https else 'http'}://{host}:{port}/  (Ctrl-C to stop)")
    serve(app, host, port, https)


@app.command()
@_user_errors
def backbones(as_json: bool = JSON_OPTION):
    """List the backbones and whether their weights are available offline now."""
    from pocketvision.backbones import describe_backbones

    rows = describe_backbones()
    if as_json:
        return _print_json(rows)
    from pocketvision.cli_text import print_backbones

    print_backbones(rows)


@app.command()
@_user_errors
def demo(
    out: Path = typer.Option(Path("pocketvision-demo"), "--out", "-o", help="Folder for the results."),
    as_json: bool = JSON_OPTION,
):
    """Train, evaluate and predict on the bundled sample images (offline)."""
    from pocketvision.demo import run_demo

    summary = run_demo(out)
    if as_json:
        return _print_json(summary)
    from pocketvision.cli_text import print_demo

    print_demo(summary)


def main() -> None:
    # Path("") is the current folder: an empty argument (an unset shell variable)
    # would silently train on, or write into, wherever the user stands
    if any(argument == "" for argument in sys.argv[1:]):
        typer.echo("error: an argument is empty (an unset shell variable?); pass a value", err=True)
        raise SystemExit(2)
    if sys.argv[1:2] == ["export"]:
        _list_formats_in_help()
    signal.signal(signal.SIGTERM, _terminated)
    app()


if __name__ == "__main__":
    main()
