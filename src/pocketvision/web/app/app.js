// The app: collect pictures with the camera, train on them, and play the runner game
// with the new model. On a phone all of it happens on the device, offline; served by
// `pocketvision studio` it works on a project folder instead (home.js), with the
// studio's own panels (app-studio.js). This file starts the pieces and holds what
// the views share; app-collect.js, app-train.js and app-play.js are the views. window.studioState is a read-only snapshot for tests
// (and the curious): classes with picture counts, training, the live label, the model.

import { BundleError, playableModel, readBundle } from "../recipe/bundle-file.js";
import { BODY_PREFIX } from "../recipe/shared.js";
import { openCamera } from "./camera.js";
import { collectView } from "./app-collect.js";
import { Backbone } from "./model-client.js";
import { pageModel } from "../recipe/page-model.js";
import { playView } from "./app-play.js";
import { summaryOf } from "./model-summary.js";
import { openHome } from "./home.js";
import { studioPanels } from "./app-studio.js";
import { openGivenModels } from "./files.js";
import { trainView } from "./app-train.js";
import { useView } from "./app-use.js";
import { missingFeatures, modelThreads, storageWillLast } from "./engine.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["collect", "train", "play", "use"];
const state = {
  view: "collect", classes: [], training: { status: "idle" }, valAccuracy: null,
  labels: [], model: null, label: null, confidence: 0, novelty: null, fps: 0, inferenceMs: 0,
  cameraReady: false, modelReady: false, backboneReady: false, recording: null, recorded: 0,
  jumps: 0, ducks: 0, storage: null, storageMayNotLast: false,
};
Object.defineProperty(window, "studioState", { get: () => structuredClone(state) });

const UNDO_MS = 6000; // how long a deletion (or the Use view's Clear log) can be undone
const app = {
  state, $, undoMs: UNDO_MS,
  notice(text, kind = "error") {
    $("notice").textContent = text || "";
    $("notice").className = `message ${kind}`;
    $("notice").hidden = !text;
  },
  // A short message with an Undo button (deleting a picture or a class): `undo`
  // returns a sentence when it could not undo (then Undo is offered again), `expire`
  // runs when the undo time has passed (or the next message takes its place).
  toast(text, { undo = null, expire = null } = {}) {
    closeToast(true);
    const box = Object.assign(document.createElement("div"), { className: "toast", role: "status" });
    box.append(text);
    if (undo) {
      const button = Object.assign(document.createElement("button"), { textContent: "Undo" });
      button.onclick = async () => {
        closeToast(false);
        const problem = await undo();
        if (problem) app.toast(`${problem} Tap Undo to try again.`, { undo, expire });
      };
      box.append(button);
    }
    document.body.append(box);
    toast = { box, expire, timer: setTimeout(() => closeToast(true), UNDO_MS) };
  },
  views: {},
};

let toast = null; // the message on screen: {box, expire, timer}

function closeToast(expired) {
  if (!toast) return;
  const { box, expire, timer } = toast;
  toast = null;
  clearTimeout(timer);
  box.remove();
  if (expired) expire?.();
}

async function json(url) {
  const response = await fetch(new URL(url, location.href));
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response.json();
}

// ---- the model the views share ---------------------------------------------------
// Bytes of a .pvb -> the playing model, checked against this site's backbone.
app.useModel = async (bytes, summary, play = null) => {
  const playable = await playableModel(readBundle(bytes), app.site.backbone);
  app.model = pageModel({ ...playable, summary }, play);
  Object.assign(state, { model: summary, labels: playable.labels, modelReady: true,
    valAccuracy: summary.accuracy });
  $("model-pill").textContent = `${playable.labels.length} classes` +
    (summary.accuracy == null ? "" : ` · ${Math.round(100 * summary.accuracy)}%`);
  for (const view of Object.values(app.views)) view.modelChanged?.();
};

// The model to play: the one kept on this phone, unless it came with an earlier version
// of this web app (an export replaced the site's model since: the new one wins).
// Models trained or opened here always stay.
async function loadModel() {
  const saved = await app.store.model();
  const { model, model_sha256: shipped } = app.site.config;
  const outdated = saved?.play && model && saved.fromSite !== shipped;
  if (saved && !outdated) return app.useModel(saved.bytes, saved.summary, saved.play);
  if (!model) return;
  const bytes = new Uint8Array(await (await fetch(new URL(model, location.href))).arrayBuffer());
  const summary = summaryOf(readBundle(bytes).meta, "came with this web app");
  await app.useModel(bytes, summary, app.site.config.play);
  await app.store.saveModel(bytes, summary, app.site.config.play, shipped);
}

// ---- project and views -------------------------------------------------------------
app.refresh = async () => {
  const project = await app.store.project();
  state.classes = project.map((c) => ({ name: c.name, pictures: c.pictures.length }));
  app.views.collect.render(project);
  await app.views.studio?.refreshed();
  const estimate = await navigator.storage?.estimate?.();
  state.storage = estimate ? { usage: estimate.usage, quota: estimate.quota } : null;
};

// A change to the project, then the views read it again: true when it worked, else
// its message is shown.
app.change = async (work) => {
  try {
    app.notice("");
    await work();
    return true;
  } catch (error) {
    app.notice(error.message);
    return false;
  } finally {
    await app.refresh();
  }
};

function show(view) {
  state.view = view;
  for (const tab of document.querySelectorAll("nav.tabs button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  }
  for (const name of VIEWS) $(name).hidden = name !== view;
  const slot = document.querySelector(`.camera-slot[data-slot="${view}"]`);
  if (slot) slot.append(app.video);
  for (const [name, part] of Object.entries(app.views)) (name === view ? part.shown : part.hidden)?.();
}
app.show = show;

async function startCamera() {
  const facing = $("facing");
  facing.value = localStorage.getItem("pocketvision.camera") || "user";
  const open = async () => {
    app.video.classList.toggle("mirrored", facing.value === "user");
    await openCamera(app.video, facing.value);
    state.cameraReady = true;
  };
  facing.onchange = () => {
    localStorage.setItem("pocketvision.camera", facing.value);
    open().catch((error) => app.notice(`Camera: ${error.name}`));
  };
  try {
    await open();
  } catch (error) {
    app.notice(`No camera (${error.name}): you can still add photos and play with the buttons.` +
      (self.isSecureContext ? "" : " Phones give the camera only to https pages."));
  }
}

// A site around a fine-tuned bundle runs that bundle's own backbone weights, which
// no other machine has: models trained here carry them (as the site's model.pvb
// does), so that predict and export take them anywhere.
async function fineTunedBody({ config, backbone }) {
  if (backbone.pretrained || !config.model) return null;
  const bytes = await (await fetch(new URL(config.model, location.href))).arrayBuffer();
  const { tensors } = readBundle(bytes);
  return Object.fromEntries(Object.entries(tensors).filter(([name]) => name.startsWith(BODY_PREFIX)));
}

async function boot() {
  const config = await json("config.json");
  app.site = { config, backbone: await json(config.backbone) };
  app.site.bodyTensors = await fineTunedBody(app.site);
  const threads = modelThreads();
  app.backbone = new Backbone(new URL(config.graph, location.href).href, threads);
  app.backbone.ready.then((loaded) => { state.backboneReady = true; state.threads = loaded.threads; },
    (error) => app.notice(`The model could not start: ${error.message}`));
  const home = await openHome(app, config);
  Object.assign(app, { store: home.store, trainer: home.trainer, home: home.where });
  app.store.onChange = async (changed) => {
    await app.refresh();
    if (changed.includes("models")) await loadModel().catch(() => {});
  };
  app.video = Object.assign(document.createElement("video"), { autoplay: true, muted: true, playsInline: true });
  app.views = { collect: collectView(app), train: trainView(app), play: playView(app), use: await useView(app) };
  if (config.offers) app.views.studio = await studioPanels(app, config.offers); // the studio's own
  let chosen = false; // a view the person picked while the app was still starting stays
  for (const tab of document.querySelectorAll("nav.tabs button")) {
    tab.onclick = () => { chosen = true; show(tab.dataset.view); };
  }
  await app.refresh();
  await app.views.collect.offerLeftovers();
  await loadModel().catch((error) => app.notice(error instanceof BundleError
    ? `The saved model could not be used: ${error.message}` : String(error)));
  if (!chosen) show(VIEWS.includes(config.start) ? config.start : "collect");
  if (app.home !== "project") noteStorage();
  await openGivenModels(app);
  await startCamera();
}

// Where storage may not outlive the session (a private tab, or an engine that has
// not agreed to keep it), say so, and how to keep the work, until the person taps OK
// (remembered for as long as this browser keeps the site's storage).
async function noteStorage() {
  const dismissed = "pocketvision.storageNoteDismissed";
  if (localStorage.getItem(dismissed) || await storageWillLast()) return;
  state.storageMayNotLast = true;
  $("storage-note").hidden = false;
  $("storage-note-close").onclick = () => {
    $("storage-note").hidden = true;
    localStorage.setItem(dismissed, "1");
  };
}

const missing = missingFeatures();
if (missing) app.notice(missing);
else boot().catch((error) => app.notice(`Could not start: ${error.message || error}`));
