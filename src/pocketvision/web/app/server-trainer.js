// The trainer of contracts.js over a project folder: `pocketvision train`'s recipe on
// the server (live/studio.py's /api/train, on any backbone the machine has), its
// progress read from /api/job, and the bundle it wrote to models/model.pvb checked
// as playable on this page before it is used.

import { playableModel, readBundle } from "../recipe/bundle-file.js";
import { TrainError } from "./contracts.js";
import { summaryOf } from "./model-summary.js";

const POLL_MS = 200; // how often the job's progress is read while it runs

// store: the project store (the bundle is read back through it); site: {backbone};
// backbone: the backbone to train on (by default the site's); fineTune: backbone
// blocks to train too (PyTorch on the server). A model on another backbone than the
// page runs is not checked here: the page must load that backbone first (otherBackbone).
export function serverTrainer({ store, site, backbone = null, fineTune = 0, base = location.origin }) {
  return {
    async train(onProgress = () => {}) {
      const started = performance.now();
      await request(base, "api/train", { backbone: backbone ?? site.backbone.name, fine_tune: fineTune });
      const job = await finished(base, onProgress);
      if (job.state === "failed") throw new TrainError(job.message);
      const saved = await store.model();
      const bundle = readBundle(saved.bytes);
      const otherBackbone = fineTune > 0 || bundle.meta.backbone.name !== site.backbone.name;
      if (!otherBackbone) await playableModel(bundle, site.backbone);
      return { bytes: saved.bytes, summary: summaryOf(bundle.meta, "trained on this computer"),
        computed: job.result.features_computed, seconds: (performance.now() - started) / 1000, otherBackbone };
    },
  };
}

async function finished(base, onProgress) {
  for (;;) {
    const job = await request(base, "api/job");
    if (job.state !== "running") return job;
    onProgress(job.phase, job.done, job.total);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function request(base, route, body = undefined) {
  const response = await fetch(new URL(route, base), body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new TrainError(answer.error || answer.detail || `the studio answered ${response.status}`);
  return answer;
}
