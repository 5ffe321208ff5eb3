// The studio page: classes as cards, hold-to-record from the webcam, uploads,
// training with progress, a live preview running the model on this page, exports.
// The server's project folder is the truth; this page re-reads it after each change.

import { loadModel, classify } from "/web/client/pocketvision-onnx.js";
import { el, probabilityBars } from "/web/app/ui.js";
import { UNSURE_BELOW } from "/web/recipe/shared.js";

const $ = (id) => document.getElementById(id);
const RECORD_FPS = 8;
let project = null, video = null, model = null, modelVersion = null, showBars = null;
let trainClicked = null;  // performance.now() of the last Train click: "live in X s" is measured from it
let previewPaused = false;  // while a job runs the preview rests: the cores are training
window.studio = { recorded: 0, previewLabel: null, previewConfidence: 0 };

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : {};
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
    throw new Error(body.error || detail || `${response.status} ${response.statusText}`);
  }
  return body;
}

function notice(text, undo = null) {
  $("notice").textContent = text || "";
  $("notice").className = `message ${undo ? "info" : "error"}`;
  $("notice").hidden = !text;
  if (undo) {
    const button = el("button", { className: "undo" }, "Undo");
    button.onclick = () => act(async () => { await api(`/api/trash/${enc(undo)}/restore`, { method: "POST" }); });
    $("notice").append(" ", button);
  }
}

// A deletion goes to the project's trash (samples/.trash/): say so, offer Undo.
async function discard(path, what) {
  const { undo } = await api(path, { method: "DELETE" });
  notice(`Deleted ${what} (kept in samples/.trash/ until you empty it).`, undo);
}

async function refresh() {
  project = await api("/api/project");
  $("where").textContent = project.root;
  renderClasses();
  renderModel();
  renderFormats();
  renderBackbones();
}

// ---- classes ----------------------------------------------------------------------
function renderClasses() {
  const list = $("classes");
  list.replaceChildren(...project.classes.map(classCard), ...project.problems.map(problemCard));
  if (!project.classes.length) {
    list.append(el("div", { className: "card muted" }, "No classes yet: add one below."));
  }
}

// A folder under samples/ that cannot be a class: say why, offer to set it aside
// (moved to samples/.set-aside/, nothing deleted), everything else keeps working.
function problemCard(p) {
  const setAside = el("button", { title: "Move it to samples/.set-aside/ (nothing is deleted)" },
    "Set aside");
  setAside.onclick = () => act(() => api("/api/problems/set-aside", json({ folder: p.folder })));
  return el("div", { className: "card class-card problem" },
    el("header", {}, el("h3", {}, p.folder), el("span", { className: "count" }, "not used"),
      el("span", { className: "spacer" }), setAside),
    el("div", { className: "message error" }, `${p.problem}.`));
}

function classCard(c) {
  const title = el("h3", { title: "Click to rename" }, c.name);
  title.onclick = () => rename(c.name);
  const remove = el("button", { title: `Delete class ${c.name} and its images` }, "Delete");
  remove.onclick = () => deleteClass(c);
  const thumbs = el("div", { className: "thumbs" });
  const shown = c.samples.slice(-48).reverse();
  thumbs.append(...(shown.length ? shown.map((file) => thumb(c.name, file))
    : [el("div", { className: "empty" }, "No images yet")]));
  const record = el("button", { className: "record" }, "● Hold to record");
  record.dataset.class = c.name;
  holdToRecord(record, c.name);
  const upload = el("input", { type: "file", multiple: true, accept: "image/*,video/*", hidden: true });
  upload.onchange = () => uploadFiles(c.name, upload.files);
  const pick = el("button", {}, "Upload images or video");
  pick.onclick = () => upload.click();
  const card = el("div", { className: "card class-card" },
    el("header", {}, title, el("span", { className: "count" }, `${c.samples.length} images`),
      el("span", { className: "spacer" }), remove),
    thumbs, el("div", { className: "actions" }, record, pick, upload));
  card.dataset.class = c.name;
  return card;
}

function thumb(name, file) {
  const remove = el("button", { title: "Delete this image" }, "×");
  remove.onclick = async () => {
    try { await discard(`/samples/${enc(name)}/${enc(file)}`, `a picture of “${name}”`); }
    catch (error) { notice(error.message); }
    refresh();
  };
  return el("div", { className: "thumb" }, el("img", { src: `/samples/${enc(name)}/${enc(file)}`, loading: "lazy", alt: "" }), remove);
}

const enc = encodeURIComponent;

async function rename(name) {
  const next = prompt(`Rename class “${name}” to:`, name);
  if (!next || next === name) return;
  await act(() => api(`/api/classes/${enc(name)}/rename`, json({ name: next })));
}

async function deleteClass(c) {
  if (!confirm(`Delete class “${c.name}” and its ${c.samples.length} images?`)) return;
  try { await discard(`/api/classes/${enc(c.name)}`, `class “${c.name}”`); } catch (error) { notice(error.message); }
  await refresh();
}

function json(body) {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

async function act(change) {
  try { notice(""); await change(); } catch (error) { notice(error.message); }
  await refresh();
}

$("add-class").onsubmit = (event) => {
  event.preventDefault();
  const name = $("new-class").value.trim();
  if (!name) return;
  $("new-class").value = "";
  act(() => api("/api/classes", json({ name })));
};

async function uploadFiles(name, files) {
  const form = new FormData();
  for (const file of files) form.append("files", file);
  await act(() => api(`/api/classes/${enc(name)}/upload`, { method: "POST", body: form }));
}

// ---- hold to record -------------------------------------------------------------------
function sessionId() {
  const d = new Date(), p = (n) => String(n).padStart(2, "0");
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}T${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  return `${stamp}-${Math.floor(Math.random() * 65536).toString(16).padStart(4, "0")}`;
}

function holdToRecord(button, name) {
  let timer = null, session = null, index = 0, pending = [];
  const grab = () => {
    if (!video || !video.videoWidth) return;
    const canvas = el("canvas", { width: video.videoWidth, height: video.videoHeight });
    canvas.getContext("2d").drawImage(video, 0, 0);
    const i = index++;
    pending.push(new Promise((resolve) => canvas.toBlob(async (blob) => {
      try {
        await api(`/api/classes/${enc(name)}/frames?session=${session}&index=${i}`,
          { method: "POST", headers: { "content-type": "image/jpeg" }, body: blob });
        window.studio.recorded += 1;
      } catch (error) { notice(error.message); }
      resolve();
    }, "image/jpeg", 0.92)));
  };
  const start = (event) => {
    event.preventDefault();
    if (timer || !video) { if (!video) notice("No camera: upload images instead."); return; }
    session = sessionId(); index = 0; pending = [];
    button.classList.add("on"); button.textContent = "● Recording…";
    grab();
    timer = setInterval(grab, 1000 / RECORD_FPS);
  };
  const stop = async () => {
    if (!timer) return;
    clearInterval(timer); timer = null;
    button.classList.remove("on"); button.textContent = "● Hold to record";
    await Promise.all(pending);
    refresh();
  };
  button.addEventListener("pointerdown", start);
  for (const end of ["pointerup", "pointerleave", "pointercancel"]) button.addEventListener(end, stop);
}

// ---- train, jobs ----------------------------------------------------------------------
// The backbones whose weights are here; the current model's is chosen, else the default.
function renderBackbones() {
  const select = $("backbone");
  if (select.childElementCount) return;
  select.replaceChildren(...project.backbones.map((b) =>
    el("option", { value: b.name, title: b.description }, `${b.name} (${b.input_size} px)`)));
  select.value = project.model?.backbone ?? project.backbones.find((b) => b.default)?.name ?? "";
  const describe = () => {
    select.title = project.backbones.find((b) => b.name === select.value)?.description ?? "";
  };
  select.onchange = describe;
  describe();
}

$("train").onclick = async () => {
  trainClicked = performance.now();
  const backbone = $("backbone").value;  // empty until the project is read: the default
  try { notice(""); await api("/api/train", json(backbone ? { backbone } : {})); }
  catch (error) { notice(error.message); return; }
  follow("train");
};

async function follow(kind) {
  const bar = $(`${kind}-progress`), status = $(`${kind}-status`);
  bar.hidden = false;
  $("train").disabled = $("export").disabled = true;
  previewPaused = true;
  for (;;) {
    const job = await api("/api/job");
    const share = job.total ? job.done / job.total : 0;
    bar.firstElementChild.style.width = `${(100 * share).toFixed(0)}%`;
    status.textContent = job.total ? `${job.phase}: ${job.done} / ${job.total}` : job.phase;
    if (job.state !== "running") {
      previewPaused = false;
      bar.hidden = true;
      $("train").disabled = $("export").disabled = false;
      if (job.state === "failed") { status.textContent = ""; notice(job.message); }
      if (job.state === "done" && kind === "export") renderReport(job.result);
      await refresh();
      return job;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function renderModel() {
  const m = project.model;
  if (project.model_problem) {
    $("train-status").textContent = `The saved model cannot be read: ${project.model_problem}`;
    $("train").textContent = "Train again";
  }
  if (!m) return;
  $("train-status").textContent = `Model: ${m.labels.join(", ")} · validation accuracy ` +
    `${m.accuracy == null ? "n/a" : (100 * m.accuracy).toFixed(1) + " %"} on ${m.val_images} images ` +
    `(${m.train_images} for training)`;
  $("train").textContent = "Train again";
  $("next").hidden = !m.next;
  $("next").textContent = m.next ? `Next: ${m.next}` : "";
  $("export-card").hidden = false;
  if (modelVersion !== m.version) startPreview(m.version);
}

// ---- live preview ---------------------------------------------------------------------
async function startPreview(version) {
  modelVersion = version;
  const previous = model;
  model = await loadModel(`/model.onnx?v=${version}`);
  // the old session's wasm memory (the whole network) is freed once a frame in flight is done
  if (previous) setTimeout(() => previous.session.release(), 2000);
  if (trainClicked !== null) {  // from the click to the new model classifying on this page
    const seconds = (performance.now() - trainClicked) / 1000;
    trainClicked = null;
    $("live-time").textContent = ` · live in ${seconds.toFixed(1)} s`;
    window.studio.liveSeconds = seconds;
  }
  $("preview-card").hidden = false;
  showBars = probabilityBars($("preview-bars"), model.contract.labels);
  if (video && !startPreview.running) {
    startPreview.running = true;
    let frames = 0, windowStart = performance.now();
    const onFrame = async (now) => {
      if (previewPaused) { video.requestVideoFrameCallback(onFrame); return; }
      const result = await classify(model, video);
      const p = result.probabilities, best = p.indexOf(Math.max(...p));
      window.studio.previewLabel = result.label; window.studio.previewConfidence = p[best];
      if (result.unknown || p[best] < UNSURE_BELOW) offerUnsureFrame(result, p[best]);
      $("preview-label").textContent = result.unknown
        ? `unknown · novelty ${(100 * result.novelty).toFixed(0)} %`  // the bars still show the classes
        : `${result.label} · ${(100 * p[best]).toFixed(0)} %`;
      showBars(p, best);
      frames += 1;
      if (now - windowStart > 1000) {
        $("preview-fps").textContent = ((frames * 1000) / (now - windowStart)).toFixed(0);
        $("preview-ms").textContent = result.ms.toFixed(0);
        frames = 0; windowStart = now;
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
}

// Frames the model is unsure about are the examples that teach it most: keep the
// latest one (at most one a second) and offer to add it to a class with one click.
let unsureAt = 0;
function offerUnsureFrame(result, confidence) {
  const now = performance.now();
  if (now - unsureAt < 1000 || !video?.videoWidth) return;
  unsureAt = now;
  const canvas = el("canvas", { width: video.videoWidth, height: video.videoHeight });
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => {
    URL.revokeObjectURL($("unsure-frame").src); // the frame it replaces
    $("unsure-frame").src = URL.createObjectURL(blob);
    $("unsure-why").textContent = result.unknown
      ? "Like nothing it was trained on. If it is one of yours, add it to:"
      : `Unsure (${(100 * confidence).toFixed(0)} %). Add this frame to:`;
    $("unsure-classes").replaceChildren(...project.classes.map((c) => {
      const add = el("button", {}, c.name);
      add.onclick = async () => {
        try {
          await api(`/api/classes/${enc(c.name)}/frames?session=${sessionId()}&index=0`,
            { method: "POST", headers: { "content-type": "image/jpeg" }, body: blob });
          $("unsure").hidden = true;
          window.studio.addedUnsure = (window.studio.addedUnsure || 0) + 1;
          await refresh();
        } catch (error) { notice(error.message); }
      };
      return add;
    }));
    $("unsure").hidden = false;
  }, "image/jpeg", 0.92);
}

// ---- the data doctor ----------------------------------------------------------------------
$("doctor-run").onclick = async () => {
  $("doctor-status").textContent = "Checking every picture…";
  $("doctor-run").disabled = true;
  try {
    const found = await api("/api/doctor");
    $("doctor-status").textContent = found.findings.length
      ? `${found.findings.length} thing${found.findings.length > 1 ? "s" : ""} to look at in ${found.images} pictures:`
      : `Nothing to fix in ${found.images} pictures.`;
    $("findings").replaceChildren(...found.findings.map(findingRow));
  } catch (error) { $("doctor-status").textContent = ""; notice(error.message); }
  $("doctor-run").disabled = false;
};

function findingRow(finding) {
  const fixes = [];
  const first = finding.files[0];
  if (finding.kind === "mislabeled" && finding.suggested && first?.file) {
    const move = el("button", { className: "primary" }, `Move to ${finding.suggested}`);
    move.onclick = () => fixed(move, () => api(`/samples/${enc(first.class)}/${enc(first.file)}/move`,
      json({ to: finding.suggested })));
    fixes.push(move);
  }
  if (["mislabeled", "outlier", "duplicate"].includes(finding.kind)) {
    const files = finding.kind === "duplicate" ? finding.files : finding.files.slice(0, 1);
    for (const file of files.filter((f) => f.file)) { // a file in a sub-folder: shown, not touched
      const remove = el("button", {}, finding.kind === "duplicate" ? `Delete from ${file.class}` : "Delete");
      remove.onclick = () => fixed(remove, () => discard(`/samples/${enc(file.class)}/${enc(file.file)}`,
        `a picture of “${file.class}”`));
      fixes.push(remove);
    }
  }
  return el("div", { className: `finding ${finding.kind}` },
    el("div", { className: "finding-images" }, ...finding.files.filter((f) => f.file).map((f) => thumb(f.class, f.file))),
    el("div", {}, el("b", {}, finding.kind.replace("_", " ")), ` ${finding.why}`,
      el("div", { className: "finding-fixes" }, ...fixes)));
}

async function fixed(button, change) {
  const row = button.closest(".finding");
  try { await change(); row.remove(); await refresh(); } catch (error) { notice(error.message); }
}

// ---- export ------------------------------------------------------------------------------
function renderFormats() {
  if ($("formats").childElementCount) return;
  $("formats").replaceChildren(...project.formats.map((f) => {
    const box = el("input", { type: "checkbox", value: f.name, checked: f.name === "onnx", disabled: !!f.missing });
    return el("label", { className: f.missing ? "off" : "", title: f.missing || "" }, box, ` ${f.name} — ${f.description}`,
      f.missing ? el("span", { className: "muted" }, ` (${f.missing})`) : "");
  }));
}

$("export").onclick = async () => {
  const formats = [...$("formats").querySelectorAll("input:checked")].map((b) => b.value);
  try { notice(""); await api("/api/export", json({ formats })); } catch (error) { notice(error.message); return; }
  follow("export");
};

function renderReport(result) {
  $("export-status").textContent = `Verified on ${result.image_source}.`;
  $("report").replaceChildren(...result.exports.map((e) => el("tr", {},
    el("td", {}, e.file ? el("a", { href: `/exports/${enc(e.file)}`, download: "" }, e.file) : e.format),
    el("td", {}, e.ran ? `${(100 * e.top1_agreement).toFixed(0)} % same answers` : (e.why_not_ran || "not run")),
    el("td", {}, e.bytes ? `${(e.bytes / 1e6).toFixed(1)} MB` : ""))));
}

// ---- start -------------------------------------------------------------------------------
async function startCamera() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    video = $("camera");
    video.srcObject = stream;
    await video.play();
    $("camera-status").textContent = "Camera on. Hold “Record” on a class to capture.";
  } catch (error) {
    $("camera-status").textContent = `No camera (${error.name}). You can still upload images.`;
  }
}

await startCamera();
await refresh().catch((error) => { console.error(error); notice(error.message); });
