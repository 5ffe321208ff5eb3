// The .pvb bundle file on the page: the same safetensors file with the same JSON
// header as pocketvision/model/bundle.py and bundle_meta.py, written and read here,
// so a model trained on a phone works with `pocketvision predict` and `export`, and
// one trained on a laptop plays on the phone.
//
// A bundle trained on the page names its backbone instead of carrying it: no
// backbone.body.* tensors, and backbone.weights_hash says which pretrained weights
// the head was fitted on (the CLI finds them on its machine and checks the hash).

import { classNameProblem } from "./class-names.js";
import { BANK, BODY_PREFIX, FORMAT, FORMAT_VERSION, HEAD_AND_NOVELTY, HEADER_KEY, MAX_BANK, MAX_HEADER_DEPTH,
  MAX_SIDE } from "./shared.js";
import { byCodePoint } from "./split.js";

const DTYPE_BYTES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export class BundleError extends Error {}

// tensors: {name: {dtype: "F32", shape: [...], data: Float32Array}}, meta: the header
// document (BundleMeta.to_json). Returns the file's bytes.
export function writeBundle(tensors, meta) {
  const names = Object.keys(tensors).sort(byCodePoint);
  const header = { __metadata__: { [HEADER_KEY]: JSON.stringify(meta) } };
  let offset = 0;
  for (const name of names) {
    const bytes = tensorBytes(tensors[name]);
    header[name] = { dtype: tensors[name].dtype, shape: tensors[name].shape,
      data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // safetensors pads its header to 8 bytes
  const file = new Uint8Array(8 + padded + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(padded), true);
  file.fill(0x20, 8, 8 + padded);
  file.set(json, 8);
  let at = 8 + padded;
  for (const name of names) {
    const bytes = tensorBytes(tensors[name]);
    file.set(bytes, at);
    at += bytes.length;
  }
  return file;
}

function tensorBytes(tensor) {
  const data = tensor.data;
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// The file's header document and tensors (raw bytes; Float32Array for F32), checked
// as bundle.py checks them. Throws BundleError with a sentence a person can act on.
export function readBundle(buffer) {
  const bytes = new Uint8Array(buffer);
  const { header, start } = safetensorsHeader(bytes);
  const document = headerDocument(header);
  const tensors = Object.create(null); // tensor names are the file's text ("__proto__" too)
  for (const [name, entry] of tensorEntries(header, bytes.length - start)) {
    const [begin, end] = entry.data_offsets;
    const raw = bytes.slice(start + begin, start + end);
    tensors[name] = { dtype: entry.dtype, shape: entry.shape, raw,
      data: entry.dtype === "F32" ? new Float32Array(raw.buffer) : raw };
  }
  return { meta: checkedMeta(document), tensors };
}

// The header's tensor entries, checked as the safetensors library checks them: a
// known dtype, a shape of whole numbers, and offsets that tile the data exactly (no
// overlap, no gap), each tensor's bytes matching its shape.
function tensorEntries(header, dataLength) {
  const entries = Object.entries(header).filter(([name]) => name !== "__metadata__");
  const damagedTensor = (name) => new BundleError(`tensor ${name} is damaged in this file; download the model again`);
  for (const [name, entry] of entries) {
    if (!HEAD_AND_NOVELTY.includes(name) && !name.startsWith(BODY_PREFIX)) {
      throw new BundleError(`this file has a tensor no model has (${name.slice(0, 60)}); download the model again`);
    }
    const offsets = entry?.data_offsets;
    if (!(entry?.dtype in DTYPE_BYTES) || !Array.isArray(entry.shape) || !entry.shape.every(isCount) ||
        !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[1] < offsets[0]) {
      throw damagedTensor(name);
    }
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (offsets[1] - offsets[0] !== count * DTYPE_BYTES[entry.dtype]) {
      throw new BundleError(`tensor ${name} has the wrong size; download the model again`);
    }
  }
  entries.sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  let end = 0;
  for (const [name, entry] of entries) {
    if (entry.data_offsets[0] !== end) throw damagedTensor(name);
    end = entry.data_offsets[1];
  }
  if (end !== dataLength) throw new BundleError("this file is damaged (cut short, or bytes added); download the model again");
  return entries;
}

// bundle_meta.ImageRecord: exactly three texts.
const isImageRecord = (r) => r !== null && typeof r === "object" && !Array.isArray(r) &&
  Object.keys(r).sort().join() === "label,path,sha256" && ["path", "label", "sha256"].every((k) => typeof r[k] === "string");

const isCount = (n) => Number.isSafeInteger(n) && n >= 0;

function safetensorsHeader(bytes) {
  const fail = () => new BundleError("this file is not a pocketvision model (not a safetensors " +
    "file); choose a .pvb file made by pocketvision");
  if (bytes.length < 8) throw fail();
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (length < 2 || 8 + length > bytes.length) throw fail();
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))), start: 8 + length };
  } catch {
    throw fail();
  }
}

function headerDocument(header) {
  const text = header?.__metadata__?.[HEADER_KEY];
  if (typeof text !== "string") {
    throw new BundleError("this safetensors file is not a pocketvision model (no pocketvision header)");
  }
  let document;
  try {
    document = JSON.parse(text);
  } catch {
    throw new BundleError("this model's header is damaged (not JSON); train it again");
  }
  if (nestingDepth(document) > MAX_HEADER_DEPTH) throw damaged(`nested more than ${MAX_HEADER_DEPTH} deep`);
  return document;
}

// bundle.nesting_depth: how deep arrays and objects nest (without recursion).
function nestingDepth(document) {
  let deepest = 0;
  const stack = [[document, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop();
    if (value === null || typeof value !== "object") continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

// BundleMeta.from_json's checks, with the same meaning.
export function checkedMeta(d) {
  if (!d || typeof d !== "object" || d.format !== FORMAT) {
    throw new BundleError(`this file is not a pocketvision model (format ${JSON.stringify(d?.format ?? null)})`);
  }
  if (!Number.isInteger(d.format_version)) throw damaged(`format_version ${d.format_version}`);
  if (d.format_version > FORMAT_VERSION) {
    throw new BundleError(`this model is bundle format version ${d.format_version}, newer than ` +
      `this page reads (${FORMAT_VERSION}); update the web app`);
  }
  const labels = d.labels;
  if (!Array.isArray(labels) || !labels.length || !labels.every((l) => typeof l === "string" && l)) {
    throw damaged("labels are not a list of class names");
  }
  if (new Set(labels).size !== labels.length) throw damaged("labels repeat a class name");
  for (const label of labels) { // a label is a class name: no newline, escape or 10,000 characters
    const problem = classNameProblem(label);
    if (problem) throw damaged(problem.replace("class name", "label"));
  }
  checkPreprocessing(d.preprocessing);
  for (const key of ["validation_images", "training_images"]) {
    if (d[key] != null && !(Array.isArray(d[key]) && d[key].every(isImageRecord))) {
      throw damaged(`${key} are not a list of {path, label, sha256}`);
    }
  }
  if (!d.backbone || typeof d.backbone.name !== "string") throw damaged("backbone has no name");
  const dim = d.backbone.feature_dim;
  if (dim != null && !(Number.isInteger(dim) && dim >= 1)) {
    throw damaged(`backbone feature_dim ${JSON.stringify(dim).slice(0, 20)} is not a positive whole number`);
  }
  if (d.novelty != null && !["scale", "threshold"].every((k) => Number.isFinite(d.novelty[k]) && d.novelty[k] > 0)) {
    throw damaged("novelty has no positive scale and threshold");
  }
  return d;
}

function checkPreprocessing(p) {
  if (!p || typeof p !== "object") throw damaged("no preprocessing");
  for (const side of ["resize", "crop"]) {
    if (!Number.isInteger(p[side]) || p[side] < 1 || p[side] > MAX_SIDE) {
      throw damaged(`preprocessing ${side} ${p[side]} is not a whole number of pixels from 1 to ${MAX_SIDE}`);
    }
  }
  if (p.crop > p.resize) throw damaged(`preprocessing crop ${p.crop} is larger than resize ${p.resize}`);
  for (const key of ["mean", "std"]) {
    if (!Array.isArray(p[key]) || p[key].length !== 3 || !p[key].every(Number.isFinite)) {
      throw damaged(`preprocessing ${key} is not 3 finite numbers`);
    }
  }
  if (Math.min(...p.std) <= 0) throw damaged("preprocessing std must be positive");
  if ((p.interpolation ?? "bilinear") !== "bilinear" || (p.channel_order ?? "RGB") !== "RGB") {
    throw damaged(`preprocessing ${p.interpolation}/${p.channel_order} is not supported (bilinear/RGB)`);
  }
}

function damaged(what) {
  return new BundleError(`this model's header is damaged (${what}); train it again`);
}

// The head and unknown detection the page runs, checked against the labels and the
// feature size; `backbone`: the site's backbone.json, which the model must be made on.
export async function playableModel({ meta, tensors }, backbone) {
  await checkBackbone(meta, tensors, backbone);
  const classes = meta.labels.length, features = backbone.feature_dim;
  const weight = tensors["head.weight"], bias = tensors["head.bias"];
  if (!weight || !bias || weight.dtype !== "F32" || bias.dtype !== "F32" ||
      weight.shape.join() !== [classes, features].join() || bias.shape.join() !== [classes].join()) {
    throw new BundleError(`its head does not match ${classes} classes of ${features} features; train it again`);
  }
  if (!weight.data.every(Number.isFinite) || !bias.data.every(Number.isFinite)) {
    throw new BundleError("its head holds NaN or infinite numbers, so the file is damaged; train it again");
  }
  let novelty = null;
  if (meta.novelty) {
    const bank = tensors[BANK];
    if (!bank || bank.dtype !== "F32" || bank.shape.length !== 2 || bank.shape[1] !== features ||
        bank.shape[0] < 1 || bank.shape[0] > MAX_BANK) {
      throw new BundleError("its unknown-detection data is damaged; train it again");
    }
    const rows = Array.from({ length: bank.shape[0] }, (_, i) => bank.data.subarray(i * features, (i + 1) * features));
    if (!rows.every(isUnitVector)) { // novelty.py's check: unit rows, as fitted
      throw new BundleError("its unknown-detection data is damaged (its training features are not " +
        "unit vectors); train it again");
    }
    novelty = { bank: rows, scale: meta.novelty.scale, threshold: meta.novelty.threshold };
  }
  return { labels: meta.labels, preprocessing: meta.preprocessing,
    head: { weight: weight.data, bias: bias.data }, novelty, meta };
}

function isUnitVector(row) {
  let squares = 0;
  for (const x of row) squares += x * x;
  return Math.abs(Math.sqrt(squares) - 1) <= 1e-3; // NaN fails too
}

// A bundle plays here only on the backbone this site runs: the same network, and the
// same weights (hashed from its own backbone tensors, or named by a bundle without them).
async function checkBackbone(meta, tensors, backbone) {
  if (meta.backbone.name !== backbone.name) {
    throw new BundleError(`it was trained on ${meta.backbone.name}; this web app runs ` +
      `${backbone.name} (make one for it: pocketvision web DIR --backbone ${meta.backbone.name})`);
  }
  const body = Object.keys(tensors).filter((n) => n.startsWith(BODY_PREFIX));
  const hash = body.length ? await weightsHash(tensors, body) : meta.backbone.weights_hash;
  if (hash !== backbone.weights_hash) {
    throw new BundleError(`its ${backbone.name} weights are not the ones this web app holds ` +
      "(fine-tuned, or another version); make a web app for it with " +
      "pocketvision export MODEL.pvb --format web");
  }
}

// cache.weights_hash: SHA-256 over the backbone tensors in key order, each name then bytes.
async function weightsHash(tensors, names) {
  const keys = names.map((n) => n.slice(BODY_PREFIX.length)).sort(byCodePoint);
  const encoder = new TextEncoder(), parts = [];
  for (const key of keys) parts.push(encoder.encode(key), tensors[BODY_PREFIX + key].raw);
  const total = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { total.set(part, at); at += part.length; }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", total));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
