"""The project folder as the page's store: HTTP routes in exactly the shape of the
store contract (web/app/contracts.js), which web/app/project-store.js calls.

A class's id is its folder name and a picture's id is ``<class>/<file>``; a
deletion's mark names its trash entry (``samples/.trash/<entry>/``). The folder
never deletes for good: ``purge`` keeps the trash entry (it is emptied by hand, as
with the studio before), so ``trash`` has no deletions waiting. Features are the
server's own cache, keyed as the CLI keys them, so the page keeps none here.
(FastAPI is imported at module level: route signatures must resolve their types.)
"""

from __future__ import annotations

from typing import Annotated

from pocketvision.cache import write_atomically
from pocketvision.data.dataset import PerceptualHashes, check_file
from pocketvision.errors import LiveError, NotThereError, PocketVisionError
from pocketvision.live.project import Project
from pocketvision.live.server import fastapi
from pocketvision.live.uploads import kept_jpeg
from pocketvision.model.bundle import read_meta

fastapi()  # without the [live] extra: the install command, not an ImportError traceback
from fastapi import APIRouter, Depends, File, Request, UploadFile  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402
from fastapi.responses import FileResponse, Response  # noqa: E402
from pydantic import BaseModel, Field  # noqa: E402

MAX_PICTURE_BYTES = 5 * 2**20
MAX_MODEL_BYTES = 200 * 2**20


def _project(request: Request) -> Project:
    return request.app.state.studio.project


ProjectState = Annotated[Project, Depends(_project)]
router = APIRouter(prefix="/api/store")


class ClassName(BaseModel):
    name: str = Field(max_length=200)


class Mark(BaseModel):
    key: str = Field(max_length=100)  # the trash entry
    kind: str = Field(pattern="^(class|picture)$")
    id: str = Field(max_length=1000)


@router.get("/project")
def project(folder: ProjectState):
    """[{id, name, pictures: [{id, name, sha256, dhash}]}], classes and pictures by
    name: the pictures `train` uses (each proven decodable once, as the scan does;
    the perceptual hash as bytes), so a page's recipe splits them as the CLI does."""
    hashes = PerceptualHashes()
    try:
        return [{"id": name, "name": name, "pictures": _pictures(folder, name, hashes)}
                for name in folder.classes()]
    finally:
        hashes.flush()


def _pictures(folder: Project, name: str, hashes: PerceptualHashes) -> list[dict]:
    checked = (check_file(path, name, hashes)[0] for path in folder.sample_files(name))
    return [{"id": f"{name}/{sample.path.name}", "name": sample.path.name, "sha256": sample.sha256,
             "dhash": list(sample.dhash)} for sample in checked if sample is not None]


@router.post("/classes")
def add_class(body: ClassName, folder: ProjectState):
    if folder.class_dir(body.name).exists():
        raise LiveError(f"there is already a class “{body.name.strip()}”")
    return {"id": folder.add_class(body.name).name}


@router.post("/classes/{class_id}/rename")
def rename_class(class_id: str, body: ClassName, folder: ProjectState):
    return {"id": folder.rename_class(class_id, body.name).name}


@router.delete("/classes/{class_id}")
def delete_class(class_id: str, folder: ProjectState):
    return {"key": folder.delete_class(class_id), "kind": "class", "id": class_id,
            "record": {"name": class_id}}


@router.delete("/pictures/{class_id}/{file_name}")
def delete_picture(class_id: str, file_name: str, folder: ProjectState):
    return {"key": folder.delete_sample(class_id, file_name), "kind": "picture",
            "id": f"{class_id}/{file_name}"}


@router.post("/restore")
def restore(mark: Mark, folder: ProjectState):
    """The name the class came back under (null for a picture)."""
    [name] = folder.restore(mark.key)
    return {"name": name if mark.kind == "class" else None}


@router.post("/purge")
def purge(mark: Mark, folder: ProjectState):
    """Kept: the project's trash is emptied by hand, never by a page."""
    return {"kept": f"samples/.trash/{mark.key}"}


@router.get("/trash")
def trash():
    return []  # nothing waits to be deleted for good (see purge)


@router.post("/classes/{class_id}/pictures")
async def add_pictures(class_id: str, folder: ProjectState, files: list[UploadFile] = File(...)):
    """Each file under its own name (a burst frame's or upload-<hash>.jpg), skipping
    names the class has; a JPEG the page made is kept byte for byte. All or nothing:
    a bad file stops the request before anything is written."""
    if not folder.class_dir(class_id).is_dir():
        raise NotThereError("that class was deleted")
    pictures = []
    for upload in files:
        data = await upload.read(MAX_PICTURE_BYTES + 1)
        if len(data) > MAX_PICTURE_BYTES:
            raise LiveError(f"{upload.filename} is larger than {MAX_PICTURE_BYTES // 2**20} MB")
        folder.sample_path(class_id, upload.filename or "")  # a bad name, now
        pictures.append((upload.filename, await run_in_threadpool(kept_jpeg, data, upload.filename)))
    added = [await run_in_threadpool(folder.add_picture, class_id, name, data) for name, data in pictures]
    return {"added": sum(added)}


@router.get("/pictures/{class_id}/{file_name}")
def picture(class_id: str, file_name: str, folder: ProjectState):
    path = folder.sample_path(class_id, file_name)
    if not path.is_file():
        raise NotThereError(f"class {class_id!r} has no picture {file_name!r}")
    return FileResponse(path)


@router.get("/model")
def model(folder: ProjectState):
    if not folder.bundle.is_file():
        return Response(status_code=204)  # no model yet
    return FileResponse(folder.bundle, media_type="application/octet-stream")


@router.put("/model")
async def save_model(request: Request, folder: ProjectState):
    """A bundle the page trained or opened, its header checked as every reader checks
    it (bundle_meta), then written in place of models/model.pvb in one step."""
    data = await request.body()
    if len(data) > MAX_MODEL_BYTES:
        raise LiveError(f"the model is larger than {MAX_MODEL_BYTES // 2**20} MB")
    await run_in_threadpool(_checked_bundle, folder, data)
    write_atomically(folder.bundle, data)
    return {"saved": "models/model.pvb"}


def _checked_bundle(folder: Project, data: bytes) -> None:
    staged = folder.models / ".incoming.pvb"
    write_atomically(staged, data)
    try:
        read_meta(staged)
    except PocketVisionError as error:  # said of the model sent, not of a server path
        raise LiveError(str(error).replace(str(staged), "the model")) from None
    finally:
        staged.unlink(missing_ok=True)
