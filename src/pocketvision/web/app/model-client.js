// The page's side of model-worker.js: one worker, promises for its answers, and
// progress callbacks while it computes features of many pictures.

// onnxruntime-web's start on several threads can hang without an error in some
// browsers (onnxruntime#26858; seen once in Firefox here). After this long the
// backbone starts again on one thread: slower, but a page that works.
const THREADED_START_MS = 30000;

export class Backbone {
  constructor(url, threads) {
    this.url = url;
    this.pending = new Map();
    this.next = 0;
    this.onProgress = null;
    this.ready = this.start(threads); // resolves to {threads}: the threads it runs on
  }

  async start(threads) {
    this.spawn();
    if (threads <= 1) return this.ask({ kind: "load", url: this.url, threads: 1 });
    let timer;
    const hung = new Promise((resolve) => { timer = setTimeout(resolve, THREADED_START_MS, null); });
    const loaded = await Promise.race([this.ask({ kind: "load", url: this.url, threads }), hung]);
    clearTimeout(timer);
    if (loaded) return loaded;
    this.stop(`the model took over ${THREADED_START_MS / 1000} s to start on ${threads} threads`);
    this.spawn();
    return this.ask({ kind: "load", url: this.url, threads: 1 });
  }

  spawn() {
    this.worker = new Worker(new URL("./model-worker.js", import.meta.url), { type: "module" });
    this.worker.onmessage = ({ data }) => {
      if (data.progress !== undefined) return this.onProgress?.(data.progress, data.total);
      const { resolve, reject } = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error) reject(new Error(data.error)); else resolve(data.result);
    };
    // A worker that cannot start (its script failed to load or threw) answers nothing:
    // fail what waits on it, so the page says why instead of waiting for ever.
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.stop(event.message || "the model's worker could not start");
    };
  }

  // Ends the worker and fails every question still waiting on it.
  stop(reason) {
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error(reason));
    this.pending.clear();
  }

  ask(message, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  // Features of stored pictures (Blobs), with the bundle's exact preprocessing.
  async pictures(blobs, spec, onProgress) {
    await this.ready;
    this.onProgress = onProgress;
    try { return await this.ask({ kind: "pictures", blobs, spec }); } finally { this.onProgress = null; }
  }

  // Features of the camera's current frame.
  async frame(video, spec) {
    await this.ready;
    const bitmap = await createImageBitmap(video);
    return this.ask({ kind: "frame", bitmap, spec }, [bitmap]);
  }
}
