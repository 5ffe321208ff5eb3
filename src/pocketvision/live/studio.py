"""``pocketvision studio``: the local web app over a project folder.

The folder is the source of truth (see project.py): the page only shows it and
asks the server to change it, so closing and reopening the studio loses nothing.
Captured frames arrive one request each and are written atomically at once.
(FastAPI is imported at module level: route signatures must resolve their types.)
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pocketvision.errors import LiveError, PocketVisionError, install_command
from pocketvision.live.jobs import Job
from pocketvision.live.project import Project
from pocketvision.live.server import WEB, base_app, fastapi, onnx_for

fastapi()  # without the [live] extra: the install command, not an ImportError traceback
from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile  # noqa: E402
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse  # noqa: E402

MAX_FRAME_BYTES = 5 * 2**20
MAX_UPLOAD_BYTES = 200 * 2**20
VIDEO_EVERY = 5
VIDEO_MAX_FRAMES = 300


@dataclass
class Studio:
    """What every request works on: the project folder and the one background job."""

    project: Project
    job: Job


def _studio(request: Request) -> Studio:
    return request.app.state.studio


StudioState = Annotated[Studio, Depends(_studio)]
router = APIRouter()


def studio_app(project_dir: Path):
    """The studio for ``project_dir`` (created if missing)."""
    import pocketvision.bundle  # noqa: F401  (torch: imported now, not on the first request)

    app = base_app("pocketvision studio")
    app.state.studio = Studio(Project(project_dir).create(), Job())
    app.add_exception_handler(PocketVisionError, _user_error)
    app.include_router(router)
    return app


def _user_error(request, error: PocketVisionError):
    return JSONResponse({"error": str(error)}, status_code=400)



@router.get("/", response_class=HTMLResponse)
def page():
    return (WEB / "studio.html").read_text()


@router.get("/api/project")
def describe(studio: StudioState):
    project = studio.project
    classes = [{"name": c, "samples": [p.name for p in project.sample_files(c)]}
               for c in project.classes()]
    return {"root": str(project.root), "classes": classes, "model": _model_summary(project),
            "job": studio.job.status(), "formats": _formats()}


@router.post("/api/classes")
async def add_class(request: Request, studio: StudioState):
    name = (await request.json()).get("name", "")
    studio.project.add_class(name)
    return {"created": name.strip()}


@router.post("/api/classes/{name}/rename")
async def rename(name: str, request: Request, studio: StudioState):
    new = (await request.json()).get("name", "")
    studio.project.rename_class(name, new)
    return {"renamed": new.strip()}


@router.delete("/api/classes/{name}")
def delete_class(name: str, studio: StudioState):
    studio.project.delete_class(name)
    return {"deleted": name}


@router.post("/api/classes/{name}/frames")
async def frame(name: str, session: str, index: int, request: Request, studio: StudioState):
    """One frame of a hold-to-record burst, as JPEG bytes."""
    from pocketvision.live.project import SESSION_ID

    body = await request.body()
    if len(body) > MAX_FRAME_BYTES:
        raise HTTPException(413, "frame too large")
    if not SESSION_ID.match(session):
        raise LiveError(f"bad session id {session!r}")
    _check_image(body, "the captured frame")
    return {"saved": studio.project.save_sample(name, body, session, index).name}


@router.post("/api/classes/{name}/upload")
async def upload(name: str, studio: StudioState, files: list[UploadFile] = File(...)):
    """Image files (each re-encoded as a JPEG sample) or one video (frames taken
    every VIDEO_EVERY-th as one session). Nothing is saved if any file is bad."""
    studio.project.class_dir(name)
    payloads = [(f.filename or "file", await f.read(MAX_UPLOAD_BYTES + 1)) for f in files]
    if any(len(data) > MAX_UPLOAD_BYTES for _, data in payloads):
        raise HTTPException(413, f"uploads are limited to {MAX_UPLOAD_BYTES // 2**20} MB a file")
    videos = [(n, d) for n, d in payloads if _is_video(n)]
    if videos:
        return {"saved": _save_video_frames(studio.project, name, *videos[0])}
    prepared = [_as_jpeg(data, filename) for filename, data in payloads]
    saved = [_save_upload(studio.project, name, jpeg) for jpeg in prepared]
    return {"saved": saved}


@router.get("/samples/{name}/{file_name}")
def sample(name: str, file_name: str, studio: StudioState):
    path = studio.project.sample_path(name, file_name)
    if not path.is_file():
        raise HTTPException(404, "no such sample")
    return FileResponse(path, media_type="image/jpeg")


@router.delete("/samples/{name}/{file_name}")
def delete_sample(name: str, file_name: str, studio: StudioState):
    studio.project.sample_path(name, file_name).unlink(missing_ok=True)
    return {"deleted": file_name}


@router.post("/api/train")
def train(studio: StudioState):
    if not studio.job.start("train", lambda: _train(studio.project)):
        raise HTTPException(409, "a job is already running")
    return studio.job.status()


@router.post("/api/export")
async def export(request: Request, studio: StudioState):
    formats = (await request.json()).get("formats") or ["onnx"]
    if not studio.project.bundle.exists():
        raise LiveError("train a model first")
    if not studio.job.start("export", lambda: _export(studio.project, formats)):
        raise HTTPException(409, "a job is already running")
    return studio.job.status()


@router.get("/api/job")
def job_status(studio: StudioState):
    return studio.job.status()


@router.get("/model.onnx")
def model(studio: StudioState):
    if not studio.project.bundle.exists():
        raise HTTPException(404, "no model yet: train one")
    return FileResponse(onnx_for(studio.project.bundle), media_type="application/octet-stream")


@router.get("/exports/{file_name}")
def exported(file_name: str, studio: StudioState):
    folder = (studio.project.models / "exports").resolve()
    path = (folder / file_name).resolve()
    if path.parent != folder or not path.exists():
        raise HTTPException(404, "no such export")
    if path.is_dir():  # .mlpackage is a folder: send it zipped
        archive = shutil.make_archive(str(Path(tempfile.mkdtemp()) / path.name), "zip",
                                      path.parent, path.name)
        return FileResponse(archive, filename=f"{path.name}.zip")
    return FileResponse(path, filename=path.name)


def _train(project: Project) -> dict:
    from pocketvision.config import TrainConfig
    from pocketvision.training import train

    train(project.samples, project.bundle, TrainConfig())
    onnx_for(project.bundle)  # the live preview's model, ready before the page asks
    return _model_summary(project)


def _export(project: Project, formats: list[str]) -> dict:
    from pocketvision.exports.job import export

    report = export(project.bundle, project.models / "exports", formats)
    shown = ("format", "precision", "path", "bytes", "ran", "why_not_ran", "top1_agreement",
             "accuracy")
    return {"exports": [{k: getattr(e, k) for k in shown} | {"file": e.file_name}
                        for e in report.exports], "image_source": report.image_source}


def _model_summary(project: Project) -> dict | None:
    from pocketvision.bundle import read_meta

    if not project.bundle.exists():
        return None
    meta = read_meta(project.bundle)
    return {"labels": meta.labels, "accuracy": meta.metrics.get("accuracy"),
            "created": meta.created, "version": project.bundle.stat().st_mtime,
            "train_images": meta.dataset.get("train_images"),
            "val_images": meta.dataset.get("val_images")}


def _formats() -> list[dict]:
    from pocketvision.exports import list_formats, missing_modules

    return [{"name": s.name, "description": s.description,
             "missing": install_command(s.extra) if missing_modules(s) else None}
            for s in list_formats()]


def _check_image(data: bytes, what: str) -> None:
    from PIL import Image

    try:
        Image.open(io.BytesIO(data)).verify()
    except Exception:
        raise LiveError(f"{what} is not an image") from None


def _as_jpeg(data: bytes, filename: str) -> bytes:
    from PIL import Image, ImageOps

    from pocketvision.images import to_rgb

    try:
        image = to_rgb(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    except Exception:
        raise LiveError(f"{filename} is not an image or a video pocketvision can read") from None
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def _save_upload(project: Project, name: str, jpeg: bytes) -> str:
    """Uploaded photos are independent pictures: no session in the name, so the
    split groups them by near-duplicate hash instead."""
    from pocketvision.cache import write_atomically

    path = project.class_dir(name) / f"upload-{hashlib.sha256(jpeg).hexdigest()[:12]}.jpg"
    write_atomically(path, jpeg, durable=True)
    return path.name


def _is_video(filename: str) -> bool:
    return Path(filename).suffix.lower() in (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")


def _save_video_frames(project: Project, name: str, filename: str, data: bytes) -> list[str]:
    from pocketvision.live.project import new_session_id
    from pocketvision.live.sources import frames, to_jpeg

    with tempfile.TemporaryDirectory(prefix="pocketvision-video-") as folder:
        path = Path(folder) / f"upload{Path(filename).suffix.lower()}"
        path.write_bytes(data)
        try:
            pictures = [to_jpeg(f.rgb) for f in frames(str(path), every=VIDEO_EVERY,
                                                       limit=VIDEO_MAX_FRAMES)]
        except PocketVisionError:
            raise LiveError(f"{filename}: not a video pocketvision can read") from None
    session = new_session_id()
    return [project.save_sample(name, jpeg, session, k).name for k, jpeg in enumerate(pictures)]
