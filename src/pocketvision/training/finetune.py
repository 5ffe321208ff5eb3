"""Optional fine-tuning: unfreeze the backbone's last N blocks and train them.

For users with more data than a few dozen images per class. Unlike the frozen
path this runs the backbone forward *and backward* on every image in every
epoch, so it takes minutes rather than seconds and nothing is cached. Batch-norm
layers stay in eval mode: with small batches their statistics would only add
noise to the pretrained ones.
"""

from __future__ import annotations

import random

import torch
from torch import nn

from pocketvision.config import TrainConfig
from pocketvision.data.images import load_rgb
from pocketvision.data.preprocessing import to_tensor
from pocketvision.errors import PocketVisionError
from pocketvision.features.extraction import augment
from pocketvision.model.classifier import Classifier
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point

BATCH_SIZE = 16


def fine_tune(model: Classifier, samples: list, labels: list[str], config: TrainConfig) -> None:
    """Train the last ``config.fine_tune`` blocks and the head in place."""
    blocks = model.backbone.blocks()
    if not 0 < config.fine_tune <= len(blocks):
        raise PocketVisionError(
            f"--fine-tune {config.fine_tune}: {model.backbone.spec.name} has {len(blocks)} "
            f"blocks; choose 1 to {len(blocks)}"
        )
    for block in blocks[-config.fine_tune :]:
        block.requires_grad_(True)
    model.head.requires_grad_(True)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=config.fine_tune_lr, weight_decay=1e-4)
    torch.manual_seed(config.seed)
    order = random.Random(config.seed)
    targets = {name: k for k, name in enumerate(labels)}
    model.eval()  # batch norm keeps its pretrained statistics; dropout stays off
    steps = config.fine_tune_epochs * -(-len(samples) // BATCH_SIZE)
    with progress_bar("Fine-tuning", steps) as advance:
        for epoch in range(config.fine_tune_epochs):
            shuffled = samples[:]
            order.shuffle(shuffled)
            for start in range(0, len(shuffled), BATCH_SIZE):
                stop_point()
                batch = shuffled[start : start + BATCH_SIZE]
                _step(model, optimizer, batch, targets, epoch)
                advance(1)
    model.requires_grad_(False)


def _step(model: Classifier, optimizer, batch: list, targets: dict, epoch: int) -> None:
    spec = model.backbone.preprocessing
    images = torch.stack([
        to_tensor(augment(load_rgb(s.path, spec.resize), seed=f"{s.sha256}:finetune:{epoch}"), spec)
        for s in batch
    ])  # (B, 3, H, W)
    y = torch.tensor([targets[s.label] for s in batch])
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(images), y)
    loss.backward()
    optimizer.step()
