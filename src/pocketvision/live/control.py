"""``pocketvision control``: camera (or video) -> model -> smoothing -> key presses."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pocketvision.errors import LiveError
from pocketvision.live.classify import load_frame_classifier
from pocketvision.live.smoothing import Action, SmoothingConfig, Smoother
from pocketvision.live.sources import frames

QUIET_LABELS = ("none", "background")


def parse_mapping(entries: list[str], labels: list[str]) -> dict[str, Action]:
    """``up=space`` (tap) or ``down=Down:hold``, checked against the model's labels."""
    actions = {}
    for entry in entries:
        label, sep, target = entry.partition("=")
        key, _, mode = target.partition(":")
        if not sep or not key:
            raise LiveError(f"--map {entry!r}: write LABEL=KEY or LABEL=KEY:hold")
        if label not in labels:
            raise LiveError(f"--map {entry!r}: the model has no label {label!r} "
                                    f"(it has: {', '.join(labels)})")
        if label in QUIET_LABELS:
            raise LiveError(f"--map {entry!r}: {label!r} is the no-action class")
        if mode not in ("", "tap", "hold"):
            raise LiveError(f"--map {entry!r}: mode must be tap or hold")
        actions[label] = Action(key=key, mode=mode or "tap")
    if not actions:
        raise LiveError("give at least one --map LABEL=KEY")
    return actions


@dataclass
class ControlStats:
    frames: int = 0
    events: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # frame read -> event sent

    def summary(self) -> dict:
        import statistics

        return {"frames": self.frames, "events": self.events,
                "fps": self.frames / self.seconds if self.seconds else None,
                "latency_ms_median": statistics.median(self.latencies_ms) if self.latencies_ms else None,
                "latency_ms_max": max(self.latencies_ms) if self.latencies_ms else None}


def run_control(model: Path, mappings: list[str], sink, source: str = "0",
                config: SmoothingConfig = SmoothingConfig(), limit: int | None = None) -> ControlStats:
    classify, labels = load_frame_classifier(model)
    smoother = Smoother(parse_mapping(mappings, labels), config)
    stats, started = ControlStats(), time.perf_counter()
    last = None
    try:
        for frame in frames(source, limit=limit):
            last = frame
            for event in smoother.update(frame.t, frame.index, classify(frame.rgb)):
                sink.send(event)
                stats.events += 1
                stats.latencies_ms.append((time.perf_counter() - frame.arrived) * 1000)
            stats.frames += 1
    finally:  # never leave a key held down, even on Ctrl-C
        if last is not None:
            for event in smoother.finish(last.t, last.index):
                sink.send(event)
        stats.seconds = time.perf_counter() - started
    return stats
