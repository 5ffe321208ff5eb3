// Training, off the page's thread: the recipe of pocketvision/training/job.py on
// features the page has already computed. Split by capture burst, the linear head,
// unknown detection fitted out of fold, validation metrics. Pure arithmetic: the
// same numbers as `pocketvision train` on the same pictures (tests/system/test_phone_recipe.py).

import { fitLinearHead, probabilities } from "./head.js";
import { summarize } from "./metrics.js";
import { fitNovelty, outOfFold, score } from "./novelty.js";
import { NOVELTY_THRESHOLD } from "./shared.js";
import { assignGroups, splitByGroup } from "./split.js";

// pictures: [{name, label, sha256, dhash, features}]; classes: the labels, sorted;
// settings: TrainConfig's fields (val_fraction, seed, weight_decay, max_iterations, std_floor).
export function trainRecipe({ pictures, classes, settings }) {
  // the pictures, split by capture burst (a burst never lands on both sides)
  const { train, val } = splitByGroup(assignGroups(pictures), settings.val_fraction, settings.seed);
  const index = (p) => classes.indexOf(p.label);

  // the head and unknown detection, fitted on the training pictures' features
  const fit = { weightDecay: settings.weight_decay, maxIterations: settings.max_iterations,
    stdFloor: settings.std_floor };
  const rows = train.map((p) => p.features), targets = train.map(index);
  const head = fitLinearHead(rows, targets, classes.length, fit);
  const [judged] = outOfFold(rows, targets, train.map((p) => p.group || p.sha256), classes.length, fit, [], head);
  const novelty = fitNovelty(rows, judged);

  // validation: pictures of bursts the head never saw
  const valProbabilities = val.map((p) => probabilities(head, p.features));
  const metrics = summarize(val.map(index), valProbabilities, classes);
  if (val.length) {
    const rejected = val.filter((p, i) => score(novelty, p.features, valProbabilities[i]) > NOVELTY_THRESHOLD);
    metrics.novelty_rejected = rejected.length / val.length;
  }
  const record = (p) => ({ name: p.name, label: p.label, sha256: p.sha256 });
  return { train: train.map(record), val: val.map(record), head, novelty, metrics };
}

if (typeof WorkerGlobalScope !== "undefined") { // as a worker; a page may import trainRecipe too
  onmessage = ({ data }) => {
    try {
      postMessage({ result: trainRecipe(data) });
    } catch (error) {
      postMessage({ error: String(error?.message || error) });
    }
  };
}
