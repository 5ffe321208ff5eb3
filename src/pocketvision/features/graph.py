"""The frozen backbone as an ONNX graph run by onnxruntime: how features are computed.

Why not PyTorch: onnxruntime runs EfficientNet-Lite0 about 1.5x faster than a
frozen TorchScript graph at our batch size (3x eager), imports in 0.1 s instead
of the 3 s torch and timm take, and does not collapse when another process
competes for the cores (its threads sleep instead of spinning). So training on a
known backbone, prediction, evaluation and ``control`` need no torch at all.

A graph is built once per set of backbone weights, with PyTorch (about a
second), and kept in ``<cache>/graphs/<name>-<weights hash>-<crop>/``:

* ``backbone.onnx``: images (B, 3, crop, crop), normalized -> features (B, F);
* ``body.safetensors``: the feature extractor's tensors, which every new bundle
  holds (so training writes a bundle without building the network);
* ``info.json``: name, weights hash, feature size, crop.

Pretrained weights are recognized by their file's SHA-256
(``<cache>/graphs/pretrained/<name>-<sha>.json`` names the graph); a bundle's by
the hash of the backbone tensors it holds. When a network cannot be exported,
the extractor runs it eagerly in PyTorch instead (same features within 1e-4).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from pocketvision.backbones import get_spec
from pocketvision.backbones.weights import weights_fingerprint
from pocketvision.cache import default_cache_dir, weights_hash, write_cache_entry
from pocketvision.errors import BundleError
from pocketvision.native_output import silenced

if TYPE_CHECKING:
    from pocketvision.backbones.network import Backbone

GRAPH_VERSION = 2  # bump when the way graphs are built changes (2: any input size)


@dataclass(frozen=True)
class GraphInfo:
    name: str
    weights_hash: str
    feature_dim: int
    crop: int
    version: int = GRAPH_VERSION


class FeatureExtractor(Protocol):
    """images (B, 3, crop, crop) float32, normalized -> features (B, F) float32."""

    info: GraphInfo

    def __call__(self, images: np.ndarray) -> np.ndarray: ...

    def body_tensors(self) -> dict[str, np.ndarray]: ...


class OnnxExtractor:
    """A cached backbone graph in an onnxruntime session (created on first use)."""

    def __init__(self, folder: Path, info: GraphInfo):
        self.folder, self.info = folder, info
        self._session = None

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if self._session is None:
            self._session = runtime_session(self.folder / "backbone.onnx")
        return self._session.run(None, {"image": np.ascontiguousarray(images, np.float32)})[0]

    def body_tensors(self) -> dict[str, np.ndarray]:
        from safetensors.numpy import load_file

        return load_file(str(self.folder / "body.safetensors"))


class EagerExtractor:
    """The PyTorch backbone itself: for networks the ONNX exporter cannot take."""

    def __init__(self, backbone: Backbone, info: GraphInfo):
        self.backbone, self.info = backbone, info

    def __call__(self, images: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.backbone(torch.from_numpy(np.ascontiguousarray(images))).numpy()

    def body_tensors(self) -> dict[str, np.ndarray]:
        return self.backbone.body_tensors()


def runtime_session(model: Path | bytes, threads: int | None = None):
    """An onnxruntime CPU session (for a model file, or its bytes) that stays fast when the cores are contended:
    one thread per core (or ``threads``), and threads that sleep rather than spin
    while they wait (spinning threads of two busy processes slow each other down)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initializers are not the user's
    model = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def pretrained_extractor(name: str, weights: Path | None, crop: int,
                         cache_root: Path | None = None) -> FeatureExtractor:
    """The extractor of a registered backbone with its pretrained (or given) weights."""

    spec = get_spec(name)
    root = _graphs(cache_root)
    fingerprint = weights_fingerprint(spec, weights)
    index = None
    if fingerprint is not None:
        index = root / "pretrained" / f"{name}-{fingerprint[:24]}.json"
        known = _read_json(index)
        if known and (found := _cached(root, name, known.get("weights_hash"), crop)):
            return found

    def build():
        from pocketvision.backbones.network import create_backbone

        return create_backbone(name, weights)

    extractor = _build(root, build, crop)
    if index is not None:
        write_cache_entry(index, json.dumps({"weights_hash": extractor.info.weights_hash}).encode())
    return extractor


def bundle_extractor(name: str, body: dict[str, np.ndarray], crop: int,
                     cache_root: Path | None = None) -> FeatureExtractor:
    """The extractor for a bundle's backbone tensors (``body``: without the
    ``backbone.body.`` prefix), built from them the first time they are seen."""
    root = _graphs(cache_root)
    found = _cached(root, name, weights_hash(body), crop)
    if found:
        return found

    def build():
        from pocketvision.backbones.network import create_backbone

        backbone = create_backbone(name, pretrained=False)
        try:
            backbone.load_body(body)
        except RuntimeError as error:  # missing, unexpected or misshapen tensors
            raise BundleError(f"the bundle's backbone tensors do not match {name} "
                              f"({str(error).splitlines()[0][:120]}); train it again") from None
        return backbone

    return _build(root, build, crop)


def backbone_extractor(backbone: Backbone, cache_root: Path | None = None) -> FeatureExtractor:
    """The extractor for a backbone already built in PyTorch (e.g. fine-tuned)."""
    root = _graphs(cache_root)
    crop = backbone.preprocessing.crop
    return _cached(root, backbone.spec.name, backbone.weights_hash(), crop) or \
        _build(root, lambda: backbone, crop)


def _graphs(cache_root: Path | None) -> Path:
    return (cache_root or default_cache_dir()) / "graphs"


def _folder(root: Path, name: str, hash_: str, crop: int) -> Path:
    return root / f"{name}-{hash_[:24]}-{crop}"


_LOADED: dict[Path, OnnxExtractor] = {}  # one session per graph and process (studio retrains)


def _cached(root: Path, name: str, hash_: str | None, crop: int) -> OnnxExtractor | None:
    if not hash_:
        return None
    folder = _folder(root, name, hash_, crop)
    if folder in _LOADED and (folder / "info.json").is_file():
        return _LOADED[folder]
    info = _read_json(folder / "info.json")
    if not info or info.get("version") != GRAPH_VERSION or info.get("weights_hash") != hash_:
        return None
    if not (folder / "backbone.onnx").is_file() or not (folder / "body.safetensors").is_file():
        return None
    _LOADED[folder] = OnnxExtractor(folder, GraphInfo(**info))
    return _LOADED[folder]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # missing, or half-written by a killed run
        return None


def _build(root: Path, build: Callable[[], Backbone], crop: int) -> FeatureExtractor:
    """Build the network in PyTorch, export its graph and tensors to the cache,
    and return an extractor on the cached graph (eager PyTorch if export fails)."""
    from safetensors.numpy import save

    backbone = build()
    body = backbone.body_tensors()
    info = GraphInfo(backbone.spec.name, weights_hash(body), backbone.spec.feature_dim, crop)
    folder = _folder(root, info.name, info.weights_hash, crop)
    graph = _export_graph(backbone, crop)
    if graph is None:
        return EagerExtractor(backbone, info)
    write_cache_entry(folder / "backbone.onnx", graph)
    write_cache_entry(folder / "body.safetensors", save(body))
    write_cache_entry(folder / "info.json", json.dumps(asdict(info)).encode())  # last: marks it whole
    # read back as any later run will (None when the cache is not writable)
    return _cached(root, info.name, info.weights_hash, crop) or EagerExtractor(backbone, info)


def _export_graph(backbone: Backbone, crop: int) -> bytes | None:
    """ONNX bytes of ``backbone`` with a dynamic batch and input size, or None if no
    exporter takes it. One graph serves every crop: the phone studio ships this file and
    runs it on camera frames at the game's size as on stored pictures at the bundle's.

    The TorchScript-based exporter takes 0.4 s here against the dynamo exporter's
    8 s; the dynamo exporter is the fallback for torch versions without the other.
    """
    import tempfile
    import warnings

    import torch

    example = torch.zeros(2, 3, crop, crop)
    names = {"input_names": ["image"], "output_names": ["features"]}
    attempts = (
        dict(dynamo=False, dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                         "features": {0: "batch"}}),
        dict(dynamo=True, dynamic_shapes=({0: torch.export.Dim("batch"), 2: torch.export.Dim("height"),
                                           3: torch.export.Dim("width")},), external_data=False),
    )
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "backbone.onnx"
        for options in attempts:
            try:
                with silenced(), warnings.catch_warnings(), torch.no_grad():
                    warnings.simplefilter("ignore")
                    torch.onnx.export(backbone.eval(), (example,), str(target), **names, **options)
                return target.read_bytes()
            except Exception:  # this exporter cannot take the network: try the next one
                continue
    return None
