"""The store and trainer contracts (web/app/contracts.js), one set of cases run in
Chromium against both implementations of each: the browser's (IndexedDB, the recipe
in a worker) and the project folder's (HTTP to `pocketvision studio`). The same
steps must give the same answers, and the folder must hold what the page was told."""

from __future__ import annotations

import base64
import io

import pytest
from browser import browser_available, chromium_page
from live_helpers import running

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")
pytest.importorskip("fastapi")

# The cases, written once: `store` is either implementation, `pictures` three real
# JPEGs ({name, b64}), `model` a real bundle (base64). Each step records what it saw.
STORE_CASES = """async ({ which, pictures, model }) => {
  const { Store } = await import("/web/app/store.js");
  const { ProjectStore } = await import("/web/app/project-store.js");
  const { STORE_METHODS, StoreError } = await import("/web/app/contracts.js");
  const store = which === "browser" ? await Store.open(`/contract-test/${Math.random()}`) : new ProjectStore();
  const seen = {};
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const names = async () => (await store.project()).map((c) => `${c.name}:${c.pictures.length}`);
  const refused = async (work) => {
    try { await work(); return "accepted"; } catch (error) { return error instanceof StoreError ? "refused" : String(error); }
  };
  seen.methods = STORE_METHODS.filter((m) => typeof store[m] !== "function");
  seen.empty = await store.project();
  const cats = await store.addClass("cats"), dogs = await store.addClass("  dogs ");
  seen.added = await names();
  seen.sameName = await refused(() => store.addClass("cats"));
  seen.slash = await refused(() => store.addClass("a/b"));
  await store.renameClass(dogs, "hounds");
  seen.renamed = await names();
  const hounds = (await store.project()).find((c) => c.name === "hounds").id;
  seen.renameTaken = await refused(() => store.renameClass(cats, "hounds"));
  const given = pictures.map((p) => ({ name: p.name, blob: new Blob([bytes(p.b64)], { type: "image/jpeg" }),
    sha256: p.sha256, dhash: null, width: 28, height: 28 }));
  seen.addedPictures = await store.addPictures(cats, given);
  seen.addedAgain = await store.addPictures(cats, given);
  const listed = (await store.project()).find((c) => c.name === "cats").pictures;
  seen.pictureNames = listed.map((p) => p.name);
  seen.sha256 = listed.map((p) => p.sha256);
  const blobs = await store.blobs(listed.map((p) => p.id));
  seen.bytesKept = (await Promise.all(blobs.map(async (b, i) =>
    btoa(String.fromCharCode(...new Uint8Array(await b.arrayBuffer()))) === pictures[i].b64))).every(Boolean);

  const pictureMark = await store.deletePicture(listed[0].id);
  seen.pictureMarkKind = pictureMark.kind;
  seen.afterPictureDeleted = await names();
  seen.pictureRestored = await store.restore(pictureMark);
  seen.afterPictureRestored = await names();
  const classMark = await store.deleteClass(cats);
  seen.classMark = [classMark.kind, classMark.record.name];
  seen.afterClassDeleted = await names();
  await store.addClass("cats");
  seen.classRestoredAs = await store.restore(classMark);
  seen.afterClassRestored = await names();
  const houndsMark = await store.deleteClass(hounds);
  await store.purge(houndsMark);
  seen.afterPurge = await names();
  seen.trashAfterPurge = (await store.trash()).filter((m) => m.key === houndsMark.key).length;

  const vector = new Float32Array([1, 2, 3]);
  await store.putFeatures([{ key: "k", vector }]);
  const [kept] = await store.features(["k"]);
  seen.features = kept === null || Array.from(kept).join() === "1,2,3";
  seen.noModel = await store.model();
  const modelBytes = bytes(model);
  await store.saveModel(modelBytes, { labels: ["from the test"] });
  const saved = await store.model();
  seen.modelKept = saved.bytes.length === modelBytes.length && saved.bytes.every((b, i) => b === modelBytes[i]);
  seen.junkModel = which === "folder" ? await refused(() => store.saveModel(new Uint8Array([1, 2, 3]), {})) : "n/a";
  return seen;
}"""

EXPECTED = {
    "methods": [], "empty": [], "added": ["cats:0", "dogs:0"], "sameName": "refused",
    "slash": "refused", "renamed": ["cats:0", "hounds:0"], "renameTaken": "refused",
    "addedPictures": 3, "addedAgain": 0, "bytesKept": True, "pictureMarkKind": "picture",
    "afterPictureDeleted": ["cats:2", "hounds:0"], "pictureRestored": None,
    "afterPictureRestored": ["cats:3", "hounds:0"], "afterClassDeleted": ["hounds:0"],
    "classMark": ["class", "cats"], "classRestoredAs": "cats (2)", "afterClassRestored": ["cats:0", "cats (2):3", "hounds:0"],
    "afterPurge": ["cats:0", "cats (2):3"], "trashAfterPurge": 0, "features": True,
    "noModel": None, "modelKept": True,
}


def _jpegs(fashion3) -> list[dict]:
    import hashlib

    from PIL import Image

    pictures = []
    for k, path in enumerate(sorted((fashion3 / "train" / "sneaker").iterdir())[:3]):
        out = io.BytesIO()
        Image.open(path).convert("RGB").save(out, "JPEG", quality=92)
        data = out.getvalue()
        pictures.append({"name": f"20261206T101010-ab12-{k:04d}.jpg", "sha256": hashlib.sha256(data).hexdigest(),
                         "b64": base64.b64encode(data).decode()})
    return pictures


def test_both_stores_answer_the_same_cases_alike(fashion3, trained, tmp_path):
    from pocketvision.live.studio import studio_app
    from pocketvision.model.bundle import write_slim_bundle

    pictures = _jpegs(fashion3)
    slim = write_slim_bundle(trained.bundle, tmp_path / "slim.pvb")
    model = base64.b64encode(slim.read_bytes()).decode()
    project = tmp_path / "project"
    with running(studio_app(project)) as url, chromium_page() as page:
        page.goto(f"{url}/api/job")  # a page of the studio's origin
        answers = {which: page.evaluate(STORE_CASES, {"which": which, "pictures": pictures, "model": model})
                   for which in ("browser", "folder")}
    for which, seen in answers.items():
        for key, expected in EXPECTED.items():
            assert seen[key] == expected, (which, key, seen[key])
    assert answers["browser"]["sha256"] == answers["folder"]["sha256"] == [p["sha256"] for p in pictures]
    assert answers["browser"]["pictureNames"] == answers["folder"]["pictureNames"]
    assert answers["folder"]["junkModel"] == "refused"
    # what the folder holds is what the page was told
    samples = project / "samples"
    assert sorted(p.name for p in samples.iterdir() if not p.name.startswith(".")) == ["cats", "cats (2)"]
    assert sorted(p.name for p in (samples / "cats (2)").iterdir()) == [p["name"] for p in pictures]
    assert [(samples / "cats (2)" / p["name"]).read_bytes() for p in pictures] == \
        [base64.b64decode(p["b64"]) for p in pictures]
    assert (project / "models" / "model.pvb").read_bytes() == slim.read_bytes()
    assert any((samples / ".trash").iterdir())  # the purged class is kept in the folder's trash


TRAINER_CASE = """async ({ which }) => {
  const { Store } = await import("/web/app/store.js");
  const { ProjectStore } = await import("/web/app/project-store.js");
  const { Backbone } = await import("/web/app/model-client.js");
  const { browserTrainer } = await import("/web/app/trainer.js");
  const { serverTrainer } = await import("/web/app/server-trainer.js");
  const { TRAINER_METHODS } = await import("/web/app/contracts.js");
  const site = { backbone: await (await fetch("/backbone.json")).json() };
  const folder = new ProjectStore();
  let store = folder, trainer;
  if (which === "browser") {  // the folder's pictures, copied into the browser's store
    store = await Store.open(`/contract-train/${Math.random()}`);
    for (const c of await folder.project()) {
      const id = await store.addClass(c.name);
      const blobs = await folder.blobs(c.pictures.map((p) => p.id));
      await store.addPictures(id, c.pictures.map((p, i) => ({ name: p.name, blob: blobs[i], sha256: p.sha256,
        dhash: p.dhash, width: 28, height: 28 })));
    }
    trainer = browserTrainer({ store, backbone: new Backbone(new URL("/backbone.onnx", location.href).href, 1), site });
  } else {
    trainer = serverTrainer({ store, site });
  }
  const phases = new Set();
  const result = await trainer.train((phase) => phases.add(phase));
  const saved = await store.model();
  return { methods: TRAINER_METHODS.filter((m) => typeof trainer[m] !== "function"),
    labels: result.summary.labels, saved: saved.bytes.length === result.bytes.length,
    phases: [...phases], accuracy: result.summary.accuracy };
}"""


def test_both_trainers_train_the_folder_s_project_into_a_playable_model(fashion3, tmp_path):
    from pocketvision.live.studio import studio_app

    project = tmp_path / "project"
    classes = sorted(p.name for p in (fashion3 / "train").iterdir())
    for label in classes:
        (project / "samples" / label).mkdir(parents=True)
        for path in sorted((fashion3 / "train" / label).iterdir())[:12]:
            (project / "samples" / label / path.name).write_bytes(path.read_bytes())
    with running(studio_app(project)) as url, chromium_page() as page:
        page.goto(f"{url}/api/job")
        answers = {which: page.evaluate(TRAINER_CASE, {"which": which}) for which in ("folder", "browser")}
    for which, seen in answers.items():
        assert seen["methods"] == [] and seen["saved"], which
        assert seen["labels"] == classes, which
        assert seen["phases"], which  # progress was reported
        assert seen["accuracy"] is None or seen["accuracy"] >= 0.6, which
