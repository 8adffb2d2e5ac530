// Attention kernels on the webgpu backend, one rank: linear attention (plain, decay, gated, two
// segments, bidirectional) and softmax attention (causal, GQA), forward and backward, against the
// float64 oracles of test/oracle; then linear-attention forward+backward tokens/s at long N.
import * as tf from "@tensorflow/tfjs-core";
import * as la from "../../runtime/kernels/linear-attention.ts";
import { saBackward, saForward } from "../../runtime/kernels/softmax-attention.ts";
import { oracleBackward, oracleForward, type OracleInput } from "../../test/oracle/linear-attention.ts";
import { naiveSaBackward, naiveSaForward, type NaiveSaShape } from "../../test/oracle/softmax-attention.ts";
import { f64, maxRelErr, median, randomF32, record, secondsLeft, sync } from "./common.ts";

const TOL = 1e-4;

type Variant = "none" | "decay" | "gated" | "2 segments" | "bidirectional";

function laCase(variant: Variant, seed: number): { x: OracleInput; dO: Float64Array; segLens: number[] } {
  const bh = 3;
  const n = 67;
  const dk = 16;
  const dv = 24;
  const g =
    variant === "gated"
      ? f64(Float32Array.from(randomF32(bh * n * dk, seed + 3), (u) => -Math.log1p(Math.exp(-(3 * u + 0.5)))))
      : null;
  const lambdas = variant === "decay" ? f64(Float32Array.from([0.9, 0.6, 1])) : null;
  const x: OracleInput = {
    bh,
    n,
    dk,
    dv,
    q: f64(randomF32(bh * n * dk, seed)),
    k: f64(randomF32(bh * n * dk, seed + 1)),
    v: f64(randomF32(bh * n * dv, seed + 2)),
    g,
    lambdas,
    causal: variant !== "bidirectional",
  };
  return { x, dO: f64(randomF32(bh * n * dv, seed + 4)), segLens: variant === "2 segments" ? [40, 27] : [n] };
}

const t3 = (a: Float64Array, s: number[]): tf.Tensor3D => tf.tensor3d(Float32Array.from(a), s as [number, number, number]);

export async function linearCorrectness(): Promise<void> {
  const variants: Variant[] = ["none", "decay", "gated", "2 segments", "bidirectional"];
  for (const [i, variant] of variants.entries()) {
    const { x, dO, segLens } = laCase(variant, 100 + 10 * i);
    const q = t3(x.q, [x.bh, x.n, x.dk]);
    const k = t3(x.k, [x.bh, x.n, x.dk]);
    const v = t3(x.v, [x.bh, x.n, x.dv]);
    const g = x.g ? t3(x.g, [x.bh, x.n, x.dk]) : null;
    const d = t3(dO, [x.bh, x.n, x.dv]);
    const opts: la.LaOpts = { causal: x.causal, block: 16, lambdas: x.lambdas ? Float32Array.from(x.lambdas) : null, segLens };
    const o = la.linearAttentionLocal(q, k, v, g, opts);
    const gr = la.linearAttentionLocalBwd(q, k, v, g, d, opts);
    const refO = oracleForward(x);
    const ref = oracleBackward(x, dO);
    const errs: Record<string, number> = {
      o: maxRelErr(await o.data(), refO),
      dq: maxRelErr(await gr.dq.data(), ref.dq),
      dk: maxRelErr(await gr.dk.data(), ref.dk),
      dv: maxRelErr(await gr.dv.data(), ref.dv),
    };
    if (gr.dg && ref.dg) errs["dg"] = maxRelErr(await gr.dg.data(), ref.dg);
    const worst = Object.entries(errs).reduce((a, b) => (b[1] > a[1] ? b : a));
    record({
      section: "linear-check",
      name: `${variant} bh=${x.bh} n=${x.n} dk=${x.dk} dv=${x.dv} fwd+bwd`,
      err: worst[1],
      tol: TOL,
      note: `worst ${worst[0]}; ` + Object.entries(errs).map(([kk, e]) => `${kk} ${e.toExponential(1)}`).join(", "),
    });
    tf.dispose([q, k, v, d, o, gr.dq, gr.dk, gr.dv, ...(g ? [g] : []), ...(gr.dg ? [gr.dg] : [])]);
  }
}

export async function softmaxCorrectness(): Promise<void> {
  const n = 53;
  const pos = Int32Array.from({ length: n }, (_, i) => i);
  const s: NaiveSaShape = { bh: 4, groups: 2, cq: n, ck: n, dk: 16, dv: 16, causal: true, posQ: pos, posK: pos };
  const bhkv = s.bh / s.groups;
  const q = f64(randomF32(s.bh * n * s.dk, 201));
  const k = f64(randomF32(bhkv * n * s.dk, 202));
  const v = f64(randomF32(bhkv * n * s.dv, 203));
  const dO = f64(randomF32(s.bh * n * s.dv, 204));
  const qt = t3(q, [s.bh, n, s.dk]);
  const kt = t3(k, [bhkv, n, s.dk]);
  const vt = t3(v, [bhkv, n, s.dv]);
  const dt = t3(dO, [s.bh, n, s.dv]);
  const opts = { causal: true, block: 16, groups: s.groups };
  const { o, lse } = saForward(qt, kt, vt, pos, pos, opts);
  const gr = saBackward(qt, kt, vt, o, lse, dt, pos, pos, opts);
  const ref = naiveSaBackward(s, q, k, v, dO);
  const errs: Record<string, number> = {
    o: maxRelErr(await o.data(), naiveSaForward(s, q, k, v)),
    dq: maxRelErr(await gr.dq.data(), ref.dq),
    dk: maxRelErr(await gr.dk.data(), ref.dk),
    dv: maxRelErr(await gr.dv.data(), ref.dv),
  };
  const worst = Object.entries(errs).reduce((a, b) => (b[1] > a[1] ? b : a));
  record({
    section: "softmax-check",
    name: `causal GQA bh=${s.bh} groups=${s.groups} n=${n} d=${s.dk} fwd+bwd`,
    err: worst[1],
    tol: TOL,
    note: `worst ${worst[0]}; ` + Object.entries(errs).map(([kk, e]) => `${kk} ${e.toExponential(1)}`).join(", "),
  });
  tf.dispose([qt, kt, vt, dt, o, lse, gr.dq, gr.dk, gr.dv]);
}

/** Forward + backward of decayed causal linear attention on one rank: tokens per second. */
export async function linearSpeed(ns: number[], bh: number, d: number, block: number): Promise<void> {
  const lambdas = Float32Array.from({ length: bh }, (_, h) => 1 - 2 ** -(5 + (h % 8)));
  let lastS = 0;
  for (const n of ns) {
    const name = `n=${n} bh=${bh} dk=dv=${d} block=${block} decay fwd+bwd`;
    if (secondsLeft() < 15 + 6 * lastS) {
      record({ section: "linear-speed", name, note: "skipped: out of time" });
      continue;
    }
    const q = tf.tensor3d(randomF32(bh * n * d, n), [bh, n, d]);
    const k = tf.tensor3d(randomF32(bh * n * d, n + 1), [bh, n, d]);
    const v = tf.tensor3d(randomF32(bh * n * d, n + 2), [bh, n, d]);
    const dO = tf.tensor3d(randomF32(bh * n * d, n + 3), [bh, n, d]);
    const opts: la.LaOpts = { causal: true, block, lambdas, segLens: [n] };
    const step = async (): Promise<number> => {
      const t0 = performance.now();
      const o = la.linearAttentionLocal(q, k, v, null, opts);
      const g = la.linearAttentionLocalBwd(q, k, v, null, dO, opts);
      await sync(o, g.dq, g.dk, g.dv);
      const ms = performance.now() - t0;
      tf.dispose([o, g.dq, g.dk, g.dv]);
      return ms;
    };
    const first = await step();
    const times = [first];
    if (secondsLeft() > 15 + 3 * first / 1000) times.push(await step(), await step());
    const ms = median(times.length > 1 ? times.slice(1) : times);
    lastS = ms / 1000;
    record({
      section: "linear-speed",
      name,
      ms,
      rate: n / (ms / 1000),
      unit: "tokens/s",
      note: `first call ${first.toFixed(0)} ms (shader compiles); GPU memory ${(tf.memory().numBytes / 2 ** 20).toFixed(0)} MiB`,
    });
    tf.dispose([q, k, v, dO]);
  }
}
