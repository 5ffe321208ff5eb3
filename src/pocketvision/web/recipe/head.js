// The linear head of pocketvision/model/head.py, fitted the same way on the page:
// multinomial logistic regression on standardized features (the std floor bounds how
// much a feature that barely varies is magnified), L2 penalty on the weights, fitted
// to its optimum by L-BFGS, then the standardization folded into the layer. The loss
// is convex, so any optimizer that converges reaches the CLI's optimum; minimize below
// is the CLI's too (model/lbfgs.py); tests/system/test_phone_recipe.py compares the heads.
//
// One shortcut, exact: the loss sees the weights only through the N pictures, and
// the penalty is smallest when the weights lie in the span of those N feature
// vectors, so the optimum does. Written in an orthonormal basis of that span, the
// same problem has N instead of F (1,280) unknowns per class, the same conditioning,
// and each step costs N/F of the work: a few hundred pictures train in milliseconds.

import { TRAINING_DEFAULTS } from "./shared.js";

// rows: N feature vectors (Float32Array each); targets: class index per row; start:
// a head to begin from (a nearby one converges in fewer steps; the optimum is the same).
// Returns {weight: Float32Array (C x F, row-major), bias: Float32Array (C)}.
export function fitLinearHead(rows, targets, numClasses,
  { weightDecay = TRAINING_DEFAULTS.weight_decay, maxIterations = TRAINING_DEFAULTS.max_iterations,
    stdFloor = TRAINING_DEFAULTS.std_floor } = {}, start = null) {
  const n = rows.length, f = rows[0].length, c = numClasses;
  const { mean, std } = standardization(rows, stdFloor);
  const x = new Float64Array(n * f); // standardized, row-major
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) x[i * f + j] = (rows[i][j] - mean[j]) / std[j];
  }
  const { basis, coordinates, rank } = spanOf(x, n, f);
  const loss = crossEntropy(coordinates, targets, n, rank, c, weightDecay);
  const begin = start ? inBasis(unfold(start, mean, std, f, c), basis, rank, f, c)
    : new Float64Array(c * (rank + 1));
  const theta = minimize(loss, begin, { maxIterations: 4 * maxIterations });
  return fold(fromBasis(theta, basis, rank, f, c), mean, std, f, c);
}

// An orthonormal basis (rank x F) of the rows' span (Gram-Schmidt, a second pass only
// where the first cancelled most of a row, dropping rows that add nothing new), and
// the rows' coordinates in it (N x rank).
function spanOf(x, n, f) {
  const basis = new Float64Array(n * f), coordinates = new Float64Array(n * n);
  let rank = 0;
  for (let i = 0; i < n; i++) {
    const v = basis.subarray(rank * f, (rank + 1) * f);
    v.set(x.subarray(i * f, (i + 1) * f));
    const norm = Math.sqrt(dot(v, v));
    let left = norm;
    for (let pass = 0; pass < 2 && left > 1e-9 * Math.max(norm, 1); pass++) {
      const before = left;
      for (let r = 0; r < rank; r++) axpy(v, basis.subarray(r * f, (r + 1) * f), -dot(v, basis.subarray(r * f, (r + 1) * f)));
      left = Math.sqrt(dot(v, v));
      if (left > 0.5 * before) break; // little cancelled: orthogonal enough
    }
    if (left > 1e-9 * Math.max(norm, 1)) {
      for (let j = 0; j < f; j++) v[j] /= left;
      rank += 1;
    }
  }
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * f, (i + 1) * f);
    for (let r = 0; r < rank; r++) coordinates[i * rank + r] = dot(row, basis.subarray(r * f, (r + 1) * f));
  }
  return { basis: basis.subarray(0, rank * f), coordinates: coordinates.subarray(0, n * rank), rank };
}

// [W (C x F) | b] -> [W in the basis (C x rank) | b], and back.
function inBasis(theta, basis, rank, f, c) {
  const out = new Float64Array(c * (rank + 1));
  for (let k = 0; k < c; k++) {
    for (let r = 0; r < rank; r++) out[k * rank + r] = dot(theta.subarray(k * f, (k + 1) * f), basis.subarray(r * f, (r + 1) * f));
    out[c * rank + k] = theta[c * f + k];
  }
  return out;
}

function fromBasis(theta, basis, rank, f, c) {
  const out = new Float64Array(c * (f + 1));
  for (let k = 0; k < c; k++) {
    const w = out.subarray(k * f, (k + 1) * f);
    for (let r = 0; r < rank; r++) axpy(w, basis.subarray(r * f, (r + 1) * f), theta[k * rank + r]);
    out[c * f + k] = theta[c * rank + k];
  }
  return out;
}

// Per-feature mean and std (population), the std at least stdFloor x the median std.
function standardization(rows, stdFloor) {
  const n = rows.length, f = rows[0].length;
  const mean = new Float64Array(f), std = new Float64Array(f);
  for (const row of rows) for (let j = 0; j < f; j++) mean[j] += row[j];
  for (let j = 0; j < f; j++) mean[j] /= n;
  for (const row of rows) for (let j = 0; j < f; j++) std[j] += (row[j] - mean[j]) ** 2;
  for (let j = 0; j < f; j++) std[j] = Math.sqrt(std[j] / n);
  const floor = Math.max(1e-6, stdFloor * median(std));
  for (let j = 0; j < f; j++) std[j] = Math.max(std[j], floor);
  return { mean, std };
}

export function median(values) {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// theta = [W (C x F) | b (C)] -> [mean cross-entropy + wd/2 |W|^2, its gradient].
function crossEntropy(x, targets, n, f, c, weightDecay) {
  const logits = new Float64Array(c);
  return (theta) => {
    const gradient = new Float64Array(theta.length);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const row = i * f;
      let top = -Infinity;
      for (let k = 0; k < c; k++) {
        let z = theta[c * f + k];
        const w = k * f;
        for (let j = 0; j < f; j++) z += x[row + j] * theta[w + j];
        logits[k] = z;
        if (z > top) top = z;
      }
      let sum = 0;
      for (let k = 0; k < c; k++) sum += Math.exp(logits[k] - top);
      const logSum = Math.log(sum) + top;
      total -= logits[targets[i]] - logSum;
      for (let k = 0; k < c; k++) {
        const error = (Math.exp(logits[k] - logSum) - (k === targets[i] ? 1 : 0)) / n;
        gradient[c * f + k] += error;
        const w = k * f;
        for (let j = 0; j < f; j++) gradient[w + j] += error * x[row + j];
      }
    }
    let penalty = 0;
    for (let j = 0; j < c * f; j++) {
      penalty += theta[j] * theta[j];
      gradient[j] += weightDecay * theta[j];
    }
    return [total / n + 0.5 * weightDecay * penalty, gradient];
  };
}

// W((x - m) / s) + b == (W / s) x + (b - (W / s) m)
function fold(theta, mean, std, f, c) {
  const weight = new Float32Array(c * f), bias = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    let shift = 0;
    for (let j = 0; j < f; j++) {
      const w = theta[k * f + j] / std[j];
      weight[k * f + j] = w;
      shift += w * mean[j];
    }
    bias[k] = theta[c * f + k] - shift;
  }
  return { weight, bias };
}

// fold's inverse: the same layer written on features standardized by (mean, std).
function unfold(head, mean, std, f, c) {
  const theta = new Float64Array(c * (f + 1));
  for (let k = 0; k < c; k++) {
    let shift = 0;
    for (let j = 0; j < f; j++) {
      theta[k * f + j] = head.weight[k * f + j] * std[j];
      shift += head.weight[k * f + j] * mean[j];
    }
    theta[c * f + k] = head.bias[k] + shift;
  }
  return theta;
}

// L-BFGS (two-loop recursion, 30 pairs) with a backtracking Armijo line search, as
// model/lbfgs.py; stops as SciPy's L-BFGS-B would be told to (largest gradient entry <= 1e-9, or the
// loss falling by less than 1e-12 relative to its size).
export function minimize(lossAndGradient, start, { maxIterations = 800, memory = 30,
  gtol = 1e-9, ftol = 1e-12 } = {}) {
  let x = Float64Array.from(start);
  let [value, gradient] = lossAndGradient(x);
  const pairs = [];
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (maxAbs(gradient) <= gtol) break;
    let direction = searchDirection(gradient, pairs);
    let slope = dot(gradient, direction);
    if (!(slope < 0)) { pairs.length = 0; direction = scaled(gradient, -1); slope = dot(gradient, direction); }
    let step = pairs.length ? 1 : 1 / Math.max(1, Math.sqrt(dot(gradient, gradient)));
    let next, nextValue, nextGradient;
    for (let tries = 0; tries < 40; tries++, step /= 2) {
      next = added(x, direction, step);
      [nextValue, nextGradient] = lossAndGradient(next);
      if (nextValue <= value + 1e-4 * step * slope) break;
    }
    const s = subtracted(next, x), y = subtracted(nextGradient, gradient), sy = dot(s, y);
    if (sy > 1e-12) {
      pairs.push({ s, y, rho: 1 / sy });
      if (pairs.length > memory) pairs.shift();
    }
    const falling = (value - nextValue) / Math.max(Math.abs(value), Math.abs(nextValue), 1);
    x = next; value = nextValue; gradient = nextGradient;
    if (falling <= ftol) break;
  }
  return x;
}

function searchDirection(gradient, pairs) {
  const q = Float64Array.from(gradient), alphas = [];
  for (let i = pairs.length - 1; i >= 0; i--) {
    const alpha = pairs[i].rho * dot(pairs[i].s, q);
    alphas[i] = alpha;
    axpy(q, pairs[i].y, -alpha);
  }
  if (pairs.length) {
    const last = pairs[pairs.length - 1];
    const gamma = dot(last.s, last.y) / dot(last.y, last.y);
    for (let j = 0; j < q.length; j++) q[j] *= gamma;
  }
  for (let i = 0; i < pairs.length; i++) {
    const beta = pairs[i].rho * dot(pairs[i].y, q);
    axpy(q, pairs[i].s, alphas[i] - beta);
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j];
  return q;
}

function dot(a, b) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; }
function maxAbs(a) { let m = 0; for (const v of a) m = Math.max(m, Math.abs(v)); return m; }
function axpy(y, x, a) { for (let i = 0; i < y.length; i++) y[i] += a * x[i]; }
function scaled(a, k) { return a.map((v) => v * k); }
function added(a, d, t) { const out = new Float64Array(a.length); for (let i = 0; i < a.length; i++) out[i] = a[i] + t * d[i]; return out; }
function subtracted(a, b) { const out = new Float64Array(a.length); for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i]; return out; }

// Probabilities (C) of one feature vector under a head.
export function probabilities(head, features) {
  const c = head.bias.length, f = features.length, logits = new Float64Array(c);
  let top = -Infinity;
  for (let k = 0; k < c; k++) {
    let z = head.bias[k];
    for (let j = 0; j < f; j++) z += head.weight[k * f + j] * features[j];
    logits[k] = z;
    top = Math.max(top, z);
  }
  let sum = 0;
  for (let k = 0; k < c; k++) { logits[k] = Math.exp(logits[k] - top); sum += logits[k]; }
  return Array.from(logits, (v) => v / sum);
}
