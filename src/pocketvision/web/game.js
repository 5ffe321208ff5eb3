// The runner game: our own small canvas game, steered by the model on this page.
// Webcam frames are classified once per new video frame (requestVideoFrameCallback),
// smoothed by the same rules as `pocketvision control` (smoothing.js), and turned
// into jump (tap) and duck (hold). Keyboard and touch work too: Space/Up or the
// Jump button jump, Down or the Duck button duck. Which classes jump and duck comes
// from config.json (`--map`), else the player picks them (kept in localStorage).
// Every URL is relative, so `pocketvision play` and a static copy of the page
// (`export --format web`) both work. window.gameState is for tests and the curious.

import { loadModel, classify } from "./pocketvision-onnx.js";
import { Smoother } from "./smoothing.js";
import { el, probabilityBars } from "./ui.js";

const canvas = document.getElementById("world");
const draw = canvas.getContext("2d");
const W = canvas.width, H = canvas.height, GROUND = H - 46;
const state = (window.gameState = {
  label: null, confidence: 0, jumps: 0, ducks: 0, score: 0, best: 0, fps: 0,
  inferenceMs: 0, running: false, crashed: false, modelReady: false, cameraReady: false,
});

// ---- the world ------------------------------------------------------------
const runner = { x: 90, y: GROUND, vy: 0, ducking: false, step: 0 };
let obstacles = [], speed = 6, spawnIn = 60, ticks = 0;

function reset() {
  obstacles = []; speed = 6; spawnIn = 60; ticks = 0;
  state.score = 0; state.crashed = false; state.running = true;
}

function jump() {
  if (state.crashed) reset();
  if (runner.y >= GROUND && !runner.ducking) { runner.vy = -15.5; state.jumps += 1; }
  state.running = true;
}

function duck(down) {
  if (down && !runner.ducking) state.ducks += 1;
  runner.ducking = down;
}

function spawn() {
  const flying = ticks > 400 && Math.random() < 0.35;
  obstacles.push(flying
    ? { kind: "drone", x: W + 20, y: GROUND - 70, w: 46, h: 22 }
    : { kind: "crate", x: W + 20, y: GROUND - 38, w: 30 + Math.random() * 22, h: 38 });
  spawnIn = Math.max(38, 100 - speed * 4) + Math.random() * 50;
}

function hitbox() {
  const h = runner.ducking ? 30 : 56;
  return { x: runner.x - 18, y: runner.y - h, w: 36, h };
}

function overlaps(a, b) {
  return a.x < b.x + b.w && a.x + a.w > b.x && a.y < b.y + b.h && a.y + a.h > b.y;
}

function tick() {
  if (!state.running || state.crashed) return;
  ticks += 1;
  speed = Math.min(14, 6 + ticks / 600);
  runner.vy += 0.85;
  runner.y = Math.min(GROUND, runner.y + runner.vy);
  if (runner.y >= GROUND) runner.vy = 0;
  runner.step += speed / 60;
  if (--spawnIn <= 0) spawn();
  for (const o of obstacles) o.x -= speed;
  obstacles = obstacles.filter((o) => o.x + o.w > -10);
  state.score = Math.floor(ticks / 6);
  state.best = Math.max(state.best, state.score);
  if (obstacles.some((o) => overlaps(hitbox(), o))) { state.crashed = true; }
}

// ---- drawing (our own simple shapes) ----------------------------------------
function render() {
  const sky = draw.createLinearGradient(0, 0, 0, H);
  sky.addColorStop(0, "#dfe8ff"); sky.addColorStop(1, "#f6f8ff");
  draw.fillStyle = sky; draw.fillRect(0, 0, W, H);
  draw.fillStyle = "#c9d4f2";                                   // distant hills
  for (let i = 0; i < 5; i++) {
    const x = ((i * 260 - ticks * 0.6) % (W + 260) + W + 260) % (W + 260) - 130;
    draw.beginPath(); draw.ellipse(x, GROUND + 10, 150, 60, 0, Math.PI, 0); draw.fill();
  }
  draw.fillStyle = "#3b4a6b"; draw.fillRect(0, GROUND, W, 3);   // ground
  draw.fillStyle = "#9aa6c4";
  for (let x = -((ticks * speed) % 40); x < W; x += 40) draw.fillRect(x, GROUND + 12, 14, 2);
  for (const o of obstacles) (o.kind === "crate" ? drawCrate : drawDrone)(o);
  drawRunner();
  if (!state.running || state.crashed) {
    draw.fillStyle = "rgba(29, 36, 51, 0.72)"; draw.fillRect(W / 2 - 210, H / 2 - 52, 420, 84);
    draw.fillStyle = "white"; draw.textAlign = "center";
    draw.font = "600 22px system-ui, sans-serif";
    draw.fillText(state.crashed ? `Crashed at ${state.score}` : "Ready", W / 2, H / 2 - 14);
    draw.font = "15px system-ui, sans-serif";
    draw.fillText(`${jumpHint()} to ${state.crashed ? "run again" : "start"}`, W / 2, H / 2 + 14);
  }
}

function drawRunner() {
  const { x, y } = runner, bodyH = runner.ducking ? 26 : 44;
  draw.fillStyle = "#3b5bdb";
  roundRect(x - 18, y - bodyH - 10, 36, bodyH, 10); draw.fill();
  draw.fillStyle = "white";
  draw.beginPath(); draw.arc(x + 8, y - bodyH + 2, 5, 0, 7); draw.fill();
  draw.fillStyle = "#1d2433";
  draw.beginPath(); draw.arc(x + 10, y - bodyH + 2, 2.4, 0, 7); draw.fill();
  draw.strokeStyle = "#1d2433"; draw.lineWidth = 5; draw.lineCap = "round";
  const swing = runner.y < GROUND ? 0.6 : Math.sin(runner.step * 6) * 0.7;
  for (const s of [swing, -swing]) {
    draw.beginPath(); draw.moveTo(x, y - 10); draw.lineTo(x + Math.sin(s) * 12, y); draw.stroke();
  }
}

function drawCrate(o) {
  draw.fillStyle = "#e8590c"; roundRect(o.x, o.y, o.w, o.h, 5); draw.fill();
  draw.strokeStyle = "rgba(255,255,255,0.55)"; draw.lineWidth = 2;
  draw.beginPath(); draw.moveTo(o.x + 5, o.y + 5); draw.lineTo(o.x + o.w - 5, o.y + o.h - 5); draw.stroke();
}

function drawDrone(o) {
  draw.fillStyle = "#5f3dc4"; roundRect(o.x, o.y, o.w, o.h, 8); draw.fill();
  draw.fillStyle = "#b197fc";
  const blade = (ticks % 6) < 3 ? 18 : 10;
  draw.fillRect(o.x + 4, o.y - 5, blade, 3); draw.fillRect(o.x + o.w - 4 - blade, o.y - 5, blade, 3);
}

function roundRect(x, y, w, h, r) {
  draw.beginPath(); draw.moveTo(x + r, y); draw.arcTo(x + w, y, x + w, y + h, r);
  draw.arcTo(x + w, y + h, x, y + h, r); draw.arcTo(x, y + h, x, y, r); draw.arcTo(x, y, x + w, y, r);
  draw.closePath();
}

let config = { actions: {} };
function jumpHint() {
  const label = Object.keys(config.actions).find((l) => config.actions[l].key === "jump");
  return label ? `Show “${label}” or press Space` : "Press Space";
}

// ---- loop -----------------------------------------------------------------
let last = performance.now(), carry = 0;
function frame(now) {
  carry += Math.min(100, now - last); last = now;
  while (carry >= 1000 / 60) { tick(); carry -= 1000 / 60; }
  render();
  document.getElementById("score").textContent = state.score;
  document.getElementById("best").textContent = state.best;
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

addEventListener("keydown", (e) => {
  if (e.code === "Space" || e.code === "ArrowUp") { jump(); e.preventDefault(); }
  if (e.code === "ArrowDown") { duck(true); e.preventDefault(); }
});
addEventListener("keyup", (e) => { if (e.code === "ArrowDown") duck(false); });
canvas.addEventListener("pointerdown", () => jump());
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
