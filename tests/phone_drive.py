"""What a person does with the phone app, written once for every engine
(tests/engines.py): add classes, record bursts with the camera, add photos from the
gallery, train, play, download the model and the pictures, go offline and reload.
Each step waits for the page to show its result (window.studioState)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

TRAIN = 'nav.tabs button[data-view="train"]'
PLAY = 'nav.tabs button[data-view="play"]'
USE = 'nav.tabs button[data-view="use"]'
VIEWS = {"collect": 'nav.tabs button[data-view="collect"]', "train": TRAIN, "play": PLAY, "use": USE}


def settled(engine, timeout: float = 120) -> dict:
    """The site's service worker is in charge (a first visit reloads once for it) and
    the backbone and the camera are ready."""
    return engine.until("navigator.serviceWorker.controller && s.backboneReady && s.cameraReady", timeout)


def add_class(engine, name: str) -> None:
    engine.fill("#new-class", name)
    engine.click('#add-class button[type="submit"]')
    engine.until(f"s.classes.some((c) => c.name === {json.dumps(name)})", 20)


def record(engine, name: str, pictures: int) -> None:
    """Choose the class, hold Record until ``pictures`` more are kept, let go."""
    engine.click(f'#record-into [data-class="{name}"]')
    before = engine.evaluate("window.studioState.recorded")
    engine.hold("#record")
    try:
        engine.until(f"s.recorded >= {before + pictures}", 90)
    finally:
        engine.release()
    engine.until("s.recording === null", 30)


def add_photos(engine, name: str, files: list[Path]) -> None:
    before = _pictures(engine, name)
    engine.upload(f'.class-card[data-class="{name}"] input[type="file"]', files)
    engine.until(f"s.classes.find((c) => c.name === {json.dumps(name)}).pictures >= {before + len(files)}", 120)


def open_model(engine, path: Path) -> None:
    """Train view, Open model, choose ``path``."""
    engine.click(TRAIN)
    engine.upload("#model-file", [path])


def refused(engine, name: str) -> str:
    """Add a class named ``name`` and return the app's answer (its notice)."""
    engine.fill("#new-class", name)
    engine.click('#add-class button[type="submit"]')
    engine.until("!document.getElementById('notice').hidden", 20)
    return engine.text("#notice")


def train(engine) -> dict:
    start_training(engine)
    return engine.until("s.training.status === 'done' || s.training.status === 'failed'", 300)


def start_training(engine) -> None:
    engine.click(TRAIN)
    engine.click("#train-button")
    engine.until("s.training.status !== 'idle' && s.training.status !== 'done'", 20)


def play(engine, jump_on: str) -> dict:
    """Jump on ``jump_on`` and wait for the game to jump by itself."""
    engine.click(PLAY)
    engine.evaluate(f"""(() => {{ const pick = document.getElementById("jump-class");
      pick.value = {json.dumps(jump_on)}; pick.dispatchEvent(new Event("change")); return pick.value; }})()""")
    return engine.until("s.jumps >= 1 && s.fps > 0", 120)


def downloads(engine) -> tuple[bytes, dict[str, bytes]]:
    """The model (.pvb bytes) and the pictures (file name -> bytes) as the Train
    view's Download buttons hand them over."""
    engine.click(TRAIN)
    model = engine.captured_download("#download-model")
    with zipfile.ZipFile(io.BytesIO(engine.captured_download("#download-pictures"))) as packed:
        pictures = {Path(name).name: packed.read(name) for name in packed.namelist() if not name.endswith("/")}
    return model, pictures


def go_offline_and_reload(engine, server) -> dict:
    """Stop the site's server (the phone has no network) and reload: the service
    worker serves the app, and the project and the model are still there."""
    server.kill()
    server.wait()
    engine.reload()
    return engine.until("s.backboneReady && s.modelReady && s.classes.length > 0", 120)


def _pictures(engine, name: str) -> int:
    return engine.evaluate(f"window.studioState.classes.find((c) => c.name === {json.dumps(name)})?.pictures ?? 0")


# The page's own answers on the project's stored pictures (its worker, its exact
# preprocessing, its head): file name -> {label, probabilities}.
PAGE_ANSWERS = """(async () => {
  const { Store } = await import("./web/app/store.js");
  const { Backbone } = await import("./web/app/model-client.js");
  const { playableModel, readBundle } = await import("./web/recipe/bundle-file.js");
  const { pageModel } = await import("./web/recipe/page-model.js");
  const backbone = await (await fetch("backbone.json")).json();
  const store = await Store.open(), saved = await store.model();
  const model = pageModel(await playableModel(readBundle(saved.bytes), backbone));
  const worker = new Backbone(new URL("backbone.onnx", location.href).href, 1);
  const answers = {};
  for (const c of await store.project()) {
    const blobs = await store.blobs(c.pictures.map((p) => p.id));
    const features = await worker.pictures(blobs, backbone.preprocessing);
    c.pictures.forEach((p, i) => {
      const r = model.classify(features[i]);
      answers[p.name] = { label: r.label,
        probabilities: Object.fromEntries(model.labels.map((l, k) => [l, r.probabilities[k]])) };
    });
  }
  return answers;
})()"""
