"""Using a model live, and collecting pictures for it: the last stage.

    sources.py    frames from a camera or a video file (OpenCV)
    smoothing.py  per-frame probabilities -> steady actions (web/smoothing.js is its twin)
    control.py    ``pocketvision control``: camera -> model -> key presses (run_control)
    keys.py       where the key presses go: the real keyboard, or a dry run
    classify.py   a frame classifier from a bundle or from any export
    collect.py    ``pocketvision collect``: one capture burst into a project
    project.py    a studio project folder, the studio's source of truth
    server.py     the local web server under ``play`` and the studio (game_app)
    studio.py     ``pocketvision studio``: the desktop web app (FastAPI; studio_app)
    uploads.py    photos and videos a studio page sends, checked and re-encoded
    jobs.py       one background job at a time, with progress the page can read
"""

from pocketvision.live.collect import collect
from pocketvision.live.control import run_control
from pocketvision.live.project import Project

__all__ = ["Project", "collect", "run_control"]
