// Ring backward shared by linear and softmax layers. The K/V blocks received in the forward ring are kept
// (k_hop<h>), so only gradients travel: the dK/dV accumulator of each block follows the block's forward
// path (rank b+1, ..., b+W-1) and a last hop brings it home to rank b. Bytes about equal the forward's.
import type { LinearAttnBwdNode, SoftmaxAttnBwdNode } from "../ir/graph.ts";
import { TOKEN_AXIS } from "../plan/schema.ts";
import { Lowerer, siteOf } from "./ctx.ts";

export interface RingNames {
  q: string;
  /** local K, V as the local kernel takes them (linear: repeated to H heads) */
  k: string;
  v: string;
  /** softmax: the final forward output (the saved lse is `${p}.lse`); null for linear */
  o: string | null;
  dO: string;
  dq: string;
  dk: string;
  dv: string;
  /** buffer prefix of the layer's attention (L<i>.la or L<i>.sa) */
  p: string;
}

export function ringBackward(L: Lowerer, n: LinearAttnBwdNode | SoftmaxAttnBwdNode, r: RingNames): void {
  const s = siteOf(n);
  const W = L.g.mesh.sp;
  const { p } = r;
  const sa = n.op === "softmax_attn_bwd" ? { batch: n.batch, heads: n.heads, kvHeads: n.kvHeads, groups: n.groups, dk: n.dk, dv: n.dv, causal: n.causal, scale: n.scale, block: n.block, qSource: "local" as const } : null;
  const la = n.op === "linear_attn_bwd" ? { batch: n.batch, heads: n.heads, dk: n.dk, dv: n.dv, causal: n.causal, block: n.block, lambdas: n.lambdas ? [...n.lambdas] : null, gated: n.gated } : null;
  const solo = W === 1;
  const [dqL, dkL, dvL] = solo ? [r.dq, r.dk, r.dv] : [`${p}.dq_local`, `${p}.dk_local`, `${p}.dv_local`];
  if (la !== null) {
    const rep = n.groups > 1;
    const outs = rep ? [dqL, `${p}.dk_rep`, `${p}.dv_rep`] : [dqL, dkL, dvL];
    if (L.part.segments > 1) {
      // zigzag: the term between the rank's own two chunks (forward la_cross at hop W), on the repeated heads
      const intra = [`${p}.dq_intra`, `${p}.dk_intra`, `${p}.dv_intra`];
      const own = [`${p}.dq_own`, `${p}.dk_own`, `${p}.dv_own`];
      L.emit({ op: "la_bwd_intra", ...la, in: [r.q, r.k, r.v, r.dO], out: intra, ...s });
      L.emit({ op: "la_cross_bwd", ...la, hop: W, groups: 1, in: [r.q, r.k, r.v, r.dO], out: own, ...s });
      outs.forEach((o, j) => L.emit({ op: "add", in: [intra[j]!, own[j]!], out: [o], ...s }));
    } else L.emit({ op: "la_bwd_intra", ...la, in: [r.q, r.k, r.v, r.dO], out: outs, ...s });
    if (rep) {
      L.emit({ op: "repeat_kv_bwd", batch: n.batch, kvHeads: n.kvHeads, groups: n.groups, in: [outs[1]!], out: [dkL], ...s });
      L.emit({ op: "repeat_kv_bwd", batch: n.batch, kvHeads: n.kvHeads, groups: n.groups, in: [outs[2]!], out: [dvL], ...s });
    }
  } else {
    L.emit({ op: "sa_backward", ...sa!, kvSource: "local", hop: 0, in: [r.q, r.k, r.v, r.o!, `${p}.lse`, r.dO], out: [dqL, dkL, dvL], ...s });
  }
  if (solo) return;
  const parts = [
    { axis: 1, shape: [n.batch * n.kvHeads, TOKEN_AXIS, n.dk] },
    { axis: 1, shape: [n.batch * n.kvHeads, TOKEN_AXIS, n.dv] },
  ];
  let dqAcc = dqL;
  let acc: [string, string] | null = null;
  for (let h = 1; h < W; h++) {
    const blk = [`${p}.k_hop${h}`, `${p}.v_hop${h}`];
    const part = [`${p}.dq_hop${h}`, `${p}.dk_hop${h}`, `${p}.dv_hop${h}`];
    if (la !== null) L.emit({ op: "la_cross_bwd", ...la, hop: h, groups: n.groups, in: [r.q, ...blk, r.dO], out: part, ...s });
    else L.emit({ op: "sa_backward", ...sa!, kvSource: "ring", hop: h, in: [r.q, ...blk, r.o!, `${p}.lse`, r.dO], out: part, ...s });
    const dqNext = h === W - 1 ? r.dq : `${p}.dq_acc${h}`;
    L.emit({ op: "add", in: [dqAcc, part[0]!], out: [dqNext], ...s });
    dqAcc = dqNext;
    if (acc === null) {
      acc = [part[1]!, part[2]!];
      continue;
    }
    // receive the accumulator of block r-h (it carries ranks r-h+1 .. r-1's terms) and add ours
    const recv: [string, string] = [`${p}.dk_in${h}`, `${p}.dv_in${h}`];
    L.collective({ collective: "send_recv", group: "sp", parts, sendTo: "next", recvFrom: "prev", wrap: true, hop: h }, acc, recv, s);
    const sum: [string, string] = [`${p}.dk_acc${h}`, `${p}.dv_acc${h}`];
    L.emit({ op: "add", in: [recv[0], part[1]!], out: [sum[0]], ...s });
    L.emit({ op: "add", in: [recv[1], part[2]!], out: [sum[1]], ...s });
    acc = sum;
  }
  // last hop: every accumulator goes home (the one received belongs to this rank's own block)
  const home: [string, string] = [`${p}.dk_home`, `${p}.dv_home`];
  L.collective({ collective: "send_recv", group: "sp", parts, sendTo: "next", recvFrom: "prev", wrap: true, hop: W }, acc!, home, s);
  L.emit({ op: "add", in: [dkL, home[0]], out: [r.dk], ...s });
  L.emit({ op: "add", in: [dvL, home[1]], out: [r.dv], ...s });
}
