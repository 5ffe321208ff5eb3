"""``pocketvision play``: the runner game in headless Chromium with a fake camera. The
server serves the web app for the bundle (opening on its game, the model running on
the page: onnxruntime-web served by pocketvision); frames of the jump class make the
runner jump, the no-action class fires nothing, and nothing is requested from
anywhere but 127.0.0.1."""

from __future__ import annotations

import pytest
from browser import browser_available, chromium_page
from live_helpers import camera_frame, running, write_y4m

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")
pytest.importorskip("fastapi")


def test_jump_class_frames_make_the_runner_jump(trained, fashion3, tmp_path, artifacts):
    from pocketvision.live.server import game_app

    # 1.2 s of the jump class, 1.2 s of the no-action class, looped by Chromium:
    # one jump per gesture, so two jumps prove the label went away and came back
    sneakers = sorted((fashion3 / "val" / "sneaker").iterdir())[:6]
    shirts = sorted((fashion3 / "val" / "t-shirt").iterdir())[:6]
    frames = [camera_frame(p) for p in sneakers for _ in range(3)]
    frames += [camera_frame(p) for p in shirts for _ in range(3)]
    camera = write_y4m(tmp_path / "camera.y4m", frames)
    app = game_app(trained.bundle, ["sneaker=jump", "trouser=duck"])
    with running(app) as url, chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.goto(url)  # redirected to /play/, the game's view
        try:
            page.wait_for_function("window.studioState && window.studioState.view === 'play' && "
                                   "window.studioState.cameraReady && window.studioState.jumps >= 2",
                                   timeout=90_000)
        except Exception:
            raise AssertionError(page.evaluate("JSON.stringify(window.studioState)")) from None
        seen = []  # the label over 3 s: one instant can be a frame between two pictures
        for _ in range(30):
            seen.append(page.evaluate("window.studioState.label"))
            page.wait_for_timeout(100)
        state = page.evaluate("window.studioState")
        page.screenshot(path=str(artifacts / "game.png"))
        assert page.outside_requests == [] and page.url.endswith("/play/")
    assert sum(label in ("sneaker", "t-shirt") for label in seen) >= 0.8 * len(seen), seen
    assert state["ducks"] == 0 and state["model"]["labels"] == trained.classes
    assert state["fps"] > 0 and state["inferenceMs"] > 0
