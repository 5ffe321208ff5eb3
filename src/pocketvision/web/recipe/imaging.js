// The preprocessing spec of pocketvision/data/preprocessing.py for stored pictures,
// ported once, pixel for pixel: Pillow's antialiased bilinear resize (the same
// fixed-point coefficients and rounding), the centre crop with Python's rounding,
// /255 then (x - mean) / std in float32, NCHW. And the difference hash of
// data/grouping.py (Pillow's luma, the same resize to 17 x 16). Works on decoded
// pixels ({width, height, data: RGBA bytes}), so it runs in a worker as on a page.

import { HASH_SIDE } from "./shared.js";

const PRECISION_BITS = 32 - 8 - 2; // Pillow's Resample.c

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear (triangle) filter.
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = 1.0 * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * kernelSize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let total = 0;
    const row = xx * kernelSize, ss = 1.0 / filterScale;
    for (let x = 0; x < xmax; x++) {
      const distance = Math.abs((x + xmin - center + 0.5) * ss);
      const w = distance < 1 ? 1 - distance : 0;
      weights[row + x] = w;
      total += w;
    }
    for (let x = 0; x < xmax; x++) if (total !== 0) weights[row + x] /= total;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const fixed = new Float64Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] * (1 << PRECISION_BITS);
    fixed[i] = w < 0 ? Math.trunc(-0.5 + w) : Math.trunc(0.5 + w);
  }
  return { bounds, fixed, kernelSize };
}

function clip8(sum) {
  const value = Math.floor(sum / (1 << PRECISION_BITS));
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

// Resize `channels`-channel pixels (Uint8 planes interleaved) as Pillow's
// Image.resize(size, BILINEAR, reducing_gap=None): horizontal pass, then vertical.
export function resize(image, width, height, channels = 4) {
  let current = image;
  if (width !== image.width) {
    const { bounds, fixed, kernelSize } = coefficients(image.width, width);
    const out = new Uint8ClampedArray(width * image.height * channels);
    for (let y = 0; y < image.height; y++) {
      for (let xx = 0; xx < width; xx++) {
        const xmin = bounds[xx * 2], xmax = bounds[xx * 2 + 1], row = xx * kernelSize;
        for (let c = 0; c < channels; c++) {
          let sum = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < xmax; x++) {
            sum += current.data[((y * image.width) + x + xmin) * channels + c] * fixed[row + x];
          }
          out[(y * width + xx) * channels + c] = clip8(sum);
        }
      }
    }
    current = { width, height: image.height, data: out };
  }
  if (height !== image.height) {
    const { bounds, fixed, kernelSize } = coefficients(image.height, height);
    const out = new Uint8ClampedArray(width * height * channels);
    for (let yy = 0; yy < height; yy++) {
      const ymin = bounds[yy * 2], ymax = bounds[yy * 2 + 1], row = yy * kernelSize;
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          let sum = 1 << (PRECISION_BITS - 1);
          for (let y = 0; y < ymax; y++) {
            sum += current.data[((y + ymin) * width + x) * channels + c] * fixed[row + y];
          }
          out[(yy * width + x) * channels + c] = clip8(sum);
        }
      }
    }
    current = { width, height, data: out };
  }
  return current;
}

// Python's round(): halves go to the even neighbour.
function roundHalfEven(x) {
  const floor = Math.floor(x), rest = x - floor;
  if (rest !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

// Steps 2-3 of the spec: shorter side to `resize`, then a centre crop of `crop`.
export function resizeAndCrop(image, { resize: side, crop }) {
  const short = Math.min(image.width, image.height), long = Math.max(image.width, image.height);
  const newLong = Math.trunc(side * long / short);
  const [width, height] = image.width <= image.height ? [side, newLong] : [newLong, side];
  const sized = width === image.width && height === image.height ? image : resize(image, width, height);
  const left = roundHalfEven((sized.width - crop) / 2), top = roundHalfEven((sized.height - crop) / 2);
  return { sized, left, top, crop };
}

// Steps 2-5: float32 (3, crop, crop), normalized, RGB planes.
export function toInput(image, spec) {
  const { sized, left, top, crop } = resizeAndCrop(image, spec);
  const plane = crop * crop, input = new Float32Array(3 * plane);
  const f = Math.fround;
  const mean = spec.mean.map(f), std = spec.std.map(f);
  for (let y = 0; y < crop; y++) {
    for (let x = 0; x < crop; x++) {
      const source = ((y + top) * sized.width + (x + left)) * 4, target = y * crop + x;
      for (let c = 0; c < 3; c++) {
        input[c * plane + target] = f(f(f(sized.data[source + c] / 255) - mean[c]) / std[c]);
      }
    }
  }
  return input;
}

// 256-bit difference hash: is each pixel of a 17 x 16 gray thumbnail brighter than
// its right neighbour (Pillow's convert("L") then resize((17, 16), BILINEAR)).
export function differenceHash(image) {
  const pixels = image.width * image.height, gray = new Uint8ClampedArray(pixels);
  for (let i = 0; i < pixels; i++) {
    const r = image.data[4 * i], g = image.data[4 * i + 1], b = image.data[4 * i + 2];
    gray[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
  }
  const small = resize({ width: image.width, height: image.height, data: gray }, HASH_SIDE + 1,
    HASH_SIDE, 1);
  const bits = new Uint8Array(HASH_SIDE * HASH_SIDE / 8);
  for (let y = 0; y < HASH_SIDE; y++) {
    for (let x = 0; x < HASH_SIDE; x++) {
      const k = y * HASH_SIDE + x;
      if (small.data[y * (HASH_SIDE + 1) + x + 1] > small.data[y * (HASH_SIDE + 1) + x]) {
        bits[k >> 3] |= 0x80 >> (k & 7);
      }
    }
  }
  return bits;
}

// An image file decoded upright per EXIF. An engine that does not know the option's
// value "from-image" (older WebKit and Firefox) throws a TypeError on it: those
// engines turn pictures upright by default, so the image is decoded without it.
export async function uprightBitmap(blob, options = {}) {
  try {
    return await createImageBitmap(blob, { ...options, imageOrientation: "from-image" });
  } catch (error) {
    if (error?.name !== "TypeError") throw error;
    return createImageBitmap(blob, options);
  }
}

// Decoded RGBA pixels of an image file (a Blob), exactly as stored: no colour
// conversion, no premultiplied alpha, upright per EXIF. One canvas serves every
// picture (a canvas per picture kept hundreds of backing stores alive until GC).
let decoder = null;
export async function decode(blob) {
  const bitmap = await uprightBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const { width, height } = bitmap;
  decoder ??= new OffscreenCanvas(1, 1);
  decoder.width = width;
  decoder.height = height;
  const context = decoder.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { width, height, data: context.getImageData(0, 0, width, height).data };
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Live frames (a video, an ImageBitmap): shorter side to `resize`, centre crop, drawn
// by the canvas, which is fast but not pixel-exact (stored pictures go through
// toInput). Returns float32 (3, crop, crop): /255, then (x - mean) / std when given.
export function frameInput(source, { resize, crop, mean = [0, 0, 0], std = [1, 1, 1] }, canvas) {
  const width = source.videoWidth || source.naturalWidth || source.width;
  const height = source.videoHeight || source.naturalHeight || source.height;
  const scale = resize / Math.min(width, height);
  canvas.width = canvas.height = crop;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingQuality = "high";
  const drawnWidth = width * scale, drawnHeight = height * scale;
  context.drawImage(source, (crop - drawnWidth) / 2, (crop - drawnHeight) / 2, drawnWidth, drawnHeight);
  const rgba = context.getImageData(0, 0, crop, crop).data;
  const plane = crop * crop, input = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const offset = c * plane, m = mean[c], s = std[c];
    for (let i = 0; i < plane; i++) input[offset + i] = (rgba[4 * i + c] / 255 - m) / s;
  }
  return input;
}
