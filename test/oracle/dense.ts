// Float64 oracles of the dense model ops (forward only; backward = numericVjp of these). Plain loops,
// row-major, sharing no code with runtime/kernels. Shapes are passed explicitly.

export function matmul(x: Float64Array, w: Float64Array, t: number, din: number, dout: number): Float64Array {
  const y = new Float64Array(t * dout);
  for (let i = 0; i < t; i++)
    for (let o = 0; o < dout; o++) {
      let s = 0;
      for (let c = 0; c < din; c++) s += x[i * din + c]! * w[c * dout + o]!;
      y[i * dout + o] = s;
    }
  return y;
}

const map = (a: Float64Array, f: (x: number, i: number) => number): Float64Array => a.map((x, i) => f(x, i));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function swiglu(g: Float64Array, u: Float64Array): Float64Array {
  return map(g, (x, i) => x * sigmoid(x) * u[i]!);
}

export function gelu(x: Float64Array): Float64Array {
  return map(x, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
}

export function rmsNorm(x: Float64Array, w: Float64Array, t: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(t * d);
  for (let i = 0; i < t; i++) {
    let ms = 0;
    for (let c = 0; c < d; c++) ms += x[i * d + c]! ** 2 / d;
    for (let c = 0; c < d; c++) y[i * d + c] = (x[i * d + c]! / Math.sqrt(ms + eps)) * w[c]!;
  }
  return y;
}

export function layerNorm(x: Float64Array, w: Float64Array, b: Float64Array, t: number, d: number, eps: number): Float64Array {
  const y = new Float64Array(t * d);
  for (let i = 0; i < t; i++) {
    let mu = 0;
    for (let c = 0; c < d; c++) mu += x[i * d + c]! / d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[i * d + c]! - mu) ** 2 / d;
    for (let c = 0; c < d; c++) y[i * d + c] = ((x[i * d + c]! - mu) / Math.sqrt(v + eps)) * w[c]! + b[c]!;
  }
  return y;
}

export function embedding(ids: Int32Array, w: Float64Array, d: number): Float64Array {
  const y = new Float64Array(ids.length * d);
  ids.forEach((id, i) => {
    for (let c = 0; c < d; c++) y[i * d + c] = w[id * d + c]!;
  });
  return y;
}

/** [B*C, n*d] -> [B*n, C, d]. */
export function heads(x: Float64Array, b: number, c: number, n: number, d: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let bi = 0; bi < b; bi++)
    for (let ci = 0; ci < c; ci++)
      for (let h = 0; h < n; h++)
        for (let k = 0; k < d; k++) y[((bi * n + h) * c + ci) * d + k] = x[(bi * c + ci) * n * d + h * d + k]!;
  return y;
}

/** [B*Hkv, C, d] -> [B*Hkv*groups, C, d], head i copies kv head floor(i / groups). */
export function repeatKv(x: Float64Array, bhkv: number, groups: number, cd: number): Float64Array {
  const y = new Float64Array(x.length * groups);
  for (let i = 0; i < bhkv * groups; i++)
    for (let k = 0; k < cd; k++) y[i * cd + k] = x[Math.floor(i / groups) * cd + k]!;
  return y;
}

/** Llama halves RoPE on [BH, C, d]; an odd last channel is left alone. */
export function rope(x: Float64Array, bh: number, pos: Int32Array, d: number, theta: number): Float64Array {
  const c = pos.length;
  const half = Math.floor(d / 2);
  const y = Float64Array.from(x);
  for (let h = 0; h < bh; h++)
    for (let t = 0; t < c; t++)
      for (let i = 0; i < half; i++) {
        const ang = pos[t]! / theta ** (i / half);
        const re = x[(h * c + t) * d + i]!;
        const im = x[(h * c + t) * d + i + half]!;
        // (re + i im) * e^{i ang}
        y[(h * c + t) * d + i] = re * Math.cos(ang) - im * Math.sin(ang);
        y[(h * c + t) * d + i + half] = re * Math.sin(ang) + im * Math.cos(ang);
      }
  return y;
}

export type Feature = "identity" | "elu1" | "relu" | "silu" | "square" | "taylor2";

/** Feature map on rows of width d (any number of rows). */
export function feature(kind: Feature, x: Float64Array, d: number): Float64Array {
  switch (kind) {
    case "identity":
      return Float64Array.from(x);
    case "elu1":
      return map(x, (v) => (v > 0 ? v + 1 : Math.exp(v)));
    case "relu":
      return map(x, (v) => Math.max(v, 0));
    case "silu":
      return map(x, (v) => v * sigmoid(v));
    case "square":
      return map(x, (v) => v * v);
    case "taylor2": {
      const rows = x.length / d;
      const w = 1 + d + d * d;
      const y = new Float64Array(rows * w);
      for (let r = 0; r < rows; r++) {
        y[r * w] = 1;
        for (let i = 0; i < d; i++) {
          y[r * w + 1 + i] = x[r * d + i]! / Math.pow(d, 0.25);
          for (let j = 0; j < d; j++) y[r * w + 1 + d + i * d + j] = (x[r * d + i]! * x[r * d + j]!) / Math.sqrt(2 * d);
        }
      }
      return y;
    }
  }
}

/** Causal depthwise conv, kernel kc, per batch row and segment, halo rows (b*S + s)*(kc-1) + j. */
export function causalConv(
  x: Float64Array,
  halo: Float64Array,
  w: Float64Array,
  b: number,
  segLens: readonly number[],
  kc: number,
  d: number,
): Float64Array {
  const c = segLens.reduce((s, l) => s + l, 0);
  const nseg = segLens.length;
  const y = new Float64Array(b * c * d);
  for (let bi = 0; bi < b; bi++) {
    let off = 0;
    segLens.forEach((len, s) => {
      for (let i = 0; i < len; i++)
        for (let ch = 0; ch < d; ch++) {
          let acc = 0;
          for (let j = 0; j < kc; j++) {
            const src = i - (kc - 1) + j; // offset inside the segment; negative = halo
            const v = src >= 0 ? x[(bi * c + off + src) * d + ch]! : halo[((bi * nseg + s) * (kc - 1) + (kc - 1 + src)) * d + ch]!;
            acc += w[j * d + ch]! * v;
          }
          y[(bi * c + off + i) * d + ch] = acc;
        }
      off += len;
    });
  }
  return y;
}

/** Sum over scored tokens (target >= 0) of -log softmax(logits)[target], divided by the normaliser. */
export function crossEntropy(logits: Float64Array, targets: Int32Array, v: number, normaliser: number): number {
  let loss = 0;
  targets.forEach((y, t) => {
    if (y < 0) return;
    let mx = -Infinity;
    for (let c = 0; c < v; c++) mx = Math.max(mx, logits[t * v + c]!);
    let s = 0;
    for (let c = 0; c < v; c++) s += Math.exp(logits[t * v + c]! - mx);
    loss -= logits[t * v + y]! - mx - Math.log(s);
  });
  return loss / normaliser;
}

export function accuracy(logits: Float64Array, targets: Int32Array, v: number): number {
  let hits = 0;
  targets.forEach((y, t) => {
    if (y < 0) return;
    let best = 0;
    for (let c = 1; c < v; c++) if (logits[t * v + c]! > logits[t * v + best]!) best = c;
    if (best === y) hits++;
  });
  return hits;
}

/** GLA log-gates logsigmoid(h W1 W2) / tau; h [T, D], w1 [D, r], w2 [r, G]. */
export function gateProj(h: Float64Array, w1: Float64Array, w2: Float64Array, t: number, d: number, r: number, g: number, tau: number): Float64Array {
  const a = matmul(h, w1, t, d, r);
  const z = matmul(a, w2, t, r, g);
  return z.map((v) => -Math.log1p(Math.exp(-v)) / tau);
}
