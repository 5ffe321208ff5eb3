"""The original tutorial's training loop, for comparison (run as a script).

PyTorch's transfer-learning tutorial ("ConvNet as fixed feature extractor"): freeze
the backbone, replace the last layer, train it with SGD (lr 0.001, momentum 0.9),
StepLR(7, 0.1), batch 4, Resize(256) + random horizontal flip, 25 epochs, with a
train and a val phase per epoch, recomputing the backbone for every image every
epoch. Same backbone and weights as pocketvision's default.

Usage: python benchmarks/tutorial_loop.py DATA  -> prints JSON with accuracies.
"""

from __future__ import annotations

import copy
import json
import sys
import time

import torch
from torch import nn
from torchvision import datasets, transforms

from pocketvision.backbones import create_backbone


def main(data: str, epochs: int = 25) -> dict:
    torch.manual_seed(0)
    backbone = create_backbone("efficientnet_lite0")
    spec = backbone.preprocessing
    network = backbone.body  # the full network, its ImageNet classifier removed
    normalize = transforms.Normalize(spec.mean, spec.std)
    phases = {
        "train": transforms.Compose([transforms.Resize(256), transforms.RandomHorizontalFlip(),
                                     transforms.ToTensor(), normalize]),
        "val": transforms.Compose([transforms.Resize(256), transforms.ToTensor(), normalize]),
    }
    image_sets = {p: datasets.ImageFolder(f"{data}/{p}", t) for p, t in phases.items()}
    loaders = {p: torch.utils.data.DataLoader(s, batch_size=4, shuffle=p == "train")
               for p, s in image_sets.items()}
    network.classifier = nn.Linear(backbone.spec.feature_dim, len(image_sets["train"].classes))
    for parameter in network.parameters():
        parameter.requires_grad = False
    for parameter in network.classifier.parameters():
        parameter.requires_grad = True
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(network.classifier.parameters(), lr=0.001, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)
    best, _best_weights, last = 0.0, copy.deepcopy(network.state_dict()), 0.0
    for epoch in range(epochs):
        for phase in ("train", "val"):
            network.train(phase == "train")
            correct = 0
            for inputs, labels in loaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = network(inputs)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                correct += int((outputs.argmax(1) == labels).sum())
            if phase == "train":
                scheduler.step()
            else:
                last = correct / len(image_sets["val"])
                if last > best:
                    # the tutorial keeps a copy of the best weights; kept for equal work
                    best, _best_weights = last, copy.deepcopy(network.state_dict())
    return {"final_val_accuracy": last, "best_val_accuracy": best, "epochs": epochs}


if __name__ == "__main__":
    started = time.perf_counter()
    result = main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25)
    result["seconds_in_process"] = time.perf_counter() - started
    print(json.dumps(result))
