// What the page shows of a model (and window.studioState reports): its labels,
// accuracy on the bursts it never saw, confusion, what to collect next, warnings.

import { captureNext } from "../recipe/metrics.js";

// What the page shows of a model (and window.studioState reports).
// A bundle's metrics as far as they can be shown: a header is the file's text, so a
// confusion matrix that is not classes x classes counts, or an accuracy that is not a
// share, is left out rather than breaking the page ("confusion.forEach is not a function").
function shownMetrics(metrics, classes) {
  if (!metrics || typeof metrics !== "object") return {};
  const isCountRow = (row) => Array.isArray(row) && row.length === classes && row.every((n) => Number.isInteger(n) && n >= 0);
  const confusion = Array.isArray(metrics.confusion) && metrics.confusion.length === classes &&
    metrics.confusion.every(isCountRow) ? metrics.confusion : null;
  const accuracy = Number.isFinite(metrics.accuracy) && metrics.accuracy >= 0 && metrics.accuracy <= 1
    ? metrics.accuracy : null;
  const perClass = metrics.per_class && typeof metrics.per_class === "object" &&
    Object.values(metrics.per_class).every((s) => s && Number.isFinite(s.recall) && Number.isFinite(s.support))
    ? metrics.per_class : {};
  return { accuracy, confusion, per_class: perClass };
}

// meta: the bundle's header (wherever it was trained: here, on the studio's computer,
// by `pocketvision train`); source: how the model came here, for the person.
export function summaryOf(meta, source) {
  const warnings = unmeasured(meta).map((name) => `Class “${name}” is one capture ` +
    "burst: none of it could be kept for validation without leaking, so its accuracy is not " +
    "measured. Record a second burst (another Record press, ideally elsewhere) or add photos.");
  const metrics = shownMetrics(meta.metrics, meta.labels.length);
  return { labels: meta.labels, accuracy: metrics.accuracy ?? null, created: meta.created,
    trainImages: meta.dataset?.train_images ?? null, valImages: meta.dataset?.val_images ?? null,
    confusion: metrics.confusion ?? null, next: captureNext(metrics, meta.labels),
    backbone: meta.backbone.name, unknownDetection: Boolean(meta.novelty), warnings, source };
}

// Classes with no validation picture in a split by capture burst: each was one burst
// (a split never cuts a burst), so its accuracy could not be measured.
function unmeasured(meta) {
  if (meta.dataset?.explicit_split || !Array.isArray(meta.validation_images)) return [];
  const measured = new Set(meta.validation_images.map((record) => record?.label));
  return meta.labels.filter((label) => !measured.has(label));
}
