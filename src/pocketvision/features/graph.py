"""The frozen backbone as an ONNX graph run by onnxruntime: how features are computed.

Why not PyTorch: onnxruntime runs EfficientNet-Lite0 about 1.5x faster than a
frozen TorchScript graph at our batch size (3x eager), imports in 0.1 s instead
of the 3 s torch and timm take, and does not collapse when another process
competes for the cores (its threads sleep instead of spinning). So training on a
known backbone, prediction, evaluation and ``control`` need no torch at all.

A graph folder holds:

* ``body.safetensors``: the feature extractor's tensors, which every new bundle
  holds (so training writes a bundle without building the network);
* ``backbone.onnx``: images (B, 3, H, W), normalized -> features (B, F), any size;
  its tensors are read from ``body.safetensors`` (ONNX external data), so the
  weights are on disk once, and batch norm stays a node of its own (onnxruntime
  folds it into the convolutions when it loads the graph);
* ``info.json``: name, weights hash, feature size, graph version.

A graph is known by one hash, its tensors' ``weights_hash``, and found by one lookup
(``_known``); a pretrained weights file's SHA-256 is only translated to that hash
(``_hash_of_file``: the shipped info.json or the cache's index says it). Where graphs
come from, fastest first:

1. shipped with pocketvision (``prebuilt/<name>/``) for the default backbone's
   pretrained weights: the first run on a machine imports no PyTorch;
2. the cache, ``<cache>/graphs/<name>-<weights hash>/``; pretrained weights are
   recognized by their file's SHA-256 (``<cache>/graphs/pretrained/<name>-<sha>.json``
   names the graph), a bundle's by the hash of the backbone tensors it holds;
3. another set of tensors for a shipped network (a fine-tuned bundle): the shipped
   graph pointed at them, still without PyTorch;
4. built with PyTorch (about a second) and cached. When a network cannot be
   exported, the extractor runs it eagerly in PyTorch instead (same features within 1e-4).
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
from pocketvision.errors import BundleError, first_line
from pocketvision.native_output import silenced

if TYPE_CHECKING:
    from pocketvision.backbones.network import Backbone

GRAPH_VERSION = 3  # bump when the way graphs are built changes (3: tensors in body.safetensors)
PREBUILT = Path(__file__).parent / "prebuilt"  # graphs shipped with pocketvision, one folder a name
_BODY_PREFIX = "body."  # the exporter names the extractor's tensors after the Backbone module's


@dataclass(frozen=True)
class GraphInfo:
    name: str
    weights_hash: str
    feature_dim: int
    version: int = GRAPH_VERSION


class FeatureExtractor(Protocol):
    """images (B, 3, H, W) float32, normalized -> features (B, F) float32."""

    info: GraphInfo

    def __call__(self, images: np.ndarray) -> np.ndarray: ...

    def body_tensors(self) -> dict[str, np.ndarray]: ...


class OnnxExtractor:
    """A graph folder in an onnxruntime session (created on first use)."""

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

    def graph_bytes(self) -> bytes:
        """The graph as one file with its tensors inside (for a browser, another machine)."""
        return self_contained_graph(self.folder / "backbone.onnx")


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


def self_contained_graph(graph: Path) -> bytes:
    """A graph folder's ``backbone.onnx`` with the tensors it reads from
    ``body.safetensors`` inside it: one file that runs anywhere."""
    import onnx

    return onnx.load(str(graph)).SerializeToString()  # onnx.load reads the external data in


def pretrained_extractor(name: str, weights: Path | None = None,
                         cache_root: Path | None = None) -> FeatureExtractor:
    """The extractor of a registered backbone with its pretrained (or given) weights."""

    root = _graphs(cache_root)
    fingerprint = weights_fingerprint(get_spec(name), weights)
    if fingerprint is not None and (found := _known(root, name, _hash_of_file(root, name, fingerprint))):
        return found

    def build():
        from pocketvision.backbones.network import create_backbone

        return create_backbone(name, weights)

    extractor = _build(root, build)
    if fingerprint is not None:  # next time, the file's SHA-256 finds the graph without torch
        write_cache_entry(_index(root, name, fingerprint),
                          json.dumps({"weights_hash": extractor.info.weights_hash}).encode())
    return extractor


def bundle_extractor(name: str, body: dict[str, np.ndarray],
                     cache_root: Path | None = None) -> FeatureExtractor:
    """The extractor for a bundle's backbone tensors (``body``: without the
    ``backbone.body.`` prefix), built from them the first time they are seen."""
    root = _graphs(cache_root)
    # as the network holds them: float16 or float64 tensors are float32 once loaded, and
    # the graph is cached under that hash (hashed as stored, it was never found again,
    # so a float16 bundle rebuilt its graph with torch on every command: 10-12 s)
    body = {key: value.astype(np.float32, copy=False) if value.dtype.kind == "f" else value
            for key, value in body.items()}
    hash_ = weights_hash(body)
    found = _known(root, name, hash_) or _rebound(root, name, body, hash_)
    if found:
        return found

    def build():
        from pocketvision.backbones.network import create_backbone

        backbone = create_backbone(name, pretrained=False)
        try:
            backbone.load_body(body)
        except RuntimeError as error:  # missing, unexpected or misshapen tensors
            raise BundleError(f"the bundle's backbone tensors do not match {name} "
                              f"({first_line(error, 120)}); train it again") from None
        return backbone

    return _build(root, build)


def backbone_extractor(backbone: Backbone, cache_root: Path | None = None) -> FeatureExtractor:
    """The extractor for a backbone already built in PyTorch (e.g. fine-tuned)."""
    root = _graphs(cache_root)
    hash_ = backbone.weights_hash()
    name = backbone.spec.name
    return _known(root, name, hash_) or _build(root, lambda: backbone)


def prebuild(name: str, folder: Path | None = None) -> Path:
    """Write the graph pocketvision ships for ``name``'s pretrained weights (a
    maintainer's step, whenever GRAPH_VERSION or the weights package changes);
    tests/features/test_prebuilt.py checks the shipped one against the backbone."""
    from pocketvision.backbones.network import create_backbone

    folder = folder or PREBUILT / name
    backbone = create_backbone(name)
    graph = _export_graph(backbone)
    if graph is None:
        raise BundleError(f"no ONNX exporter takes {name}; it cannot be shipped prebuilt")
    info = _info(backbone, backbone.body_tensors())
    _write_graph(folder, info, graph, backbone.body_tensors(),
                 {"weights_sha256": weights_fingerprint(backbone.spec)})
    return folder


def _graphs(cache_root: Path | None) -> Path:
    return (cache_root or default_cache_dir()) / "graphs"


def _folder(root: Path, name: str, hash_: str) -> Path:
    return root / f"{name}-{hash_[:24]}"


_LOADED: dict[Path, OnnxExtractor] = {}  # one session per graph and process (studio retrains)


def _known(root: Path, name: str, hash_: str | None) -> OnnxExtractor | None:
    """The one lookup: the graph of ``name`` whose tensors hash to ``hash_`` (their
    weights_hash), shipped with pocketvision or built before into the cache."""
    shipped = _read_json(PREBUILT / name / "info.json") or {}
    if hash_ and shipped.get("weights_hash") == hash_:
        return _cached(PREBUILT, name, hash_, PREBUILT / name)
    return _cached(root, name, hash_)


def _hash_of_file(root: Path, name: str, fingerprint: str) -> str | None:
    """The weights_hash of the weights file whose SHA-256 is ``fingerprint``, as the
    shipped graph or this cache's index recorded it (hashing a file is cheap; hashing
    its tensors means loading them in PyTorch)."""
    shipped = _read_json(PREBUILT / name / "info.json") or {}
    if shipped.get("weights_sha256") == fingerprint:
        return shipped.get("weights_hash")
    return (_read_json(_index(root, name, fingerprint)) or {}).get("weights_hash")


def _index(root: Path, name: str, fingerprint: str) -> Path:
    return root / "pretrained" / f"{name}-{fingerprint[:24]}.json"


def _cached(root: Path, name: str, hash_: str | None, folder: Path | None = None
            ) -> OnnxExtractor | None:
    if not hash_:
        return None
    folder = folder or _folder(root, name, hash_)
    if folder in _LOADED and (folder / "info.json").is_file():
        return _LOADED[folder]
    info = _read_json(folder / "info.json")
    if not info or info.get("version") != GRAPH_VERSION or info.get("weights_hash") != hash_:
        return None
    if not (folder / "backbone.onnx").is_file() or not (folder / "body.safetensors").is_file():
        return None
    fields = {key: info[key] for key in GraphInfo.__dataclass_fields__}
    _LOADED[folder] = OnnxExtractor(folder, GraphInfo(**fields))
    return _LOADED[folder]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # missing, or half-written by a killed run
        return None


def _info(backbone: Backbone, body: dict[str, np.ndarray]) -> GraphInfo:
    return GraphInfo(backbone.spec.name, weights_hash(body), backbone.spec.feature_dim)


def _build(root: Path, build: Callable[[], Backbone]) -> FeatureExtractor:
    """Build the network in PyTorch, export its graph and tensors to the cache,
    and return an extractor on the cached graph (eager PyTorch if export fails)."""
    backbone = build()
    body = backbone.body_tensors()
    info = _info(backbone, body)
    graph = _export_graph(backbone)
    if graph is None:
        return EagerExtractor(backbone, info)
    _write_graph(_folder(root, info.name, info.weights_hash), info, graph, body)
    # read back as any later run will (None when the cache is not writable)
    return _cached(root, info.name, info.weights_hash) or EagerExtractor(backbone, info)


def _rebound(root: Path, name: str, body: dict[str, np.ndarray], hash_: str
             ) -> OnnxExtractor | None:
    """The shipped graph of ``name`` reading ``body`` (same network, other weights:
    a fine-tuned bundle), or None when none ships or ``body`` is not laid out as
    the shipped tensors are (the same names, shapes and types)."""
    import onnx

    shipped = _read_json(PREBUILT / name / "info.json")
    if not shipped or shipped.get("version") != GRAPH_VERSION or \
            not _same_layout(body, _file_header(PREBUILT / name / "body.safetensors")):
        return None
    graph = onnx.load(str(PREBUILT / name / "backbone.onnx"), load_external_data=False)
    info = GraphInfo(name, hash_, shipped["feature_dim"])
    _write_graph(_folder(root, name, hash_), info, graph.SerializeToString(), body)
    return _cached(root, name, hash_)


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}  # safetensors'


def _same_layout(body: dict[str, np.ndarray], header: dict) -> bool:
    entries = {key: entry for key, entry in header.items() if key != "__metadata__"}
    return entries.keys() == body.keys() and all(
        list(body[key].shape) == entry["shape"] and body[key].dtype == _DTYPES.get(entry["dtype"])
        for key, entry in entries.items())


def _header(tensors: bytes) -> tuple[dict, int]:
    """A safetensors file's header and where its data starts: the file is an 8-byte
    header length, a JSON header of byte ranges, then the raw little-endian arrays."""
    length = int.from_bytes(tensors[:8], "little")
    return json.loads(tensors[8:8 + length]), 8 + length


def _file_header(path: Path) -> dict:
    with open(path, "rb") as stream:
        return json.loads(stream.read(int.from_bytes(stream.read(8), "little")))


def _write_graph(folder: Path, info: GraphInfo, graph: bytes, body: dict[str, np.ndarray],
                 extra: dict | None = None) -> None:
    """Write a graph folder: ``body.safetensors``, the graph reading its tensors from
    it, and ``info.json`` last (its presence marks the folder whole)."""
    import onnx
    from safetensors.numpy import save

    tensors = save(body)
    model = onnx.load_from_string(graph)
    _point_into(model, tensors, body)
    write_cache_entry(folder / "body.safetensors", tensors)
    write_cache_entry(folder / "backbone.onnx", model.SerializeToString())
    write_cache_entry(folder / "info.json", json.dumps({**asdict(info), **(extra or {})}).encode())


def _point_into(model, tensors: bytes, body: dict[str, np.ndarray]) -> None:
    """Make each of ``model``'s tensors that is a body tensor read its bytes from
    ``tensors`` (the body's safetensors file), which holds them as ONNX external data
    wants them: raw little-endian arrays at known offsets."""
    from onnx import TensorProto, numpy_helper

    header, start = _header(tensors)
    for tensor in model.graph.initializer:
        key = tensor.name.removeprefix(_BODY_PREFIX)
        if key not in header or key == "__metadata__":
            continue
        if tensor.data_location != TensorProto.EXTERNAL and \
                not np.array_equal(numpy_helper.to_array(tensor), body[key]):
            continue  # an exporter's folded constant that happens to share a name: keep it inside
        begin, end = header[key]["data_offsets"]
        for field in ("raw_data", "float_data", "external_data"):
            tensor.ClearField(field)
        tensor.data_location = TensorProto.EXTERNAL
        for entry, value in (("location", "body.safetensors"), ("offset", start + begin),
                             ("length", end - begin)):
            tensor.external_data.add(key=entry, value=str(value))


def _export_graph(backbone: Backbone) -> bytes | None:
    """ONNX bytes of ``backbone`` with a dynamic batch and input size, or None if no
    exporter takes it. One graph serves every size: the phone studio ships this file and
    runs it on camera frames at the game's size as on stored pictures at the bundle's.
    Batch norm is kept as it is (not folded into the convolutions) so that every tensor
    of the graph is one of the body's, stored once beside it.

    The TorchScript-based exporter takes 0.2 s here against the dynamo exporter's
    8 s; the dynamo exporter is the fallback for torch versions without the other.
    """
    import tempfile
    import warnings

    import torch

    example = torch.zeros(2, 3, *(backbone.preprocessing.crop,) * 2)
    names = {"input_names": ["image"], "output_names": ["features"]}
    attempts = (
        dict(dynamo=False, dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                         "features": {0: "batch"}},
             training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False),
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
