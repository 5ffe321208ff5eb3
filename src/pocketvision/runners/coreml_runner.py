"""Run a ``.mlpackage`` with Core ML itself, which exists only on Apple platforms.

On macOS coremltools calls Core ML; elsewhere loading raises RuntimeUnavailable and
the export report says ``ran: false`` with that reason (the spec is still checked
by ``inspect``).
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np

from pocketvision.runners.registry import Runner, RuntimeUnavailable, register_runner


@register_runner("coreml")
def load_coreml(path: Path) -> Runner:
    from PIL import Image

    from pocketvision.exporters.coreml_format import inspect_coreml
    from pocketvision.native_output import quiet_import

    ct = quiet_import("coremltools")

    found = inspect_coreml(path)
    if platform.system() != "Darwin":
        raise RuntimeUnavailable(f"Core ML runs only on macOS/iOS, not on {platform.system()}; "
                                 "the spec was checked instead", f"coremltools {ct.__version__}",
                                 found)
    model = ct.models.MLModel(str(path))
    labels = found["labels"]

    def run(image: np.ndarray) -> np.ndarray:  # (1, H, W, 3) in 0..255, per the contract
        picture = Image.fromarray(np.clip(image[0], 0, 255).round().astype(np.uint8))
        scores = model.predict({found["input"]["name"]: picture})["classLabel_probs"]
        return np.array([scores[label] for label in labels], np.float32)

    return Runner(contract=found, runtime=f"Core ML via coremltools {ct.__version__}", run=run)
