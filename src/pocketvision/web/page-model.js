// The model the page plays: the backbone's features of a frame (model-worker.js),
// then the bundle's head and unknown detection here. A frame unlike anything the
// model was trained on is "unknown" and confirms no class.

import { probabilities } from "./head.js";
import { NOVELTY_THRESHOLD, score } from "./novelty.js";

// playable: from bundle-file.playableModel; play: the site's own calibration for its
// game size ({resize, crop, novelty: {scale, threshold}}), for the model it ships.
export function pageModel(playable, play = null) {
  const spec = { ...playable.preprocessing, ...(play ? { resize: play.resize, crop: play.crop } : {}) };
  const novelty = playable.novelty && play?.novelty ? { ...playable.novelty, ...play.novelty } : playable.novelty;
  return {
    labels: playable.labels, spec, summary: playable.summary,
    classify(features) {
      const probs = probabilities(playable.head, features);
      const best = probs.indexOf(Math.max(...probs));
      const novel = novelty ? score(novelty, features, probs) : null;
      const unknown = novel !== null && novel > NOVELTY_THRESHOLD;
      return { probabilities: probs, novelty: novel, unknown, confidence: probs[best],
        label: unknown ? "unknown" : playable.labels[best] };
    },
  };
}
