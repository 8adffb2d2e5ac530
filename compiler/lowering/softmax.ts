// Lowering of logical softmax attention per SP method: LASP-2H (AllGather K,V forward, ReduceScatter dK,dV
// backward; ALGORITHM.md section 2), ring (K/V blocks around, online-softmax merge), Ulysses (all-to-all).
import type { SoftmaxAttnNode, SoftmaxAttnBwdNode } from "../ir/graph.ts";
import { TOKEN_AXIS } from "../plan/schema.ts";
import { Lowerer, siteOf } from "./ctx.ts";
import { ringBackward } from "./ring.ts";

type Attn = SoftmaxAttnNode | SoftmaxAttnBwdNode;

function sa(n: Attn, W: number, sharded: boolean) {
  return {
    batch: n.batch,
    heads: sharded ? n.heads / W : n.heads,
    kvHeads: sharded ? n.kvHeads / W : n.kvHeads,
    groups: n.groups,
    dk: n.dk,
    dv: n.dv,
    causal: n.causal,
    scale: n.scale,
    block: n.block,
  };
}

const prefix = (n: Attn) => `L${n.layer ?? "x"}.sa`;

function kvParts(n: Attn) {
  return [
    { axis: 1, shape: [n.batch * n.kvHeads, TOKEN_AXIS, n.dk] },
    { axis: 1, shape: [n.batch * n.kvHeads, TOKEN_AXIS, n.dv] },
  ];
}

function a2a(L: Lowerer, n: Attn, dir: "seq_to_heads" | "heads_to_seq", heads: number, dim: number, x: string, y: string): void {
  const a = { direction: dir, batch: n.batch, heads, dim };
  L.collective({ collective: "all_to_all", group: "sp", parts: [{ axis: 1, shape: [n.batch * heads, TOKEN_AXIS, dim] }], a2a: a }, [x], [y], siteOf(n));
}

export function lowerSoftmaxForward(L: Lowerer, n: SoftmaxAttnNode): void {
  const s = siteOf(n);
  const p = prefix(n);
  const W = L.g.mesh.sp;
  const [q, k, v] = n.in as [string, string, string];
  const o = n.out[0]!;
  const lse = `${p}.lse`;
  if (n.method === "lasp2h") {
    L.collective({ collective: "all_gather", group: "sp", parts: kvParts(n) }, [k, v], [`${p}.k_all`, `${p}.v_all`], s);
    L.emit({ op: "sa_forward", ...sa(n, W, false), qSource: "local", kvSource: "gathered", hop: 0, in: [q, `${p}.k_all`, `${p}.v_all`], out: [o, lse], ...s });
  } else if (n.method === "ulysses") {
    a2a(L, n, "seq_to_heads", n.heads, n.dk, q, `${p}.q_a2a`);
    a2a(L, n, "seq_to_heads", n.kvHeads, n.dk, k, `${p}.k_a2a`);
    a2a(L, n, "seq_to_heads", n.kvHeads, n.dv, v, `${p}.v_a2a`);
    const ins = [`${p}.q_a2a`, `${p}.k_a2a`, `${p}.v_a2a`];
    L.emit({ op: "sa_forward", ...sa(n, W, true), qSource: "gathered", kvSource: "gathered", hop: 0, in: ins, out: [`${p}.o_a2a`, lse], ...s });
    a2a(L, n, "heads_to_seq", n.heads, n.dv, `${p}.o_a2a`, o);
  } else {
    const solo = W === 1;
    let acc: [string, string] = solo ? [o, lse] : [`${p}.o_local`, `${p}.lse_local`];
    L.emit({ op: "sa_forward", ...sa(n, W, false), qSource: "local", kvSource: "local", hop: 0, in: [q, k, v], out: acc, ...s });
    let [kc, vc] = [k, v];
    for (let h = 1; h < W; h++) {
      const [kh, vh] = [`${p}.k_hop${h}`, `${p}.v_hop${h}`];
      const sr = { collective: "send_recv" as const, group: "sp" as const, parts: kvParts(n), sendTo: "next" as const, recvFrom: "prev" as const, wrap: true, hop: h };
      L.collective(sr, [kc, vc], [kh, vh], s);
      const part: [string, string] = [`${p}.o_hop${h}`, `${p}.lse_hop${h}`];
      L.emit({ op: "sa_forward", ...sa(n, W, false), qSource: "local", kvSource: "ring", hop: h, in: [q, kh, vh], out: part, ...s });
      const next: [string, string] = h === W - 1 ? [o, lse] : [`${p}.o_acc${h}`, `${p}.lse_acc${h}`];
      L.emit({ op: "sa_merge", batch: n.batch, heads: n.heads, dv: n.dv, in: [...acc, ...part], out: next, ...s });
      acc = next;
      [kc, vc] = [kh, vh];
    }
  }
}

export function lowerSoftmaxBackward(L: Lowerer, n: SoftmaxAttnBwdNode): void {
  const s = siteOf(n);
  const p = prefix(n);
  const W = L.g.mesh.sp;
  const [q, k, v, o, dO] = n.in as [string, string, string, string, string];
  const [dq, dk, dv] = n.out as [string, string, string];
  const lse = `${p}.lse`;
  if (n.method === "lasp2h") {
    const ins = [q, `${p}.k_all`, `${p}.v_all`, o, lse, dO];
    L.emit({ op: "sa_backward", ...sa(n, W, false), qSource: "local", kvSource: "gathered", hop: 0, in: ins, out: [dq, `${p}.dk_all`, `${p}.dv_all`], ...s });
    L.collective({ collective: "reduce_scatter", group: "sp", parts: kvParts(n) }, [`${p}.dk_all`, `${p}.dv_all`], [dk, dv], s);
  } else if (n.method === "ulysses") {
    a2a(L, n, "seq_to_heads", n.heads, n.dv, dO, `${p}.do_a2a`);
    const ins = [`${p}.q_a2a`, `${p}.k_a2a`, `${p}.v_a2a`, `${p}.o_a2a`, lse, `${p}.do_a2a`];
    const outs = [`${p}.dq_a2a`, `${p}.dk_a2a`, `${p}.dv_a2a`];
    L.emit({ op: "sa_backward", ...sa(n, W, true), qSource: "gathered", kvSource: "gathered", hop: 0, in: ins, out: outs, ...s });
    a2a(L, n, "heads_to_seq", n.heads, n.dk, outs[0]!, dq);
    a2a(L, n, "heads_to_seq", n.kvHeads, n.dk, outs[1]!, dk);
    a2a(L, n, "heads_to_seq", n.kvHeads, n.dv, outs[2]!, dv);
  } else {
    ringBackward(L, n, { q, k, v, o, dO, dq, dk, dv, p });
  }
}
