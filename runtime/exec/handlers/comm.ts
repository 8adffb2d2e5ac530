// Interpreter handlers of comm_start / comm_wait: pack the step's tensors into one Float32Array, start the
// collective on the step's group, and on wait unpack the received floats into tensors of the right shape.
// Part sizes are symbolic in the plan (a shape with -1 on the token axis = C_q); every rank derives them from partition.ts.
import * as tf from "@tensorflow/tfjs-core";
import type { StepOf } from "../../../compiler/plan/schema.ts";
import type { CommHandle, Communicator } from "../../comm/communicator.ts";
import type { ExecCtx, Handler } from "../context.ts";
import { ExecError, empty } from "../env.ts";

type Start = StepOf<"comm_start">;
type Started = { handle: CommHandle; unpack: (d: Float32Array) => tf.Tensor[] };

function group(x: ExecCtx, s: Start): Communicator {
  return x.comms[s.group];
}

/** The shape of SP rank q's tensor for part i: the plan's shape with the token axis (-1) set to C_q. */
function partShape(s: Start, x: ExecCtx, i: number, q: number): number[] {
  // per-token sizes exist only in the SP group (the others exchange weight-shaped data)
  const tokens = s.group === "sp" ? x.info.rankTokens[q]! : 0;
  return s.parts[i]!.shape.map((d) => (d === -1 ? tokens : d));
}

/** Elements SP rank q contributes for part i. */
function partCount(s: Start, x: ExecCtx, i: number, q: number): number {
  return partShape(s, x, i, q).reduce((a, b) => a * b, 1);
}

function concatAlong(pieces: tf.Tensor[], axis: number, like: readonly number[]): tf.Tensor {
  const nonEmpty = pieces.filter((p) => p.size > 0);
  if (nonEmpty.length === 0) {
    const shape = [...like];
    shape[axis] = 0;
    return tf.zeros(shape);
  }
  return nonEmpty.length === 1 ? tf.clone(nonEmpty[0]!) : tf.concat(nonEmpty, axis);
}

/** The tensors' values back to back (async reads: the webgpu backend has no synchronous download). */
async function flatConcat(ts: readonly tf.Tensor[]): Promise<Float32Array> {
  const total = ts.reduce((n, t) => n + t.size, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const t of ts) {
    out.set((await t.data()), off);
    off += t.size;
  }
  return out;
}

/** Shapes the results will have: the sent tensors' shapes, or (receive-only send_recv) derived from the parts. */
function sentShapes(x: ExecCtx, s: Start): number[][] {
  return s.in.map((n) => x.env.get(n).shape);
}

async function startAllGather(s: Start, x: ExecCtx): Promise<Started> {
  const W = x.info.W;
  const ins = s.in.map((n) => x.env.get(n));
  const shapes = ins.map((t) => t.shape);
  const counts = Array.from({ length: W }, (_, q) => s.parts.reduce((a, _p, i) => a + partCount(s, x, i, q), 0));
  const handle = group(x, s).startAllGather(await flatConcat(ins), s.id, counts);
  const unpack = (d: Float32Array): tf.Tensor[] => {
    const pieces: tf.Tensor[][] = shapes.map(() => []);
    let off = 0;
    for (let q = 0; q < W; q++)
      for (let i = 0; i < shapes.length; i++) {
        const c = partCount(s, x, i, q);
        pieces[i]!.push(tf.tensor(d.subarray(off, off + c), partShape(s, x, i, q)));
        off += c;
      }
    return pieces.map((ps, i) => {
      const r = concatAlong(ps, s.parts[i]!.axis, shapes[i]!);
      ps.forEach((p) => p.dispose());
      return r;
    });
  };
  return { handle, unpack };
}

async function startReduceScatter(s: Start, x: ExecCtx): Promise<Started> {
  const W = x.info.W;
  const me = x.info.spIndex;
  const ins = s.in.map((n) => x.env.get(n));
  const shapes = ins.map((t) => t.shape);
  // rank-major send buffer: for rank r, every tensor's slice r along its axis
  const slices: tf.Tensor[] = [];
  const offsets = ins.map(() => 0);
  for (let r = 0; r < W; r++)
    ins.forEach((t, i) => {
      const axis = s.parts[i]!.axis;
      const ps = partShape(s, x, i, r);
      const begin = shapes[i]!.map((_, j) => (j === axis ? offsets[i]! : 0));
      slices.push(tf.slice(t, begin, ps));
      offsets[i]! += ps[axis]!;
    });
  const counts = Array.from({ length: W }, (_, q) => s.parts.reduce((a, _p, i) => a + partCount(s, x, i, q), 0));
  const data = await flatConcat(slices);
  slices.forEach((t) => t.dispose());
  const handle = group(x, s).startReduceScatter(data, s.id, counts);
  const unpack = (d: Float32Array): tf.Tensor[] => {
    let off = 0;
    return shapes.map((sh, i) => {
      const c = partCount(s, x, i, me);
      const t = tf.tensor(d.slice(off, off + c), partShape(s, x, i, me));
      off += c;
      return t;
    });
  };
  return { handle, unpack };
}

async function startAllReduce(s: Start, x: ExecCtx): Promise<Started> {
  const shapes = sentShapes(x, s);
  const handle = group(x, s).startAllReduce(await flatConcat(s.in.map((n) => x.env.get(n))), s.id);
  const unpack = (d: Float32Array): tf.Tensor[] => {
    let off = 0;
    return shapes.map((sh) => {
      const c = sh.reduce((a, b) => a * b, 1);
      const t = tf.tensor(d.slice(off, off + c), sh);
      off += c;
      return t;
    });
  };
  return { handle, unpack };
}

async function startAllToAll(s: Start, x: ExecCtx): Promise<Started> {
  const a = s.a2a;
  if (a === undefined || s.in.length !== 1) throw new ExecError(`${s.id}: all_to_all needs a2a attrs and one input`);
  const W = x.info.W;
  const me = x.info.spIndex;
  const t = x.env.get(s.in[0]!);
  const { batch: B, heads: n, dim: d } = a;
  const nw = n / W;
  const C = x.info.rankTokens;
  if (a.direction === "seq_to_heads") {
    // [B*n, C, d] -> parts to rank j: heads j*nw .. of each sequence, [B, nw, C, d]
    const send = tf.tidy(() => tf.transpose(tf.reshape(t, [B, W, nw, C[me]!, d]), [1, 0, 2, 3, 4]));
    const data = (await send.data()) as Float32Array;
    send.dispose();
    const sendCounts = Array.from({ length: W }, () => B * nw * C[me]! * d);
    const recvCounts = Array.from({ length: W }, (_, q) => B * nw * C[q]! * d);
    const handle = group(x, s).startAllToAll(data, s.id, sendCounts, recvCounts);
    const unpack = (buf: Float32Array): tf.Tensor[] => {
      let off = 0;
      const pieces: tf.Tensor[] = [];
      for (let q = 0; q < W; q++) {
        const c = recvCounts[q]!;
        if (c > 0) pieces.push(tf.tensor(buf.subarray(off, off + c), [B, nw, C[q]!, d]));
        off += c;
      }
      const r = tf.tidy(() => tf.reshape(pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 2), [B * nw, x.info.N, d]));
      pieces.forEach((p) => p.dispose());
      return [r];
    };
    return { handle, unpack };
  }
  // heads_to_seq: [B*nw, N, d] -> to rank j its tokens [B, nw, C_j, d]; receive [B, nw, C_me, d] from each q
  const t4 = tf.reshape(t, [B, nw, x.info.N, d]);
  const parts: tf.Tensor[] = [];
  let tok = 0;
  for (let j = 0; j < W; j++) {
    parts.push(tf.slice(t4, [0, 0, tok, 0], [B, nw, C[j]!, d]));
    tok += C[j]!;
  }
  const data = await flatConcat(parts);
  parts.forEach((p) => p.dispose());
  t4.dispose();
  const sendCounts = Array.from({ length: W }, (_, j) => B * nw * C[j]! * d);
  const recvCounts = Array.from({ length: W }, () => B * nw * C[me]! * d);
  const handle = group(x, s).startAllToAll(data, s.id, sendCounts, recvCounts);
  const unpack = (buf: Float32Array): tf.Tensor[] => {
    const r = tf.tidy(() => {
      // [W(q = head group), B, nw, C, d] -> [B, W, nw, C, d] -> [B*n, C, d]
      const g = tf.tensor(buf, [W, B, nw, C[me]!, d]);
      return tf.reshape(tf.transpose(g, [1, 0, 2, 3, 4]), [B * n, C[me]!, d]);
    });
    return [r];
  };
  return { handle, unpack };
}

function peerRank(x: ExecCtx, peer: "prev" | "next" | null | undefined, wrap: boolean): number | null {
  if (peer === null || peer === undefined) return null;
  const r = x.info.spIndex + (peer === "next" ? 1 : -1);
  if (r >= 0 && r < x.info.W) return r;
  return wrap ? (r + x.info.W) % x.info.W : null;
}

async function startSendRecv(s: Start, x: ExecCtx): Promise<Started> {
  const W = x.info.W;
  const wrap = s.wrap === true;
  const to = peerRank(x, s.sendTo, wrap);
  const from = peerRank(x, s.recvFrom, wrap);
  const hop = s.hop ?? 1;
  const me = x.info.spIndex;
  // the received data originated hop ranks away in the direction it came from
  const origin = from === null ? null : (((s.recvFrom === "prev" ? me - hop : me + hop) % W) + W) % W;
  const ins = s.in.map((n) => x.env.get(n));
  const counts = s.parts.map((_p, i) => (origin === null ? 0 : partCount(s, x, i, origin)));
  const recvCount = counts.reduce((a, b) => a + b, 0);
  const data = to === null ? null : await flatConcat(ins);
  // a chain's send and the matching receive are different steps: label them by layer and phase so the
  // transport's label check pairs them; a ring hop (send and receive in one step) keeps its step id
  const oneWay = s.sendTo === null || s.sendTo === undefined || s.recvFrom === null || s.recvFrom === undefined;
  const label = oneWay ? `chain L${s.layer ?? "-"} ${s.phase}` : s.id;
  const handle = group(x, s).startSendRecv(data, to, from, recvCount, label);
  const unpack = (d: Float32Array): tf.Tensor[] => {
    if (s.recvFrom === null || s.recvFrom === undefined) return []; // send only
    if (from === null) return s.parts.map(() => empty()); // edge rank of a chain: nothing came
    let off = 0;
    return s.parts.map((_p, i) => {
      const c = counts[i]!;
      const t = tf.tensor(d.slice(off, off + c), partShape(s, x, i, origin!));
      off += c;
      return t;
    });
  };
  return { handle, unpack };
}

/** A gradient all-reduce (grad-sync.ts), wherever overlap put its start. */
const isGradSync = (s: { collective: string; phase: string }): boolean => s.collective === "all_reduce" && s.phase === "grad_sync";

export const comm = {
  comm_start: async (s, x) => {
    const acc = x.gradAccum ?? null;
    if (acc !== null && isGradSync(s)) {
      for (const name of s.in) {
        const local = x.env.get(name);
        const sum = acc.sums.get(name);
        if (acc.mode === "hold") {
          acc.sums.set(name, sum === undefined ? tf.clone(local) : tf.add(sum, local));
          sum?.dispose();
        } else if (sum !== undefined) {
          x.env.set(name, tf.add(local, sum));
          acc.sums.delete(name);
          sum.dispose();
        }
      }
      if (acc.mode === "hold") return; // no_sync: this micro-batch's gradients stay here
    }
    const t0 = performance.now();
    const started = await (
      s.collective === "all_gather"
        ? startAllGather(s, x)
        : s.collective === "reduce_scatter"
          ? startReduceScatter(s, x)
          : s.collective === "all_reduce"
            ? startAllReduce(s, x)
            : s.collective === "all_to_all"
              ? startAllToAll(s, x)
              : startSendRecv(s, x));
    x.pending.set(s.handle, { handle: started.handle, unpack: started.unpack, stepId: s.id, t0 });
  },
  comm_wait: async (s, x) => {
    if (x.gradAccum?.mode === "hold" && isGradSync(s)) return;
    const p = x.pending.get(s.handle);
    if (p === undefined) throw new ExecError(`${s.id}: comm_wait for '${s.handle}' that was never started`);
    x.pending.delete(s.handle);
    const data = await p.handle.wait();
    const outs = p.unpack(data);
    if (outs.length !== s.out.length)
      throw new ExecError(`${s.id}: collective '${s.handle}' produced ${outs.length} buffers, the step names ${s.out.length}`);
    outs.forEach((t, i) => x.env.set(s.out[i]!, t));
  },
} satisfies { [K in "comm_start" | "comm_wait"]: Handler<K> };
