// Files between the app and the person: downloads, the share sheet, and a model file
// opened (Open model, a .pvb opened with the installed app, or one shared to it):
// every way in is checked the same way, before anything is replaced.

import { BundleError, playableModel, readBundle } from "../recipe/bundle-file.js";
import { summaryOf } from "./model-summary.js";

export function download(blob, name) {
  const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// The kept model as a file to hand over (Download model, Share model), or null after
// saying there is none.
export async function modelFile(app) {
  const saved = await app.store.model();
  if (!saved) app.notice("There is no model yet: train one first.");
  return saved ? new Blob([saved.bytes], { type: "application/octet-stream" }) : null;
}

// Hands the file to the phone's share sheet where the browser can share files, else
// downloads it. Returns "shared", "downloaded" or "cancelled" (the person closed the
// sheet: nothing to say).
export async function shareOrDownload(blob, name, title) {
  const file = new File([blob], name, { type: blob.type });
  if (navigator.canShare?.({ files: [file] })) {
    try {
      await navigator.share({ files: [file], title });
      return "shared";
    } catch (error) {
      if (error.name === "AbortError") return "cancelled";
      // NotAllowedError (no tap just before) and others: the download still works
    }
  }
  download(blob, name);
  return "downloaded";
}

// A .pvb the person gave the app: kept and played when this site's backbone can play
// it, else refused with a sentence and nothing changed.
export async function openModelFile(app, file) {
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const bundle = readBundle(bytes);
    await playableModel(bundle, app.site.backbone); // refused here, before anything is replaced
    const summary = summaryOf(bundle.meta, `opened from ${file.name}`);
    await app.store.saveModel(bytes, summary);
    await app.useModel(bytes, summary);
    app.notice(`Opened ${file.name}: ${summary.labels.join(", ")}.`, "info");
  } catch (error) {
    app.notice(error instanceof BundleError ? `${file.name} cannot be used: ${error.message}.`
      : `${file.name} could not be read (${error.message}).`);
  }
}

// Models given to the installed app from outside: a .pvb opened with it (the
// manifest's file_handlers, launchQueue) or shared to it (share_target: the service
// worker keeps the file under the name below, sw-template.js's SHARED).
export async function openGivenModels(app) {
  if ("launchQueue" in self) {
    launchQueue.setConsumer(async ({ files }) => {
      for (const handle of files ?? []) await openModelFile(app, await handle.getFile());
    });
  }
  if (!new URLSearchParams(location.search).has("shared-model")) return;
  history.replaceState(null, "", location.pathname); // a reload does not open it again
  const cache = await caches.open(`pocketvision-shared ${new URL(".", location.href).href}`);
  const key = new URL("model", location.href).href, kept = await cache.match(key);
  if (!kept) return app.notice("The shared model was not received: share it again, or use Open model.");
  const name = decodeURIComponent(kept.headers.get("X-File-Name") || "model.pvb");
  await openModelFile(app, new File([await kept.blob()], name));
  await cache.delete(key);
}
