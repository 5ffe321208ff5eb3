"""The ``--map`` grammar shared by ``control``, ``play`` and the web app: which class
presses which key (or moves the runner), as a tap or a hold.

``up=space`` taps Space when the class ``up`` appears; ``down=Down:hold`` holds the
Down key while ``down`` is shown. A class named ``none`` or ``background`` is the
no-action class and cannot be mapped.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketvision.errors import LiveError


@dataclass(frozen=True)
class Action:
    key: str
    mode: str = "tap"  # "tap" | "hold"


QUIET_LABELS = ("none", "background")


def parse_mapping(entries: list[str], labels: list[str]) -> dict[str, Action]:
    """``up=space`` (tap) or ``down=Down:hold``, checked against the model's labels."""
    actions = {}
    for entry in entries:
        label, sep, target = _split(entry, labels)
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


def _split(entry: str, labels: list[str]) -> tuple[str, str, str]:
    """(label, "=", key and mode): at the "=" after which the longest of the model's
    labels ends, so a class with "=" in its name can be mapped (``a=b=space``);
    at the first "=" when no label fits (the error then names the label)."""
    ends = [k for k, c in enumerate(entry) if c == "=" and entry[:k] in labels]
    if not ends:
        return entry.partition("=")
    return entry[:ends[-1]], "=", entry[ends[-1] + 1:]
