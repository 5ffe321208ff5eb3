"""The phone studio on a phone's budget: headless Chromium emulating a phone on this
machine's cores, the site written by ``pocketvision web`` and served by
``python -m http.server``, as a user would.

Run by hand (not in CI): ``python benchmarks/bench_phone.py [--rounds 3]``. Needs
Debian's chromium and dataset-fashion-mnist (as .ci/run installs them).

Per round, a fresh phone (empty profile) and two splits of held-out Fashion-MNIST
pictures (3 classes x 30, stored as the page stores gallery photos):

1. Train -> playing: from the tap on Train (features of all 90 new pictures
   included) to the first camera frame classified by the new model in the game.
2. The same after adding 10 more pictures (only their features are new).
3. The game's classified frames per second with a 30 fps camera: the median of
   the page's per-second readings over a minute, after 10 s of warm-up.
4. Recording: a 5 s hold of Record with a 30 fps camera, pictures kept against
   frames the camera presented in that time.
5. Memory with 300 pictures stored: the page and its workers
   (performance.measureUserAgentSpecificMemory), the private memory of the page's
   renderer process and of every Chromium process, before and after a memory-pressure
   signal.

Baseline, interleaved in each round: ``pocketvision train`` as a whole command on the
same pictures, downloaded from the page (the CLI's cache warm, as on a laptop that
has trained before).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, few_shot, pocketvision_command, timed_command  # noqa: E402  (tests/ on the path)
from phone import Phone, camera_file, static_site  # noqa: E402

SPLITS = {"fashion-a": ["t-shirt", "trouser", "sneaker"], "fashion-b": ["bag", "coat", "sandal"]}


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--rounds", type=int, default=3)
    rounds = arguments.parse_args().rounds
    from playwright.sync_api import sync_playwright

    from pocketvision.exports.web_app import write_new_web_app

    folder = OUT / "phone"
    shutil.rmtree(folder, ignore_errors=True)
    site = Path(write_new_web_app(folder / "site", "efficientnet_lite0")["site"])
    for name, classes in SPLITS.items():
        data = few_shot(name, classes, 40, 10, train_offset=3000)
        shutil.copytree(data / "train", site / "photos" / name)
    camera = camera_file(folder, "camera30", sorted((site / "photos" / "fashion-a" / "sneaker").iterdir()), fps=30)
    results = []
    with static_site(site) as (url, _), sync_playwright() as playwright:
        for round_ in range(rounds):
            for split, classes in SPLITS.items():
                results.append(one_round(playwright, url, camera, split, classes, folder))
                print(json.dumps(results[-1]), flush=True)
    summary = summarize(results)
    (folder / "bench_phone.json").write_text(json.dumps({"rounds": results, "summary": summary}, indent=2))
    print(json.dumps(summary, indent=2))


def one_round(playwright, url, camera, split, classes, folder) -> dict:
    profile = Path(tempfile.mkdtemp(prefix="phone-"))
    phone = Phone(playwright, profile, [])
    try:
        phone.open(url, camera)
        phone.until("s.cameraReady && s.backboneReady")
        add_pictures(phone, split, classes, range(0, 30))
        first = train_to_playing(phone)
        add_pictures(phone, split, classes[:1], range(30, 40))
        second = train_to_playing(phone)
        fps = game_fps(phone)
        kept, presented = recording(phone)
        cli = cli_train(phone, folder / f"{split}-cli")
        add_pictures(phone, split, classes, range(0, 40), prefix="more-")  # 300 pictures and more
        memory = memory_used(phone)
        return {"split": split, "train_to_playing_s": first, "after_10_more_s": second,
                "game_fps_median": fps, "recording_kept": kept, "recording_presented": presented,
                "cli_train_s": cli, **memory}
    finally:
        phone.close()
        shutil.rmtree(profile, ignore_errors=True)


def add_pictures(phone, split, classes, indices, prefix="") -> None:
    """Store pictures as the gallery button does (re-encoded, hashed), in one go;
    ``prefix`` renames them, so a picture can be stored a second time."""
    phone.page.evaluate(ADD_PICTURES, [split, classes, list(indices), prefix])
    phone.page.reload()
    phone.settled()
    phone.until("s.cameraReady && s.backboneReady")


# A function of [split, classes, indices, prefix]: the photos at `indices` of each
# class (sorted by name, from the folder http.server lists) stored as the gallery
# button stores them, the class added first where it is new.
ADD_PICTURES = """async ([split, classes, indices, prefix]) => {
  const { Store } = await import("./web/app/store.js");
  const camera = await import("./web/app/camera.js");
  const store = await Store.open();
  for (const label of classes) {
    let c = (await store.project()).find((k) => k.name === label);
    if (!c) { await store.addClass(label); c = (await store.project()).find((k) => k.name === label); }
    const names = await (await fetch(`photos/${split}/${label}/`)).text();
    const files = [...names.matchAll(/href="([^"]+\\.png)"/g)].map((m) => m[1]).sort();
    const pictures = [];
    for (const i of indices) {
      const blob = await (await fetch(`photos/${split}/${label}/${files[i]}`)).blob();
      const picture = await camera.photoPicture(blob, 224);
      pictures.push({ ...picture, name: prefix + picture.name });
    }
    await store.addPictures(c.id, pictures);
  }
  return true;
}"""


def train_to_playing(phone) -> float:
    """Tap Train, then Play the moment it is done (as "Play with it" does): seconds
    from the tap to the first frame the new model classifies, timed on the page."""
    phone.page.get_by_role("tab", name="Train").click()
    return phone.page.evaluate(TRAIN_TO_PLAYING)


# A promise of the seconds from the tap on Train to the new model's first frame.
TRAIN_TO_PLAYING = """new Promise((resolve) => {
  const tapped = performance.now();
  document.getElementById("train-button").click();
  let model = null;
  const watch = () => {
    const s = window.studioState;
    if (!model && s.training.status === "done") {
      model = s.model.created;
      [...document.querySelectorAll("button")].find((b) => b.textContent === "Play with it").click();
    }
    if (model && s.frameModel === model && s.lastFrameAt > tapped) return resolve((s.lastFrameAt - tapped) / 1000);
    setTimeout(watch, 5);
  };
  watch();
})"""


def game_fps(phone, warm_up: float = 10, seconds: float = 60) -> float:
    phone.page.get_by_role("tab", name="Play").click()
    time.sleep(warm_up)
    readings = []
    for _ in range(int(seconds)):
        time.sleep(1)
        readings.append(phone.state()["fps"])
    return statistics.median(readings)


def recording(phone, seconds: float = 5) -> tuple[int, int]:
    """Pictures a 5 s hold keeps, and the frames the camera presented meanwhile."""
    phone.page.get_by_role("tab", name="Collect").click()
    first = phone.state()["classes"][0]["name"]
    phone.page.get_by_role("radio", name=first, exact=True).click()
    phone.page.evaluate("""() => { window.presented = 0; const video = document.querySelector("video");
      const count = () => { window.presented += window.counting ? 1 : 0; video.requestVideoFrameCallback(count); };
      video.requestVideoFrameCallback(count); }""")
    before = phone.state()["recorded"]
    box = phone.page.locator("#record").bounding_box()
    phone.page.mouse.move(box["x"] + 20, box["y"] + 20)
    phone.page.evaluate("window.counting = true")
    phone.page.mouse.down()
    time.sleep(seconds)
    phone.page.mouse.up()
    presented = phone.page.evaluate("window.counting = false, window.presented")
    state = phone.until("s.recording === null", 30)
    return state["recorded"] - before, presented


def cli_train(phone, folder: Path) -> float:
    """The baseline: `pocketvision train` on the project's pictures, downloaded."""
    folder.mkdir(parents=True, exist_ok=True)
    phone.page.get_by_role("tab", name="Train").click()
    pictures = phone.download("Download pictures", folder / "pictures.zip")
    with zipfile.ZipFile(pictures) as packed:
        packed.extractall(folder)
    command = pocketvision_command("train", str(folder / "pocketvision-pictures"), "--out",
                                   str(folder / "model.pvb"))
    timed_command(command)  # warm: the features cached, as on a laptop that trained before
    return timed_command(command)


def memory_used(phone) -> dict:
    """The page's own count (JavaScript and DOM, its workers included), and the
    private memory of its renderer process (wasm memory, decoded images, the workers'
    threads: all of the page) and of every Chromium process: as it is, and after a
    memory-pressure signal (what Chromium keeps when the phone needs memory: here it
    drops the video frames it caches while a page reads the camera, up to ~400 MB
    with software rendering)."""
    stored = sum(c["pictures"] for c in phone.state()["classes"])
    page = phone.page.evaluate("performance.measureUserAgentSpecificMemory().then((m) => m.bytes)")
    before = chromium_processes()
    cdp = phone.context.new_cdp_session(phone.page)
    cdp.send("Memory.simulatePressureNotification", {"level": "critical"})
    time.sleep(2)
    after = chromium_processes()

    def renderer(processes):
        return max(r for kind, r in processes if kind == "renderer") / 1e6

    return {"pictures_stored": stored, "page_memory_mb": page / 1e6,
            "renderer_private_mb": renderer(before), "renderer_private_after_pressure_mb": renderer(after),
            "chromium_private_mb": sum(r for _, r in before) / 1e6}


def chromium_processes() -> list[tuple[str, int]]:
    """(process type, resident bytes) of every Chromium process running."""
    found = []
    for folder in Path("/proc").glob("[0-9]*"):
        try:
            command = (folder / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if not command.startswith("/usr/lib/chromium/chromium"):
            continue
        kind = re.search(r"--type=(\S+)", command)
        kind = kind.group(1) if kind else "browser"
        found.append((kind, private_bytes(folder)))
    return found


def private_bytes(folder: Path) -> int:
    """Memory only this process holds (not the shared Chromium binary and libraries
    every process maps): Private_Clean + Private_Dirty from smaps_rollup."""
    try:
        rollup = (folder / "smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return sum(int(line.split()[1]) * 1024 for line in rollup
               if line.startswith(("Private_Clean:", "Private_Dirty:")))


def summarize(results: list[dict]) -> dict:
    keys = ("train_to_playing_s", "after_10_more_s", "game_fps_median", "cli_train_s",
            "page_memory_mb", "renderer_private_mb", "renderer_private_after_pressure_mb",
            "chromium_private_mb")
    summary = {key: statistics.median(r[key] for r in results) for key in keys}
    summary["recording_kept_share"] = statistics.median(
        r["recording_kept"] / r["recording_presented"] for r in results)
    summary["pictures_stored_min"] = min(r["pictures_stored"] for r in results)
    return summary


if __name__ == "__main__":
    main()
