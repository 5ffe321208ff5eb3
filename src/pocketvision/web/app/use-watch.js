// What the Use view hears from the camera: the game's smoothing (recipe/smoothing.js)
// turns per-frame answers into "a class appeared and holds", once per held segment,
// and a run of frames the model is unsure of (or that look like nothing it was
// trained on) into one "unsure", once per run. Nothing is repeated while a label
// holds: a class that wavers (let go for a few frames, a blur or one odd view) and
// comes back within WAVER_S, with nothing else seen meanwhile, holds on. A class that
// really went (another class held, or an unsure run long enough to report, in
// between) and comes back is a new segment: two bolts in a row count twice.

import { Smoother } from "../recipe/smoothing.js";

// An unsure run must last this many times the smoothing's frames before it counts:
// the blur of a camera moving from one thing to the next is not a thing to review.
const UNSURE_HOLD = 2;
const WAVER_S = 1.5;

export class Watcher {
  constructor(labels, config = {}) {
    this.labels = labels;
    this.smoother = new Smoother({}, config);
    this.unsureRun = 0;
    this.released = null; // {label, at, broken}: the class last let go, while nothing else held
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
    if (now !== null && now !== before && !this.wavered(now, t)) {
      events.push({ kind: "seen", label: now, confidence: result.confidence, novelty: result.novelty });
    }
    this.noteRelease(before, now, t);
    const unsure = result.unknown || result.unsure;
    this.unsureRun = unsure && now === null ? this.unsureRun + 1 : 0;
    if (this.unsureRun === UNSURE_HOLD * this.smoother.config.frames) {
      if (this.released) this.released.broken = true; // something else was seen in between
      events.push({ kind: "unsure", label: result.label, confidence: result.confidence,
        novelty: result.novelty, unknown: Boolean(result.unknown) });
    }
    return events;
  }

  // The class in view: held, or wavering (let go, nothing else seen since).
  holding() {
    return this.smoother.active ?? (this.released && !this.released.broken ? this.released.label : null);
  }

  // The class came back after only wavering: the same hold, nothing to say.
  wavered(label, t) {
    const last = this.released;
    return last !== null && last.label === label && !last.broken && t - last.at < WAVER_S;
  }

  noteRelease(before, now, t) {
    if (now !== null) this.released = null;
    else if (before !== null) this.released = { label: before, at: t, broken: false };
  }
}
