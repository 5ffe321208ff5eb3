"""The one preprocessing spec, implemented once for Python.

Every image goes through the same steps, in this order, wherever it is used
(training, evaluation, prediction, export checks):

1. decode to 8-bit RGB, upright (see :mod:`pocketvision.data.images`); JPEG files may
   be decoded at a reduced DCT scale that keeps both sides >= ``resize``;
2. resize so the shorter side is ``resize`` pixels, the longer side
   ``int(resize * long / short)`` (truncated), with Pillow's antialiased bilinear
   filter (a triangle filter whose support grows with the reduction);
3. centre-crop ``crop`` x ``crop``; the left/top offset is
   ``int(round((size - crop) / 2))``;
4. scale to 0..1 (divide by 255), then ``(x - mean) / std`` per channel;
5. lay out as (3, crop, crop), channels in RGB order.

The JavaScript twin in the browser must follow the same rules.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from pocketvision.data.images import load_rgb
from pocketvision.errors import PocketVisionError

if TYPE_CHECKING:
    import torch

MAX_SIDE = 1024  # pixels; mobile backbones take 224-512


@dataclass(frozen=True)
class Preprocessing:
    """How a picture becomes the model's input tensor; stored in every bundle."""

    resize: int
    crop: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"
    channel_order: str = "RGB"

    def __post_init__(self):
        """Refuse specs no model can have (a tampered bundle): ValueError says which."""
        for name, value, high in (("resize", self.resize, MAX_SIDE), ("crop", self.crop, MAX_SIDE)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
                raise ValueError(f"preprocessing {name} {value!r} is not a whole number of "
                                 f"pixels from 1 to {high}")
        if self.crop > self.resize:
            raise ValueError(f"preprocessing crop {self.crop} is larger than resize {self.resize}")
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) != 3 or not all(math.isfinite(v) for v in values):
                raise ValueError(f"preprocessing {name} {list(values)!r} is not 3 finite numbers")
        if min(self.std) <= 0:
            raise ValueError(f"preprocessing std {list(self.std)!r} must be positive")
        if self.interpolation != "bilinear" or self.channel_order != "RGB":
            raise ValueError(f"preprocessing {self.interpolation}/{self.channel_order} is not "
                             "supported (bilinear/RGB)")

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (1, 3, self.crop, self.crop)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["input_shape"] = list(self.input_shape)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Preprocessing":
        if not isinstance(data, dict):
            raise ValueError(f"preprocessing {str(data)[:40]!r} is not an object")
        # keys this version does not know (older bundles wrote ``layout`` and
        # ``input_range``, which were always NCHW and 0..1) are ignored
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("mean", "std"):
            if not isinstance(fields.get(key), list):
                raise ValueError(f"preprocessing {key} {fields.get(key)!r} is not a list")
            fields[key] = tuple(float(v) for v in fields[key])
        return cls(**fields)

    def with_crop_fraction(self, fraction: float) -> "Preprocessing":
        """The same spec with ``resize = round(crop / fraction)``: 1.0 keeps the whole
        centre square, 0.875 is the usual ImageNet evaluation crop."""
        if not 0.3 <= fraction <= 1.0:
            raise PocketVisionError(f"crop fraction must be between 0.3 and 1.0, got {fraction}")
        return replace(self, resize=int(round(self.crop / fraction)))

    def fingerprint(self) -> str:
        """Short stable hash, part of the feature-cache key."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def resize_and_crop(image: Image.Image, spec: Preprocessing) -> Image.Image:
    """Steps 2 and 3: shorter side to ``spec.resize``, then a centre crop."""
    width, height = image.size
    short, long = min(width, height), max(width, height)
    new_long = int(spec.resize * long / short)
    size = (spec.resize, new_long) if width <= height else (new_long, spec.resize)
    if size != image.size:
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=None)
    width, height = image.size
    left = int(round((width - spec.crop) / 2.0))
    top = int(round((height - spec.crop) / 2.0))
    return image.crop((left, top, left + spec.crop, top + spec.crop))


def load_array(path, spec: Preprocessing) -> np.ndarray:
    """Steps 1-5 for an image file: float32 (3, crop, crop)."""

    return to_array(load_rgb(path, at_least=spec.resize), spec)


def to_array(image: Image.Image, spec: Preprocessing) -> np.ndarray:
    """Steps 2-5 for one RGB image: float32 (3, crop, crop)."""
    # Channels split by Pillow are contiguous planes: converting them is half the
    # time of converting (H, W, 3) and transposing (it was half of decoding an image).
    planes = np.stack([np.asarray(band) for band in resize_and_crop(image, spec).split()])
    pixels = planes.astype(np.float32)  # (3, H, W), 0..255
    std = np.asarray(spec.std, dtype=np.float32)[:, None, None]
    pixels *= 1.0 / (255.0 * std)  # (p / 255 - mean) / std, as one multiply and one add
    pixels -= np.asarray(spec.mean, dtype=np.float32)[:, None, None] / std
    return pixels


def load_tensor(path, spec: Preprocessing) -> "torch.Tensor":
    """:func:`load_array` as a torch tensor (for PyTorch models: exports, fine-tuning)."""
    import torch

    return torch.from_numpy(load_array(path, spec))


def to_tensor(image: Image.Image, spec: Preprocessing) -> "torch.Tensor":
    """:func:`to_array` as a torch tensor."""
    import torch

    return torch.from_numpy(to_array(image, spec))
