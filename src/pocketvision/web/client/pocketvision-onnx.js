// Run a pocketvision ONNX export in the browser with onnxruntime-web.
//
// The contract (labels, input size, preprocessing) is read from the model file
// itself, from the ONNX metadata_props entry "pocketvision.contract", so a page
// needs nothing but the .onnx file.
//
//   import { loadModel, classify } from "./client/pocketvision-onnx.js";
//   const model = await loadModel("model.onnx");
//   const {label, probabilities, ms} = await classify(model, videoOrImageElement);
//
// Serve the package's web/ folder as it is: this file imports recipe/imaging.js (the
// resize and crop) and the onnxruntime-web build in vendor/, by relative paths.

import * as ort from "../vendor/onnxruntime-web/ort.wasm.min.mjs";
import { frameInput } from "../recipe/imaging.js";
import { UNKNOWN } from "../recipe/shared.js";

ort.env.wasm.wasmPaths = new URL("../vendor/onnxruntime-web/", import.meta.url).href;

const CONTRACT_KEY = "pocketvision.contract";
const METADATA_PROPS_FIELD = 14; // ModelProto.metadata_props (onnx.proto)

export async function loadModel(url, { threads, ...options } = {}) {
  // Threads need SharedArrayBuffer, which needs the COOP/COEP headers that
  // pocketvision's server sends; elsewhere onnxruntime-web runs on one thread.
  if (self.crossOriginIsolated && typeof SharedArrayBuffer === "function") { // WebKitGTK lacks it even then
    ort.env.wasm.numThreads = threads ?? Math.min(4, navigator.hardwareConcurrency || 1);
  }
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const contract = readContract(bytes);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"], graphOptimizationLevel: "all", ...options,
  });
  return { session, contract, canvas: document.createElement("canvas") };
}

// The contract JSON from the ONNX protobuf, found by walking top-level fields.
export function readContract(bytes) {
  const text = new TextDecoder();
  for (const field of fields(bytes, 0, bytes.length)) {
    if (field.number !== METADATA_PROPS_FIELD) continue;
    const entry = {};
    for (const inner of fields(bytes, field.start, field.end)) {
      entry[inner.number] = text.decode(bytes.subarray(inner.start, inner.end));
    }
    if (entry[1] === CONTRACT_KEY) return JSON.parse(entry[2]);
  }
  throw new Error(`no ${CONTRACT_KEY} in this ONNX file: not a pocketvision export`);
}

// Yields {number, start, end} for length-delimited fields; skips the rest.
function* fields(bytes, position, end) {
  const varint = () => {
    let value = 0, shift = 1;
    for (;;) {
      const byte = bytes[position++];
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
      shift *= 128;
    }
  };
  while (position < end) {
    const key = varint();
    const number = Math.floor(key / 8), wireType = key & 7;
    if (wireType === 0) varint();
    else if (wireType === 1) position += 8;
    else if (wireType === 5) position += 4;
    else if (wireType === 2) {
      const length = varint();
      yield { number, start: position, end: position + length };
      position += length;
    } else throw new Error(`unexpected protobuf wire type ${wireType}`);
  }
}

// Resize the shorter side to `resize`, centre-crop `crop` x `crop`, RGB / 255, NCHW
// (normalization is inside the exported graph).
export function toInput(model, source) {
  const { resize, crop } = model.contract.preprocessing;
  return new ort.Tensor("float32", frameInput(source, { resize, crop }, model.canvas), [1, 3, crop, crop]);
}

export async function classify(model, source) {
  const started = performance.now();
  const feeds = { [model.session.inputNames[0]]: toInput(model, source) };
  const prepared = performance.now();
  const output = await model.session.run(feeds);
  const probabilities = Array.from(output[model.contract.output.name].data);
  const best = probabilities.indexOf(Math.max(...probabilities));
  // models with unknown detection say how unlike the training images the frame is
  const novelty = model.contract.novelty ? output[model.contract.novelty.output].data[0] : null;
  const unknown = novelty !== null && novelty > model.contract.novelty.threshold;
  const done = performance.now();
  return { label: unknown ? UNKNOWN : model.contract.labels[best], probabilities, novelty,
           unknown, ms: done - started, prepareMs: prepared - started, runMs: done - prepared };
}
