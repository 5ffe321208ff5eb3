"""The format registry: the names a user types after ``--format`` -> everything
pocketvision knows about that kind of file.

Each format lives in one module of this package that writes the file
(``export``), reads its contract back with the format's own library
(``inspect``) and runs it in the format's real runtime (``load``), and
registers all three here once. Heavy libraries are imported inside those
functions; a missing one is reported with the pip extra that installs it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from pocketvision.errors import ExportError, MissingExtraError, converter_errors, unknown_name


@dataclass
class Runner:
    """An exported file loaded in its runtime.

    Attributes:
        contract: the self-description read back from the file.
        runtime: "<package> <version>" of the runtime that executes it.
        run: one input prepared per the contract -> probabilities (classes,).
        run_with_novelty: for files that compute novelty, the same input ->
            (probabilities, novelty 0..1) from one run of the file.
    """

    contract: dict
    runtime: str
    run: Callable[[np.ndarray], np.ndarray]
    run_with_novelty: Callable[[np.ndarray], tuple[np.ndarray, float]] | None = None


@dataclass(frozen=True)
class Format:
    """One export format.

    Attributes:
        name: what the user types after ``--format``.
        suffix: the artifact's file suffix.
        description: one line for listings.
        modules: importable modules the format needs.
        extra: the pip extra that installs them (``pip install pocketvision[extra]``).
        export: ``(bundle, path, precision, calibration) -> path``; writes the
            artifact with the contract inside. ``calibration`` is a list of export
            inputs (1, 3, crop, crop) in 0..1 for int8 range calibration.
        inspect: ``path -> contract``, read back with the format's own library.
        load: ``path -> Runner``; raises RuntimeUnavailable where the runtime does
            not exist on this platform.
        precisions: what it can write: "fp32" and any of "fp16", "int8".
    """

    name: str
    suffix: str
    description: str
    modules: tuple[str, ...]
    extra: str
    export: Callable
    inspect: Callable[[Path], dict]
    load: Callable[[Path, int | None], Runner]
    precisions: tuple[str, ...] = ("fp32",)


_REGISTRY: dict[str, Format] = {}


def register_format(fmt: Format) -> Format:
    if fmt.name in _REGISTRY:
        raise ValueError(f"export format {fmt.name!r} is registered twice")
    _REGISTRY[fmt.name] = fmt
    return fmt


def list_formats() -> list[Format]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_format(name: str) -> Format:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ExportError(unknown_name("export format", name, format_names())) from None


def format_names() -> list[str]:
    """What ``--format`` accepts: every registered format, ``web`` (the web app
    around the bundle) and ``all`` (every registered format whose libraries are
    installed; not ``web``, which is a site rather than a model file: ``all,web``)."""
    return [*sorted(_REGISTRY), "web", "all"]


def format_for_file(path: Path) -> Format:
    """The format whose artifacts have ``path``'s suffix."""
    for fmt in _REGISTRY.values():
        if Path(path).name.endswith(fmt.suffix):
            return fmt
    suffixes = ", ".join(sorted(s.suffix for s in _REGISTRY.values()))
    raise ExportError(f"{path}: not an export pocketvision knows (expected one of: {suffixes})")


def load_runner(path: Path, threads: int | None = None) -> Runner:
    """The exported file at ``path``, loaded in its format's runtime (on ``threads``
    threads; the runtime's own choice, one per core, when None)."""
    runner = format_for_file(path).load(Path(path), threads)
    return dataclasses.replace(runner, run=_guarded(runner.run, path, runner.runtime),
                               run_with_novelty=runner.run_with_novelty and _guarded(
                                   runner.run_with_novelty, path, runner.runtime))


def _guarded(run: Callable, path: Path, runtime: str) -> Callable:
    """``run``, with a runtime's own failure (a damaged file that loaded: a bit flipped
    in a .tflite's or .pte's weights) said in one line, as a failed load is."""
    def guarded(image):
        with converter_errors(f"{path} loaded but fails to run in {runtime}, so the file is "
                              "damaged: export it again"):
            return run(image)
    return guarded


def missing_modules(fmt: Format) -> list[str]:
    return [m for m in fmt.modules if importlib.util.find_spec(m) is None]


def require(*formats: Format) -> None:
    """Raise MissingExtraError naming the install command when a library is absent:
    every missing one of ``formats`` at once, not one per try."""
    missing = [(fmt, missing_modules(fmt)) for fmt in formats if missing_modules(fmt)]
    if missing:
        needs = "; ".join(f"exporting {fmt.name} needs {', '.join(modules)}"
                          for fmt, modules in missing)
        raise MissingExtraError.needing(needs, ",".join(dict.fromkeys(s.extra for s, _ in missing)))


def artifact_name(fmt: Format, precision: str = "fp32") -> str:
    """``model.onnx`` for fp32, ``model-int8.onnx`` for the others."""
    return f"model{'' if precision == 'fp32' else '-' + precision}{fmt.suffix}"


# torch.export and the converters built on it are not thread-safe (two at once in
# the studio failed both); conversions take turns, in any thread of the process.
_CONVERSION = threading.Lock()


def precision_problem(fmt: Format, precision: str) -> str | None:
    """Why ``fmt`` cannot be written at ``precision``, or None when it can."""
    if precision in fmt.precisions:
        return None
    return f"{fmt.name} has no {precision} export (it supports {', '.join(fmt.precisions)})"


def export_artifact(fmt: Format, bundle, out_dir: Path, precision: str = "fp32",
                    calibration: list | None = None) -> Path:
    require(fmt)
    problem = precision_problem(fmt, precision)
    if problem:
        raise ExportError(problem)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _CONVERSION:
        return fmt.export(bundle, out_dir / artifact_name(fmt, precision), precision, calibration)
