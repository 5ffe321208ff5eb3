// What differs between the browser engines phones have (Chromium, WebKit on every
// iPhone, Firefox), in one place: stand-ins where an engine lacks something the app
// can do without, and one sentence naming what it cannot do without.

// Calls `callback(now, {mediaTime, presentedFrames})` once, when the video has its
// next frame. requestVideoFrameCallback where the engine has it; else the next
// animation frame on which the video's time has moved (a paused or hidden video
// waits, as it would), counting the frames so seen.
const framesSeen = new WeakMap();
export function onVideoFrame(video, callback) {
  if (typeof video.requestVideoFrameCallback === "function") {
    video.requestVideoFrameCallback(callback);
    return;
  }
  const seen = video.currentTime;
  const poll = (now) => {
    if (video.currentTime === seen || video.readyState < 2) return requestAnimationFrame(poll);
    const presentedFrames = (framesSeen.get(video) ?? 0) + 1;
    framesSeen.set(video, presentedFrames);
    callback(now, { mediaTime: video.currentTime, presentedFrames });
  };
  requestAnimationFrame(poll);
}

// Runs `work(held)` holding the lock `name` across this origin's tabs when it is free
// (held: true), else `work(false)`. Web Locks where the engine has them; else a lock
// of this tab only, so that two Train taps in one tab still cannot overlap.
const held = new Set();
export async function withLock(name, work) {
  if (navigator.locks?.request) return navigator.locks.request(name, { ifAvailable: true }, (lock) => work(Boolean(lock)));
  if (held.has(name)) return work(false);
  held.add(name);
  try {
    return await work(true);
  } finally {
    held.delete(name);
  }
}

// What the app cannot work without and this engine lacks, as one sentence (null when
// it has everything): shown instead of a page that would stop half-way.
export function missingFeatures() {
  const needed = {
    "IndexedDB (where pictures are kept)": typeof indexedDB !== "undefined",
    "WebAssembly (how the model runs)": typeof WebAssembly === "object",
    "Web Workers (training without freezing the page)": typeof Worker === "function",
    "OffscreenCanvas (reading pictures off the page)": typeof OffscreenCanvas === "function",
    "createImageBitmap (decoding pictures)": typeof createImageBitmap === "function",
  };
  const missing = Object.entries(needed).filter(([, has]) => !has).map(([name]) => name);
  if (!missing.length) return null;
  return `This browser lacks ${missing.join(", ")}: open this page in a current Safari, Chrome or Firefox.`;
}

// Whether this engine has agreed to keep the site's storage: asks for it where it can
// (an installed app or a visited site is often granted); false where the engine will
// not say (WebKitGTK has no StorageManager) or refuses, as in a private tab.
export async function storageWillLast() {
  try {
    return Boolean(await navigator.storage?.persisted?.() || await navigator.storage?.persist?.());
  } catch {
    return false;
  }
}

// Threads for the model: they need SharedArrayBuffer, which needs a cross-origin
// isolated page, and some engines (WebKitGTK) lack it even then.
export function modelThreads() {
  const shared = self.crossOriginIsolated && typeof SharedArrayBuffer === "function";
  return shared ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
}
