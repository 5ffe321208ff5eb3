"""The Use view at work (issue 26's goals), in headless Chromium emulating a phone, on
these 2 cores, for each split of bench_phone.SPLITS (two sets of three Fashion-MNIST
classes):

1. Train on 3 x 30 gallery pictures. The fake camera then loops a clip of 3 s
   segments: class 1, something the model never saw (scikit-image's photos), class 2,
   class 3, every picture one the model was not trained on. A grey corner block
   numbers the segment (30 frames a second); the page notes when each segment reaches the screen
   (requestVideoFrameCallback), and every word handed to speechSynthesis.speak (a spy).
2. Start, for three passes of the clip, at the default smoothing:
   - from a class's segment on screen to its word spoken (ms; goal <= 500);
   - the trained segments said and logged exactly once each, the unseen ones never
     logged and sent to Review, and words said twice in a row (goal 0);
   - classified frames a second while logging (goal >= 25).
3. A log of 10,000 entries, then 100,000: the Use view opened on it (tab tap to the
   counts and newest entries shown; goal < 1 s), and Export log (tap to the CSV
   handed to the browser; goal < 1 s for 10,000), with the longest the page's thread
   was busy at once meanwhile (long tasks).

Run by hand (not in CI): ``python benchmarks/bench_use.py [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_phone import ADD_PICTURES, SPLITS  # noqa: E402
from common import OUT, few_shot  # noqa: E402  (tests/ on the path)
from engines import Chromium  # noqa: E402
from live_helpers import segment_clip  # noqa: E402
from phone import static_site  # noqa: E402
from phone_drive import TRAIN, USE, settled  # noqa: E402
from PIL import Image  # noqa: E402

CAMERA_FPS = 30  # a phone camera's rate: the ceiling of the frames classified a second
SEGMENT_FRAMES = 3 * CAMERA_FPS  # 3 s
PASSES = 3
COUNTS = (10_000, 100_000)

# Before the page's scripts: the spoken words, and when each segment reaches the screen.
WATCH = """
window.__spoken = [];
speechSynthesis.speak = (u) => { window.__spoken.push({ text: u.text, at: performance.now() }); };
window.__segments = [];
window.__longest = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration); })
  .observe({ type: "longtask", buffered: false });
const reader = new OffscreenCanvas(8, 8).getContext("2d", { willReadFrequently: true });
function segmentOf(video, now) {
  reader.drawImage(video, 0, 0, 8, 8, 0, 0, 8, 8);
  const k = Math.round((reader.getImageData(4, 4, 1, 1).data[0] - 40) / 50);
  const last = window.__segments[window.__segments.length - 1];
  if (!last || last.segment !== k) window.__segments.push({ segment: k, at: now });
  video.requestVideoFrameCallback((t) => segmentOf(video, t));
}
(function find() {
  const video = document.querySelector(".camera-slot video");
  if (video && video.readyState >= 2) video.requestVideoFrameCallback((t) => segmentOf(video, t));
  else setTimeout(find, 50);
})();
"""

FILL_LOG = """async (count) => {
  const { UseStore } = await import("./web/app/use-store.js");
  const store = await UseStore.open();
  const labels = ["t-shirt", "trouser", "sneaker"];
  for (let start = 0; start < count; start += 10000) {
    await store.write(["log"], (t) => {
      for (let i = start; i < Math.min(count, start + 10000); i++) {
        t.objectStore("log").add({ time: new Date(1765000000000 + i * 1000).toISOString(), session: "bench",
          label: labels[i % 3], confidence: 0.9, novelty: 0.1, latitude: null, longitude: null, note: i % 7 ? "" : "a note, \\"quoted\\"" });
      }
    });
  }
  return true;
}"""

OPEN_USE = """new Promise((resolve) => {
  document.getElementById("log-summary").textContent = ""; // drawn afresh when the view opens
  document.getElementById("log-list").replaceChildren();
  const started = performance.now();
  document.querySelector('nav.tabs button[data-view="use"]').click();
  const done = () => /^\\d+ entries/.test(document.getElementById("log-summary").textContent)
    && document.getElementById("log-list").children.length > 0;
  const poll = () => done() ? resolve(performance.now() - started) : requestAnimationFrame(poll);
  poll();
})"""

EXPORT = """new Promise((resolve) => {
  window.__longest = 0;
  HTMLAnchorElement.prototype.click = function () {
    fetch(this.href).then((r) => r.arrayBuffer()).then((b) => resolve({ ms: performance.now() - started, bytes: b.byteLength }));
  };
  const started = performance.now();
  document.getElementById("export-log").click();
}).then((r) => ({ ...r, longest: window.__longest }))"""


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--rounds", type=int, default=2)
    arguments.add_argument("--splits", default=",".join(SPLITS))
    rounds, chosen = arguments.parse_args().rounds, arguments.parse_args().splits.split(",")
    from skimage import data

    from pocketvision.exports.web_app import write_new_web_app

    folder = OUT / "use"
    shutil.rmtree(folder, ignore_errors=True)
    site = Path(write_new_web_app(folder / "site", "efficientnet_lite0")["site"])
    unseen = []
    for name in ("chelsea", "coffee", "astronaut", "rocket"):
        unseen.append(folder / f"{name}.png")
        Image.fromarray(getattr(data, name)()).convert("RGB").save(unseen[-1])
    clips = {}
    for split, classes in SPLITS.items():
        shutil.copytree(few_shot(split, classes, 40, 10, train_offset=3000) / "train", site / "photos" / split)
        held = {c: sorted((few_shot(split, classes, 40, 10, train_offset=3000) / "val" / c).iterdir()) for c in classes}
        clips[split] = segment_clip(folder / f"{split}.y4m", [held[classes[0]], unseen, held[classes[1]], held[classes[2]]],
                                    SEGMENT_FRAMES, fps=CAMERA_FPS)
    results = []
    with static_site(site) as (url, _):
        for _ in range(rounds):
            for split, classes in SPLITS.items():
                if split not in chosen:
                    continue
                results.append({"split": split, **one_round(url, split, classes, clips[split], folder)})
                print(json.dumps(results[-1]), flush=True)
    summary = summarise(results)
    (folder / "bench_use.json").write_text(json.dumps({"rounds": results, "summary": summary}, indent=2))
    print(json.dumps(summary, indent=2))


def one_round(url, split, classes, clip, folder) -> dict:
    profile = folder / "profile"
    shutil.rmtree(profile, ignore_errors=True)
    engine = Chromium(profile, private=False, init_script=WATCH, camera=clip)
    try:
        engine.goto(url)
        settled(engine)
        engine.evaluate(f"({ADD_PICTURES})({json.dumps([split, classes, list(range(30)), ''])})")
        engine.click(TRAIN)
        engine.click("#train-button")
        engine.until("s.training.status === 'done'", 300)
        engine.click(USE)
        engine.until("s.view === 'use' && s.modelReady", 30)
        watched = watch(engine, classes)
        engine.click("#use-stop")
        return {**watched, **(long_log(engine) if COUNTS else {})}
    finally:
        engine.close()


def watch(engine, classes) -> dict:
    """Start, then PASSES passes of the clip; what was said, logged and reviewed."""
    engine.click("#use-start")
    started = engine.evaluate("performance.now()")
    fps = []
    deadline = time.monotonic() + PASSES * 4 * SEGMENT_FRAMES / CAMERA_FPS + 3
    while time.monotonic() < deadline:
        time.sleep(1)
        fps.append(engine.evaluate("window.studioState.fps"))
    spoken = engine.evaluate("window.__spoken")
    segments = [{**s, "segment": int(s["segment"])} for s in engine.evaluate("window.__segments")
                if s["at"] >= started and 0 <= s["segment"] <= 3]
    state = engine.evaluate("window.studioState.use")
    logged = [e["label"] for e in json.loads(engine.captured_download("#export-json"))["entries"]]
    by_segment = [None if k == 1 else classes[{0: 0, 2: 1, 3: 2}[k]] for k in range(4)]
    latencies, said_once, unseen_quiet = [], 0, 0
    whole = [(s, segments[i + 1]["at"]) for i, s in enumerate(segments[:-1])]  # each begun after Start, and ended
    for segment, ends in whole:
        label = by_segment[segment["segment"]]
        words = [w for w in spoken if segment["at"] <= w["at"] < ends + 500 and w["text"] != "not sure"]
        if label is None:
            unseen_quiet += not any(w["at"] < ends for w in words)  # no class said during it
            continue
        mine = [w for w in words if w["text"] == label]
        said_once += len(mine) == 1
        if mine:
            latencies.append(mine[0]["at"] - segment["at"])
    texts = [w["text"] for w in spoken]
    class_words = [t for t in texts if t != "not sure"]
    return {
        "segments_trained": sum(by_segment[s["segment"]] is not None for s, _ in whole),
        "said_once": said_once, "segments_unseen": sum(by_segment[s["segment"]] is None for s, _ in whole),
        "unseen_quiet": unseen_quiet, "logged_as_said": logged == class_words,
        "unseen_logged": sum(label not in classes for label in logged), "review": state["review"],
        "repeated_words": sum(a == b for a, b in zip(texts, texts[1:])),
        "spoken_ms_median": round(statistics.median(latencies), 1) if latencies else None,
        "spoken_ms_max": round(max(latencies), 1) if latencies else None,
        "fps_while_logging": round(statistics.median(fps[3:]), 1),
        "heard": [[by_segment[s["segment"]] or "unseen", [w["text"] for w in spoken if s["at"] <= w["at"] < ends]]
                  for s, ends in whole],
    }


def long_log(engine) -> dict:
    """Open and export the Use view with 10,000 and then 100,000 entries."""
    measured = {}
    for count in COUNTS:
        engine.evaluate("indexedDB.deleteDatabase(`pocketvision-use:${location.pathname}`) && true")
        engine.reload()
        engine.until("s.backboneReady && s.modelReady", 120)
        have = engine.evaluate("window.studioState.use.log")
        engine.evaluate(f"({FILL_LOG})({count - have})")
        engine.reload()
        engine.until("s.backboneReady && s.modelReady && s.use", 120)
        engine.click(TRAIN)
        measured[f"open_{count}_ms"] = round(engine.evaluate(OPEN_USE), 1)
        exported = engine.evaluate(EXPORT)
        measured[f"export_{count}_ms"] = round(exported["ms"], 1)
        measured[f"export_{count}_longest_task_ms"] = round(exported["longest"], 1)
        measured[f"export_{count}_mb"] = round(exported["bytes"] / 1e6, 2)
    return measured


def summarise(results) -> dict:
    keys = [k for k in results[0] if isinstance(results[0][k], (int, float)) and not isinstance(results[0][k], bool)]
    return {key: statistics.median(r[key] for r in results if r[key] is not None) for key in keys} | {
        "logged_as_said": all(r["logged_as_said"] for r in results), "rounds": len(results)}


if __name__ == "__main__":
    main()
