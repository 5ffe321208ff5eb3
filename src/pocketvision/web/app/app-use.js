// The Use view: the model at work, hands-free. Start watches the camera; each class
// that appears and holds is said once (or beeped) and felt, counted and logged; a view
// the model is unsure of is said as "not sure" (a setting) and goes to Review, where
// one tap adds it to a class for the next Train. The log, the counters and Review
// live in the browser (use-store.js) and export as CSV and JSON (use-export.js).

import { described, pictureOf } from "./camera.js";
import { download, modelFile, shareOrDownload } from "./files.js";
import { frameLoop } from "./frame-loop.js";
import { localTime, logCsv, logJson } from "./use-export.js";
import { StorageFull, UseStore } from "./use-store.js";
import { Voice } from "./use-voice.js";
import { Watcher } from "./use-watch.js";
import { el } from "./ui.js";
import { UNKNOWN } from "../recipe/shared.js";

const SHOWN_ENTRIES = 20; // the newest entries listed; the export has them all
const SHOWN_REVIEW = 12; // the newest frames to review listed; the next show as these are done
const SNAPSHOT_SIDE = 160;
const FIRST_SETTINGS = { session: "", say: "speak", rate: 1, sayUnsure: true, vibrate: true, log: true,
  askFirst: false, location: false, snapshot: false, screenOn: true };

export async function useView(app) {
  const { state, $ } = app;
  const settingsKey = `pocketvision.use:${location.pathname}`;
  const settings = { ...FIRST_SETTINGS, ...JSON.parse(localStorage.getItem(settingsKey) || "{}") };
  const store = await UseStore.open();
  await store.purgeOldClear(app.undoMs);
  const voice = new Voice();
  let watcher = null, held = null, logStopped = false, wakeLock = null, position = null, locating = null;
  const problems = new Map(); // what is missing or was refused -> its sentence
  state.use = { watching: false, log: 0, review: 0, counters: {}, logging: settings.log };

  // ---- settings ---------------------------------------------------------------------
  const fields = { session: "use-session", say: "use-say", rate: "use-rate", sayUnsure: "use-say-unsure",
    vibrate: "use-vibrate", log: "use-log", askFirst: "use-ask", location: "use-location",
    snapshot: "use-snapshot", screenOn: "use-screen-on" };
  for (const [name, id] of Object.entries(fields)) {
    const field = $(id), checkbox = field.type === "checkbox";
    if (checkbox) field.checked = settings[name]; else field.value = settings[name];
    field.onchange = () => {
      settings[name] = checkbox ? field.checked : field.type === "range" ? Number(field.value) : field.value.trim();
      localStorage.setItem(settingsKey, JSON.stringify(settings));
      changed(name);
    };
  }

  function changed(name) {
    Object.assign(voice.settings, { say: settings.say, rate: settings.rate, vibrate: settings.vibrate });
    state.use.logging = settings.log;
    if (name === "location") followLocation();
    if (name === "screenOn") keepScreenOn();
    if (name === "session" || name === "log") renderLog();
    $("log-it").hidden = !(settings.log && settings.askFirst);
    explain();
  }

  // ---- watching ---------------------------------------------------------------------
  const frames = frameLoop(app, async (result, now, metadata, model) => {
    $("use-label").textContent = result.unknown ? UNKNOWN : `${result.label} ${Math.round(100 * result.confidence)}%`;
    for (const event of watcher.update(now / 1000, metadata.presentedFrames, result)) {
      if (event.kind === "seen") await seen(event, model.labels.indexOf(event.label));
      else await unsure(event);
    }
    if (held && watcher.holding() !== held.label) held = null;
  });
  frames.onRate = (fps) => { $("use-fps").textContent = `${fps.toFixed(0)} frames/s`; };

  $("use-start").onclick = () => {
    if (!app.model) return app.notice("There is no model yet: collect pictures, then train one.", "info");
    watcher = new Watcher(app.model.labels);
    voice.wake(); // the tap that lets the page make sound
    if ("speechSynthesis" in self) speechSynthesis.cancel();
    state.use.watching = true;
    logStopped = false;
    problems.delete("full"); // Start again after space was freed: try again
    $("use-start").hidden = true;
    $("use-stop").hidden = false;
    $("use-stop").focus({ preventScroll: true });
    frames.start();
    keepScreenOn();
    followLocation();
    explain();
  };
  $("use-stop").onclick = () => stop();

  function stop() {
    state.use.watching = false;
    frames.stop();
    $("use-start").hidden = false;
    $("use-stop").hidden = true;
    $("use-label").textContent = "…";
    $("use-start").focus({ preventScroll: true });
    wakeLock?.release().catch(() => {});
    wakeLock = null;
    stopLocating();
    explain();
  }

  async function seen(event, index) {
    held = event;
    voice.announce(event.label, index);
    if (settings.log && !settings.askFirst) await logEntry(event);
  }

  async function unsure(event) {
    if (settings.sayUnsure) voice.unsure();
    const picture = await pictureOf(app.video, app.site.backbone.preprocessing.resize);
    try {
      await store.addReview({ time: localTime(), session: settings.session, label: event.label,
        confidence: event.confidence, novelty: event.novelty, unknown: event.unknown,
        picture: { bytes: await picture.blob.arrayBuffer(), type: picture.blob.type, width: picture.width, height: picture.height } });
    } catch (error) {
      if (!(error instanceof StorageFull)) throw error;
      problems.set("full", "The phone's storage is full: nothing more goes to Review.");
      explain();
    }
    await renderReview();
  }

  $("log-it").onclick = async () => {
    if (!held) return say("Nothing is held in view to log: show it to the camera first.");
    await logEntry(held);
  };

  async function logEntry(event) {
    if (logStopped) return;
    const entry = { time: localTime(), session: settings.session, label: event.label,
      confidence: event.confidence, novelty: event.novelty,
      latitude: settings.location ? position?.latitude ?? null : null,
      longitude: settings.location ? position?.longitude ?? null : null, note: "", snapshot: settings.snapshot };
    try {
      await store.log(entry, settings.snapshot ? await snapshot() : null);
    } catch (error) {
      if (!(error instanceof StorageFull)) throw error;
      logStopped = true;
      problems.set("full", `The phone's storage is full: logging stopped. The ${state.use.log} entries ` +
        "kept are safe: export or share the log, or free some space, then tap Stop and Start again.");
      explain();
    }
    await renderLog();
  }

  async function snapshot() {
    const picture = await pictureOf(app.video, SNAPSHOT_SIDE);
    return { bytes: await picture.blob.arrayBuffer(), type: picture.blob.type };
  }

  // ---- the screen and the location, where the browser has them --------------------
  async function keepScreenOn() {
    if (!state.use.watching || !settings.screenOn || wakeLock || document.hidden) return;
    if (!("wakeLock" in navigator)) return explain();
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => { wakeLock = null; });
      problems.delete("screen");
    } catch (error) {
      problems.set("screen", `The screen may turn off: the browser refused to keep it on (${error.name}).`);
    }
    explain();
  }
  // the browser lets go of the screen when the app is hidden: ask again when it is back
  document.addEventListener("visibilitychange", keepScreenOn);

  function stopLocating() {
    if (locating !== null) navigator.geolocation.clearWatch(locating);
    locating = null;
    position = null;
  }

  function followLocation() {
    if (!settings.location) {
      stopLocating();
      problems.delete("location");
      return;
    }
    if (locating !== null || !state.use.watching || !navigator.geolocation) return;
    locating = navigator.geolocation.watchPosition((where) => {
      position = where.coords;
      problems.delete("location");
      explain();
    }, (error) => {
      problems.set("location", `No location (${error.code === 1 ? "the browser refused it" : error.message}): entries are logged without it.`);
      explain();
    }, { enableHighAccuracy: false, maximumAge: 60000 });
  }

  // One sentence for what this browser lacks of what the settings ask, one per refusal.
  function explain() {
    const lacking = voice.missing();
    if (settings.screenOn && !("wakeLock" in navigator)) lacking.push("keep the screen on");
    if (settings.location && !navigator.geolocation) lacking.push("tell the location");
    const sentences = [...problems.values()];
    if (lacking.length) sentences.unshift(`This browser cannot ${listed(lacking)}; everything else works.`);
    $("use-problems").textContent = sentences.join(" ");
    $("use-problems").hidden = !sentences.length;
    $("use-status").textContent = state.use.watching
      ? `Watching: ${settings.say === "speak" ? "says" : settings.say === "beep" ? "beeps for" : "shows"} each thing once when it appears` +
        `${settings.log ? (settings.askFirst ? "; tap Log it to log it" : ", and logs it") : ""}.`
      : "Tap Start, then point the camera; nothing else needs a look at the screen.";
  }

  function say(text) {
    $("use-status").textContent = text;
  }

  // ---- the counters, the log and Review ----------------------------------------------
  async function render() {
    await Promise.all([renderLog(), renderReview()]);
  }

  // The counters and the newest entries: after each entry, so never the project or Review.
  async function renderLog() {
    const labels = app.model?.labels ?? [];
    const [{ total, perLabel }, newest] = await Promise.all([
      store.counts(settings.session, labels), store.newest(SHOWN_ENTRIES)]);
    Object.assign(state.use, { log: total, counters: Object.fromEntries(perLabel) });
    $("counters").replaceChildren(...perLabel.map(([label, count]) =>
      el("li", {}, el("span", { className: "counter-label" }, label), el("b", {}, String(count)))));
    $("counters-session").textContent = settings.session ? `Session “${settings.session}”` : "This log (no session name)";
    $("log-summary").textContent = total ? `${total} entr${total === 1 ? "y" : "ies"}${total > SHOWN_ENTRIES ? `, the newest ${SHOWN_ENTRIES} shown` : ""}.` : "Nothing logged yet.";
    $("log-list").replaceChildren(...newest.map(entryRow));
    for (const id of ["export-log", "export-json", "share-log", "clear-log", "undo-last"]) $(id).disabled = !total;
  }

  function entryRow(entry) {
    const note = el("input", { value: entry.note || "", placeholder: "note", maxLength: 200,
      ariaLabel: `Note for ${entry.label} at ${entry.time.slice(11, 19)}` });
    note.onchange = () => store.setNote(entry.id, note.value).catch((error) => app.notice(error.message));
    const where = entry.latitude == null ? "" : ` · ${entry.latitude.toFixed(5)}, ${entry.longitude.toFixed(5)}`;
    const row = el("li", {}, el("span", { className: "entry-label" }, entry.label),
      el("span", { className: "muted" }, `${entry.time.slice(11, 19)} · ${Math.round(100 * entry.confidence)}%${where}`), note);
    if (entry.snapshot) showSnapshot(row, entry);
    return row;
  }

  async function showSnapshot(row, entry) {
    const kept = await store.snapshot(entry.id);
    if (!kept) return;
    const url = URL.createObjectURL(new Blob([kept.bytes], { type: kept.type }));
    const image = el("img", { src: url, className: "snapshot", alt: `What the camera saw: ${entry.label}, ${entry.time.slice(11, 19)}` });
    image.onload = () => URL.revokeObjectURL(url);
    row.prepend(image);
  }

  async function renderReview() {
    const [items, count] = await Promise.all([store.reviewItems(SHOWN_REVIEW), store.reviewCount()]);
    state.use.review = count;
    const project = items.length ? await app.store.project() : [];
    $("review-empty").hidden = items.length > 0;
    $("review-more").textContent = count > items.length ? `${count - items.length} more after these.` : "";
    $("review-list").replaceChildren(...items.map((item) => reviewRow(item, project)));
  }

  function reviewRow(item, project) {
    const blob = new Blob([item.picture.bytes], { type: item.picture.type });
    const url = URL.createObjectURL(blob);
    const what = item.unknown ? "Like nothing it knows" : `Not sure (${Math.round(100 * item.confidence)}% “${item.label}”)`;
    const image = el("img", { src: url, alt: `${what}, ${item.time.slice(11, 19)}` });
    image.onload = () => URL.revokeObjectURL(url);
    const add = project.map((c) => {
      const button = el("button", { ariaLabel: `Add to ${c.name}` }, c.name);
      button.onclick = () => app.change(async () => {
        await app.store.addPictures(c.id, [await described({ blob, width: item.picture.width, height: item.picture.height })]);
        await store.removeReview(item.id);
        app.notice(`Added to “${c.name}”: train again to use it.`, "info");
        await renderReview();
      });
      return button;
    });
    const discard = el("button", { className: "discard", ariaLabel: `Discard the frame of ${item.time.slice(11, 19)}` }, "Discard");
    discard.onclick = async () => { await store.removeReview(item.id); await renderReview(); };
    return el("li", { className: "review-item" }, image,
      el("div", {}, el("div", {}, `${what} · ${item.time.slice(11, 19)}. Add it to:`),
        el("div", { className: "unsure-classes" }, ...add, discard)));
  }

  $("undo-last").onclick = async () => {
    const [last] = await store.newest(1);
    if (!last) return;
    await store.remove(last.id);
    say(`Took back “${last.label}” of ${last.time.slice(11, 19)}.`);
    await renderLog();
  };

  $("clear-log").onclick = async () => {
    const mark = await store.clear();
    await renderLog();
    app.toast("Log cleared.", {
      undo: async () => { await store.undoClear(mark); await renderLog(); },
      expire: () => store.purgeCleared().catch(() => {}),
    });
  };

  // ---- files: the log and the model ---------------------------------------------------
  const logName = (ext) => `pocketvision-log${settings.session ? `-${settings.session.replace(/[^\p{L}\p{N}_-]+/gu, "_")}` : ""}.${ext}`;
  const exporting = async (button, work) => {
    button.disabled = true;
    const before = button.textContent;
    button.textContent = "Preparing…";
    try { await work(); } catch (error) { app.notice(`Could not export the log (${error.message}).`); }
    finally { button.textContent = before; button.disabled = false; }
  };
  $("export-log").onclick = () => exporting($("export-log"), async () => download(await logCsv(store.slices()), logName("csv")));
  $("export-json").onclick = () => exporting($("export-json"), async () =>
    download(await logJson(store.slices(), state.model?.created ?? null), logName("json")));
  $("share-log").onclick = () => exporting($("share-log"), async () => {
    const how = await shareOrDownload(await logCsv(store.slices()), logName("csv"), "pocketvision log");
    if (how === "downloaded") say("This browser cannot share files: the log was downloaded instead.");
  });
  $("share-model").onclick = async () => {
    const model = await modelFile(app);
    if (!model) return;
    const how = await shareOrDownload(model, "model.pvb", "pocketvision model");
    if (how === "downloaded") say("This browser cannot share files: the model was downloaded instead.");
  };

  changed();
  await render();
  return {
    modelChanged: () => { if (state.use.watching) stop(); render(); },
    shown: () => { render(); explain(); },
    hidden: () => { if (state.use.watching) stop(); },
  };
}

function listed(things) {
  return things.length < 2 ? things.join("") : `${things.slice(0, -1).join(", ")} or ${things[things.length - 1]}`;
}
