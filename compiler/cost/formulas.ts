// Closed-form bytes each SP rank receives per layer per training step (ALGORITHM.md section 5, float32),
// written from the spec alone - independent of the plan - so tests can hold the plan's comm steps to them.
import type { Spec } from "../../dsl/spec.ts";
import { rankLength } from "../plan/partition.ts";
import { dims, featureDim } from "../ir/dims.ts";

export interface LayerBytes {
  readonly forward: number;
  readonly backward: number;
}

const F32 = 4;

/** Bytes rank `rank` of the SP group receives for layer `index` (attention and short-conv halos). */
export function expectedLayerBytes(spec: Spec, index: number, rank: number): LayerBytes {
  const d = dims(spec);
  const W = d.W;
  const { layout } = spec.parallel;
  const layer = spec.model.layers[index]!;
  if (W === 1) return { forward: 0, backward: 0 };
  const C = (r: number) => rankLength(d.N, W, layout, ((r % W) + W) % W);
  const others = Array.from({ length: W }, (_, q) => (q === rank ? 0 : C(q))).reduce((a, b) => a + b, 0);
  const S = layout === "zigzag" ? 2 : 1;
  if (layer.kind === "linear") {
    const lin = layer.linear!;
    const dk = featureDim(lin.feature, d.dk);
    let fwd = 0;
    let bwd = 0;
    const state = d.B * d.H * dk * d.dv * F32;
    const kvPerToken = d.B * d.Hkv * (dk + d.dv) * F32;
    switch (spec.parallel.linear) {
      case "lasp2": // one AllGather of the S states (+ gate products) forward, of the gradient states backward
        fwd = (W - 1) * S * (state + (lin.decay.kind === "gate" ? d.B * d.H * dk * F32 : 0));
        bwd = (W - 1) * S * state;
        break;
      case "lasp1": // one state from the previous rank forward, one from the next backward
        fwd = rank > 0 ? state : 0;
        bwd = rank < W - 1 ? state : 0;
        break;
      case "ring": {
        // forward: every other rank's K/V block; backward: the dK/dV accumulators of blocks r-2..r-(W-1) and our own
        fwd = others * kvPerToken;
        let acc = C(rank);
        for (let h = 2; h < W; h++) acc += C(rank - h);
        bwd = acc * kvPerToken;
        break;
      }
    }
    if (lin.conv > 1) {
      const halo = d.B * (lin.conv - 1) * (d.H * d.dk + d.Hkv * d.dk + d.Hkv * d.dv) * F32;
      fwd += rank > 0 ? halo : 0;
      bwd += rank < W - 1 ? halo : 0;
    }
    return { forward: fwd, backward: bwd };
  }
  const kvPerToken = d.B * d.Hkv * (d.dk + d.dv) * F32;
  switch (spec.parallel.softmax) {
    case "lasp2h": // AllGather of K, V; ReduceScatter of dK, dV: W-1 partial copies of this rank's rows
      return { forward: others * kvPerToken, backward: (W - 1) * C(rank) * kvPerToken };
    case "ring": {
      let acc = C(rank);
      for (let h = 2; h < W; h++) acc += C(rank - h);
      return { forward: others * kvPerToken, backward: acc * kvPerToken };
    }
    case "ulysses": {
      // seq->heads receives the other ranks' tokens of 1/W of the heads; heads->seq W-1 shares of our tokens
      const qkv = d.B * (d.H * d.dk + d.Hkv * d.dk + d.Hkv * d.dv) * F32 / W;
      const o = d.B * d.H * d.dv * F32 / W;
      return {
        forward: others * qkv + (W - 1) * C(rank) * o,
        backward: others * o + (W - 1) * C(rank) * qkv,
      };
    }
  }
}

/**
 * Bytes of the gradient all-reduce per rank, closed form: 2(W-1)/W of all weights (world = sp x dp ranks).
 * The exact count (cost/bytes.ts: reduce-scatter of uneven integer parts, then all-gather) differs by
 * less than 4(W-1) bytes per weight tensor.
 */
export function expectedGradSyncBytes(paramCount: number, world: number): number {
  return world <= 1 ? 0 : (2 * (world - 1) * paramCount * F32) / world;
}
