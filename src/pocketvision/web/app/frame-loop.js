// Classifying the camera, for the views that watch it (Play, Use): while running,
// every new camera frame is noted and the newest one is classified once a model is
// there (frames that arrive during a classification are skipped, never queued, so
// the answer is always about now). `step(result, now, metadata, timing)` gets each
// answer; `fps` is the classified frames a second over the last second.

import { onVideoFrame } from "./engine.js";

export function frameLoop(app, step) {
  let running = false, listening = false, busy = false, newest = null;
  let frames = 0, windowStart = performance.now();
  const loop = { fps: 0, onRate: null };

  function onFrame(now, metadata) {
    listening = running;
    if (!running) return;
    onVideoFrame(app.video, onFrame);
    newest = [now, metadata];
    if (!busy && app.model) classifyNewest();
  }

  async function classifyNewest() {
    busy = true;
    while (newest && running && app.model) {
      const [now, metadata] = newest;
      newest = null;
      await classify(now, metadata).catch((error) => app.notice(`The model stopped: ${error.message}`));
    }
    busy = false;
  }

  async function classify(now, metadata) {
    const model = app.model, started = performance.now();
    const { features, prepareMs, runMs } = await app.backbone.frame(app.video, model.spec);
    const result = model.classify(features);
    Object.assign(app.state, { label: result.label, confidence: result.confidence, novelty: result.novelty,
      inferenceMs: performance.now() - started, prepareMs, runMs, lastFrameAt: performance.now(),
      frameModel: model.summary.created });
    await step(result, now, metadata, model);
    countFrame();
  }

  function countFrame() {
    frames += 1;
    const clock = performance.now();
    if (clock - windowStart > 1000) {
      loop.fps = app.state.fps = (frames * 1000) / (clock - windowStart);
      frames = 0;
      windowStart = clock;
      loop.onRate?.(loop.fps);
    }
  }

  loop.start = () => {
    running = true;
    if (!listening) {
      listening = true;
      onVideoFrame(app.video, onFrame);
    }
  };
  loop.stop = () => { running = false; };
  return loop;
}
