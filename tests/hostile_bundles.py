"""Hand-made bundles that no pocketvision ever writes, one per way a file can lie: the
one set of hostile cases that both readers, the CLI's (Python) and the page's
(bundle-file.js), must refuse with a sentence. Each is made from a good bundle by
editing the safetensors file's bytes directly, so cases the safetensors writer
would never produce (overlapping offsets, shapes that are text) are possible."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

HEADER_KEY = "pocketvision"


def split_file(data: bytes) -> tuple[dict, bytes]:
    """A safetensors file as (header, tensor bytes)."""
    length = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + length]), data[8 + length:]


def join_file(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def _meta_change(change):
    """A case that edits the pocketvision header document."""
    def apply(header, body):
        document = json.loads(header["__metadata__"][HEADER_KEY])
        change(document)
        header["__metadata__"][HEADER_KEY] = json.dumps(document)
        return header, body
    return apply


def _set_float(tensor: str, index: int, value: float):
    """A case that writes ``value`` over one float32 of ``tensor``."""
    def apply(header, body):
        start = header[tensor]["data_offsets"][0] + 4 * index
        return header, body[:start] + struct.pack("<f", value) + body[start + 4:]
    return apply


def _entry_change(change):
    def apply(header, body):
        change(header)
        return header, body
    return apply


def _overlap(header):
    """head.bias's offsets point into head.weight's bytes (same length)."""
    begin, end = header["head.bias"]["data_offsets"]
    start = header["head.weight"]["data_offsets"][0]
    header["head.bias"]["data_offsets"] = [start, start + end - begin]


def _extra_tensor(name: str, shape: list[int]):
    def apply(header, body):
        size = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(body), len(body) + size]}
        return header, body + bytes(size)
    return apply


def _replace_bank(shape: list[int]):
    """novelty.bank replaced by a tensor of ``shape`` (zero bytes) at the end."""
    def apply(header, body):
        begin, end = header["novelty.bank"]["data_offsets"]
        body = body[:begin] + body[end:]
        for entry in header.values():  # the tensors after the bank move down
            if isinstance(entry, dict) and "data_offsets" in entry and entry["data_offsets"][0] >= end:
                entry["data_offsets"] = [o - (end - begin) for o in entry["data_offsets"]]
        size = int(np.prod(shape)) * 4
        header["novelty.bank"] = {"dtype": "F32", "shape": shape,
                                  "data_offsets": [len(body), len(body) + size]}
        return header, body + bytes(size)
    return apply


def _nested(depth: int):
    """The header's dataset entry as lists nested ``depth`` deep (written as text:
    Python's json cannot build it)."""
    def apply(header, body):
        document = json.loads(header["__metadata__"][HEADER_KEY])
        document["dataset"] = "@nested@"
        text = json.dumps(document).replace('"@nested@"', "[" * depth + "]" * depth)
        header["__metadata__"][HEADER_KEY] = text
        return header, body
    return apply


def _label(text: str):
    def change(document):
        document["labels"][0] = text
    return change


# name -> change(header, body) -> (header, body). Every one must be refused.
CASES = {
    "NaN in the head": _set_float("head.weight", 0, float("nan")),
    "infinity in the bias": _set_float("head.bias", 1, float("inf")),
    "NaN in the novelty bank": _set_float("novelty.bank", 3, float("nan")),
    "overlapping tensor offsets": _entry_change(_overlap),
    "a shape that is text": _entry_change(lambda h: h["head.bias"].update(
        shape=[str(h["head.bias"]["shape"][0])])),
    "a tensor named __proto__": _extra_tensor("__proto__", [2]),
    "an empty novelty bank": _replace_bank([0, 1280]),
    "a zero by 8 million bank": _replace_bank([0, 8_000_000]),
    "feature_dim as text": _meta_change(lambda d: d["backbone"].update(feature_dim="1280")),
    "an image record that is a number": _meta_change(lambda d: d.update(validation_images=[7])),
    "an image record with a number for a path": _meta_change(
        lambda d: d.update(training_images=[{"path": 1, "label": "x", "sha256": "0" * 64}])),
    "a label with a newline": _meta_change(_label("shirt\nsneaker 99.0%")),
    "a label with an escape sequence": _meta_change(_label("shirt\x1b[2J\x1b]0;owned\x07")),
    "a label of 100,000 characters": _meta_change(_label("W" * 100_000)),
    "a label of 64 emoji (256 bytes)": _meta_change(_label("\U0001F600" * 64)),
    "a header nested 100,000 deep": _nested(100_000),
}


def hostile_bundles(good: Path, folder: Path) -> dict[str, Path]:
    """Each case applied to a copy of ``good`` (a slim bundle with novelty)."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for index, (name, change) in enumerate(CASES.items()):
        header, body = split_file(good.read_bytes())
        header, body = change(header, body)
        path = folder / f"hostile-{index:02d}.pvb"
        path.write_bytes(join_file(header, body))
        made[name] = path
    return made
