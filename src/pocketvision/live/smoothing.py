"""From noisy per-frame probabilities to clean actions, without jitter.

One state machine serves key control (Python) and the browser game (its JS port,
``web/smoothing.js``); ``tests/smoothing_cases.json`` holds label sequences and the
events both must produce.

Rules:
- A label becomes *active* after it is the top class with probability >= ``threshold``
  for ``frames`` consecutive frames. Flicker between two classes never gets there.
- The active label stays active until another label qualifies the same way, or its
  own probability stays below ``release`` (< threshold: hysteresis) for ``frames``
  consecutive frames; then nothing is active.
- When a label becomes active: a *tap* action presses its key once (unless the same
  label tapped less than ``cooldown`` seconds ago); a *hold* action presses its key
  down, and releases it when the label stops being active.
- Labels with no action (``none``, ``background`` and anything unmapped) still become
  active, which ends any hold, but fire nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pocketvision.actions import Action
from pocketvision.config import SmoothingConfig


@dataclass(frozen=True)
class Event:
    t: float
    frame: int
    label: str
    action: str  # "tap" | "down" | "up"
    key: str

    def to_dict(self) -> dict:
        return {"t": self.t, "frame": self.frame, "label": self.label,
                "action": self.action, "key": self.key}


@dataclass
class Smoother:
    actions: dict[str, Action]
    config: SmoothingConfig = field(default_factory=SmoothingConfig)
    active: str | None = None
    _candidate: str | None = None
    _streak: int = 0
    _weak_streak: int = 0
    _last_tap: dict[str, float] = field(default_factory=dict)

    def update(self, t: float, frame: int, probabilities: dict[str, float]) -> list[Event]:
        """Feed one frame's probabilities; return the events it causes (often none)."""
        top = max(probabilities, key=probabilities.get)
        confident = probabilities[top] >= self.config.threshold
        self._count_candidate(top if confident else None)
        if self.active is not None and probabilities.get(self.active, 0.0) < self.config.release:
            self._weak_streak += 1
        else:
            self._weak_streak = 0
        if self._candidate is not None and self._candidate != self.active \
                and self._streak >= self.config.frames:
            return self._activate(self._candidate, t, frame)
        if self.active is not None and self._weak_streak >= self.config.frames:
            return self._activate(None, t, frame)
        return []

    def finish(self, t: float, frame: int) -> list[Event]:
        """Release any held key (end of the stream, or Ctrl-C)."""
        return self._activate(None, t, frame)

    def _count_candidate(self, label: str | None) -> None:
        if label is not None and label == self._candidate:
            self._streak += 1
        else:
            self._candidate, self._streak = label, 1 if label is not None else 0

    def _activate(self, label: str | None, t: float, frame: int) -> list[Event]:
        events = []
        previous = self.actions.get(self.active) if self.active is not None else None
        if previous is not None and previous.mode == "hold":
            events.append(Event(t, frame, self.active, "up", previous.key))
        self.active, self._weak_streak = label, 0
        action = self.actions.get(label) if label is not None else None
        if action is None:
            return events
        if action.mode == "hold":
            events.append(Event(t, frame, label, "down", action.key))
        elif t - self._last_tap.get(label, float("-inf")) >= self.config.cooldown:
            self._last_tap[label] = t
            events.append(Event(t, frame, label, "tap", action.key))
        return events
