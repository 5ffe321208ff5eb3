// The Train view: train on the project (one tab at a time), show how well the model
// does on the bursts it never saw, what to collect next; download the model and the
// pictures, or open a model file made elsewhere.

import { TrainError } from "./contracts.js";
import { download, modelFile, openModelFile } from "./files.js";
import { PICTURES_FOLDER } from "./trainer.js";
import { el } from "./ui.js";
import { zipBlob } from "./zip.js";
import { withLock } from "./engine.js";

export function trainView(app) {
  const { state, $ } = app;
  const lock = () => `pocketvision-train:${new URL(".", location.href).pathname}`;

  $("train-button").onclick = () => withLock(lock(), async (held) => {
    if (!held) return app.notice("This project is training in another tab; wait for it to finish.");
    await train();
  });

  async function train() {
    const clicked = performance.now();
    app.notice("");
    state.training = { status: "running", phase: "Starting", done: 0, total: 0, clickedAt: clicked };
    $("train-button").disabled = true;
    $("train-progress").hidden = false;
    try {
      const result = await app.trainer(app.trainOptions?.()).train(progress);
      if (result.otherBackbone) { // the page loads the backbone the new model was trained on
        $("train-status").textContent = `Trained on ${result.summary.backbone}: loading it to play the model…`;
        return location.reload();
      }
      await app.useModel(result.bytes, result.summary);
      const seconds = (performance.now() - clicked) / 1000;
      state.training = { status: "done", seconds, computed: result.computed, clickedAt: clicked,
        timings: result.timings };
      $("train-status").textContent = `Trained in ${seconds.toFixed(1)} s ` +
        `(${result.computed} new picture${result.computed === 1 ? "" : "s"} looked at).`;
    } catch (error) {
      state.training = { status: "failed", message: error.message, clickedAt: clicked };
      $("train-status").textContent = "";
      app.notice(error instanceof TrainError ? error.message : `Training failed: ${error.message}`);
    } finally {
      $("train-button").disabled = false;
      $("train-progress").hidden = true;
    }
  }

  function progress(phase, done, total) {
    state.training = { ...state.training, phase, done, total };
    $("train-progress").firstElementChild.style.width = `${total ? (100 * done) / total : 100}%`;
    $("train-status").textContent = total ? `${phase}: ${done} of ${total}` : `${phase}…`;
  }

  function modelChanged() {
    const summary = app.model.summary, card = $("model-card");
    card.hidden = false;
    const accuracy = summary.accuracy == null ? "not measured"
      : `${Math.round(100 * summary.accuracy)}%`;
    const play = el("button", { className: "primary" }, "Play with it");
    play.onclick = () => app.show("play");
    card.replaceChildren(
      el("h2", {}, "The model"),
      el("div", { className: "score" }, el("b", {}, accuracy),
        el("span", { className: "muted" }, summary.valImages
          ? `right on ${summary.valImages} pictures of bursts it never saw` : "accuracy")),
      el("p", { className: "muted" }, `${app.model.labels.join(" · ")} — ${summary.source}` +
        (summary.unknownDetection ? "; frames unlike any class are called “unknown”" : "")),
      ...(summary.confusion && summary.valImages ? [confusionTable(summary)] : []),
      ...summary.warnings.map((text) => el("div", { className: "message error" }, text)),
      ...(summary.next ? [el("div", { className: "next" }, summary.next)] : []),
      el("div", { className: "actions" }, play));
  }

  // Rows: what the picture is; columns: what the model said.
  function confusionTable(summary) {
    const labels = app.model.labels;
    const head = el("tr", {}, el("th", { className: "corner", title: "true class ↓, answer →" }, "is ↓ / said →"),
      ...labels.map((l) => el("th", { title: l }, l)));
    const rows = summary.confusion.map((row, i) => el("tr", {}, el("th", { title: labels[i] }, labels[i]),
      ...row.map((count, j) => el("td", { className: count ? (i === j ? "hit" : "miss") : "" }, String(count)))));
    // many classes scroll sideways inside the card instead of widening the page
    return el("div", { className: "table-scroll" },
      el("table", { className: "confusion" }, el("tbody", {}, head, ...rows)));
  }

  $("download-model").onclick = async () => {
    const model = await modelFile(app);
    if (model) download(model, "model.pvb");
  };

  $("open-model").onclick = () => $("model-file").click();
  $("model-file").onchange = async () => {
    const file = $("model-file").files[0];
    $("model-file").value = "";
    if (!file) return;
    await openModelFile(app, file);
  };

  $("download-pictures").onclick = async () => {
    const project = await app.store.project();
    const entries = [];
    for (const c of project) {
      const blobs = await app.store.blobs(c.pictures.map((p) => p.id));
      for (const [i, p] of c.pictures.entries()) {
        entries.push({ name: `${PICTURES_FOLDER}/${c.name}/${p.name}`, bytes: new Uint8Array(await blobs[i].arrayBuffer()) });
      }
    }
    if (!entries.length) return app.notice("There are no pictures yet.");
    download(zipBlob(entries), `${PICTURES_FOLDER}.zip`);
  };

  return { modelChanged };
}
