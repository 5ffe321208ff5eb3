"""Pictures of an evaluation: confusion matrix, misclassified gallery, calibration."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np

from pocketvision.data.images import load_rgb

GALLERY_LIMIT = 36
INK, MUTED, ACCENT, WRONG = "#1f2933", "#7b8794", "#2563eb", "#dc2626"


def write_report(evaluation, out: Path) -> dict[str, Path]:
    """Write the pictures and ``evaluation.json`` to ``out``; return name -> path."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "confusion_matrix": _confusion_png(evaluation, out / "confusion_matrix.png"),
        "misclassified": _gallery_png(evaluation, out / "misclassified.png"),
        "calibration": _calibration_png(evaluation, out / "calibration.png"),
    }
    summary = dict(evaluation.to_json(), report={k: str(v) for k, v in written.items()})
    (out / "evaluation.json").write_text(json.dumps(summary, indent=2))
    written["json"] = out / "evaluation.json"
    return written


def _confusion_png(evaluation, path: Path) -> Path:
    import matplotlib.pyplot as plt

    classes, confusion = evaluation.classes, np.array(evaluation.metrics["confusion"])
    rows = confusion.sum(axis=1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape, float), where=rows > 0)
    side = max(4.5, 0.7 * len(classes) + 2.5)
    figure, axes = plt.subplots(figsize=(side + 1, side), dpi=130)
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(confusion):
        if count or i == j:
            colour = "white" if share[i, j] > 0.55 else INK
            axes.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=11)
    ticks = range(len(classes))
    axes.set_xticks(ticks, classes, rotation=45, ha="right")
    axes.set_yticks(ticks, classes)
    axes.set_xlabel("predicted", color=MUTED)
    axes.set_ylabel("true", color=MUTED)
    accuracy = evaluation.metrics["accuracy"]
    axes.set_title(f"Confusion matrix · accuracy {accuracy:.1%} on {len(evaluation.paths)} images",
                   color=INK, fontsize=12, pad=12)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    return _save(figure, path)


def _gallery_png(evaluation, path: Path) -> Path:
    """The misclassified images, most confident first; when there are none, the
    correct answers the model was least sure of (the next to go wrong)."""
    wrong = evaluation.misclassified()
    total = len(evaluation.paths)
    if wrong:
        shown, colour = wrong[:GALLERY_LIMIT], WRONG
        more = f" (most confident {len(shown)} shown)" if len(wrong) > len(shown) else ""
        title = f"Misclassified: {len(wrong)} of {total}{more}"
    else:
        shown, colour = evaluation.least_confident_correct(12), ACCENT
        title = f"No misclassified images: all {total} correct. Least confident answers:"
    return _image_grid(shown, title, colour, path)


def _image_grid(shown, title: str, colour: str, path: Path) -> Path:
    import matplotlib.pyplot as plt

    columns = max(1, min(6, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    figure, grid = plt.subplots(rows, columns, figsize=(max(2.3 * columns, 6), 3.0 * rows + 0.6),
                                dpi=130, squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, (image_path, truth, predicted, probability) in zip(grid.flat, shown):
        axes.imshow(_thumbnail(image_path))
        axes.set_title(f"{_named(Path(image_path))}\ntrue: {truth}\n"
                       f"predicted: {predicted} ({_confidence(probability)})",
                       fontsize=9, color=colour, loc="left")
    figure.suptitle(title, color=INK, fontsize=13, x=0.02, ha="left")
    return _save(figure, path)


def _named(path: Path) -> str:
    """A picture as people find it again: its class folder and file name
    (IMG_2001.jpg is in two classes often enough)."""
    folder = path.parent.name if len(path.parent.name) <= 12 else f"{path.parent.name[:11]}…"
    return f"{folder}/{_short(path.name, 22)}"  # fits under a tile


def _short(name: str, limit: int = 26) -> str:
    """A file name that fits under a thumbnail: its start and its end."""
    return name if len(name) <= limit else f"{name[:12]}…{name[-(limit - 13):]}"


def _calibration_png(evaluation, path: Path) -> Path:
    import matplotlib.pyplot as plt

    bins = evaluation.metrics["calibration_bins"]
    figure, axes = plt.subplots(figsize=(5.4, 5.8), dpi=130)
    axes.plot([0, 1], [0, 1], linestyle="--", color=MUTED, label="perfectly calibrated")
    centres = [b["confidence"] for b in bins]
    counts = np.array([b["count"] for b in bins], float)
    axes.plot(centres, [b["accuracy"] for b in bins], color=ACCENT, linewidth=1, alpha=0.6)
    # dot area follows the number of images: a bin of one image is a small dot
    axes.scatter(centres, [b["accuracy"] for b in bins], s=12 + 160 * np.sqrt(counts / counts.max()),
                 color=ACCENT, zorder=3, label="model (dot size: images)")
    for b in bins:
        left = b["confidence"] > 0.85  # keep the count inside the frame
        axes.annotate(str(b["count"]), (b["confidence"], b["accuracy"]), fontsize=8,
                      color=MUTED, textcoords="offset points", xytext=(-14 if left else 6, -12))
    axes.set_xlim(0, 1.05)
    axes.set_ylim(-0.03, 1.05)
    axes.set_xlabel("confidence of the top class")
    axes.set_ylabel("accuracy")
    axes.set_title(f"Calibration · expected calibration error {evaluation.metrics['ece']:.3f}",
                   fontsize=11, color=INK)
    axes.legend(loc="upper left", frameon=False)
    count = len(evaluation.paths)
    note = ("Images grouped by how sure the model was (x); each dot shows how often it was "
            "right (y) and, beside it, how many images. On the dashed line, a 90 % answer "
            "is right 90 % of the time.")
    if count < 100:
        note += f" Only {count} images: each dot rests on few of them, so read it loosely."
    figure.text(0.02, 0.01, note, fontsize=8, color=MUTED, wrap=True, ha="left", va="bottom")
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    return _save(figure, path, layout=False)


def _thumbnail(path: Path, size: int = 160) -> np.ndarray:
    image = load_rgb(path, at_least=size)
    image.thumbnail((size, size))
    if max(image.size) < size // 2:  # tiny images (e.g. 28x28) are easier to see enlarged
        scale = size // max(image.size)
        image = image.resize((image.width * scale, image.height * scale), 0)  # nearest
    return np.asarray(image)


def _save(figure, path: Path, layout: bool = True) -> Path:
    import matplotlib.pyplot as plt

    if layout:
        figure.tight_layout()
    figure.savefig(path, facecolor="white")
    plt.close(figure)
    return path


FINDINGS_SHOWN = 24  # thumbnails per picture


def write_findings(diagnosis, out: Path) -> dict[str, Path]:
    """One picture per kind of finding that names files: thumbnails with file names
    and what is wrong; plus ``doctor.json``. Returns name -> path."""
    import matplotlib

    matplotlib.use("Agg")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind in dict.fromkeys(f.kind for f in diagnosis.findings):
        found = [f for f in diagnosis.findings if f.kind == kind and f.paths]
        if found:
            written[kind] = _findings_png(kind, found, out / f"{kind}.png")
    (out / "doctor.json").write_text(json.dumps(diagnosis.to_json(), indent=2))
    written["json"] = out / "doctor.json"
    return written


def _findings_png(kind: str, findings: list, path: Path) -> Path:
    """Each finding is a row: its images side by side, captioned."""
    import matplotlib.pyplot as plt

    shown = findings[:FINDINGS_SHOWN // 2 if kind in ("duplicate", "leak") else FINDINGS_SHOWN]
    tiles = [(Path(p), f) for f in shown for p in f.paths]
    columns = 2 if kind in ("duplicate", "leak") else max(1, min(6, len(tiles)))
    rows = max(1, math.ceil(len(tiles) / columns))
    figure, grid = plt.subplots(rows, columns, figsize=(max(2.6 * columns, 6), 3.0 * rows + 0.7),
                                dpi=110, squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, (image_path, finding) in zip(grid.flat, tiles):
        try:
            axes.imshow(_thumbnail(image_path))
        except Exception:  # an unreadable file is itself a finding: show its name only
            pass
        caption = _named(image_path)
        if kind == "unreadable":  # there is no picture: say why
            caption += "\n" + "\n".join(textwrap.wrap(_short(finding.why, 90), 30))
        elif finding.suggested:
            caption += f"\nlooks like {finding.suggested!r}"
        axes.set_title(caption, fontsize=8, color=WRONG, loc="left")
    more = f" ({len(shown)} of {len(findings)} shown)" if len(findings) > len(shown) else ""
    titles = {"mislabeled": "Probably mislabeled", "duplicate": "The same picture twice",
              "leak": "Validation images that are training images", "outlier": "Unlike the rest of their class",
              "unreadable": "Not usable as images"}
    figure.suptitle(f"{titles.get(kind, kind)}: {len(findings)}{more}", color=INK, fontsize=12,
                    x=0.02, ha="left")
    return _save(figure, path)


def _confidence(probability: float) -> str:
    """A probability as a percentage with the digits that tell it from 100 %
    (0.99996 is "99.996%", not "100%")."""
    if probability >= 0.995 and probability < 1.0:
        digits = min(6, max(1, -int(math.floor(math.log10(1.0 - probability))) - 2))
        return f"{100 * probability:.{digits}f}%"
    return f"{probability:.0%}"
