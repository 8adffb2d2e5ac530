// Pass check-config: parallel-configuration errors the DSL cannot see (they need the spec as a whole),
// reported as LASP3xxx diagnostics at the spec location that causes them. Leaves the IR unchanged.
import type { Diagnostic } from "../../dsl/diagnostic.ts";
import type { Spec } from "../../dsl/spec.ts";
import { chunkCount } from "../plan/partition.ts";
import { configError } from "../diagnostics.ts";
import type { Pass, PassCtx } from "./pass.ts";

/** Codes are stable; never reuse one. LASP3001-3099 belong to the DSL's checker, 3100-3199 to the compiler. */
export const CONFIG_CODES = {
  seqTooShort: "LASP3101",
  headsNotDivisible: "LASP3102",
  ulyssesHeads: "LASP3103",
  lasp1Zigzag: "LASP3104",
  lasp1Bidirectional: "LASP3105",
  ringGated: "LASP3106",
  convZigzag: "LASP3107",
  convHaloTooLong: "LASP3108",
  lambdasLength: "LASP3109",
  ropeOddDim: "LASP3110",
  decayBidirectional: "LASP3111",
} as const;

export function checkConfig(spec: Spec, ctx: PassCtx): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { sp, layout, linear, softmax } = spec.parallel;
  const m = spec.model;
  const ploc = spec.parallel.loc;
  const chunks = chunkCount(sp, layout);
  const err = (code: `LASP3${string}`, msg: string, loc = ploc) => out.push(configError(code, msg, loc, ctx.source));
  if (spec.train.seq < chunks) {
    err(CONFIG_CODES.seqTooShort, `sequence length ${spec.train.seq} is shorter than the ${chunks} chunks of sp = ${sp} (${layout}): some rank would hold no token`, spec.train.loc);
  }
  if (m.heads % m.kvHeads !== 0) {
    err(CONFIG_CODES.headsNotDivisible, `heads (${m.heads}) must be a multiple of kv_heads (${m.kvHeads})`, m.loc);
  }
  const hasLinear = m.layers.some((l) => l.kind === "linear");
  const hasSoftmax = m.layers.some((l) => l.kind === "softmax");
  if (hasSoftmax && softmax === "ulysses" && (m.heads % sp !== 0 || m.kvHeads % sp !== 0)) {
    err(CONFIG_CODES.ulyssesHeads, `ulysses needs heads (${m.heads}) and kv_heads (${m.kvHeads}) divisible by sp = ${sp}`);
  }
  if (hasLinear && linear === "lasp1" && layout === "zigzag") {
    err(CONFIG_CODES.lasp1Zigzag, `lasp1 passes the prefix state rank to rank and needs the contiguous layout, not zigzag`);
  }
  const minTokens = Math.floor(spec.train.seq / chunks);
  for (const l of m.layers) {
    if (l.kind === "softmax" && l.softmax?.ropeTheta !== null && m.headDim % 2 !== 0) {
      err(CONFIG_CODES.ropeOddDim, `layer ${l.index}: rotary embedding needs an even head_dim, got ${m.headDim}`, l.loc);
    }
    const lin = l.linear;
    if (l.kind !== "linear" || lin === undefined) continue;
    if (linear === "lasp1" && !lin.causal) {
      err(CONFIG_CODES.lasp1Bidirectional, `layer ${l.index}: lasp1 is a causal prefix chain; use lasp2 for a bidirectional layer`, l.loc);
    }
    if (linear === "ring" && lin.decay.kind === "gate") {
      err(CONFIG_CODES.ringGated, `layer ${l.index}: ring does not support data-dependent gates (GLA); use lasp2`, l.loc);
    }
    if (lin.conv > 1 && layout === "zigzag") {
      err(CONFIG_CODES.convZigzag, `layer ${l.index}: a short convolution needs the contiguous layout (its halo comes from the previous chunk's rank)`, l.loc);
    }
    if (lin.conv > 1 && sp > 1 && lin.conv - 1 > minTokens) {
      err(CONFIG_CODES.convHaloTooLong, `layer ${l.index}: conv kernel ${lin.conv} needs ${lin.conv - 1} halo tokens but a rank may hold only ${minTokens}`, l.loc);
    }
    if (!lin.causal && lin.decay.kind !== "none") {
      err(CONFIG_CODES.decayBidirectional, `layer ${l.index}: decay and gates are defined for causal layers only; a bidirectional layer needs decay none`, l.loc);
    }
    if (lin.decay.kind === "fixed" && lin.decay.lambdas.length !== m.heads) {
      err(CONFIG_CODES.lambdasLength, `layer ${l.index}: ${lin.decay.lambdas.length} decay values for ${m.heads} heads`, l.loc);
    }
  }
  return out;
}

export const checkConfigPass: Pass = {
  name: "check-config",
  summary: "LASP3xxx diagnostics for parallel configurations the compiler cannot lower",
  run(g, ctx) {
    const d = checkConfig(g.spec, ctx);
    const have = new Set(g.diagnostics.map((x) => `${x.code}:${x.message}`));
    const add = d.filter((x) => !have.has(`${x.code}:${x.message}`));
    return add.length === 0 ? g : { ...g, diagnostics: [...g.diagnostics, ...add] };
  },
};
