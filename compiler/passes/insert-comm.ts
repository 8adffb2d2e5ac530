// Pass insert-comm: lowers the logical attention and conv nodes (forward and backward) to kernel nodes and
// `collective` nodes, per the layer's SP method (lowering/*.ts). Other nodes pass through unchanged.
import { InternalError } from "../../dsl/diagnostic.ts";
import { withIds, type Graph, type Node, type Draft } from "../ir/graph.ts";
import { Lowerer } from "../lowering/ctx.ts";
import { lowerLinearForward, lowerLinearBackward } from "../lowering/linear.ts";
import { lowerSoftmaxForward, lowerSoftmaxBackward } from "../lowering/softmax.ts";
import { lowerConvForward, lowerConvBackward } from "../lowering/conv.ts";
import type { Pass } from "./pass.ts";

function lowerList(g: Graph, nodes: readonly Node[], convOut: ReadonlyMap<string, string>): Draft[] {
  if (g.partition === null) throw new InternalError("insert-comm needs the partition pass first");
  const L = new Lowerer(g, g.partition);
  for (const n of nodes) {
    switch (n.op) {
      case "linear_attn":
        lowerLinearForward(L, n);
        break;
      case "linear_attn_bwd":
        lowerLinearBackward(L, n);
        break;
      case "softmax_attn":
        lowerSoftmaxForward(L, n);
        break;
      case "softmax_attn_bwd":
        lowerSoftmaxBackward(L, n);
        break;
      case "conv":
        lowerConvForward(L, n);
        break;
      case "conv_bwd": {
        const y = convOut.get(`${n.in[1]}|${n.in[2]}`);
        if (y === undefined) throw new InternalError(`conv_bwd ${n.id} has no forward conv`);
        lowerConvBackward(L, n, y);
        break;
      }
      default: {
        const { id: _id, ...rest } = n;
        L.emit(rest);
      }
    }
  }
  return L.out;
}

const LOWERED = new Set(["linear_attn", "linear_attn_bwd", "softmax_attn", "softmax_attn_bwd", "conv", "conv_bwd"]);

export const insertCommPass: Pass = {
  name: "insert-comm",
  summary: "lower attention and short conv to kernels + collectives per SP method (lasp2, lasp1, ring, lasp2h, ulysses)",
  run(g) {
    if (![...g.forward, ...g.backward].some((n) => LOWERED.has(n.op))) return g;
    const convOut = new Map<string, string>();
    for (const n of g.forward) if (n.op === "conv") convOut.set(`${n.in[0]}|${n.in[1]}`, n.out[0]!);
    return {
      ...g,
      forward: withIds(lowerList(g, g.forward, convOut), "forward"),
      backward: withIds(lowerList(g, g.backward, convOut), "backward"),
    };
  },
};
