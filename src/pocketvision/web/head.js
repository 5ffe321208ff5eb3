// The linear head of pocketvision/model/head.py, fitted the same way on the page:
// multinomial logistic regression on standardized features (the std floor bounds how
// much a feature that barely varies is magnified), L2 penalty on the weights, fitted
// to its optimum by L-BFGS, then the standardization folded into the layer. The loss
// is convex, so any optimizer that converges reaches the CLI's optimum (SciPy's
// L-BFGS-B there); tests/test_phone_recipe.py compares the two heads' probabilities.

// rows: N feature vectors (Float32Array each); targets: class index per row.
// Returns {weight: Float32Array (C x F, row-major), bias: Float32Array (C)}.
export function fitLinearHead(rows, targets, numClasses,
  { weightDecay = 0.05, maxIterations = 200, stdFloor = 1.0 } = {}) {
  const n = rows.length, f = rows[0].length, c = numClasses;
  const { mean, std } = standardization(rows, stdFloor);
  const x = new Float64Array(n * f); // standardized, row-major
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f; j++) x[i * f + j] = (rows[i][j] - mean[j]) / std[j];
  }
  const loss = crossEntropy(x, targets, n, f, c, weightDecay);
  const theta = minimize(loss, new Float64Array(c * (f + 1)), { maxIterations: 4 * maxIterations });
  return fold(theta, mean, std, f, c);
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

// L-BFGS (two-loop recursion, 30 pairs) with a backtracking Armijo line search;
// stops as SciPy's L-BFGS-B is told to (largest gradient entry <= 1e-9, or the
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
