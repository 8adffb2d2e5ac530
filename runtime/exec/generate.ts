// Sampling from a trained model (`lasp generate`): one rank, the plan's own forward, recomputed over the
// whole sequence for each new token (a plan compiled for batch 1 and the final length; the positions after the
// one being predicted are padding that a causal model cannot see). Exact by construction, O(N) forwards: a
// recurrent decoder that carries each linear layer's memory state (O(1) per token) is not built yet.
import type { Plan } from "../../compiler/plan/schema.ts";
import { compile } from "../../compiler/index.ts";
import type { Spec } from "../../dsl/spec.ts";
import { SoloCommunicator } from "../comm/solo.ts";
import { Rng } from "../train/rng.ts";
import { createRankModel, runTrainStep } from "./rank-model.ts";

export interface SampleOptions {
  /** new tokens to generate */
  readonly tokens: number;
  /** 0: greedy (argmax); otherwise logits / temperature, softmax, sampled */
  readonly temperature: number;
  /** sample among the k most likely only (0: all) */
  readonly topK: number;
  readonly seed: number;
  /** called with each new token as it is chosen */
  readonly onToken?: (token: number, index: number) => void;
  /** the token the not-yet-generated positions hold (default 0): a causal model's output must not depend on it */
  readonly pad?: number;
}

export interface Generated {
  /** the prompt followed by the new tokens */
  readonly tokens: Int32Array;
  /** seconds per new token (each a whole forward) */
  readonly secondsPerToken: number;
  /** the logits row each new token was drawn from (for tests and scores) */
  readonly logits: Float32Array[];
}

/** The spec of the generation plan: 1 rank, 1 sequence of `length` tokens, no training extras. */
export function generationSpec(spec: Spec, length: number): Spec {
  const s = structuredClone(spec);
  return {
    ...s,
    parallel: { ...s.parallel, sp: 1, dp: 1 },
    train: { ...s.train, seq: length, batch: 1, accum: 1, recompute: false, eval: null },
  };
}

/** Layers generation cannot run: bidirectional ones see the future. */
export function bidirectionalLayers(spec: Spec): number[] {
  return spec.model.layers.filter((l) => (l.kind === "linear" ? l.linear?.causal === false : l.softmax?.causal === false)).map((l) => l.index);
}

/** Picks the next token from one logits row. */
export function pick(row: Float32Array, o: Pick<SampleOptions, "temperature" | "topK">, rng: Rng): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  if (o.temperature === 0 || o.topK === 1) return best;
  const order = [...row.keys()].sort((a, b) => row[b]! - row[a]!);
  const keep = o.topK > 0 ? order.slice(0, o.topK) : order;
  const top = row[keep[0]!]!;
  const w = keep.map((j) => Math.exp((row[j]! - top) / o.temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.float() * total;
  for (let i = 0; i < keep.length; i++) {
    u -= w[i]!;
    if (u < 0) return keep[i]!;
  }
  return keep[keep.length - 1]!;
}

export async function generate(spec: Spec, weights: ReadonlyMap<string, Float32Array>, prompt: Int32Array, o: SampleOptions): Promise<Generated> {
  if (prompt.length === 0) throw new Error("generate: the prompt is empty: give at least one token");
  const V = spec.model.vocab;
  for (const t of prompt) if (!(t >= 0 && t < V)) throw new Error(`generate: prompt token ${t} is outside the vocabulary [0, ${V})`);
  const bidi = bidirectionalLayers(spec);
  if (bidi.length > 0) throw new Error(`generate: layer(s) ${bidi.join(", ")} are bidirectional: only causal models generate text left to right`);
  const length = prompt.length + o.tokens;
  const r = compile(generationSpec(spec, length));
  if (r.plan === null) throw new Error(`generate: the generation plan did not compile: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  const plan: Plan = r.plan;
  const solo = { sp: new SoloCommunicator("sp"), dp: new SoloCommunicator("dp"), world: new SoloCommunicator("world") };
  const model = createRankModel(plan, solo, weights);
  const seqTokens = new Int32Array(length).fill(o.pad ?? 0);
  seqTokens.set(prompt);
  // nothing is scored: the loss step sums no target
  const targets = new Int32Array(length).fill(-1);
  const rng = new Rng(o.seed, 0x67656e);
  const logits: Float32Array[] = [];
  const t0 = performance.now();
  for (let t = prompt.length; t < length; t++) {
    const step = await runTrainStep(model, { tokens: seqTokens, targets }, { checkFinite: false, recordTimeline: false, lossScale: null, capture: ["logits"], forwardOnly: true });
    const all = step.captured.get("logits")!;
    const row = all.data.slice((t - 1) * V, t * V);
    const next = pick(row, o, rng);
    seqTokens[t] = next;
    logits.push(row);
    o.onToken?.(next, t - prompt.length);
  }
  return { tokens: seqTokens, secondsPerToken: (performance.now() - t0) / 1000 / Math.max(1, o.tokens), logits };
}
