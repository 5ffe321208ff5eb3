// The page's side of model-worker.js: one worker, promises for its answers, and
// progress callbacks while it computes features of many pictures.

export class Backbone {
  constructor(url, threads) {
    this.worker = new Worker(new URL("./model-worker.js", import.meta.url), { type: "module" });
    this.pending = new Map();
    this.next = 0;
    this.onProgress = null;
    this.worker.onmessage = ({ data }) => {
      if (data.progress !== undefined) return this.onProgress?.(data.progress, data.total);
      const { resolve, reject } = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error) reject(new Error(data.error)); else resolve(data.result);
    };
    this.ready = this.ask({ kind: "load", url, threads });
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
