// Unknown detection as pocketvision/model/novelty.py computes and fits it, ported
// once: raw = (1 - mean cosine similarity to the 5 nearest training features) / scale
// + (1 - top probability); novelty = 1 - 2 ** (-raw / threshold), 0.5 at the
// threshold. Scale and threshold accept 95 % of known images, judged out of fold
// (5 folds by capture burst), exactly as the CLI fits them.

import { fitLinearHead, probabilities } from "./head.js";
import { ACCEPTED, FOLDS, MAX_BANK, NEIGHBOURS } from "./shared.js";
import { byCodePoint } from "./split.js";


export function unit(vector) {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.max(Math.sqrt(norm), 1e-12);
  return Float32Array.from(vector, (v) => v / norm);
}

// 1 - mean similarity of `features` to its nearest bank rows (bank: unit rows).
export function neighbours(bank, features) {
  const u = unit(features), k = Math.min(NEIGHBOURS, bank.length), best = [];
  for (const row of bank) {
    let s = 0;
    for (let j = 0; j < u.length; j++) s += u[j] * row[j];
    if (best.length < k) { best.push(s); best.sort((a, b) => b - a); }
    else if (s > best[k - 1]) { best[k - 1] = s; best.sort((a, b) => b - a); }
  }
  return 1 - best.reduce((a, b) => a + b, 0) / k;
}

export function score(model, features, probs) {
  const raw = neighbours(model.bank, features) / model.scale + (1 - Math.max(...probs));
  return 1 - 2 ** (-raw / model.threshold);
}

// numpy.quantile's default (linear) method.
export function quantile(values, q) {
  const sorted = Float64Array.from(values).sort();
  const h = (sorted.length - 1) * q, low = Math.floor(h);
  return low + 1 < sorted.length ? sorted[low] + (h - low) * (sorted[low + 1] - sorted[low]) : sorted[low];
}

// Each training row judged by a head and neighbours that never saw its group.
// `others`: more feature sets of the same images (e.g. at the game's input size),
// judged by the same fold models, so their thresholds follow the same rule.
// start: the head fitted on all rows, where each fold's fit begins (it ends at the
// fold's own optimum, sooner).
export function outOfFold(rows, targets, groups, numClasses, settings, others = [], start = null) {
  const names = [...new Set(groups)].sort(byCodePoint);
  const foldOf = new Map(names.map((g, k) => [g, k % FOLDS]));
  const folds = groups.map((g) => foldOf.get(g));
  const judged = [rows, ...others].map(() => ({ probabilities: [], neighbours: [] }));
  for (let fold = 0; fold < Math.min(FOLDS, names.length); fold++) {
    const held = folds.flatMap((f, i) => (f === fold ? [i] : []));
    const kept = folds.flatMap((f, i) => (f !== fold ? [i] : []));
    const learnable = new Set(kept.map((i) => targets[i])).size >= 2;
    const head = learnable && held.length
      ? fitLinearHead(kept.map((i) => rows[i]), kept.map((i) => targets[i]), numClasses, settings, start) : null;
    const bank = kept.map((i) => unit(rows[i]));
    [rows, ...others].forEach((set, s) => {
      for (const i of held) {
        judged[s].probabilities[i] = head ? probabilities(head, set[i]) : new Array(numClasses).fill(1 / numClasses);
        judged[s].neighbours[i] = head ? neighbours(bank, set[i]) : 1.0;
      }
    });
  }
  return judged;
}

// The scale and threshold that accept ACCEPTED of the out-of-fold judged images.
export function calibrate(judged) {
  const scale = Math.max(quantile(judged.neighbours, ACCEPTED), 1e-6);
  const raw = judged.neighbours.map((n, i) => n / scale + (1 - Math.max(...judged.probabilities[i])));
  return { scale, threshold: Math.max(quantile(raw, ACCEPTED), 1e-6) };
}

// The bundle's novelty model: every training row (at most MAX_BANK, evenly spread).
export function fitNovelty(rows, judged) {
  const count = Math.min(rows.length, MAX_BANK);
  const keep = Array.from({ length: count }, (_, k) =>
    Math.round(count === 1 ? 0 : (k * (rows.length - 1)) / (count - 1)));
  return { bank: keep.map((i) => unit(rows[i])), ...calibrate(judged) };
}
