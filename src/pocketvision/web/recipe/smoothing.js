// The smoothing rules of pocketvision/live/smoothing.py, ported once to JavaScript
// for the game page. Both pass the same table: tests/smoothing_cases.json.
// Read the Python module's docstring for the rules.

import { SMOOTHING_DEFAULTS } from "./shared.js";

export class Smoother {
  constructor(actions, config = {}) {
    this.actions = actions; // label -> {key, mode: "tap" | "hold"}
    this.config = { ...SMOOTHING_DEFAULTS, ...config };
    this.active = null;
    this.candidate = null;
    this.streak = 0;
    this.weakStreak = 0;
    this.lastTap = new Map(); // by label: user text, so not a plain object's keys
  }

  // One frame's probabilities ({label: p}); returns the events it causes.
  update(t, frame, probabilities) {
    const labels = Object.keys(probabilities);
    const top = labels.reduce((a, b) => (probabilities[b] > probabilities[a] ? b : a));
    const confident = probabilities[top] >= this.config.threshold;
    this.countCandidate(confident ? top : null);
    if (this.active !== null && (probabilities[this.active] ?? 0) < this.config.release) {
      this.weakStreak += 1;
    } else {
      this.weakStreak = 0;
    }
    if (this.candidate !== null && this.candidate !== this.active && this.streak >= this.config.frames) {
      return this.activate(this.candidate, t, frame);
    }
    if (this.active !== null && this.weakStreak >= this.config.frames) {
      return this.activate(null, t, frame);
    }
    return [];
  }

  finish(t, frame) {
    return this.activate(null, t, frame);
  }

  countCandidate(label) {
    if (label !== null && label === this.candidate) {
      this.streak += 1;
    } else {
      this.candidate = label;
      this.streak = label !== null ? 1 : 0;
    }
  }

  activate(label, t, frame) {
    const events = [];
    const previous = this.active !== null ? this.actions[this.active] : undefined;
    if (previous && previous.mode === "hold") {
      events.push({ t, frame, label: this.active, action: "up", key: previous.key });
    }
    this.active = label;
    this.weakStreak = 0;
    const action = label !== null ? this.actions[label] : undefined;
    if (!action) return events;
    if (action.mode === "hold") {
      events.push({ t, frame, label, action: "down", key: action.key });
    } else if (t - (this.lastTap.get(label) ?? -Infinity) >= this.config.cooldown) {
      this.lastTap.set(label, t);
      events.push({ t, frame, label, action: "tap", key: action.key });
    }
    return events;
  }
}
