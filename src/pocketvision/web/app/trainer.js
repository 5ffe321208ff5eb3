// Train on the page: the project's pictures -> features (computed once per picture
// and kept) -> the recipe in a worker (train-worker.js) -> a .pvb bundle with the
// header `pocketvision train` writes -> saved as the current model in one
// transaction. Until that transaction commits, the previous model stays: a reload
// or a closed app during training leaves the project as it was.

import { playableModel, readBundle, writeBundle } from "../recipe/bundle-file.js";
import { sha256Hex } from "../recipe/imaging.js";
import { ACCEPTED, BANK, FORMAT, FORMAT_VERSION, MAX_BANK, NEIGHBOURS } from "../recipe/shared.js";
import { byCodePoint } from "../recipe/split.js";
import { TrainError } from "./contracts.js";
import { summaryOf } from "./model-summary.js";

export const PICTURES_FOLDER = "pocketvision-pictures"; // the zip's folder (Download pictures)

// The trainer of contracts.js in the browser: the recipe on this page, over `store`.
export function browserTrainer({ store, backbone, site }) {
  return { train: (onProgress) => trainProject({ store, backbone, site, onProgress }) };
}

// site: {backbone (backbone.json), bodyTensors (only for a fine-tuned backbone)}.
export async function trainProject({ store, backbone, site, onProgress = () => {} }) {
  const started = performance.now();
  const project = await store.project();
  checkClasses(project, site.backbone);
  const classes = project.map((c) => c.name); // sorted by code point, as `train` sorts folders
  const pictures = project.flatMap((c) => c.pictures.map((p) => ({ ...p, label: c.name })));
  const timings = { read: performance.now() - started };
  const { features, computed } = await featuresOf(pictures, { store, backbone, site, onProgress });
  timings.features = performance.now() - started - timings.read;
  onProgress("Fitting the model", 0, 1);
  const result = await inWorker({ classes, settings: site.backbone.training,
    pictures: pictures.map((p, i) => ({ name: p.name, label: p.label, sha256: p.sha256,
      dhash: p.dhash, features: features[i] })) });
  timings.fit = performance.now() - started - timings.read - timings.features;
  const meta = await header(result, classes, site.backbone);
  const bytes = writeBundle(tensorsOf(result, site), meta);
  const summary = summaryOf(meta, "trained here");
  await playableModel(readBundle(bytes), site.backbone); // checked before it replaces anything
  await store.saveModel(bytes, summary);
  timings.save = performance.now() - started - timings.read - timings.features - timings.fit;
  return { bytes, summary, computed, timings, seconds: (performance.now() - started) / 1000 };
}

// The CLI's check_classes, said for a phone.
function checkClasses(project, backbone) {
  if (project.length < backbone.min_classes) {
    throw new TrainError(`Add at least ${backbone.min_classes} classes to train ` +
      `(there ${project.length === 1 ? `is 1: “${project[0].name}”` : `are ${project.length}`}).`);
  }
  for (const c of project) {
    if (c.pictures.length < backbone.min_images_per_class) {
      throw new TrainError(`Class “${c.name}” has ${c.pictures.length} picture` +
        `${c.pictures.length === 1 ? "" : "s"}; each class needs at least ` +
        `${backbone.min_images_per_class}: record some more.`);
    }
  }
}

// Every picture's features: from the store where it has them, else computed now
// (and kept, so the next Train computes only new pictures).
async function featuresOf(pictures, { store, backbone, site, onProgress }) {
  const spec = site.backbone.preprocessing;
  const keys = pictures.map((p) => featureKey(site.backbone, spec, p.sha256));
  const features = await store.features(keys);
  const missing = pictures.map((_, i) => i).filter((i) => !features[i]);
  onProgress("Features", 0, missing.length);
  if (missing.length) {
    const blobs = await store.blobs(missing.map((i) => pictures[i].id));
    const computed = await backbone.pictures(blobs, spec, (done, total) => onProgress("Features", done, total));
    missing.forEach((i, k) => { features[i] = computed[k]; });
    // kept only where they fit: a full phone still trains (it computes them again next time)
    await store.putFeatures(missing.map((i, k) => ({ key: keys[i], vector: computed[k] })))
      .catch((error) => { if (!error.full) throw error; });
  }
  return { features, computed: missing.length };
}

export function featureKey(backbone, spec, sha256) {
  return `${backbone.weights_hash.slice(0, 16)}|${spec.resize}|${spec.crop}|${sha256}`;
}

function inWorker(job) {
  const worker = new Worker(new URL("../recipe/train-worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => (data.error ? reject(new TrainError(data.error)) : resolve(data.result));
    worker.onerror = (event) => reject(new TrainError(event.message || "the training worker failed"));
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}

// The tensors of the bundle: the head, the novelty bank, and (only when the site's
// backbone is not a pretrained one) the backbone's own tensors.
function tensorsOf(result, site) {
  const { weight, bias } = result.head, features = site.backbone.feature_dim;
  const bank = new Float32Array(result.novelty.bank.length * features);
  result.novelty.bank.forEach((row, i) => bank.set(row, i * features));
  return {
    "head.weight": { dtype: "F32", shape: [bias.length, features], data: weight },
    "head.bias": { dtype: "F32", shape: [bias.length], data: bias },
    [BANK]: { dtype: "F32", shape: [result.novelty.bank.length, features], data: bank },
    ...(site.bodyTensors || {}),
  };
}

// BundleMeta.to_json, as training/job.py's _describe fills it in.
async function header(result, classes, backbone) {
  const record = (p) => ({ path: `${PICTURES_FOLDER}/${p.label}/${p.name}`, label: p.label, sha256: p.sha256 });
  return {
    backbone: { name: backbone.name, weights_hash: backbone.weights_hash, feature_dim: backbone.feature_dim },
    training: backbone.training, metrics: result.metrics,
    dataset: { manifest_sha256: await manifestHash(result), explicit_split: false,
      train_images: result.train.length, val_images: result.val.length, skipped: 0 },
    validation_images: result.val.map(record),
    training_images_sha256: [...new Set(result.train.map((p) => p.sha256))].sort(byCodePoint),
    training_images: result.train.map(record),
    created: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    format: FORMAT, format_version: FORMAT_VERSION, labels: classes,
    preprocessing: backbone.preprocessing,
    versions: { pocketvision: backbone.version, browser: navigator.userAgent },
    novelty: { method: `knn${NEIGHBOURS}+softmax`, scale: result.novelty.scale,
      threshold: result.novelty.threshold, accepted: ACCEPTED,
      bank: Math.min(result.novelty.bank.length, MAX_BANK) },
  };
}

// Split.manifest_hash: SHA-256 of the sorted "side<TAB>label<TAB>sha256" lines.
async function manifestHash(result) {
  const lines = [...result.train.map((p) => `train\t${p.label}\t${p.sha256}`),
    ...result.val.map((p) => `val\t${p.label}\t${p.sha256}`)].sort(byCodePoint);
  return sha256Hex(new TextEncoder().encode(lines.join("\n")));
}
