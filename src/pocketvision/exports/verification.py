"""Prove that an export gives the trained model's answers, in its real runtime.

For each image, the bundle classifies it through the Python pipeline
(preprocessing from the bundle), and the export's runner classifies it with the
input prepared from the contract *read back from the exported file*. The report
gives top-1 agreement (by label name, so a shuffled label list fails), the largest
probability difference, accuracy of both, file size and latency.
"""

from __future__ import annotations

import dataclasses
import stat
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.cache import default_cache_dir, file_sha256
from pocketvision.config import ExportConfig
from pocketvision.data.dataset import labelled_images
from pocketvision.data.preprocessing import load_tensor
from pocketvision.errors import RuntimeUnavailable
from pocketvision.exports.contract import artifact_input
from pocketvision.exports.formats import Runner, format_for_file, load_runner
from pocketvision.exports.report import ExportEntry
from pocketvision.model.bundle import Bundle

REFERENCE_INPUTS = 16
MAX_RECORDS = 20_000  # image records of a bundle's header looked at (a real one has fewer)
MAX_IMAGE_BYTES = 100 * 2**20  # a recorded image larger than this is not looked for


@dataclass
class VerificationSet:
    """What exports are checked on: image files (with labels when known)."""

    paths: list[Path]
    labels: list[str | None]
    source: str
    _references: dict = field(default_factory=dict, repr=False, compare=False)

    def references(self, bundle: Bundle) -> np.ndarray:
        """The trained model's probabilities (N, classes) for these images, computed
        once per bundle however many exports are checked against them."""
        return self._computed(bundle)[1]

    def reference_novelty(self, bundle: Bundle) -> np.ndarray | None:
        """The trained model's novelty (N,) for these images (None without one)."""
        return self._computed(bundle)[2]

    def _computed(self, bundle: Bundle) -> tuple:
        if id(bundle) not in self._references:  # the bundle is kept, so its id stays its own
            import torch

            spec = bundle.preprocessing
            with torch.inference_mode():
                features = torch.cat([bundle.model.backbone(load_tensor(p, spec)[None])
                                      for p in self.paths])
                probabilities = bundle.model.head(features).softmax(dim=-1).numpy()
            novelty = bundle.novelty
            scores = None if novelty is None else novelty.score(features.numpy(), probabilities)
            self._references[id(bundle)] = (bundle, probabilities, scores)
        return self._references[id(bundle)]


def verification_set(bundle: Bundle, verify_dir: Path | None = None) -> VerificationSet:
    """``verify_dir/<class>/`` if given; else the validation images recorded in the
    bundle that still exist unchanged; else generated reference images."""
    if verify_dir is not None:
        samples, _ = labelled_images(Path(verify_dir), bundle.labels)
        return VerificationSet([s.path for s in samples], [s.label for s in samples],
                               f"images under {verify_dir}")
    present = [(Path(r.path), r.label)
               for r in unchanged_records(bundle.meta.validation_images, bundle.path)]
    if present:
        return VerificationSet([p for p, _ in present], [label for _, label in present],
                               f"{len(present)} validation images recorded in the bundle")
    return VerificationSet(_reference_images(bundle), [None] * REFERENCE_INPUTS,
                           "generated reference images (the bundle's validation images are gone)")


def calibration_inputs(bundle: Bundle, fallback: VerificationSet,
                       limit: int = ExportConfig.calibration_images) -> tuple[list, str]:
    """Export inputs (1, 3, crop, crop) in 0..1 that set int8 activation ranges.

    The training images recorded in the bundle (unchanged ones, spread evenly over
    the list, at most ``limit``), so the images that measure an int8
    export's accuracy never tuned it; if they are gone, the verification images,
    and the source string says so.
    """
    recorded = [Path(r.path) for r in unchanged_records(bundle.meta.training_images, bundle.path)]
    paths, source = recorded, f"{len(recorded)} training images recorded in the bundle"
    if not recorded:
        paths, source = fallback.paths, f"the verification images ({fallback.source})"
    step = max(1, len(paths) // limit)
    chosen = paths[::step][:limit]
    from pocketvision.exports.graph import export_inputs

    return export_inputs(bundle, chosen), f"{len(chosen)} of {source}"


def artifact_bytes(path: Path) -> int:
    """Size of a file, or of a package folder (.mlpackage) with everything inside."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def unchanged_records(records: list, bundle_path: Path | None) -> list:
    """The bundle's image records whose files are still there, unchanged, with their
    paths made absolute (a bundle from the phone records paths relative to its own
    folder). A header is the file's text, so it is not trusted: at most
    MAX_RECORDS records are looked at, each file is hashed once however often it is
    named, and what is not a regular file of at most MAX_IMAGE_BYTES is skipped."""
    base = Path(bundle_path).resolve().parent if bundle_path else Path.cwd()
    hashes: dict[Path, str | None] = {}
    kept = []
    for record in records[:MAX_RECORDS]:
        path = base / record.path  # an absolute record.path stays as it is
        if path not in hashes:
            hashes[path] = _image_sha256(path)
        if hashes[path] == record.sha256:
            kept.append(dataclasses.replace(record, path=str(path)))
    return kept


def _image_sha256(path: Path) -> str | None:
    """The file's SHA-256, or None when it is not a regular file of a picture's size
    (a device, a FIFO, /proc/self/mem, 300 MB) or cannot be read."""
    try:
        found = path.stat()
        if not stat.S_ISREG(found.st_mode) or not 0 < found.st_size <= MAX_IMAGE_BYTES:
            return None
        return file_sha256(path)
    except OSError:
        return None


def _reference_images(bundle: Bundle) -> list[Path]:
    """Deterministic smooth random pictures, written once to the cache."""
    from PIL import Image

    folder = default_cache_dir() / "reference-images"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    paths = []
    for k in range(REFERENCE_INPUTS):
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        path = folder / f"reference-{k:02d}.png"
        if not path.exists():
            Image.fromarray(coarse).resize((320, 240), Image.Resampling.BICUBIC).save(path)
        paths.append(path)
    return paths


def verify_artifact(bundle: Bundle, path: Path, images: VerificationSet) -> ExportEntry:
    """Run the export on every image and compare with the bundle; one report entry."""
    # the file in its own runtime, or why it cannot run here
    try:
        runner = load_runner(path)
    except RuntimeUnavailable as missing:
        return not_run_entry(format_for_file(path).name, missing.contract.get("precision", "fp32"),
                             str(missing), path=path, runtime=missing.runtime)
    return verify_runner(bundle, runner, images, path, format_for_file(path).name)


def verify_runner(bundle: Bundle, runner: Runner, images: VerificationSet, path: Path,
                  export_format: str) -> ExportEntry:
    """Run ``runner`` (the export at ``path``, loaded) on every image and compare."""
    # a file that computes novelty answers both in one run, checked against the bundle's
    reference_novelty = images.reference_novelty(bundle)
    checks_novelty = runner.run_with_novelty is not None and reference_novelty is not None
    tally = _Tally(bundle.labels, runner.contract["labels"], 0.0 if checks_novelty else None)

    # every image: prepared from the contract read back from the file, run, compared
    for k, (image_path, truth, reference) in enumerate(
            zip(images.paths, images.labels, images.references(bundle))):
        prepared = artifact_input(image_path, runner.contract)
        started = time.perf_counter()
        if checks_novelty:
            theirs, novelty = runner.run_with_novelty(prepared)
            tally.novelty(novelty, float(reference_novelty[k]))
        else:
            theirs = runner.run(prepared)
        tally.latencies.append((time.perf_counter() - started) * 1000)
        tally.answer(reference, np.asarray(theirs, np.float64), truth)

    # one line of the report
    return ExportEntry(
        format=export_format, precision=runner.contract.get("precision", "fp32"),
        path=str(path), bytes=artifact_bytes(path), runtime=runner.runtime, ran=True,
        images=len(images.paths), image_source=images.source,
        top1_agreement=tally.agree / len(images.paths), max_prob_diff=tally.max_diff,
        max_novelty_diff=tally.novelty_diff,
        accuracy=tally.theirs_right / tally.known if tally.known else None,
        reference_accuracy=tally.ours_right / tally.known if tally.known else None,
        latency_ms=statistics.median(tally.latencies[1:] or tally.latencies),  # 1st run warms up
        notes=runner.contract.get("notes", []))


@dataclass
class _Tally:
    """What verification counts over the images: the bundle's answers (``ours``)
    against the export's (``theirs``, with labels read from the file)."""

    ours: list[str]
    theirs: list[str]
    novelty_diff: float | None
    agree: int = 0
    max_diff: float = 0.0
    known: int = 0  # images with a label
    ours_right: int = 0
    theirs_right: int = 0
    latencies: list[float] = field(default_factory=list)

    def answer(self, reference: np.ndarray, theirs: np.ndarray, truth: str | None) -> None:
        ours_label = self.ours[int(reference.argmax())]
        their_label = self.theirs[int(theirs.argmax())]
        self.agree += ours_label == their_label
        self.max_diff = max(self.max_diff,
                            _aligned_difference(reference, self.ours, theirs, self.theirs))
        if truth is not None:
            self.known += 1
            self.ours_right += ours_label == truth
            self.theirs_right += their_label == truth

    def novelty(self, theirs: float, ours: float) -> None:
        self.novelty_diff = max(self.novelty_diff, abs(theirs - ours))


def not_run_entry(export_format: str, precision: str, why: str, path: Path | None = None,
                  runtime: str | None = None) -> ExportEntry:
    """A report entry for an export that was skipped or could not be executed here."""
    return ExportEntry(format=export_format, precision=precision,
                       path=None if path is None else str(path),
                       bytes=None if path is None else artifact_bytes(path), runtime=runtime,
                       why_not_ran=why)


def _aligned_difference(reference, reference_labels, theirs, their_labels) -> float:
    """Largest |p_ours - p_theirs| matching classes by name; 1.0 if the names differ."""
    if sorted(reference_labels) != sorted(their_labels) or len(theirs) != len(reference):
        return 1.0
    order = [their_labels.index(name) for name in reference_labels]
    return float(np.abs(reference - theirs[order]).max())
