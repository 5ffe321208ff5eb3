// The model the page plays: the backbone's features of a frame (model-worker.js),
// then the bundle's head and unknown detection here. A frame unlike anything the
// model was trained on is "unknown" and confirms no class.

import { probabilities } from "./head.js";
import { score } from "./novelty.js";
import { NOVELTY_THRESHOLD, UNKNOWN, UNSURE_BELOW } from "./shared.js";

// playable: from bundle-file.playableModel; play: the site's own calibration for its
// game size ({resize, crop, novelty: {scale, threshold}}), for the model it ships.
export function pageModel(playable, play = null) {
  const spec = { ...playable.preprocessing, ...(play ? { resize: play.resize, crop: play.crop } : {}) };
  const novelty = playable.novelty && play?.novelty ? { ...playable.novelty, ...play.novelty } : playable.novelty;
  return {
    labels: playable.labels, spec, summary: playable.summary,
    agreement: agreementNote(playable.preprocessing.crop, spec.crop, play?.agreement),
    classify(features) {
      const probs = probabilities(playable.head, features);
      const best = probs.indexOf(Math.max(...probs));
      const novel = novelty ? score(novelty, features, probs) : null;
      const unknown = novel !== null && novel > NOVELTY_THRESHOLD;
      return { probabilities: probs, novelty: novel, unknown, confidence: probs[best],
        label: unknown ? UNKNOWN : playable.labels[best],
        unsure: unknown || probs[best] < UNSURE_BELOW };
    },
  };
}

// What the player is told about the model the game runs: the bundle's own model, or
// (a smaller game input) how often it gave the bundle's answer on the export's check
// pictures ({top1, images}, measured by `pocketvision export --format web`).
export function agreementNote(bundleCrop, gameCrop, agreement) {
  if (gameCrop === bundleCrop) return `the trained model itself, at its ${bundleCrop} px input`;
  if (!agreement) return `${gameCrop} px (the trained model's input is ${bundleCrop} px)`;
  return `${gameCrop} px: the trained model's answer on ${Math.round(100 * agreement.top1)} % ` +
    `of ${agreement.images} check pictures (it takes ${bundleCrop} px)`;
}
