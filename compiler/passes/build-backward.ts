// Pass build-backward: reverse-mode differentiation of the forward graph with the per-op rules of
// ir/backward-rules.ts. Gradients of a buffer read by several nodes are summed with `add` nodes.
// Seeded at the loss (xent_bwd is the first backward node); records each param's local gradient.
import { InternalError } from "../../dsl/diagnostic.ts";
import { BACKWARD, type BwdCtx } from "../ir/backward-rules.ts";
import { withIds, LOSS, type Draft, type Graph, type Node } from "../ir/graph.ts";
import type { Pass } from "./pass.ts";

type AnyRule = (n: Node, dOut: readonly (string | undefined)[], c: BwdCtx) => (string | undefined)[];

export function buildBackward(g: Graph): { backward: Draft[]; localGrads: Record<string, string> } {
  const used = new Set<string>();
  for (const n of g.forward) for (const b of [...n.in, ...n.out]) used.add(b);
  for (const p of g.params) used.add(p.name);
  const out: Draft[] = [];
  const ctx: BwdCtx = {
    emit: (dr) => {
      out.push(dr);
    },
    fresh: (base) => {
      let name = base;
      for (let i = 1; used.has(name); i++) name = `${base}.${i}`;
      used.add(name);
      return name;
    },
  };
  const grad = new Map<string, string>([[LOSS, LOSS]]);
  for (let i = g.forward.length - 1; i >= 0; i--) {
    const n = g.forward[i]!;
    const dOut = n.out.map((o) => grad.get(o));
    if (dOut.every((x) => x === undefined)) continue;
    const rule = BACKWARD[n.op] as AnyRule | null;
    if (rule === null) throw new InternalError(`op ${n.op} (${n.id}) has no backward rule`);
    const dIn = rule(n, dOut, ctx);
    n.in.forEach((b, j) => {
      const gIn = dIn[j];
      if (gIn === undefined) return;
      const prev = grad.get(b);
      if (prev === undefined) {
        grad.set(b, gIn);
        return;
      }
      const sum = ctx.fresh(`d.${b}`);
      out.push({ op: "add", in: [prev, gIn], out: [sum], layer: n.layer, phase: "backward", loc: n.loc });
      grad.set(b, sum);
    });
  }
  const localGrads: Record<string, string> = {};
  for (const p of g.params) {
    const gp = grad.get(p.name);
    if (gp === undefined) throw new InternalError(`parameter ${p.name} gets no gradient`);
    localGrads[p.name] = gp;
  }
  return { backward: out, localGrads };
}

export const buildBackwardPass: Pass = {
  name: "build-backward",
  summary: "reverse-mode backward graph from the forward graph (per-op rules), gradients summed at fan-out",
  run(g) {
    if (g.backward.length > 0) return g;
    const { backward, localGrads } = buildBackward(g);
    return { ...g, backward: withIds(backward, "backward"), localGrads };
  },
};
