"""``pocketvision export``: write each format, verify each in its runtime, report.

Writes into the output folder one artifact per format, ``report.json`` and
``report.md``, and a golden image (``golden.png``, already resized and cropped)
with the probabilities the trained model gives it (``golden.json``), so an app
developer can check an integration on the device.
"""

from __future__ import annotations

import json
from pathlib import Path

from pocketvision.cache import file_sha256, write_atomically
from pocketvision.config import ExportConfig
from pocketvision.data.bundled import sample_data_dir
from pocketvision.data.images import load_rgb
from pocketvision.data.preprocessing import resize_and_crop
from pocketvision.errors import ExportError, install_command
from pocketvision.exports.folder import REPORT_FILES, check_room, publish, staging_folder
from pocketvision.exports.formats import (
    artifact_name,
    export_artifact,
    get_format,
    list_formats,
    missing_modules,
    precision_problem,
    require,
)
from pocketvision.exports.report import ExportEntry, ExportReport
from pocketvision.exports.verification import (
    VerificationSet,
    calibration_inputs,
    not_run_entry,
    verification_set,
    verify_artifact,
    verify_runner,
)
from pocketvision.exports.web_app import (
    bundle_site_backbone,
    game_actions,
    play_config,
    set_play,
    write_web_app,
)
from pocketvision.exports.web_model import page_novelty, page_runner, page_spec
from pocketvision.inference.predictor import load_predictor
from pocketvision.model.bundle import Bundle, load_bundle
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point

ALL = "all"
WEB = "web"


def export(bundle: Bundle | Path | str, out_dir: Path | str,
           formats: list[str] | tuple[str, ...] | str = ExportConfig.formats,
           verify_dir: Path | None = None,
           quantize: list[str] | tuple[str, ...] = ExportConfig.quantize,
           images: VerificationSet | None = None, game_map: list[str] | tuple = (),
           web_input: int = ExportConfig.web_input) -> ExportReport:
    """Export ``bundle`` to ``formats`` under ``out_dir``; return the report.

    Every format is written in fp32, and also in each precision of ``quantize``
    ("fp16", "int8") that it supports; the report compares each with its fp32 file.
    ``images`` overrides what the exports are verified on (see verification_set).
    The format ``web`` writes ``out_dir/web/``, the runner game as a static web app
    around the ONNX file (``game_map``: ``--map LABEL=jump|duck`` entries).
    """
    names = (formats,) if isinstance(formats, str) else tuple(formats)
    config = ExportConfig(formats=names, quantize=tuple(dict.fromkeys(quantize)),
                          web_input=web_input)  # checks them all
    chosen, skipped = _choose(_model_formats(config.formats))  # bad names and missing extras first
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    web_actions = _web_actions(bundle, config.formats, game_map)  # so does a bad --map
    precisions = ["fp32", *config.quantize]
    out_dir = _output_folder(Path(out_dir))
    check_room(out_dir, [*(artifact_name(fmt, precision)
                           for fmt in chosen for precision in precisions
                           if precision in fmt.precisions),
                         *([WEB] if web_actions is not None else []), *REPORT_FILES])
    images = images or verification_set(bundle, verify_dir)
    calibration, calibration_source = ([], None)
    if "int8" in precisions:
        calibration, calibration_source = calibration_inputs(bundle, images,
                                                             config.calibration_images)
    with staging_folder(out_dir) as staging:  # the folder changes only if all of it works
        entries = _export_all(bundle, chosen, precisions, staging, images, calibration)
        if web_actions is not None:
            entries.append(_web_app(bundle, web_actions, config.web_input, staging, images))
        for entry in entries:  # where each file will be once published
            entry.path = entry.path and str(out_dir / Path(entry.path).relative_to(staging))
        _compare_with_fp32(entries)
        report = ExportReport(
            bundle=str(bundle.path.resolve()) if bundle.path else bundle.meta.source or "bundle in memory",
            labels=bundle.labels,
            backbone_export=bundle.backbone_name if bundle.meta.imagenet else None,
            image_source=images.source, calibration_source=calibration_source,
            exports=entries + skipped, golden=_write_golden(bundle, images, staging))
        _write_report(report, staging)
        publish(staging, out_dir, file_sha256(bundle.path) if bundle.path else None)
    return report


def _model_formats(names: tuple[str, ...]) -> list[str]:
    """The model formats to write: ``web`` is a site with its own ONNX file."""
    return [name for name in names if name != WEB]


def _web_app(bundle: Bundle, actions: dict, size: int | None, staging: Path,
             images: VerificationSet) -> ExportEntry:
    """The phone studio around the bundle, and the report's check of what its page
    runs (the site's graph, the bundle's head and novelty, at the game's ``size``)."""
    if bundle.path is None:
        raise ExportError("--format web needs a bundle file (the web app ships it)")
    game_input = page_spec(bundle.preprocessing, size)
    novelty, how = page_novelty(load_predictor(bundle.path), game_input)
    site = write_web_app(staging / WEB, bundle_site_backbone(bundle.path), actions, bundle.path,
                         play_config(game_input, novelty))
    runner = page_runner(site / "model.pvb", game_input, novelty)
    entry = verify_runner(bundle, runner, images, site, WEB)
    if entry.ran:  # so that the game page tells the player what was measured
        agreement = {"top1": entry.top1_agreement, "images": entry.images}
        set_play(site, play_config(game_input, novelty, agreement))
    entry.notes = [f"the phone studio; its game runs the model at {game_input.crop} px "
                   f"(the bundle's: {bundle.preprocessing.crop} px)", how, *entry.notes]
    return entry


def _web_actions(bundle: Bundle, names: tuple[str, ...], game_map) -> dict | None:
    """The game's label -> jump/duck map when ``web`` is asked for, else None."""

    if WEB not in names:
        if game_map:
            raise ExportError("--map is for --format web (the game); add web to --format")
        return None
    return game_actions(bundle.labels, list(game_map))


def _write_report(report: ExportReport, folder: Path) -> None:
    write_atomically(folder / "report.json", json.dumps(report.to_json(), indent=2).encode())
    write_atomically(folder / "report.md", report.to_markdown().encode())


def _export_all(bundle, formats, precisions, staging, images, calibration) -> list[ExportEntry]:
    entries = []
    jobs = [(fmt, precision) for fmt in formats for precision in precisions]
    with progress_bar("Exporting", 2 * len(jobs), lines=True) as advance:  # write, verify
        for fmt, precision in jobs:
            stop_point()
            entries.append(_export_one(bundle, fmt, precision, staging, images, calibration,
                                       advance))
    return entries


def _export_one(bundle, fmt, precision, out_dir, images, calibration, advance) -> ExportEntry:
    problem = precision_problem(fmt, precision)
    if problem:
        advance(2)
        return not_run_entry(fmt.name, precision, problem)
    advance(0, f"writing {fmt.name} {precision}")
    path = export_artifact(fmt, bundle, out_dir, precision, calibration)
    advance(1, f"verifying {fmt.name} {precision} in its runtime on {len(images.paths)} images")
    entry = verify_artifact(bundle, path, images)
    advance(1)
    return entry


def _compare_with_fp32(entries: list[ExportEntry]) -> None:
    """Set size_vs_fp32 and accuracy_change on every non-fp32 entry that exists."""
    fp32 = {e.format: e for e in entries if e.precision == "fp32"}
    for entry in entries:
        base = fp32.get(entry.format)
        if entry.precision == "fp32" or not base or entry.bytes is None:
            continue
        entry.size_vs_fp32 = entry.bytes / base.bytes
        if entry.accuracy is not None and base.accuracy is not None:
            entry.accuracy_change = entry.accuracy - base.accuracy


def sample_images() -> VerificationSet:
    """The bundled sample pictures, unlabelled: inputs for checking an ImageNet export."""

    paths = sorted(sample_data_dir().glob("*/*.png"))[::10]
    return VerificationSet(paths, [None] * len(paths),
                           f"{len(paths)} bundled sample images (agreement only: no ImageNet labels)")


def _output_folder(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        kind = "a file" if out_dir.is_file() else "not a folder"
        raise ExportError(f"{out_dir} is {kind}; pass a folder for the exports")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ExportError(f"cannot create {out_dir} ({error.strerror}); choose another --out") from None
    probe = out_dir / ".pocketvision-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        raise ExportError(f"folder {out_dir} is not writable; choose another --out") from None
    return out_dir


def _choose(formats: list[str] | str):
    """The formats to export now, and report entries for those skipped under ``all``."""
    names = [formats] if isinstance(formats, str) else list(formats)
    if ALL in names:
        available = [s for s in list_formats() if not missing_modules(s)]
        skipped = [_skipped(s) for s in list_formats() if missing_modules(s)]
        return available, skipped
    chosen = [get_format(name) for name in names]  # unknown names fail before any work
    require(*chosen)
    return chosen, []


def _skipped(fmt) -> ExportEntry:
    return not_run_entry(fmt.name, "fp32", f"{', '.join(missing_modules(fmt))} not installed: "
                                            f"{install_command(fmt.extra)}")


def _write_golden(bundle: Bundle, images: VerificationSet, out_dir: Path) -> dict:
    source = images.paths[0]
    cropped = resize_and_crop(load_rgb(source, at_least=bundle.preprocessing.resize),
                              bundle.preprocessing)
    cropped.save(out_dir / "golden.png")
    probabilities = images.references(bundle)[0]
    golden = {"image": "golden.png", "source": str(source),
              "note": "already resized and cropped: feed it as is, divided by 255",
              "probabilities": {label: float(p) for label, p in zip(bundle.labels, probabilities)}}
    novelty = images.reference_novelty(bundle)
    if novelty is not None:  # what the files that give novelty must give for it
        golden["novelty"] = float(novelty[0])
    write_atomically(out_dir / "golden.json", json.dumps(golden, indent=2).encode())
    return golden
