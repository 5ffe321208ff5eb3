// What the Use view hears from the camera: the game's smoothing (recipe/smoothing.js)
// turns per-frame answers into "a class appeared and holds", once per held segment,
// and a run of frames the model is unsure of (or that look like nothing it was
// trained on) into one "unsure", once per run. Nothing is repeated while a label
// holds; a class that goes and comes back is a new segment.

import { Smoother } from "../recipe/smoothing.js";

// An unsure run must last this many times the smoothing's frames before it counts:
// the blur of a camera moving from one thing to the next is not a thing to review.
const UNSURE_HOLD = 2;

export class Watcher {
  constructor(labels, config = {}) {
    this.labels = labels;
    this.smoother = new Smoother({}, config);
    this.unsureRun = 0;
  }

  // One frame's answer (page-model.classify's result) -> the events it causes:
  // [{kind: "seen", label, confidence, novelty}] or [{kind: "unsure", ...}] or [].
  update(t, frame, result) {
    const before = this.smoother.active;
    const probabilities = Object.fromEntries(this.labels.map((label, i) =>
      [label, result.unknown ? 0 : result.probabilities[i]]));
    this.smoother.update(t, frame, probabilities);
    const events = [];
    const now = this.smoother.active;
    if (now !== null && now !== before) {
      events.push({ kind: "seen", label: now, confidence: result.confidence, novelty: result.novelty });
    }
    const unsure = result.unknown || result.unsure;
    this.unsureRun = unsure && now === null ? this.unsureRun + 1 : 0;
    if (this.unsureRun === UNSURE_HOLD * this.smoother.config.frames) {
      events.push({ kind: "unsure", label: result.label, confidence: result.confidence,
        novelty: result.novelty, unknown: Boolean(result.unknown) });
    }
    return events;
  }
}
