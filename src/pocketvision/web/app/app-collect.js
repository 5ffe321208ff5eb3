// The Collect view: the camera with the class to record into and one big Record
// button (hold it: every frame the camera gives becomes a picture of one burst,
// stored the moment it is taken); classes as cards below, to pick photos from the
// gallery, see and delete pictures (with Undo), rename and delete classes.

import { described, frameName, newSession, photoPicture, pictureOf } from "./camera.js";
import { el } from "./ui.js";
import { onVideoFrame } from "./engine.js";

const SHOWN = 24; // thumbnails per class; the newest first

export function collectView(app) {
  const { state, $ } = app;
  const side = () => app.site.backbone.preprocessing.resize;
  let urls = [], classes = [], into = null; // the class id Record records into
  holdToRecord($("record"));

  $("add-class").onsubmit = async (event) => {
    event.preventDefault();
    const name = $("new-class").value;
    if (!name.trim()) return;
    let id;
    if (await act(async () => { id = await app.store.addClass(name); })) {
      $("new-class").value = "";
      choose(id);
    }
  };

  const act = app.change;

  function render(project) {
    for (const url of urls) URL.revokeObjectURL(url);
    urls = [];
    classes = project;
    if (!project.some((c) => c.id === into)) into = project[0]?.id ?? null;
    renderChoices();
    $("classes").replaceChildren(...project.map(card));
    if (!project.length) {
      $("classes").append(el("div", { className: "card muted" },
        "No classes yet. Name one above, e.g. “thumbs up”, then one for everything else, " +
        "e.g. “nothing”, and hold Record while the camera sees each."));
    }
    showThumbnails(project);
  }

  function card(c) {
    const name = el("button", { title: "Rename", ariaLabel: `Rename ${c.name}` }, c.name);
    name.onclick = () => rename(c);
    const remove = el("button", { ariaLabel: `Delete class ${c.name}` }, "Delete");
    remove.onclick = () => deleteClass(c);
    const record = el("button", { className: "record" }, "● Record here");
    record.onclick = () => { choose(c.id); $("record").scrollIntoView({ block: "center", behavior: "smooth" }); };
    const files = el("input", { type: "file", multiple: true, hidden: true,
      accept: app.addVideos ? "image/*,video/*" : "image/*" });
    files.onchange = () => addPhotos(c, files.files);
    const pick = el("button", { ariaLabel: `Add photos to ${c.name}` }, "Add photos");
    pick.onclick = () => files.click();
    const thumbs = el("div", { className: "thumbs" });
    thumbs.dataset.classId = c.id;
    const node = el("div", { className: "card class-card" },
      el("header", {}, el("h3", {}, name), el("span", { className: "count" }, count(c.pictures.length)),
        el("span", { className: "spacer" }), remove),
      thumbs, el("div", { className: "actions" }, record, pick, files));
    node.dataset.class = c.name;
    return node;
  }

  // Thumbnails read their bytes after the cards are drawn (the cards come at once).
  async function showThumbnails(project) {
    for (const c of project) {
      const box = document.querySelector(`.thumbs[data-class-id="${c.id}"]`);
      const shown = c.pictures.slice(-SHOWN).reverse();
      if (!box) continue;
      if (!shown.length) { box.append(el("div", { className: "empty" }, "No pictures yet")); continue; }
      const blobs = await app.store.blobs(shown.map((p) => p.id));
      box.replaceChildren(...shown.map((p, i) => thumb(c, p, blobs[i])));
      if (c.pictures.length > SHOWN) box.append(el("div", { className: "more" }, `and ${c.pictures.length - SHOWN} more`));
    }
  }

  function thumb(c, picture, blob) {
    const url = blob ? URL.createObjectURL(blob) : "";
    urls.push(url);
    const remove = el("button", { ariaLabel: `Delete ${picture.name}`, title: "Delete this picture" }, "×");
    remove.onclick = async () => {
      let mark;
      if (await act(async () => { mark = await app.store.deletePicture(picture.id); })) {
        offerUndo(`Deleted a picture of “${c.name}”.`, mark);
      }
    };
    return el("div", { className: "thumb" }, el("img", { src: url, alt: "", loading: "lazy" }), remove);
  }

  async function rename(c) {
    const next = prompt(`Rename class “${c.name}” to:`, c.name);
    if (next && next !== c.name) await act(() => app.store.renameClass(c.id, next));
  }

  async function deleteClass(c) {
    if (!confirm(`Delete class “${c.name}” and its ${count(c.pictures.length)}?`)) return;
    let mark;
    if (await act(async () => { mark = await app.store.deleteClass(c.id); })) {
      offerUndo(`Deleted “${c.name}”.`, mark);
    }
  }

  // Undo for a deletion (its trash mark); when the time for it has passed, the
  // deletion is made final.
  function offerUndo(text, mark) {
    app.toast(text, { undo: () => undoDeletion(mark), expire: () => app.store.purge(mark).catch(() => {}) });
  }

  // A sentence when it could not be undone (the deleted things stay restorable).
  async function undoDeletion(mark) {
    try {
      const name = await app.store.restore(mark);
      if (name && name !== mark.record.name) {
        app.notice(`There is a class “${mark.record.name}” again, so the deleted one came back ` +
          `as “${name}”; rename it if you like.`, "info");
      }
      return null;
    } catch (error) {
      return `Could not undo: ${error.message}`;
    } finally {
      await app.refresh();
    }
  }

  async function addPhotos(c, chosen) {
    const videos = [...chosen].filter(isVideo), files = [...chosen].filter((f) => !isVideo(f));
    if (videos.length && !app.addVideos) {
      return app.notice("Videos can be added in the desktop studio (`pocketvision studio`); add photos here.");
    }
    if (videos.length) await app.addVideos(c, videos);
    const pictures = [];
    try {
      for (const file of files) pictures.push(await photoPicture(file, side()));
    } catch (error) {
      app.notice(`${error.message}; nothing was added.`);
      return;
    }
    if (pictures.length) await act(() => app.store.addPictures(c.id, pictures));
  }

  // The class chips above Record: which class a burst goes into.
  function renderChoices() {
    const chips = classes.map((c) => {
      const chip = el("button", { role: "radio", ariaChecked: String(c.id === into) }, c.name);
      chip.dataset.class = c.name;
      chip.onclick = () => choose(c.id);
      return chip;
    });
    $("record-into").replaceChildren(...(chips.length ? chips
      : [el("span", { className: "muted" }, "Add a class below, then hold Record.")]));
    const chosen = classes.find((c) => c.id === into);
    $("record").disabled = !chosen;
    $("record").replaceChildren(el("span", { ariaHidden: "true" }, "● "),
      chosen ? `Hold to record “${chosen.name}”` : "Hold to record");
  }

  function choose(id) {
    into = id;
    renderChoices();
  }

  // Hold Record: every new camera frame becomes a picture of one burst, written at once.
  function holdToRecord(button) {
    let burst = null, c = null;
    const start = (event) => {
      event.preventDefault();
      c = classes.find((k) => k.id === into);
      if (burst || !state.cameraReady || !c) return;
      button.setPointerCapture?.(event.pointerId);
      burst = { session: newSession(), index: 0, kept: 0, writes: [], on: true };
      button.classList.add("on");
      state.recording = c.name;
      captureFrames(burst, c);
    };
    const stop = async () => {
      if (!burst) return;
      const finished = burst;
      burst = null;
      finished.on = false;
      button.classList.remove("on");
      await Promise.all(finished.writes);
      $("recording").textContent = `${finished.kept} pictures of “${c.name}” kept`;
      await app.refresh();
      state.recording = null; // and the counts in studioState are the stored ones
    };
    button.addEventListener("pointerdown", start);
    for (const end of ["pointerup", "pointercancel", "lostpointercapture"]) button.addEventListener(end, stop);
    button.addEventListener("keydown", (e) => { if (e.key === " " && !e.repeat) start(e); });
    button.addEventListener("keyup", (e) => { if (e.key === " ") stop(); });
    button.addEventListener("contextmenu", (e) => e.preventDefault()); // a long press is not a menu
  }

  function showCount(c, n) {
    const card = [...document.querySelectorAll(".class-card")].find((node) => node.dataset.class === c.name);
    const counter = card?.querySelector(".count");
    if (counter) counter.textContent = count(n);
  }

  function captureFrames(burst, c) {
    const video = app.video, canvas = new OffscreenCanvas(1, 1);
    const onFrame = () => {
      if (!burst.on) return;
      const name = frameName(burst.session, burst.index++);
      const write = pictureOf(video, side(), canvas)
        .then((picture) => described(picture, name))
        .then((picture) => app.store.addPictures(c.id, [picture]))
        .then(() => {
          state.recorded += 1; burst.kept += 1;
          $("recording").textContent = `● ${burst.kept} pictures`;
          showCount(c, c.pictures.length + burst.kept); // the card counts as it records
        })
        .catch((error) => { burst.on = false; app.notice(error.message); });
      burst.writes.push(write);
      onVideoFrame(video, onFrame);
    };
    onVideoFrame(video, onFrame);
  }

  // Deletions a reload (or a failed Undo) left restorable: offer them once more.
  async function offerLeftovers() {
    const marks = await app.store.trash();
    if (!marks.length) return;
    const restoreAll = async () => {
      const left = new Set((await app.store.trash()).map((m) => m.key)); // a retry: the rest
      for (const mark of marks.filter((m) => left.has(m.key))) {
        const problem = await undoDeletion(mark);
        if (problem) return problem;
      }
      return null;
    };
    const purgeAll = () => Promise.all(marks.map((m) => app.store.purge(m))).catch(() => {});
    app.toast(`${marks.length === 1 ? "A deletion" : `${marks.length} deletions`} from before ` +
      "can still be undone.", { undo: restoreAll, expire: purgeAll });
  }

  return { render, offerLeftovers };
}

function isVideo(file) {
  return file.type.startsWith("video/"); // the server says which kinds it reads
}

function count(n) {
  return `${n} picture${n === 1 ? "" : "s"}`;
}
