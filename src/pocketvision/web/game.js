// The runner game: our own small canvas game, steered by the model on this page.
// Webcam frames are classified once per new video frame (requestVideoFrameCallback),
// smoothed by the same rules as `pocketvision control` (smoothing.js), and turned
// into jump (tap) and duck (hold). Keyboard and touch work too: Space/Up or the
// Jump button jump, Down or the Duck button duck. Which classes jump and duck comes
// from config.json (`--map`), else the player picks them (kept in localStorage).
// Every URL is relative, so `pocketvision play` and a static copy of the page
// (`export --format web`) both work. window.gameState is for tests and the curious.

import { loadModel, classify } from "./pocketvision-onnx.js";
import { RunnerGame } from "./runner.js";
import { Smoother } from "./smoothing.js";
import { el, probabilityBars } from "./ui.js";

const state = (window.gameState = {
  label: null, confidence: 0, fps: 0, inferenceMs: 0, modelReady: false, cameraReady: false,
});
let config = { actions: {} };
const game = new RunnerGame(document.getElementById("world"), state, jumpHint);
game.start((s) => {
  document.getElementById("score").textContent = s.score;
  document.getElementById("best").textContent = s.best;
});
game.listen();
const jump = () => game.jump(), duck = (down) => game.duck(down);

function jumpHint() {
  const label = Object.keys(config.actions).find((l) => config.actions[l].key === "jump");
  if (label) return `Show “${label}”${matchMedia("(pointer: coarse)").matches ? " or tap" : " or press Space"}`;
  return matchMedia("(pointer: coarse)").matches ? "Tap Jump" : "Press Space";
}

document.getElementById("jump").addEventListener("pointerdown", (e) => { jump(); e.preventDefault(); });
const duckButton = document.getElementById("duck");
duckButton.addEventListener("pointerdown", (e) => { duck(true); e.preventDefault(); });
for (const end of ["pointerup", "pointercancel", "pointerleave"]) {
  duckButton.addEventListener(end, () => duck(false));
}

// ---- camera + model ---------------------------------------------------------
function showStatus(text, kind = "info") {
  const box = document.getElementById("status");
  box.textContent = text; box.className = `message ${kind}`; box.hidden = !text;
}


// ---- which class does what --------------------------------------------------
// --map wins; else the player's last choice on this device; else classes named up/down.
function chooseActions(labels, mapped) {
  const fromMap = (key) => Object.keys(mapped).find((label) => mapped[label].key === key) || "";
  const saved = JSON.parse(localStorage.getItem("pocketvision.actions") || "{}");
  const pick = (key, guess) => fromMap(key) || (labels.includes(saved[key]) ? saved[key] : "") ||
    (labels.includes(guess) ? guess : "");
  const chosen = { jump: pick("jump", "up"), duck: pick("duck", "down") };
  for (const key of ["jump", "duck"]) {
    const select = document.getElementById(`${key}-class`);
    select.replaceChildren(el("option", { value: "" }, "nothing"),
      ...labels.map((label) => el("option", { value: label }, label)));
    select.value = chosen[key];
    select.disabled = Boolean(fromMap(key));
    select.onchange = () => {
      chosen[key] = select.value;
      localStorage.setItem("pocketvision.actions", JSON.stringify(chosen));
      applyActions(chosen);
    };
  }
  applyActions(chosen);
}

let smoother = null;
function applyActions(chosen) {
  const actions = {};
  if (chosen.jump) actions[chosen.jump] = { key: "jump", mode: "tap" };
  if (chosen.duck && chosen.duck !== chosen.jump) actions[chosen.duck] = { key: "duck", mode: "hold" };
  config.actions = actions;
  smoother = new Smoother(actions);
  document.getElementById("help").replaceChildren(
    ...Object.entries(actions).map(([label, a]) => el("span", {}, "Show ", el("b", {}, label), ` to ${a.key}`)),
    el("span", {}, el("kbd", {}, "Space"), " jump · ", el("kbd", {}, "↓"), " duck"));
}

// ---- camera + model ---------------------------------------------------------
async function openCamera(video, facing) {
  if (video.srcObject) for (const track of video.srcObject.getTracks()) track.stop();
  const stream = await navigator.mediaDevices.getUserMedia(
    { video: { width: 640, height: 480, facingMode: facing }, audio: false });
  video.srcObject = stream;
  await video.play();
}

async function start() {
  const setup = await (await fetch(new URL("config.json", location.href))).json();
  ort.env.wasm.wasmPaths = new URL("./vendor/onnxruntime-web/", import.meta.url).href;
  const asked = Number(new URLSearchParams(location.search).get("threads"));
  const threads = asked || (self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  const proxy = new URLSearchParams(location.search).get("proxy") === "1";
  if (proxy) ort.env.wasm.proxy = true;  // inference in onnxruntime-web's own worker
  const model = await loadModel(new URL(setup.model, location.href).href, { threads });
  state.modelReady = true; state.threads = threads;
  const labels = model.contract.labels;
  chooseActions(labels, setup.actions || {});
  const showBars = probabilityBars(document.getElementById("bars"), labels);
  showStatus("Starting the camera…");
  const video = document.getElementById("camera");
  const facing = document.getElementById("camera-choice");
  facing.value = localStorage.getItem("pocketvision.camera") || "user";
  try {
    await openCamera(video, facing.value);
  } catch (error) {
    showStatus(`No camera (${error.name}): play with the keyboard or the buttons. ` +
      (!self.isSecureContext ? "Phones give the camera only to https pages: start play with --https." : ""),
      "error");
    return;
  }
  facing.onchange = () => {
    localStorage.setItem("pocketvision.camera", facing.value);
    openCamera(video, facing.value).catch((error) => showStatus(`Camera: ${error.name}`, "error"));
  };
  state.cameraReady = true;
  showStatus("");
  // Listen for every new camera frame, and classify the newest one as soon as the
  // previous classification is done: no frame waits behind a callback that is
  // only asked for after the model has finished.
  let frames = 0, windowStart = performance.now(), busy = false, newest = null;
  const classifyNewest = async () => {
    busy = true;
    while (newest) {
      const [now, metadata] = newest;
      newest = null;
      await step(now, metadata);
    }
    busy = false;
  };
  const step = async (now, metadata) => {
    const result = await classify(model, video);
    const best = result.probabilities.indexOf(Math.max(...result.probabilities));
    state.label = result.label; state.confidence = result.probabilities[best];
    state.novelty = result.novelty;
    state.inferenceMs = result.ms; state.prepareMs = result.prepareMs; state.runMs = result.runMs;
    // a frame like nothing the model was trained on confirms no class: it presses nothing
    const probabilities = Object.fromEntries(labels.map((l, i) => [l, result.unknown ? 0 : result.probabilities[i]]));
    for (const event of smoother.update(now / 1000, metadata.presentedFrames, probabilities)) {
      if (event.key === "jump" && event.action === "tap") jump();
      if (event.key === "duck") duck(event.action === "down");
    }
    showBars(result.probabilities, labels.indexOf(smoother.active));
    document.getElementById("label").textContent = result.unknown
      ? "unknown" : `${state.label} ${(100 * state.confidence).toFixed(0)}%`;
    frames += 1;
    const clock = performance.now();
    if (clock - windowStart > 1000) {
      state.fps = (frames * 1000) / (clock - windowStart); frames = 0; windowStart = clock;
      document.getElementById("fps").textContent = state.fps.toFixed(0);
      document.getElementById("ms").textContent = state.inferenceMs.toFixed(0);
    }
  };
  const onFrame = (now, metadata) => {
    video.requestVideoFrameCallback(onFrame);
    newest = [now, metadata];
    if (!busy) classifyNewest();
  };
  video.requestVideoFrameCallback(onFrame);
}

start().catch((error) => showStatus(`Could not start: ${error.message || error}`, "error"));
