"""The values the page's recipe shares with the Python one, written once (here, from
the Python constants) into ``web/recipe/shared.js``.

The JavaScript twins import them from that file and type none of them, so the two
sides cannot drift: tests/exports/test_shared_values.py fails when the file differs
from what this module writes, and ``python -m pocketvision.exports.shared_values``
writes it again after a Python constant changed.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from pocketvision.cache import write_atomically
from pocketvision.config import NOVELTY_THRESHOLD, UNSURE_BELOW, SmoothingConfig, TrainConfig
from pocketvision.data import class_names, grouping
from pocketvision.data.preprocessing import MAX_SIDE
from pocketvision.evaluation.metrics import CALIBRATION_BINS
from pocketvision.exports.web_app import WEB
from pocketvision.inference import sinks
from pocketvision.model import bundle, bundle_meta, novelty

SHARED_JS = WEB / "recipe" / "shared.js"
# The recipe's settings a page-trained bundle records (the rest need PyTorch).
TRAINING_FIELDS = ("val_fraction", "seed", "weight_decay", "std_floor", "max_iterations")


def shared_values() -> dict[str, object]:
    """Name on the page -> value, each from the Python constant of that meaning."""
    defaults = asdict(TrainConfig())
    return {
        # model/novelty.py and config.py: unknown detection
        "NEIGHBOURS": novelty.NEIGHBOURS, "FOLDS": novelty.FOLDS, "ACCEPTED": novelty.ACCEPTED,
        "MAX_BANK": novelty.MAX_BANK, "BANK": novelty.BANK_TENSOR, "UNKNOWN": novelty.UNKNOWN,
        "NOVELTY_THRESHOLD": NOVELTY_THRESHOLD, "UNSURE_BELOW": UNSURE_BELOW,
        # config.TrainConfig: the head's settings when a site gives none
        "TRAINING_DEFAULTS": {name: defaults[name] for name in TRAINING_FIELDS},
        # model/bundle.py and bundle_meta.py: the file
        "FORMAT": bundle_meta.FORMAT, "FORMAT_VERSION": bundle_meta.FORMAT_VERSION,
        "HEADER_KEY": bundle.HEADER_KEY, "BODY_PREFIX": bundle.BODY_PREFIX,
        "HEAD_AND_NOVELTY": list(bundle.HEAD_AND_NOVELTY),
        "MAX_HEADER_DEPTH": bundle.MAX_HEADER_DEPTH,
        # data/: pictures, bursts and class names
        "MAX_SIDE": MAX_SIDE, "HASH_SIDE": grouping.HASH_SIDE,
        "NEAR_DUPLICATE_BITS": grouping.NEAR_DUPLICATE_BITS,
        "SESSION_NAME": _javascript_pattern(grouping.SESSION_NAME.pattern),
        "MAX_NAME_LENGTH": class_names.MAX_LENGTH, "MAX_NAME_BYTES": class_names.MAX_BYTES,
        # evaluation/metrics.py and config.SmoothingConfig
        "CALIBRATION_BINS": CALIBRATION_BINS,
        "SMOOTHING_DEFAULTS": asdict(SmoothingConfig()),
        # inference/sinks.py: a CSV cell starting so gets a leading ' (the Use view's log)
        "CSV_RISKY_STARTS": list(sinks.RISKY_STARTS),
    }


def _javascript_pattern(pattern: str) -> str:
    """A Python regular expression as JavaScript writes it: named groups are
    ``(?<name>`` there, ``(?P<name>`` here; the patterns shared use nothing else
    that differs."""
    return pattern.replace("(?P<", "(?<")


def shared_javascript() -> str:
    """The text of web/recipe/shared.js."""
    lines = ["// Written by `python -m pocketvision.exports.shared_values` from the Python",
             "// constants (see that module): do not edit; a test fails when this file and",
             "// the Python side differ.", ""]
    for name, value in shared_values().items():
        text = json.dumps(value, ensure_ascii=False)
        if name == "SESSION_NAME":
            text = f"new RegExp({text})"
        lines.append(f"export const {name} = Object.freeze({text});" if isinstance(value, (dict, list))
                     else f"export const {name} = {text};")
    return "\n".join(lines) + "\n"


def write_shared_javascript() -> None:
    write_atomically(SHARED_JS, shared_javascript().encode())


if __name__ == "__main__":
    write_shared_javascript()
    print(f"wrote {SHARED_JS}")
