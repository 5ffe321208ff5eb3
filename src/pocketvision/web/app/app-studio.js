// The studio's own panels: what the app can do when `pocketvision studio` serves it
// over a project folder and a phone cannot (config.json's `offers`): the backbone to
// train on and fine-tuning, class folders that cannot be used, the data doctor,
// exports to every format with their verification report, and videos added to a
// class. The views stay the phone's; these cards join them.

import { finishedJob, studioRequest } from "./studio-api.js";
import { el } from "./ui.js";

export async function studioPanels(app, offers) {
  const { $ } = app;
  const project = await studioRequest("/api/project");
  $("train-title").textContent = "Train on this computer";
  $("train-help").textContent = `Pictures are kept in ${project.root}/samples/, one folder per class, ` +
    "and the model in models/model.pvb; it trains with the recipe of `pocketvision train`.";
  if (offers.includes("backbones")) trainOptions(app, project, offers.includes("fine_tune"));
  if (offers.includes("problems")) showProblems(app, project);
  if (offers.includes("doctor")) $("train").append(doctorCard(app));
  if (offers.includes("export")) $("train").append(exportCard(app, project.formats));
  if (offers.includes("videos")) app.addVideos = (c, files) => addVideos(app, c, files);
  return {
    async modelChanged() { $("export-card").hidden = !app.model; },
    async refreshed() { if (offers.includes("problems")) showProblems(app, await studioRequest("/api/project")); },
  };
}

// ---- training: which backbone, fine-tuned or not ---------------------------------------
function trainOptions(app, project, fineTune) {
  const select = el("select", { id: "backbone" }, ...project.backbones.map((b) =>
    el("option", { value: b.name, title: b.description }, `${b.name} (${b.input_size} px)`)));
  select.value = project.model?.backbone ?? project.backbones.find((b) => b.default)?.name ?? "";
  const tune = el("input", { type: "checkbox", id: "fine-tune" });
  const rows = [el("label", { htmlFor: "backbone" }, "Backbone"), select];
  if (fineTune) {
    rows.push(el("label", { htmlFor: "fine-tune" }, "Fine-tune"),
      el("span", {}, tune, " the backbone's last 2 blocks too (minutes, needs PyTorch)"));
  }
  app.$("train-button").before(el("div", { className: "choices train-options" }, ...rows));
  app.trainOptions = () => ({ backbone: select.value || null, fineTune: tune.checked ? 2 : 0 });
}

// ---- class folders that cannot be classes ----------------------------------------------
function showProblems(app, project) {
  const cards = project.problems.map((p) => {
    const setAside = el("button", { title: "Move it to samples/.set-aside/ (nothing is deleted)" }, "Set aside");
    setAside.onclick = () => app.change(() => studioRequest("/api/problems/set-aside", { folder: p.folder }));
    return el("div", { className: "card class-card problem" },
      el("header", {}, el("h3", {}, p.folder), el("span", { className: "count" }, "not used"),
        el("span", { className: "spacer" }), setAside),
      el("div", { className: "message error" }, `${p.problem}.`));
  });
  let box = app.$("problems");
  if (!box) app.$("classes").after(box = el("div", { id: "problems", className: "classes" }));
  box.replaceChildren(...cards);
  if (project.model_problem) {
    app.$("train-status").textContent = `The project's model (models/model.pvb) cannot be read: ${project.model_problem}`;
  }
}

// ---- the data doctor -----------------------------------------------------------------------
function doctorCard(app) {
  const run = el("button", { id: "doctor-run" }, "Check my pictures");
  const status = el("div", { className: "muted", id: "doctor-status", ariaLive: "polite" });
  const findings = el("div", { className: "findings", id: "findings" });
  run.onclick = async () => {
    status.textContent = "Checking every picture…";
    run.disabled = true;
    try {
      const found = await studioRequest("/api/doctor");
      status.textContent = found.findings.length
        ? `${found.findings.length} thing${found.findings.length > 1 ? "s" : ""} to look at in ${found.images} pictures:`
        : `Nothing to fix in ${found.images} pictures.`;
      findings.replaceChildren(...found.findings.map((f) => findingRow(app, f)));
    } catch (error) {
      status.textContent = "";
      app.notice(error.message);
    } finally {
      run.disabled = false;
    }
  };
  return el("div", { className: "card", id: "doctor-card" }, el("h2", {}, "Check the pictures"),
    el("p", { className: "muted" }, "Wrong labels, near-duplicates across classes, pictures unlike " +
      "their class and classes that need more: found by `pocketvision doctor`, each with its fix."),
    run, status, findings);
}

function findingRow(app, finding) {
  const fixes = [], first = finding.files[0];
  if (finding.kind === "mislabeled" && finding.suggested && first?.file) {
    const move = el("button", { className: "primary" }, `Move to ${finding.suggested}`);
    move.onclick = () => fixed(app, move, () => studioRequest(`/samples/${enc(first.class)}/${enc(first.file)}/move`,
      { to: finding.suggested }));
    fixes.push(move);
  }
  if (["mislabeled", "outlier", "duplicate"].includes(finding.kind)) {
    const files = finding.kind === "duplicate" ? finding.files : finding.files.slice(0, 1);
    for (const file of files.filter((f) => f.file)) { // a file in a sub-folder: shown, not touched
      const remove = el("button", {}, finding.kind === "duplicate" ? `Delete from ${file.class}` : "Delete");
      remove.onclick = () => fixed(app, remove, async () => {
        const mark = await app.store.deletePicture(`${file.class}/${file.file}`);
        app.toast(`Deleted a picture of “${file.class}”.`, { undo: () => app.store.restore(mark).then(() => null) });
      });
      fixes.push(remove);
    }
  }
  const pictures = finding.files.filter((f) => f.file).map((f) => el("div", { className: "thumb" },
    el("img", { src: `/api/store/pictures/${enc(f.class)}/${enc(f.file)}`, alt: `${f.file} in ${f.class}` })));
  return el("div", { className: `finding ${finding.kind}` }, el("div", { className: "finding-images" }, ...pictures),
    el("div", {}, el("b", {}, finding.kind.replace("_", " ")), ` ${finding.why}`,
      el("div", { className: "finding-fixes" }, ...fixes)));
}

async function fixed(app, button, work) {
  const row = button.closest(".finding");
  if (await app.change(work)) row.remove();
}

// ---- exports -------------------------------------------------------------------------------
function exportCard(app, formats) {
  const boxes = formats.map((f) => el("label", { className: f.missing ? "off" : "", title: f.missing || "" },
    el("input", { type: "checkbox", value: f.name, checked: f.name === "onnx", disabled: Boolean(f.missing) }),
    ` ${f.name} — ${f.description}`, f.missing ? el("span", { className: "muted" }, ` (${f.missing})`) : ""));
  const start = el("button", { id: "export", className: "primary" }, "Export and verify");
  const status = el("div", { className: "muted", id: "export-status", ariaLive: "polite" });
  const report = el("table", { className: "report", id: "report" });
  start.onclick = async () => {
    const chosen = boxes.map((b) => b.querySelector("input")).filter((b) => b.checked).map((b) => b.value);
    start.disabled = true;
    try {
      app.notice("");
      await studioRequest("/api/export", { formats: chosen });
      const job = await finishedJob((j) => { status.textContent = `${j.phase}${j.total ? `: ${j.done} of ${j.total}` : "…"}`; });
      if (job.state === "failed") throw new Error(job.message);
      status.textContent = `Verified on ${job.result.image_source}.`;
      report.replaceChildren(...job.result.exports.map(reportRow));
    } catch (error) {
      status.textContent = "";
      app.notice(error.message);
    } finally {
      start.disabled = false;
    }
  };
  return el("div", { className: "card", id: "export-card", hidden: !app.model }, el("h2", {}, "Export"),
    el("p", { className: "muted" }, "Every format a phone runs, each checked in its own runtime on the " +
      "validation pictures: files in models/exports/."),
    el("div", { className: "formats" }, ...boxes), start, status, report);
}

function reportRow(e) {
  return el("tr", {},
    el("td", {}, e.file ? el("a", { href: `/exports/${enc(e.file)}`, download: "" }, e.file) : e.format),
    el("td", {}, e.ran ? `${(100 * e.top1_agreement).toFixed(0)} % same answers` : (e.why_not_ran || "not run")),
    el("td", {}, e.bytes ? `${(e.bytes / 1e6).toFixed(1)} MB` : ""));
}

// ---- videos: every 5th frame, one burst per video (live/uploads.py) -----------------------
async function addVideos(app, c, files) {
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  app.notice(`Reading ${files.length === 1 ? files[0].name : `${files.length} videos`}…`, "info");
  await app.change(() => studioRequest(`/api/classes/${enc(c.name)}/upload`, form));
}

const enc = encodeURIComponent;
