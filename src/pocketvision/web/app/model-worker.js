// The backbone, off the page's thread: onnxruntime-web runs the site's backbone graph
// (backbone.onnx, the graph the CLI caches) on stored pictures, which get the exact
// preprocessing spec (imaging.toInput), and on live camera frames (imaging.frameInput).
// Messages: {id, kind, ...} -> {id, result} or {id, error}; see model-client.js.

import * as ort from "../vendor/onnxruntime-web/ort.wasm.min.mjs";
import { decode, frameInput, toInput } from "../recipe/imaging.js";

const BATCH = 4; // pictures per run: fastest per picture on a phone's few cores
let session = null;
const canvas = new OffscreenCanvas(1, 1);

const handlers = {
  async load({ url, threads }) {
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = new URL("../vendor/onnxruntime-web/", import.meta.url).href;
    const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"],
      graphOptimizationLevel: "all" });
    return { threads: ort.env.wasm.numThreads };
  },

  // Features of picture files (Blobs), in order: [Float32Array (F)].
  async pictures({ blobs, spec }) {
    const features = [];
    for (let start = 0; start < blobs.length; start += BATCH) {
      const inputs = [];
      for (const blob of blobs.slice(start, start + BATCH)) inputs.push(toInput(await decode(blob), spec));
      features.push(...await run(inputs, spec.crop));
      postMessage({ progress: features.length, total: blobs.length });
    }
    return features;
  },

  // Features of one camera frame (an ImageBitmap, closed here).
  async frame({ bitmap, spec }) {
    const started = performance.now();
    const input = frameInput(bitmap, spec, canvas);
    bitmap.close();
    const prepared = performance.now();
    const [features] = await run([input], spec.crop);
    return { features, prepareMs: prepared - started, runMs: performance.now() - prepared };
  },
};

async function run(inputs, crop) {
  const plane = 3 * crop * crop, batch = new Float32Array(inputs.length * plane);
  inputs.forEach((input, i) => batch.set(input, i * plane));
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", batch, [inputs.length, 3, crop, crop]) };
  const output = (await session.run(feeds))[session.outputNames[0]];
  const size = output.dims[1];
  return inputs.map((_, i) => output.data.slice(i * size, (i + 1) * size));
}

onmessage = async ({ data }) => {
  try {
    const result = await handlers[data.kind](data);
    postMessage({ id: data.id, result });
  } catch (error) {
    postMessage({ id: data.id, error: String(error?.message || error) });
  }
};
