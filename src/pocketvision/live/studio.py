"""``pocketvision studio``: the local web app over a project folder.

The folder is the source of truth (see project.py): the page only shows it and
asks the server to change it, so closing and reopening the studio loses nothing.
Captured frames arrive one request each and are written atomically at once.
(FastAPI is imported at module level: route signatures must resolve their types.)
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pocketvision.backbones import describe_backbones, get_spec
from pocketvision.cache import default_cache_dir, write_atomically
from pocketvision.config import TrainConfig
from pocketvision.errors import LiveError, NotThereError, PocketVisionError, install_command
from pocketvision.exports import get_format, list_formats, missing_modules
from pocketvision.exports.job import export as export_bundle
from pocketvision.exports.web_app import (
    WEB,
    SiteBackbone,
    bundle_site_backbone,
    pretrained_site_backbone,
)
from pocketvision.features.graph import self_contained_graph
from pocketvision.live.jobs import Job
from pocketvision.live.project import MAX_INDEX, Project, new_session_id, plain_file_name
from pocketvision.live.server import base_app, fastapi, onnx_for
from pocketvision.live.store_routes import router as store_router
from pocketvision.live.uploads import as_jpeg, prepared_uploads
from pocketvision.model.bundle import read_meta
from pocketvision.training.doctor import diagnose
from pocketvision.training.job import train as train_bundle

fastapi()  # without the [live] extra: the install command, not an ImportError traceback
from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

MAX_FRAME_BYTES = 5 * 2**20
MAX_UPLOAD_BYTES = 200 * 2**20


@dataclass
class Studio:
    """What every request works on: the project folder and the one background job."""

    project: Project
    job: Job


def _studio(request: Request) -> Studio:
    return request.app.state.studio


StudioState = Annotated[Studio, Depends(_studio)]
router = APIRouter()


class ClassName(BaseModel):
    name: str = Field(max_length=200)


def _default_backbone() -> str:
    return TrainConfig().backbone


class TrainRequest(BaseModel):
    backbone: str = Field(default_factory=_default_backbone, max_length=100)
    fine_tune: int = Field(default=0, ge=0, le=100)  # backbone blocks to unfreeze (PyTorch)


class ExportRequest(BaseModel):
    formats: list[str] = Field(default=["onnx"], min_length=1, max_length=10)


def studio_app(project_dir: Path, host: str = "127.0.0.1"):
    """The studio for ``project_dir`` (created if missing), served on ``host``."""
    app = base_app("pocketvision studio", host)
    app.state.studio = Studio(_project(project_dir), Job())
    app.add_exception_handler(PocketVisionError, _user_error)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(OSError, _disk_error)
    app.include_router(router)
    app.include_router(store_router)
    return app


def _project(folder: Path) -> Project:
    try:
        return Project(folder).create()
    except OSError as error:
        raise LiveError(f"cannot use {folder} as a project folder ({error.strerror}); "
                        "choose a folder you can write to") from None


def _user_error(request, error: PocketVisionError):
    return JSONResponse({"error": str(error)}, status_code=404 if isinstance(error, NotThereError)
                        else 400)


def _bad_request(request, error: RequestValidationError):
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    return JSONResponse({"error": f"bad request: {where or 'body'}: {first.get('msg', 'invalid')}"},
                        status_code=400)


def _disk_error(request, error: OSError):
    """The project folder could not be written (disk full, read-only): say so."""
    full = error.errno in (errno.ENOSPC, errno.EDQUOT)
    reason = "the disk is full" if full else (error.strerror or type(error).__name__)
    return JSONResponse({"error": f"could not write to the project folder: {reason}"},
                        status_code=507)


@router.get("/", response_class=HTMLResponse)
def page():
    """The app the phone uses (web/app/), here over the project folder: no service
    worker or install tags (the studio is this machine's, and online by nature)."""
    return (WEB / "app" / "app.html").read_text().replace("<!--pwa-->", "")


# What the page can do here that a phone cannot: the server's own panels.
OFFERS = ("backbones", "fine_tune", "doctor", "export", "videos", "problems")


@router.get("/config.json")
def config():
    """The page's config (as a web app's config.json): the project folder is its home."""
    return {"home": "project", "offers": list(OFFERS), "actions": {}, "model": None,
            "play": None, "backbone": "backbone.json", "graph": "backbone.onnx", "start": "collect"}


@router.get("/backbone.json")
def backbone_info(studio: StudioState):
    """The backbone the page runs (as a web app's backbone.json): the project model's
    (a fine-tuned one included), else the default."""
    return _page_backbone(studio.project).info


@router.get("/backbone.onnx")
def backbone_graph(studio: StudioState):
    return FileResponse(_site_graph(_page_backbone(studio.project)),
                        media_type="application/octet-stream")


def _page_backbone(project: Project) -> SiteBackbone:
    bundle = project.bundle
    if bundle.is_file():
        stat = bundle.stat()
        try:
            return _bundle_backbone(bundle, stat.st_mtime_ns, stat.st_size)
        except (PocketVisionError, OSError):
            pass  # a damaged model, or one whose backbone cannot run in a browser: the default
    return _default_page_backbone()


@lru_cache(maxsize=4)
def _bundle_backbone(bundle: Path, mtime_ns: int, size: int) -> SiteBackbone:
    return bundle_site_backbone(bundle)  # keyed by mtime and size: a new model, a new answer


@lru_cache(maxsize=1)
def _default_page_backbone() -> SiteBackbone:
    return pretrained_site_backbone(_default_backbone())


def _site_graph(backbone: SiteBackbone) -> Path:
    """The backbone's graph with its tensors inside (one file for the page), made once."""
    info = backbone.info
    path = default_cache_dir() / "site-graphs" / f"{info['name']}-{info['weights_hash'][:16]}.onnx"
    if not path.is_file():
        write_atomically(path, self_contained_graph(backbone.graph))
    return path


@router.get("/api/project")
def describe(studio: StudioState):
    project = studio.project
    classes = [{"name": c, "samples": [p.name for p in project.sample_files(c)]}
               for c in project.classes()]
    model, model_problem = _model_summary(project)
    return {"root": str(project.root), "classes": classes, "problems": project.problems(),
            "model": model, "model_problem": model_problem, "job": studio.job.status(),
            "formats": _formats(), "backbones": _backbones()}


@router.post("/api/classes")
def add_class(body: ClassName, studio: StudioState):
    folder = studio.project.add_class(body.name)
    return {"created": folder.name}


@router.post("/api/classes/{name}/rename")
def rename(name: str, body: ClassName, studio: StudioState):
    folder = studio.project.rename_class(name, body.name)
    return {"renamed": folder.name}


@router.delete("/api/classes/{name}")
def delete_class(name: str, studio: StudioState):
    """Into the project's trash (samples/.trash/), restorable with /api/trash/{undo}."""
    return {"deleted": name, "undo": studio.project.delete_class(name)}


@router.post("/api/trash/{entry}/restore")
def restore(entry: str, studio: StudioState):
    return {"restored": studio.project.restore(entry)}


class ProblemFolder(BaseModel):
    folder: str = Field(max_length=1000)


@router.post("/api/problems/set-aside")
def set_aside(body: ProblemFolder, studio: StudioState):
    return {"moved": studio.project.set_aside(body.folder)}


@router.post("/api/classes/{name}/frames")
async def frame(name: str, session: str, request: Request, studio: StudioState,
                index: int = Query(ge=0, le=MAX_INDEX)):
    """One frame of a hold-to-record burst, re-encoded as a JPEG sample."""
    body = await request.body()
    if len(body) > MAX_FRAME_BYTES:
        raise HTTPException(413, "frame too large")
    jpeg = await run_in_threadpool(as_jpeg, body, "the captured frame")
    saved = await run_in_threadpool(studio.project.save_sample, name, jpeg, session, index)
    return {"saved": saved.name}


@router.post("/api/classes/{name}/upload")
async def upload(name: str, studio: StudioState, files: list[UploadFile] = File(...)):
    """Photos (each re-encoded as a JPEG sample) and videos (every 5th frame, one
    session per video). Nothing is saved if any file is bad."""
    studio.project.class_dir(name)
    payloads = [(f.filename or "file", await f.read(MAX_UPLOAD_BYTES + 1)) for f in files]
    if any(len(data) > MAX_UPLOAD_BYTES for _, data in payloads):
        raise HTTPException(413, f"uploads are limited to {MAX_UPLOAD_BYTES // 2**20} MB a file")
    photos, videos = await run_in_threadpool(prepared_uploads, payloads)
    return {"saved": await run_in_threadpool(_save_uploads, studio.project, name, photos, videos)}


@router.get("/samples/{name}/{file_name}")
def sample(name: str, file_name: str, studio: StudioState):
    path = studio.project.sample_path(name, file_name)
    if not path.is_file():
        raise HTTPException(404, "no such sample")
    return FileResponse(path)  # the type from the name: captures are JPEG, copied-in files may not be


class MoveTo(BaseModel):
    to: str = Field(max_length=200)


@router.post("/samples/{name}/{file_name}/move")
def move_sample(name: str, file_name: str, body: MoveTo, studio: StudioState):
    moved = studio.project.move_sample(name, file_name, body.to)
    return {"moved": file_name, "to": moved.parent.name}


@router.get("/api/doctor")
def doctor(studio: StudioState):
    """The doctor's findings about the project's samples, each file as (class, file)."""
    from dataclasses import asdict

    project = studio.project
    diagnosis = diagnose(project.samples, classes=set(project.classes()))  # not problem folders
    findings = []
    for finding in diagnosis.findings:
        # the sample's own path, never where a link points: a fix acts on what was shown
        files = [Path(p).relative_to(project.samples).parts for p in finding.paths]
        findings.append(asdict(finding) | {"files": [
            # a picture in a class's sub-folder is shown, but not offered to move or delete
            {"class": parts[0], "file": parts[-1] if len(parts) == 2 else None} for parts in files]})
    return {"images": diagnosis.images, "classes": diagnosis.classes, "findings": findings}


@router.delete("/samples/{name}/{file_name}")
def delete_sample(name: str, file_name: str, studio: StudioState):
    """Into the project's trash (samples/.trash/), restorable with /api/trash/{undo}."""
    return {"deleted": file_name, "undo": studio.project.delete_sample(name, file_name)}


@router.post("/api/train")
def train(studio: StudioState, body: TrainRequest | None = None):
    asked = body or TrainRequest()
    get_spec(asked.backbone)  # an unknown name is the user's to fix, now, not in the job
    settings = TrainConfig(backbone=asked.backbone, fine_tune=asked.fine_tune)
    if not studio.job.start("train", lambda: _train(studio.project, settings)):
        raise HTTPException(409, "a job is already running")
    return studio.job.status()


@router.post("/api/export")
def export(body: ExportRequest, studio: StudioState):
    for name in body.formats:
        if name != "all":
            get_format(name)  # an unknown name is the user's to fix, now, not in the job
    if not studio.project.bundle.exists():
        raise LiveError("train a model first")
    if not studio.job.start("export", lambda: _export(studio.project, body.formats)):
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
    folder = studio.project.models / "exports"
    path = folder / file_name
    if not plain_file_name(file_name) or path.is_symlink() \
            or not (path.is_file() or path.is_dir()):
        raise HTTPException(404, "no such export")
    if path.is_dir():  # .mlpackage is a folder: send it zipped, built in memory
        return Response(_zipped(path), media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{path.name}.zip"'})
    return FileResponse(path, filename=path.name)


def _zipped(folder: Path) -> bytes:
    """The folder as a zip, links left out (they could point outside the project)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as packed:
        for parent, folders, names in os.walk(folder):  # does not follow links
            for entry in names:
                path = Path(parent) / entry
                if path.is_file() and not path.is_symlink():
                    packed.write(path, path.relative_to(folder.parent))
    return archive.getvalue()


def _save_uploads(project: Project, name: str, photos: list[bytes],
                  videos: list[list[bytes]]) -> list[str]:
    """Photos are independent pictures: no session in the name, so the split
    groups them by near-duplicate hash; each video is one capture session."""

    saved = []
    for jpeg in photos:
        path = project.add_class(name) / f"upload-{hashlib.sha256(jpeg).hexdigest()[:12]}.jpg"
        write_atomically(path, jpeg, durable=True)
        saved.append(path.name)
    for frames in videos:
        session = new_session_id()
        saved += [project.save_sample(name, jpeg, session, k).name for k, jpeg in enumerate(frames)]
    return saved


def _train(project: Project, settings: TrainConfig) -> dict:
    result = train_bundle(project.samples, project.bundle, settings)
    return {**_model_summary(project)[0], "seconds": round(result.seconds, 3),
            "features_computed": result.features.computed,
            "features_cached": result.features.cached}


def _export(project: Project, formats: list[str]) -> dict:
    report = export_bundle(project.bundle, project.models / "exports", formats)
    shown = ("format", "precision", "path", "bytes", "ran", "why_not_ran", "top1_agreement",
             "accuracy")
    return {"exports": [{k: getattr(e, k) for k in shown} | {"file": e.file_name}
                        for e in report.exports], "image_source": report.image_source}


def _model_summary(project: Project) -> tuple[dict | None, str | None]:
    """(what the page shows of the model, None), or (None, why it cannot be read):
    a damaged bundle is shown as a problem, never a broken page."""

    if not project.bundle.exists():
        return None, None
    try:
        meta = read_meta(project.bundle)
    except (PocketVisionError, OSError) as error:
        return None, f"{error}; train again to replace it"
    return {"labels": meta.labels, "backbone": meta.backbone.name,
            "accuracy": meta.metrics.get("accuracy"),
            "created": meta.created, "version": project.bundle.stat().st_mtime,
            "train_images": meta.dataset.get("train_images"),
            "val_images": meta.dataset.get("val_images")}, None


def _backbones() -> list[dict]:
    """The backbones whose weights are on this machine (the studio trains offline),
    the one training uses when none is chosen marked ``default``."""

    default = _default_backbone()
    return [{"name": b["name"], "description": b["description"], "input_size": b["input_size"],
             "default": b["name"] == default} for b in describe_backbones() if b["weights_available"]]


def _formats() -> list[dict]:
    return [{"name": s.name, "description": s.description,
             "missing": install_command(s.extra) if missing_modules(s) else None}
            for s in list_formats()]
