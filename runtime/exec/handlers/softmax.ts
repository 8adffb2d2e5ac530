// Interpreter handlers of the softmax-attention ops: blocked online softmax over local, gathered
// (LASP-2H, Ulysses) or ring-received K/V, its backward, and the ring merge of partial results.
import * as tf from "@tensorflow/tfjs-core";
import type { StepOf } from "../../../compiler/plan/schema.ts";
import { saBackward, saForward, saMerge, type SaOptions } from "../../kernels/softmax-attention.ts";
import type { ExecCtx, Handler } from "../context.ts";
import { gatheredPositions, localPositions, positionsOfRank, ringOrigin } from "../rank-info.ts";

type Sa = StepOf<"sa_forward"> | StepOf<"sa_backward">;
type T3 = tf.Tensor3D;
type T2 = tf.Tensor2D;

function positions(x: ExecCtx, source: Sa["qSource"] | Sa["kvSource"], hop: number): Int32Array {
  switch (source) {
    case "local":
      return localPositions(x.info);
    case "gathered":
      return gatheredPositions(x.info);
    case "ring":
      return positionsOfRank(x.info, ringOrigin(x.info, hop));
    default:
      return source satisfies never;
  }
}

function opts(s: Sa): SaOptions {
  return { causal: s.causal, block: s.block, groups: s.groups, scale: s.scale };
}

const get3 = (x: ExecCtx, n: string | undefined): T3 => x.env.get(n!) as T3;

export const softmax = {
  sa_forward: (s, x) => {
    const r = saForward(get3(x, s.in[0]), get3(x, s.in[1]), get3(x, s.in[2]), positions(x, s.qSource, 0), positions(x, s.kvSource, s.hop), opts(s));
    x.env.set(s.out[0]!, r.o);
    x.env.set(s.out[1]!, r.lse);
  },
  sa_backward: (s, x) => {
    const [q, k, v, o] = [0, 1, 2, 3].map((i) => get3(x, s.in[i]));
    const lse = x.env.get(s.in[4]!) as T2;
    const g = saBackward(q!, k!, v!, o!, lse, get3(x, s.in[5]), positions(x, s.qSource, 0), positions(x, s.kvSource, s.hop), opts(s));
    x.env.set(s.out[0]!, g.dq);
    x.env.set(s.out[1]!, g.dk);
    x.env.set(s.out[2]!, g.dv);
  },
  sa_merge: (s, x) => {
    const r = saMerge({ o: get3(x, s.in[0]), lse: x.env.get(s.in[1]!) as T2 }, { o: get3(x, s.in[2]), lse: x.env.get(s.in[3]!) as T2 });
    x.env.set(s.out[0]!, r.o);
    x.env.set(s.out[1]!, r.lse);
  },
} satisfies { [K in "sa_forward" | "sa_backward" | "sa_merge"]: Handler<K> };
