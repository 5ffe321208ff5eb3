// The validation split of pocketvision/data/grouping.py and data/dataset.py, ported
// once: the same groups (capture bursts by file name, other pictures by
// near-duplicate hash) and the same choice of validation groups, with Python's own
// random numbers (MT19937 seeded as random.Random(seed), shuffled as random.shuffle),
// so a project gives the same split on the phone and under `pocketvision train`.
// tests/system/test_phone_recipe.py checks both on the same pictures.

import { NEAR_DUPLICATE_BITS, SESSION_NAME } from "./shared.js";

// Python's str ordering (by code point; JavaScript's default sort is by UTF-16 unit).
export function byCodePoint(a, b) {
  const x = Array.from(a), y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

export function sessionOf(fileName) {
  const stem = fileName.includes(".") ? fileName.slice(0, fileName.lastIndexOf(".")) : fileName;
  const match = SESSION_NAME.exec(stem);
  return match ? match[1] : null;
}

// samples: [{name, label, sha256, dhash (Uint8Array of 32)}] -> the same with `group`.
export function assignGroups(samples) {
  const grouped = [];
  for (const label of [...new Set(samples.map((s) => s.label))].sort(byCodePoint)) {
    const members = samples.filter((s) => s.label === label);
    const named = members.filter((s) => sessionOf(s.name));
    const unnamed = members.filter((s) => !sessionOf(s.name));
    grouped.push(...named.map((s) => ({ ...s, group: `session:${sessionOf(s.name)}` })));
    grouped.push(...groupNearDuplicates(unnamed));
  }
  return grouped;
}

function hammingDistance(a, b) {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i] ^ b[i];
    while (x) { bits += x & 1; x >>= 1; }
  }
  return bits;
}

// Union-find over pairs (i < j, in order) whose hashes are within NEAR_DUPLICATE_BITS.
function groupNearDuplicates(samples) {
  const parent = samples.map((_, i) => i);
  const root = (i) => {
    while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; }
    return i;
  };
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      if (hammingDistance(samples[i].dhash, samples[j].dhash) <= NEAR_DUPLICATE_BITS) {
        parent[root(j)] = root(i);
      }
    }
  }
  return samples.map((s, i) => ({ ...s, group: `image:${samples[root(i)].sha256.slice(0, 16)}` }));
}

// Per class, whole groups to validation until about `valFraction` is there (dataset.py).
export function splitByGroup(samples, valFraction, seed) {
  const rng = new PythonRandom(seed);
  const train = [], val = [];
  for (const label of [...new Set(samples.map((s) => s.label))].sort(byCodePoint)) {
    const members = samples.filter((s) => s.label === label);
    const valGroups = pickValGroups(members, valFraction, rng);
    for (const sample of members) (valGroups.has(sample.group) ? val : train).push(sample);
  }
  return { train, val };
}

function pickValGroups(members, valFraction, rng) {
  const sizes = new Map();
  for (const s of members) sizes.set(s.group, (sizes.get(s.group) || 0) + 1);
  const groups = [...sizes.keys()].sort(byCodePoint);
  rng.shuffle(groups);
  const target = valFraction * members.length;
  const chosen = new Set();
  let taken = 0;
  for (const group of groups) {
    if (taken + sizes.get(group) / 2 <= target && chosen.size < groups.length - 1) {
      chosen.add(group);
      taken += sizes.get(group);
    }
  }
  if (!chosen.size && target > 0 && groups.length > 1) {
    const smallest = groups.reduce((a, b) => (sizes.get(b) < sizes.get(a) ? b : a));
    if (sizes.get(smallest) <= members.length / 2) chosen.add(smallest);
  }
  return chosen;
}

// ---- Python's random module: MT19937, seeded and drawn exactly as CPython does ----
export class PythonRandom {
  constructor(seed) {
    this.mt = new Uint32Array(624);
    this.index = 624;
    this.seedWithKey(integerKey(seed));
  }

  seedWithKey(key) { // init_by_array
    const mt = this.mt;
    mt[0] = 19650218;
    for (let i = 1; i < 624; i++) {
      mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
    }
    let i = 1, j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1664525)) + key[j] + j;
      i++; j++;
      if (i >= 624) { mt[0] = mt[623]; i = 1; }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      mt[i] = (mt[i] ^ Math.imul(mt[i - 1] ^ (mt[i - 1] >>> 30), 1566083941)) - i;
      i++;
      if (i >= 624) { mt[0] = mt[623]; i = 1; }
    }
    mt[0] = 0x80000000;
  }

  uint32() {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  below(n) { // _randbelow_with_getrandbits, for n < 2**32
    const bits = 32 - Math.clz32(n);
    let r = this.uint32() >>> (32 - bits);
    while (r >= n) r = this.uint32() >>> (32 - bits);
    return r;
  }

  shuffle(items) { // random.shuffle
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
  }
}

// random.seed(n) for a non-negative int: its 32-bit words, least significant first.
function integerKey(seed) {
  const key = [];
  let n = BigInt(seed);
  do { key.push(Number(n & 0xffffffffn)); n >>= 32n; } while (n > 0n);
  return key;
}
