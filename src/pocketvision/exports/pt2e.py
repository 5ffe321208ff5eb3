"""int8 through PyTorch 2 export quantization (PT2E), shared by ExecuTorch and LiteRT.

Each runtime brings its own quantizer (which ops it runs in int8, with which
schemes); the flow is the same: export the graph, insert observers, show them the
calibration images, convert to quantize/dequantize pairs the runtime fuses.

The trained head (the only ``nn.Linear`` in our classifiers) is left in float:
its weights carry the folded feature standardization, whose per-feature scales
span orders of magnitude that int8 cannot hold, and it is only a few KB.
"""

from __future__ import annotations

import torch


def quantize_int8(graph: torch.nn.Module, example: torch.Tensor, quantizer,
                  calibration: list[torch.Tensor], fold_weights: bool = True) -> torch.fx.GraphModule:
    """``fold_weights=False`` keeps weights as float + quantize ops, which the LiteRT
    converter needs to recognise them; ExecuTorch takes them pre-folded to int8."""
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    module = torch.export.export(graph, (example,)).module()
    prepared = prepare_pt2e(module, quantizer)
    with torch.no_grad():
        for image in calibration:
            prepared(image)
    return convert_pt2e(prepared, fold_quantize=fold_weights)
