"""The exporter registry: format names a user types -> how to write that file.

Each format lives in its own module and imports its heavy library inside its
functions; a missing library is reported with the pip extra that installs it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pocketvision.errors import ExportError, MissingExtraError


@dataclass(frozen=True)
class ExporterSpec:
    """One export format.

    Attributes:
        name: what the user types after ``--format``.
        suffix: the artifact's file suffix.
        description: one line for listings.
        modules: importable modules the exporter needs.
        extra: the pip extra that installs them (``pip install pocketvision[extra]``).
        export: ``(bundle, path, precision, calibration) -> path``; writes the
            artifact with the contract inside. ``calibration`` is a list of export
            inputs (1, 3, crop, crop) in 0..1 for int8 range calibration.
        inspect: ``path -> contract``, read back with the format's own library.
        precisions: what it can write: "fp32" and any of "fp16", "int8".
    """

    name: str
    suffix: str
    description: str
    modules: tuple[str, ...]
    extra: str
    export: Callable
    inspect: Callable
    precisions: tuple[str, ...] = ("fp32",)


_REGISTRY: dict[str, ExporterSpec] = {}


def register_exporter(spec: ExporterSpec) -> ExporterSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"exporter {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def list_exporters() -> list[ExporterSpec]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_exporter(name: str) -> ExporterSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise ExportError(f"unknown export format {name!r}; choose from: {known}, or all") from None


def exporter_for_file(path: Path) -> ExporterSpec:
    """The exporter whose artifacts have ``path``'s suffix."""
    for spec in _REGISTRY.values():
        if Path(path).name.endswith(spec.suffix):
            return spec
    suffixes = ", ".join(sorted(s.suffix for s in _REGISTRY.values()))
    raise ExportError(f"{path}: not an export pocketvision knows (expected one of: {suffixes})")


def missing_modules(spec: ExporterSpec) -> list[str]:
    return [m for m in spec.modules if importlib.util.find_spec(m) is None]


def require(spec: ExporterSpec) -> None:
    """Raise MissingExtraError naming the install command when a library is absent."""
    missing = missing_modules(spec)
    if missing:
        raise MissingExtraError.needing(f"exporting {spec.name} needs {', '.join(missing)}", spec.extra)


def artifact_name(spec: ExporterSpec, precision: str = "fp32") -> str:
    """``model.onnx`` for fp32, ``model-int8.onnx`` for the others."""
    return f"model{'' if precision == 'fp32' else '-' + precision}{spec.suffix}"


def export_artifact(spec: ExporterSpec, bundle, out_dir: Path, precision: str = "fp32",
                    calibration: list | None = None) -> Path:
    require(spec)
    if precision not in spec.precisions:
        raise ExportError(f"{spec.name} cannot be exported as {precision} "
                          f"(it supports {', '.join(spec.precisions)})")
    out_dir.mkdir(parents=True, exist_ok=True)
    return spec.export(bundle, out_dir / artifact_name(spec, precision), precision, calibration)
