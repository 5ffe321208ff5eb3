"""The shared smoothing table, run against the Python state machine and its JS port
(in Node.js, the same file the game page imports)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from paths import TESTS

from pocketvision.actions import Action
from pocketvision.config import SmoothingConfig
from pocketvision.live.smoothing import Smoother

TABLE = json.loads((TESTS / "smoothing_cases.json").read_text())
CASES = TABLE["cases"]


def probabilities(spec: str, labels: list[str]) -> dict[str, float]:
    label, _, p = spec.partition("@")
    p = float(p or 0.9)
    rest = (1 - p) / (len(labels) - 1)
    return {name: (p if name == label else rest) for name in labels}


def python_events(case: dict) -> list[list]:
    actions = {label: Action(**a) for label, a in case["actions"].items()}
    smoother = Smoother(actions, SmoothingConfig(**{**TABLE["config"], **case.get("config", {})}))
    events = []
    for frame, spec in enumerate(case["frames"]):
        for e in smoother.update(frame / TABLE["fps"], frame, probabilities(spec, TABLE["labels"])):
            events.append([e.frame, e.label, e.action, e.key])
    return events


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_smoothing(case):
    assert python_events(case) == case["expected"]


NODE_RUNNER = """
import { Smoother } from "%s";
const table = JSON.parse(await (await import("node:fs/promises")).readFile("%s", "utf8"));
const results = table.cases.map((c) => {
  const smoother = new Smoother(c.actions, { ...table.config, ...(c.config ?? {}) });
  const events = [];
  c.frames.forEach((spec, frame) => {
    const [label, p = "0.9"] = spec.split("@");
    const probabilities = {};
    for (const name of table.labels) {
      probabilities[name] = name === label ? Number(p) : (1 - Number(p)) / (table.labels.length - 1);
    }
    for (const e of smoother.update(frame / table.fps, frame, probabilities)) {
      events.push([e.frame, e.label, e.action, e.key]);
    }
  });
  return events;
});
console.log(JSON.stringify(results));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_javascript_port_passes_the_same_table(tmp_path):
    from importlib.resources import files

    module = Path(str(files("pocketvision") / "web" / "recipe" / "smoothing.js"))
    script = tmp_path / "run.mjs"
    script.write_text(NODE_RUNNER % (module.as_uri(), TESTS / "smoothing_cases.json"))
    result = subprocess.run(["node", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [c["expected"] for c in CASES]
