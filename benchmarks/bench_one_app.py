"""One app: nothing got slower. The code before the desktop studio became the phone
app (a git worktree of ``--base``) against this tree, interleaved in every round, on
the same machine and pictures:

1. the phone app (a site written by ``pocketvision web``, served by
   ``python -m http.server``, Chromium emulating a phone): Train -> playing on 3 x 30
   new pictures, and the game's classified frames a second with a 30 fps camera
   (median of per-second readings over 30 s, after 10 s of warm-up);
2. ``pocketvision studio`` on a project of 3 x 30 pictures (a fresh cache, so every
   feature is computed): from the click on Train to the new model in use on the
   page (the old studio's "live in X s", the app's training.seconds).

Run by hand (not in CI): ``python benchmarks/bench_one_app.py --base 50c6b53 [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_phone import SPLITS, game_fps, train_to_playing  # noqa: E402
from common import OUT, few_shot  # noqa: E402  (tests/ on the path)
from phone import Phone, camera_file, static_site  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Where each version keeps the page modules a benchmark imports.
MODULES = {"before": {"store": "./web/store.js", "camera": "./web/camera.js"},
           "after": {"store": "./web/app/store.js", "camera": "./web/app/camera.js"}}


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--base", required=True, help="the commit before the change")
    arguments.add_argument("--rounds", type=int, default=3)
    arguments.add_argument("--fps-only", type=int, default=0, metavar="N",
                           help="only the game's frames a second: one trained phone per version, "
                                "N readings of each, alternating")
    args = arguments.parse_args()
    folder = OUT / "one-app"
    shutil.rmtree(folder, ignore_errors=True)
    trees = {"before": worktree(args.base, folder / "base"), "after": ROOT}
    try:
        if args.fps_only:
            return print(json.dumps(fps_only(args.fps_only, trees, folder), indent=2))
        rounds = measure(args.rounds, trees, folder)
    finally:  # the worktree is only for this run
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees["before"])],
                       check=False)
    summary = {version: {key: statistics.median(r[key] for r in rounds if r["version"] == version)
                         for key in ("phone_train_to_playing_s", "game_fps", "studio_train_s")}
               for version in ("before", "after")}
    (folder / "bench_one_app.json").write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=2))
    print(json.dumps(summary, indent=2))


def measure(count: int, trees: dict, folder: Path) -> list[dict]:
    from playwright.sync_api import sync_playwright

    split, classes = "fashion-a", SPLITS["fashion-a"]
    data = few_shot(split, classes, 40, 10, train_offset=3000)
    sites = {version: write_site(tree, folder / f"site-{version}", data / "train", split)
             for version, tree in trees.items()}
    camera = camera_file(folder, "camera30", sorted((data / "train" / "sneaker").iterdir())[:30], fps=30)
    rounds = []
    with sync_playwright() as playwright:
        for round_ in range(count):
            for version in (("before", "after") if round_ % 2 == 0 else ("after", "before")):
                result = {"round": round_, "version": version,
                          **phone_round(playwright, sites[version], camera, version, split, classes),
                          "studio_train_s": studio_round(playwright, trees[version], version,
                                                         data / "train", folder)}
                rounds.append(result)
                print(json.dumps(result), flush=True)
    return rounds


def fps_only(count: int, trees: dict, folder: Path) -> dict:
    """The game's frames a second alone: each version's phone trained once (its
    profile kept), then readings alternating between the versions."""
    from playwright.sync_api import sync_playwright

    split, classes = "fashion-a", SPLITS["fashion-a"]
    data = few_shot(split, classes, 40, 10, train_offset=3000)
    camera = camera_file(folder, "camera30", sorted((data / "train" / "sneaker").iterdir())[:30], fps=30)
    readings = {"before": [], "after": []}
    with sync_playwright() as playwright, contextlib.ExitStack() as servers:
        # one server per version for the whole run: a site's origin (its port) keeps its storage
        sites = {v: write_site(tree, folder / f"site-{v}", data / "train", split) for v, tree in trees.items()}
        urls = {v: servers.enter_context(static_site(site))[0] for v, site in sites.items()}
        phones = {v: Phone(playwright, Path(tempfile.mkdtemp(prefix="phone-")), []) for v in trees}
        for version, phone in phones.items():
            phone.open(urls[version], camera)
            phone.until("s.cameraReady && s.backboneReady")
            add_pictures(phone, MODULES[version], split, classes)
            train_to_playing(phone)
            phone.close()
        for k in range(count):
            for version in (("before", "after") if k % 2 == 0 else ("after", "before")):
                phones[version].open(urls[version], camera)
                phones[version].until("s.modelReady && s.backboneReady")
                readings[version].append(game_fps(phones[version], warm_up=10, seconds=20))
                phones[version].close()
                print(version, readings[version][-1], flush=True)
    return {v: {"median": statistics.median(r), "readings": r} for v, r in readings.items()}


def worktree(commit: str, target: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--force", "--detach", str(target), commit],
                   check=True, stdout=subprocess.DEVNULL)
    return target


def with_tree(tree: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(tree / "src"))


def write_site(tree: Path, site: Path, photos: Path, split: str) -> Path:
    subprocess.run([sys.executable, "-c", "import sys; from pocketvision.exports.web_app import "
                    "write_new_web_app; write_new_web_app(sys.argv[1], 'efficientnet_lite0')", str(site)],
                   check=True, env=with_tree(tree))
    shutil.copytree(photos, site / "photos" / split)
    return site


def phone_round(playwright, site: Path, camera: Path, version: str, split: str, classes: list) -> dict:
    profile = Path(tempfile.mkdtemp(prefix="phone-"))
    phone = Phone(playwright, profile, [])
    try:
        with static_site(site) as (url, _):
            phone.open(url, camera)
            phone.until("s.cameraReady && s.backboneReady")
            add_pictures(phone, MODULES[version], split, classes)
            first = train_to_playing(phone)
            fps = game_fps(phone, warm_up=10, seconds=30)
        return {"phone_train_to_playing_s": first, "game_fps": fps}
    finally:
        phone.close()
        shutil.rmtree(profile, ignore_errors=True)


def add_pictures(phone, modules: dict, split: str, classes: list) -> None:
    """30 gallery pictures a class, stored as the Add photos button stores them."""
    phone.page.evaluate("""async ([modules, split, classes]) => {
      const { Store } = await import(modules.store);
      const camera = await import(modules.camera);
      const store = await Store.open();
      for (const label of classes) {
        const id = await store.addClass(label);
        const names = await (await fetch(`photos/${split}/${label}/`)).text();
        const files = [...names.matchAll(/href="([^"]+\\.png)"/g)].map((m) => m[1]).sort().slice(0, 30);
        const pictures = [];
        for (const file of files) {
          pictures.push(await camera.photoPicture(await (await fetch(`photos/${split}/${label}/${file}`)).blob(), 224));
        }
        await store.addPictures(id, pictures);
      }
    }""", [modules, split, classes])
    phone.page.reload()
    phone.settled()
    phone.until("s.cameraReady && s.backboneReady")


def studio_round(playwright, tree: Path, version: str, photos: Path, folder: Path) -> float:
    """Seconds from the click on Train to the new model in use on the studio's page."""
    from browser import CHROMIUM, FLAGS

    work = Path(tempfile.mkdtemp(prefix="studio-", dir=folder))
    for label in sorted(p.name for p in photos.iterdir()):
        shutil.copytree(photos / label, work / "project" / "samples" / label,
                        ignore=lambda _, names: sorted(names)[30:])
    port = free_port()
    env = with_tree(tree) | {"POCKETVISION_CACHE_DIR": str(work / "cache"), "POCKETVISION_NO_PROGRESS": "1"}
    server = subprocess.Popen([sys.executable, "-m", "pocketvision.cli", "studio", str(work / "project"),
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(wait_for(f"http://127.0.0.1:{port}/", port))
        if version == "before":
            page.wait_for_selector("#backbone option", state="attached")
            page.click("#train")
            page.wait_for_function("window.studio.liveSeconds > 0", timeout=300_000)
            return page.evaluate("window.studio.liveSeconds")
        page.wait_for_function("window.studioState?.classes.length === 3 && window.studioState.backboneReady",
                               timeout=120_000)
        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_function("window.studioState.training.status === 'done'", timeout=300_000)
        return page.evaluate("window.studioState.training.seconds")
    finally:
        browser.close()
        server.kill()
        shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, port: int, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the studio did not start on port {port}")


if __name__ == "__main__":
    main()
