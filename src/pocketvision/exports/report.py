"""What ``pocketvision export`` reports: one ExportEntry per file and precision,
gathered in an ExportReport (``report.json``, ``report.md``, ``--json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

# Keys left out of an entry's JSON while they have no value: an export that did
# not run was checked on no images, and only non-fp32 files compare with fp32.
_ONLY_WHEN_SET = ("images", "image_source", "size_vs_fp32", "accuracy_change", "max_novelty_diff")


@dataclass
class ExportEntry:
    """One exported file (or one that could not be written or run here).

    Attributes:
        format, precision: what was asked for ("onnx", "int8").
        path, bytes: the file and its size (a folder's total for .mlpackage).
        runtime: "<package> <version>" that ran it, or would have.
        ran: False when the runtime is not on this machine or the file was not
            written; ``why_not_ran`` says why. A file that did not run never counts
            as verified.
        images, image_source: how many images it was checked on, and which.
        top1_agreement: share of images where it picks the bundle's top label.
        max_prob_diff: largest |probability difference| from the bundle, by label.
        max_novelty_diff: largest |novelty difference| from the bundle, for files
            that compute novelty (all but Core ML).
        accuracy, reference_accuracy: the export's and the bundle's, when the
            images have labels.
        latency_ms: median time of one call in its runtime, batch 1.
        notes: what the exporter wants the user to know about this file.
        size_vs_fp32, accuracy_change: for fp16/int8 files, against the fp32 file.
    """

    format: str
    precision: str
    path: str | None = None
    bytes: int | None = None
    runtime: str | None = None
    ran: bool = False
    why_not_ran: str | None = None
    images: int | None = None
    image_source: str | None = None
    top1_agreement: float | None = None
    max_prob_diff: float | None = None
    max_novelty_diff: float | None = None
    accuracy: float | None = None
    reference_accuracy: float | None = None
    latency_ms: float | None = None
    notes: list[str] = field(default_factory=list)
    size_vs_fp32: float | None = None
    accuracy_change: float | None = None

    @property
    def file_name(self) -> str | None:
        return Path(self.path).name if self.path else None

    def to_json(self) -> dict:
        return {key: value for key, value in asdict(self).items()
                if value is not None or key not in _ONLY_WHEN_SET}


@dataclass
class ExportReport:
    """Everything one ``export`` run wrote and measured."""

    bundle: str
    labels: list[str]
    backbone_export: str | None  # the backbone name for an ImageNet export
    image_source: str
    calibration_source: str | None
    exports: list[ExportEntry]
    golden: dict

    def to_json(self) -> dict:
        return {"bundle": self.bundle, "labels": self.labels,
                "backbone_export": self.backbone_export, "image_source": self.image_source,
                "calibration_source": self.calibration_source,
                "exports": [entry.to_json() for entry in self.exports], "golden": self.golden}

    def to_markdown(self) -> str:
        lines = [f"# Export report for {self.bundle}", "", f"Verified on {self.image_source}."]
        if self.calibration_source:
            lines.append(f"int8 calibrated on {self.calibration_source}.")
        lines += ["", "| format | precision | ran | top-1 agreement | max prob diff | accuracy | "
                  "reference accuracy | latency (ms) | size (KB) | size vs fp32 | runtime |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        lines += [_markdown_row(e) for e in self.exports]
        notes = [f"- {e.format}: {note}" for e in self.exports for note in e.notes]
        notes += [f"- {e.format} {e.precision}: computes novelty (unknown detection) too; largest "
                  f"difference from the bundle's {e.max_novelty_diff:.2e}"
                  for e in self.exports if e.max_novelty_diff is not None]
        if notes:
            lines += ["", "Notes:", *notes]
        return "\n".join(lines) + "\n"


def _markdown_row(e: ExportEntry) -> str:
    size = "" if e.bytes is None else f"{e.bytes / 1024:.0f}"
    ratio = "" if e.size_vs_fp32 is None else f"{e.size_vs_fp32:.0%}"
    if not e.ran:
        return (f"| {e.format} | {e.precision} | no: {e.why_not_ran} "
                f"| | | | | | {size} | {ratio} | {e.runtime or ''} |")
    return (f"| {e.format} | {e.precision} | yes | {e.top1_agreement:.1%} | "
            f"{e.max_prob_diff:.2e} | {_percent(e.accuracy)} | {_percent(e.reference_accuracy)} | "
            f"{e.latency_ms:.2f} | {size} | {ratio} | {e.runtime} |")


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"
