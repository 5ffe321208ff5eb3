// Validation metrics as pocketvision/evaluation/metrics.py writes them into a bundle
// (accuracy, per class, confusion, ECE), and what the studio says to collect next.

import { CALIBRATION_BINS } from "./shared.js";

// truths: class index per image; probs: probabilities per image; classes: names.
export function summarize(truths, probs, classes) {
  const c = classes.length;
  const predicted = probs.map((p) => p.indexOf(Math.max(...p)));
  const confusion = classes.map(() => new Array(c).fill(0));
  truths.forEach((t, i) => { confusion[t][predicted[i]] += 1; });
  const correct = truths.filter((t, i) => t === predicted[i]).length;
  return {
    accuracy: truths.length ? correct / truths.length : null,
    per_class: perClass(confusion, classes),
    confusion, classes: [...classes], count: truths.length,
    ece: truths.length ? expectedCalibrationError(truths, probs, predicted) : null,
  };
}

// Keyed by class name with Object.fromEntries, so a class named "__proto__" is a key
// like any other (an assignment would set the object's prototype instead).
function perClass(confusion, classes) {
  return Object.fromEntries(classes.map((name, k) => {
    const hit = confusion[k][k];
    const predicted = confusion.reduce((sum, row) => sum + row[k], 0);
    const support = confusion[k].reduce((a, b) => a + b, 0);
    const precision = predicted ? hit / predicted : 0, recall = support ? hit / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return [name, { precision, recall, f1, support }];
  }));
}

// Equal-width bins over the top-class confidence (numpy.digitize on the inner edges).
function expectedCalibrationError(truths, probs, predicted) {
  const edges = Array.from({ length: CALIBRATION_BINS + 1 }, (_, k) => k * (1 / CALIBRATION_BINS)); // numpy.linspace
  const bins = Array.from({ length: CALIBRATION_BINS }, () => ({ count: 0, right: 0, confidence: 0 }));
  probs.forEach((p, i) => {
    const confidence = Math.max(...p);
    let which = 0;
    while (which < CALIBRATION_BINS - 1 && confidence >= edges[which + 1]) which++;
    bins[which].count += 1;
    bins[which].right += truths[i] === predicted[i] ? 1 : 0;
    bins[which].confidence += confidence;
  });
  return bins.reduce((ece, bin) => (bin.count
    ? ece + (bin.count / truths.length) * Math.abs(bin.right / bin.count - bin.confidence / bin.count)
    : ece), 0);
}

// What to collect next: the pair the model confuses most, else the class it finds
// least (the app shows it under the model, wherever the model was trained).
export function captureNext(metrics, labels) {
  const confusion = metrics.confusion || [];
  let worst = null;
  confusion.forEach((row, i) => row.forEach((count, j) => {
    if (i !== j && count && (!worst || count > worst.count ||
      (count === worst.count && [labels[i], labels[j]].join("\u0000") > [worst.truth, worst.guess].join("\u0000")))) {
      worst = { count, truth: labels[i], guess: labels[j] };
    }
  }));
  if (worst) {
    const many = worst.count > 1;
    return `Collect more “${worst.truth}”, especially pictures unlike “${worst.guess}”: ` +
      `${worst.count} validation picture${many ? "s" : ""} of “${worst.truth}” ` +
      `${many ? "were" : "was"} taken for “${worst.guess}”.`;
  }
  const recalls = Object.entries(metrics.per_class || {}).filter(([, s]) => s.support);
  if (recalls.length) {
    const [weakest, scores] = recalls.reduce((a, b) => (b[1].recall < a[1].recall ? b : a));
    if (scores.recall < 1) {
      return `Collect more “${weakest}”: it is found ${Math.round(100 * scores.recall)}% of the time.`;
    }
  }
  return null;
}
