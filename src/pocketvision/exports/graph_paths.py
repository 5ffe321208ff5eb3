"""Which operations of a converted graph feed one output and none of the others.

int8 exports keep unknown detection in float: its operations are the ones the
``novelty`` output depends on and the probabilities do not. ONNX and TFLite graphs
are walked the same way; each names its operations and tensors its own way.
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterable


def feeding_only(producer: dict, inputs_of: Callable[[Hashable], Iterable], output: Hashable,
                 others: Iterable) -> set:
    """The operations ``output`` depends on and none of ``others`` do.

    Args:
        producer: tensor -> the operation that writes it (graph inputs and
            constants have none).
        inputs_of: operation -> the tensors it reads.
    """
    def ancestors(tensor) -> set:
        found, pending = set(), [tensor]
        while pending:
            operation = producer.get(pending.pop())
            if operation is not None and operation not in found:
                found.add(operation)
                pending.extend(inputs_of(operation))
        return found

    return ancestors(output) - set().union(*map(ancestors, others))
