// Pass expand-layers: the spec's layer list becomes the forward graph of one rank (embedding, pre-norm
// blocks with logical attention ops, final norm, LM head, loss) plus the parameter table.
import type { Spec, LayerSpec, SourceLoc } from "../../dsl/spec.ts";
import type { Param, Init } from "../plan/schema.ts";
import { withIds, TOKENS, TARGETS, LOSS, type Draft } from "../ir/graph.ts";
import { dims, featureDim, type Dims } from "../ir/dims.ts";
import type { Pass } from "./pass.ts";

const STD = 0.02;

/** Collects drafts and params in program order for one forward graph. */
class Emitter {
  readonly nodes: Draft[] = [];
  readonly params: Param[] = [];
  constructor(readonly loc: SourceLoc) {}
  param(name: string, shape: number[], init: Init, layer: number | null): string {
    this.params.push({ name, shape, init, layer, grad: `grad.${name}` });
    return name;
  }
  emit(d: Draft): void {
    this.nodes.push(d);
  }
}

function norm(e: Emitter, spec: Spec, x: string, prefix: string, out: string, layer: number | null, loc: SourceLoc): string {
  const { kind, eps } = spec.model.norm;
  const D = spec.model.hidden;
  const gamma = e.param(`${prefix}.weight`, [D], { kind: "ones" }, layer);
  const ins = [x, gamma];
  if (kind === "layer") ins.push(e.param(`${prefix}.bias`, [D], { kind: "zeros" }, layer));
  e.emit({ op: "norm", kind, eps, dim: D, in: ins, out: [out], layer, phase: "forward", loc });
  return out;
}

function matmul(e: Emitter, x: string, w: string, out: string, layer: number | null, loc: SourceLoc): string {
  e.emit({ op: "matmul", transB: false, in: [x, w], out: [out], layer, phase: "forward", loc });
  return out;
}

function attention(e: Emitter, spec: Spec, d: Dims, ls: LayerSpec, h: string): string {
  const i = ls.index;
  const p = `L${i}`;
  const loc = ls.loc;
  const F = { layer: i, phase: "forward" as const, loc };
  const std = STD;
  const wq = e.param(`${p}.wq`, [d.D, d.H * d.dk], { kind: "normal", std }, i);
  const wk = e.param(`${p}.wk`, [d.D, d.Hkv * d.dk], { kind: "normal", std }, i);
  const wv = e.param(`${p}.wv`, [d.D, d.Hkv * d.dv], { kind: "normal", std }, i);
  const attn = { batch: d.B, heads: d.H, kvHeads: d.Hkv, groups: d.groups, dv: d.dv, block: spec.parallel.block };
  // K and V first, then Q: the K/V (or state) collective can start while the Q path is computed
  const o = `${p}.o`;
  if (ls.kind === "linear") {
    const lin = ls.linear!;
    const dkf = featureDim(lin.feature, d.dk);
    const convW = (name: string, width: number) =>
      lin.conv > 0 ? e.param(`${p}.conv_${name}.weight`, [lin.conv, width], { kind: "normal", std: 1 / Math.sqrt(lin.conv) }, i) : "";
    const featW = (name: string) =>
      lin.feature === "square"
        ? [e.param(`${p}.feat_${name}.gamma`, [d.dk], { kind: "ones" }, i), e.param(`${p}.feat_${name}.beta`, [d.dk], { kind: "zeros" }, i)]
        : [];
    const cw = { q: convW("q", d.H * d.dk), k: convW("k", d.Hkv * d.dk), v: convW("v", d.Hkv * d.dv) };
    const fw = { q: featW("q"), k: featW("k") };
    const path = (name: "q" | "k" | "v", w: string, heads: number): string => {
      let x = matmul(e, h, w, `${p}.${name}`, i, loc);
      const width = heads * (name === "v" ? d.dv : d.dk);
      if (lin.conv > 0) {
        e.emit({ op: "conv", batch: d.B, kernel: lin.conv, channels: width, in: [x, cw[name]], out: [`${x}c`], ...F });
        x = `${x}c`;
      }
      if (name !== "v" && lin.feature !== "identity") {
        e.emit({ op: "feature", map: lin.feature, heads, dim: d.dk, outDim: dkf, in: [x, ...fw[name]], out: [`${x}f`], ...F });
        x = `${x}f`;
      }
      e.emit({ op: "heads", batch: d.B, heads, dim: name === "v" ? d.dv : dkf, in: [x], out: [`${x}h`], ...F });
      return `${x}h`;
    };
    const kh = path("k", wk, d.Hkv);
    const vh = path("v", wv, d.Hkv);
    const qh = path("q", wq, d.H);
    const ins = [qh, kh, vh];
    let gated = false;
    if (lin.decay.kind === "gate") {
      gated = true;
      const w1 = e.param(`${p}.wg1`, [d.D, lin.decay.rank], { kind: "normal", std }, i);
      const w2 = e.param(`${p}.wg2`, [lin.decay.rank, d.H * dkf], { kind: "normal", std }, i);
      e.emit({ op: "gate_proj", batch: d.B, heads: d.H, dim: dkf, tau: lin.decay.tau, in: [h, w1, w2], out: [`${p}.g`], ...F });
      ins.push(`${p}.g`);
    }
    const lambdas = lin.decay.kind === "fixed" ? [...lin.decay.lambdas] : null;
    e.emit({
      op: "linear_attn", method: spec.parallel.linear, ...attn, dk: dkf, causal: lin.causal, lambdas, gated,
      in: ins, out: [o], ...F,
    });
  } else {
    const sm = ls.softmax!;
    const path = (name: "q" | "k" | "v", w: string, heads: number): string => {
      const x = matmul(e, h, w, `${p}.${name}`, i, loc);
      e.emit({ op: "heads", batch: d.B, heads, dim: name === "v" ? d.dv : d.dk, in: [x], out: [`${x}h`], ...F });
      if (name === "v" || sm.ropeTheta === null) return `${x}h`;
      e.emit({ op: "rope", theta: sm.ropeTheta, dim: d.dk, in: [`${x}h`], out: [`${x}hr`], ...F });
      return `${x}hr`;
    };
    const kh = path("k", wk, d.Hkv);
    const vh = path("v", wv, d.Hkv);
    const qh = path("q", wq, d.H);
    e.emit({
      op: "softmax_attn", method: spec.parallel.softmax, ...attn, dk: d.dk, causal: sm.causal,
      scale: 1 / Math.sqrt(d.dk), in: [qh, kh, vh], out: [o], ...F,
    });
  }
  e.emit({ op: "unheads", batch: d.B, heads: d.H, dim: d.dv, in: [o], out: [`${p}.ou`], ...F });
  const wo = e.param(`${p}.wo`, [d.H * d.dv, d.D], { kind: "normal", std: STD / Math.sqrt(2 * d.L) }, i);
  return matmul(e, `${p}.ou`, wo, `${p}.attn`, i, loc);
}

function ffn(e: Emitter, spec: Spec, d: Dims, i: number, h: string, loc: SourceLoc): string {
  const p = `L${i}`;
  const w1 = e.param(`${p}.w1`, [d.D, d.F], { kind: "normal", std: STD }, i);
  const w2 = e.param(`${p}.w2`, [d.F, d.D], { kind: "normal", std: STD / Math.sqrt(2 * d.L) }, i);
  const a = matmul(e, h, w1, `${p}.ffa`, i, loc);
  if (spec.model.ffnKind === "swiglu") {
    const w3 = e.param(`${p}.w3`, [d.D, d.F], { kind: "normal", std: STD }, i);
    const b = matmul(e, h, w3, `${p}.ffb`, i, loc);
    e.emit({ op: "swiglu", in: [a, b], out: [`${p}.act`], layer: i, phase: "forward", loc });
  } else {
    e.emit({ op: "gelu", in: [a], out: [`${p}.act`], layer: i, phase: "forward", loc });
  }
  return matmul(e, `${p}.act`, w2, `${p}.ffn`, i, loc);
}

/** The forward graph and params of a spec. */
export function expandLayers(spec: Spec): { forward: Draft[]; params: Param[] } {
  const d = dims(spec);
  const mloc = spec.model.loc;
  const e = new Emitter(mloc);
  const emb = e.param("embed.weight", [d.V, d.D], { kind: "normal", std: STD }, null);
  e.emit({ op: "embed", vocab: d.V, dim: d.D, in: [TOKENS, emb], out: ["x0"], layer: null, phase: "forward", loc: mloc });
  let x = "x0";
  for (const ls of spec.model.layers) {
    const i = ls.index;
    const h1 = norm(e, spec, x, `L${i}.attn_norm`, `L${i}.h1`, i, ls.loc);
    const attn = attention(e, spec, d, ls, h1);
    e.emit({ op: "add", in: [x, attn], out: [`L${i}.x1`], layer: i, phase: "forward", loc: ls.loc });
    const h2 = norm(e, spec, `L${i}.x1`, `L${i}.ffn_norm`, `L${i}.h2`, i, ls.loc);
    const f = ffn(e, spec, d, i, h2, ls.loc);
    x = `x${i + 1}`;
    e.emit({ op: "add", in: [`L${i}.x1`, f], out: [x], layer: i, phase: "forward", loc: ls.loc });
  }
  const hf = norm(e, spec, x, "final_norm", "final.h", null, mloc);
  const head = spec.model.tieEmbeddings ? emb : e.param("lm_head.weight", [d.D, d.V], { kind: "normal", std: STD }, null);
  e.emit({ op: "matmul", transB: spec.model.tieEmbeddings, in: [hf, head], out: ["logits"], layer: null, phase: "forward", loc: mloc });
  const scale = 1 / (d.B * d.N * spec.parallel.dp);
  e.emit({ op: "xent", vocab: d.V, scale, in: ["logits", TARGETS], out: [LOSS], layer: null, phase: "forward", loc: spec.train.loc });
  return { forward: e.nodes, params: e.params };
}

export const expandLayersPass: Pass = {
  name: "expand-layers",
  summary: "spec layers -> forward graph (logical attention ops) and the parameter table",
  run(g) {
    if (g.forward.length > 0) return g;
    const { forward, params } = expandLayers(g.spec);
    return { ...g, forward: withIds(forward, "forward"), params };
  },
};
