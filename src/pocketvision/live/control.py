"""``pocketvision control``: camera (or video) -> model -> smoothing -> key presses."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from pocketvision.actions import parse_mapping
from pocketvision.config import SmoothingConfig
from pocketvision.live.classify import load_frame_classifier
from pocketvision.live.keys import check_key_name
from pocketvision.live.smoothing import Smoother
from pocketvision.live.sources import frames


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
    actions = parse_mapping(mappings, labels)
    for action in actions.values():  # before the first frame, --dry-run too
        check_key_name(action.key)
    smoother = Smoother(actions, config)
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
