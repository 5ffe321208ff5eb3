// The trainer of contracts.js over a project folder: `pocketvision train`'s recipe on
// the server (live/studio.py's /api/train, on any backbone the machine has), its
// progress read from /api/job, and the bundle it wrote to models/model.pvb checked
// as playable on this page before it is used.

import { playableModel, readBundle } from "../recipe/bundle-file.js";
import { TrainError } from "./contracts.js";
import { finishedJob, studioFetch } from "./studio-api.js";
import { summaryOf } from "./model-summary.js";

// store: the project store (the bundle is read back through it); site: {backbone};
// backbone: the backbone to train on (by default the site's); fineTune: backbone
// blocks to train too (PyTorch on the server). A model on another backbone than the
// page runs is not checked here: the page must load that backbone first (otherBackbone).
export function serverTrainer({ store, site, backbone = null, fineTune = 0 }) {
  return {
    async train(onProgress = () => {}) {
      const started = performance.now();
      await studioFetch("POST", "/api/train", { backbone: backbone ?? site.backbone.name, fine_tune: fineTune }, TrainError);
      const job = await finishedJob((j) => onProgress(j.phase, j.done, j.total));
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
