"""``pocketvision export``: write each format, verify each in its runtime, report.

Writes into the output folder one artifact per format, ``report.json`` and
``report.md``, and a golden image (``golden.png``, already resized and cropped)
with the probabilities the trained model gives it (``golden.json``), so an app
developer can check an integration on the device.
"""

from __future__ import annotations

import json
from pathlib import Path

from pocketvision.bundle import Bundle, load_bundle
from pocketvision.cache import write_atomically
from pocketvision.errors import ExportError
from pocketvision.exporters import export_artifact, get_exporter, list_exporters, missing_modules
from pocketvision.exporters.registry import require
from pocketvision.verify import VerificationSet, verification_set, verify_artifact

ALL = "all"


def export(bundle: Bundle | Path | str, out_dir: Path | str, formats: list[str] | str = ALL,
           verify_dir: Path | None = None) -> dict:
    """Export ``bundle`` to ``formats`` under ``out_dir``; return the report."""
    bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    specs, skipped = _choose(formats)  # bad names fail before anything is written
    out_dir = _output_folder(Path(out_dir))
    images = verification_set(bundle, verify_dir)
    entries = [verify_artifact(bundle, spec.name, export_artifact(spec, bundle, out_dir), images)
               for spec in specs]
    report = {"bundle": str(bundle.path), "labels": bundle.labels, "image_source": images.source,
              "exports": entries + skipped, "golden": _write_golden(bundle, images, out_dir)}
    write_atomically(out_dir / "report.json", json.dumps(report, indent=2).encode())
    write_atomically(out_dir / "report.md", render_markdown(report).encode())
    return report


def _output_folder(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file; pass a folder for the exports")
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
    """Specs to export now, and report entries for formats skipped under ``all``."""
    names = [formats] if isinstance(formats, str) else list(formats)
    if ALL in names:
        available = [s for s in list_exporters() if not missing_modules(s)]
        skipped = [_skipped(s) for s in list_exporters() if missing_modules(s)]
        return available, skipped
    specs = [get_exporter(name) for name in names]  # unknown names fail before any work
    for spec in specs:
        require(spec)
    return specs, []


def _skipped(spec) -> dict:
    why = (f"{', '.join(missing_modules(spec))} not installed: "
           f"pip install 'pocketvision[{spec.extra}]'")
    return {"format": spec.name, "precision": "fp32", "path": None, "bytes": None,
            "runtime": None, "ran": False, "why_not_ran": why, "top1_agreement": None,
            "max_prob_diff": None, "accuracy": None, "reference_accuracy": None,
            "latency_ms": None, "notes": []}


def _write_golden(bundle: Bundle, images: VerificationSet, out_dir: Path) -> dict:

    from pocketvision.images import load_rgb
    from pocketvision.preprocessing import load_tensor, resize_and_crop

    source = images.paths[0]
    cropped = resize_and_crop(load_rgb(source, at_least=bundle.preprocessing.resize),
                              bundle.preprocessing)
    cropped.save(out_dir / "golden.png")
    probabilities = bundle.predict_tensors(load_tensor(source, bundle.preprocessing)[None])[0]
    golden = {"image": "golden.png", "source": str(source),
              "note": "already resized and cropped: feed it as is, divided by 255",
              "probabilities": {label: float(p) for label, p in zip(bundle.labels, probabilities)}}
    write_atomically(out_dir / "golden.json", json.dumps(golden, indent=2).encode())
    return golden


def render_markdown(report: dict) -> str:
    lines = [f"# Export report for {report['bundle']}", "",
             f"Verified on {report['image_source']}.", "",
             "| format | precision | ran | top-1 agreement | max prob diff | accuracy | "
             "reference accuracy | latency (ms) | size (KB) | runtime |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for e in report["exports"]:
        if not e["ran"]:
            lines.append(f"| {e['format']} | {e['precision']} | no: {e['why_not_ran']} "
                         "| | | | | | | |")
            continue
        lines.append(
            f"| {e['format']} | {e['precision']} | yes | {e['top1_agreement']:.1%} | "
            f"{e['max_prob_diff']:.2e} | {_fmt(e['accuracy'])} | {_fmt(e['reference_accuracy'])} | "
            f"{e['latency_ms']:.2f} | {e['bytes'] / 1024:.0f} | {e['runtime']} |")
    notes = [f"- {e['format']}: {note}" for e in report["exports"] for note in e.get("notes", [])]
    if notes:
        lines += ["", "Notes:", *notes]
    return "\n".join(lines) + "\n"


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"
