// Lowering of logical linear attention (forward and backward) per SP method: LASP-2 (one AllGather of the
// chunk states each way, ALGORITHM.md section 1), LASP-1 (serial send/recv chain), ring (K/V blocks around).
import type { LinearAttnNode, LinearAttnBwdNode, Draft } from "../ir/graph.ts";
import { TOKEN_AXIS } from "../plan/schema.ts";
import { Lowerer, siteOf, type Site } from "./ctx.ts";
import { ringBackward } from "./ring.ts";

type Attn = LinearAttnNode | LinearAttnBwdNode;

/** Kernel attributes of the la_* ops, from the logical node. */
function la(n: Attn) {
  return { batch: n.batch, heads: n.heads, dk: n.dk, dv: n.dv, causal: n.causal, block: n.block, lambdas: n.lambdas ? [...n.lambdas] : null, gated: n.gated };
}

/** K and V repeated to H heads for the kernels (names shared by forward and backward). */
function repeated(L: Lowerer, n: Attn, k: string, v: string, p: string, s: Site, emitNodes: boolean): [string, string] {
  if (n.groups === 1) return [k, v];
  const kr = `${p}.k_rep`;
  const vr = `${p}.v_rep`;
  if (emitNodes) {
    for (const [x, y] of [[k, kr], [v, vr]] as const) {
      L.emit({ op: "repeat_kv", batch: n.batch, kvHeads: n.kvHeads, groups: n.groups, in: [x], out: [y], ...s });
    }
  }
  return [kr, vr];
}

const prefix = (n: Attn) => `L${n.layer ?? "x"}.la`;

function stateParts(L: Lowerer, n: Attn) {
  const S = L.part.segments;
  const parts = [{ axis: 0, shape: [S, n.batch * n.heads, n.dk, n.dv] }];
  if (n.gated) parts.push({ axis: 0, shape: [S, n.batch * n.heads, n.dk] });
  return parts;
}

export function lowerLinearForward(L: Lowerer, n: LinearAttnNode): void {
  const s = siteOf(n);
  const p = prefix(n);
  const [q, k, v, g] = n.in as [string, string, string, string | undefined];
  const gate = n.gated ? [g!] : [];
  const [kr, vr] = repeated(L, n, k, v, p, s, true);
  const o = n.out[0]!;
  const a = la(n);
  if (n.method === "ring") {
    const W = L.g.mesh.sp;
    const own = L.part.segments > 1; // zigzag: the rank's own two chunks see each other (la_intra keeps them apart)
    const o0 = W > 1 || own ? `${p}.o_local` : o;
    L.emit({ op: "la_intra", ...a, in: [q, kr, vr], out: [o0], ...s });
    let acc = o0;
    if (own) {
      // hop W: the block of rank (r - W) mod W = r itself
      const next = W > 1 ? `${p}.o_own` : o;
      L.emit({ op: "la_cross", ...a, hop: W, groups: n.groups, in: [q, k, v], out: [`${p}.o_cross_own`], ...s });
      L.emit({ op: "add", in: [o0, `${p}.o_cross_own`], out: [next], ...s });
      acc = next;
    }
    let [kc, vc] = [k, v];
    for (let h = 1; h < W; h++) {
      const [kh, vh] = [`${p}.k_hop${h}`, `${p}.v_hop${h}`];
      const parts = [
        { axis: 1, shape: [n.batch * n.kvHeads, TOKEN_AXIS, n.dk] },
        { axis: 1, shape: [n.batch * n.kvHeads, TOKEN_AXIS, n.dv] },
      ];
      L.collective({ collective: "send_recv", group: "sp", parts, sendTo: "next", recvFrom: "prev", wrap: true, hop: h }, [kc, vc], [kh, vh], s);
      L.emit({ op: "la_cross", ...a, hop: h, groups: n.groups, in: [q, kh, vh], out: [`${p}.o_hop${h}`], ...s });
      const next = h === W - 1 ? o : `${p}.o_acc${h}`;
      L.emit({ op: "add", in: [acc, `${p}.o_hop${h}`], out: [next], ...s });
      acc = next;
      [kc, vc] = [kh, vh];
    }
    return;
  }
  const M = [`${p}.M`, ...(n.gated ? [`${p}.A`] : [])];
  const inter: Draft = { op: "la_inter", ...a, in: [q, `${p}.P`, ...(n.causal ? [`${p}.o_intra`] : []), ...gate], out: [o], ...s };
  if (n.method === "lasp2") {
    L.emit({ op: "la_state", ...a, in: [kr, vr, ...gate], out: M, ...s });
    const Mall = M.map((x) => `${x}_all`);
    L.collective({ collective: "all_gather", group: "sp", parts: stateParts(L, n) }, M, Mall, s);
    if (n.causal) L.emit({ op: "la_intra", ...a, in: [q, kr, vr, ...gate], out: [`${p}.o_intra`], ...s });
    L.emit({ op: "la_prefix", ...a, in: Mall, out: [`${p}.P`], ...s });
    L.emit(inter);
    return;
  }
  // lasp1, scheduled as its reference code runs it: a blocking receive of P_t from the previous rank before
  // any of the layer's compute, then the whole local chunk, then P_t (+) M_t sent on. The chain's W-1 hops
  // each carry one rank's attention compute, which is what LASP-2's single all-gather removes.
  const parts = stateParts(L, n).slice(0, 1);
  L.collective({ collective: "send_recv", group: "sp", parts, sendTo: null, recvFrom: "prev", hop: 1, blocking: true }, [], [`${p}.P`], s);
  L.emit({ op: "la_state", ...a, in: [kr, vr, ...gate], out: M, ...s });
  if (n.causal) L.emit({ op: "la_intra", ...a, in: [q, kr, vr, ...gate], out: [`${p}.o_intra`], ...s });
  L.emit(inter);
  L.emit({ op: "la_carry", ...a, reverse: false, in: [`${p}.P`, ...M], out: [`${p}.P_next`], ...s });
  L.collective({ collective: "send_recv", group: "sp", parts, sendTo: "next", recvFrom: null, hop: 1 }, [`${p}.P_next`], [], s);
}

export function lowerLinearBackward(L: Lowerer, n: LinearAttnBwdNode): void {
  const s = siteOf(n);
  const p = prefix(n);
  const ins = n.in;
  const [q, k, v] = ins as [string, string, string];
  const g = n.gated ? ins[3] : undefined;
  const gate = g !== undefined ? [g] : [];
  const dO = ins[ins.length - 1]!;
  const [dq, dk, dv] = n.out as [string, string, string];
  const dg = n.gated ? [n.out[3]!] : [];
  const [kr, vr] = repeated(L, n, k, v, p, s, false);
  const a = la(n);
  if (n.method === "ring") {
    ringBackward(L, n, { q, k: kr, v: vr, o: null, dO, dq, dk, dv, p });
    return;
  }
  // dK, dV of the repeated heads, summed back to the kv heads at the end
  const dkr = n.groups === 1 ? dk : `${p}.dk_rep`;
  const dvr = n.groups === 1 ? dv : `${p}.dv_rep`;
  {
    const D = `${p}.D`;
    const parts = stateParts(L, n).slice(0, 1);
    const lasp1 = n.method === "lasp1";
    // lasp1 (reference order): blocking receive of the suffix G from the next rank before the layer's compute
    if (lasp1) L.collective({ collective: "send_recv", group: "sp", parts, sendTo: null, recvFrom: "next", hop: 1, blocking: true }, [], [`${p}.G`], s);
    L.emit({ op: "la_bwd_state", ...a, in: [q, dO, ...gate], out: [D], ...s });
    if (!lasp1) L.collective({ collective: "all_gather", group: "sp", parts }, [D], [`${D}_all`], s);
    const intra = [`${p}.dq_intra`, `${p}.dk_intra`, `${p}.dv_intra`, ...(n.gated ? [`${p}.dg_intra`] : [])];
    if (n.causal) L.emit({ op: "la_bwd_intra", ...a, in: [q, kr, vr, dO, ...gate], out: intra, ...s });
    if (!lasp1) L.emit({ op: "la_suffix", ...a, in: [`${D}_all`, ...(n.gated ? [`${p}.A_all`] : [])], out: [`${p}.G`], ...s });
    const finals = [dq, dkr, dvr, ...dg];
    const inter = n.causal ? [`${p}.dq_inter`, `${p}.dk_inter`, `${p}.dv_inter`, ...(n.gated ? [`${p}.dg_inter`] : [])] : finals;
    L.emit({ op: "la_bwd_inter", ...a, in: [q, kr, vr, dO, `${p}.P`, `${p}.G`, ...gate], out: inter, ...s });
    if (n.causal) finals.forEach((f, j) => L.emit({ op: "add", in: [intra[j]!, inter[j]!], out: [f], ...s }));
    if (lasp1) {
      L.emit({ op: "la_carry", ...a, reverse: true, in: [`${p}.G`, D, ...(n.gated ? [`${p}.A`] : [])], out: [`${p}.G_next`], ...s });
      L.collective({ collective: "send_recv", group: "sp", parts, sendTo: "prev", recvFrom: null, hop: 1 }, [`${p}.G_next`], [], s);
    }
  }
  if (n.groups > 1) {
    for (const [x, y] of [[dkr, dk], [dvr, dv]] as const) {
      L.emit({ op: "repeat_kv_bwd", batch: n.batch, kvHeads: n.kvHeads, groups: n.groups, in: [x], out: [y], ...s });
    }
  }
}
