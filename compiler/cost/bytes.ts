// Bytes a rank RECEIVES for one collective (float32), from the step's symbolic sizes and the partition.
// The runtime checks its measured byte counters against these, rank by rank (uneven chunks differ).
// Conventions (brief + ALGORITHM.md section 5): all_gather = the other W-1 parts; reduce_scatter = W-1
// partial copies of its own part; all_reduce = reduce-scatter + all-gather (about 2(W-1)/W of the vector, exact per rank);
// all_to_all = the W-1 parts it receives; send_recv = what it receives.
import { TOKEN_AXIS, type CommPart, type Collective, type Group, type Peer, type AllToAll, type Mesh } from "../plan/schema.ts";

const F32 = 4;

/** The sizing attributes of a collective (a comm_start step or a collective IR node). */
export interface CommSizing {
  readonly collective: Collective;
  readonly group: Group;
  readonly parts: readonly CommPart[];
  readonly sendTo?: Peer;
  readonly recvFrom?: Peer;
  readonly wrap?: boolean;
  readonly hop?: number;
  readonly a2a?: AllToAll;
}

/** What byte counts depend on besides the step: the mesh and each SP rank's token count. */
export interface SizingCtx {
  readonly mesh: Mesh;
  readonly rankTokens: readonly number[];
}

export function groupSize(group: Group, mesh: Mesh): number {
  return group === "sp" ? mesh.sp : group === "dp" ? mesh.dp : mesh.world;
}

/** One part's shape for SP rank q: the token axis (-1) becomes C_q. */
export function partShape(p: CommPart, tokens: number): number[] {
  return p.shape.map((d) => (d === TOKEN_AXIS ? tokens : d));
}

/** Elements of rank q's contribution, summed over the parts. Per-token sizes only exist in the SP group. */
export function partsElems(parts: readonly CommPart[], c: CommSizing, ctx: SizingCtx, q: number): number {
  const tokens = c.group === "sp" ? (ctx.rankTokens[q] ?? 0) : 0;
  let s = 0;
  for (const p of parts) {
    let e = 1;
    for (const d of p.shape) e *= d === TOKEN_AXIS ? tokens : d;
    s += e;
  }
  return s;
}

/** The rank a send_recv's received data originated at, or null when nothing is received. */
export function sendRecvOrigin(c: CommSizing, size: number, rank: number): number | null {
  if (c.recvFrom === undefined || c.recvFrom === null) return null;
  const hop = c.hop ?? 1;
  const raw = c.recvFrom === "prev" ? rank - hop : rank + hop;
  if (c.wrap === true) return ((raw % size) + size) % size;
  return raw >= 0 && raw < size ? raw : null;
}

/**
 * Elements of every rank's contribution (all parts), rank order: the `counts` argument of the
 * Communicator's all_gather / reduce_scatter for uneven chunks.
 */
export function rankCounts(c: CommSizing, ctx: SizingCtx): number[] {
  return Array.from({ length: groupSize(c.group, ctx.mesh) }, (_, q) => partsElems(c.parts, c, ctx, q));
}

/** Bytes `rank` (its index inside the collective's group) receives. */
export function bytesReceived(c: CommSizing, ctx: SizingCtx, rank: number): number {
  const size = groupSize(c.group, ctx.mesh);
  if (size <= 1) return 0;
  switch (c.collective) {
    case "all_gather": {
      let s = 0;
      for (let q = 0; q < size; q++) if (q !== rank) s += partsElems(c.parts, c, ctx, q);
      return s * F32;
    }
    case "reduce_scatter":
      return (size - 1) * partsElems(c.parts, c, ctx, rank) * F32;
    case "all_reduce": {
      // reduce-scatter then all-gather over `size` parts, the first n % size one element longer:
      // this rank receives (size-1) partial copies of its part, then every other part once
      const n = partsElems(c.parts, c, ctx, rank);
      const own = Math.floor(n / size) + (rank < n % size ? 1 : 0);
      return ((size - 1) * own + (n - own)) * F32;
    }
    case "all_to_all": {
      const a = c.a2a;
      if (a === undefined) return 0;
      const per = (a.batch * a.heads * a.dim) / size; // elements per token of one rank's head share
      let s = 0;
      for (let q = 0; q < size; q++) {
        if (q === rank) continue;
        const tokens = a.direction === "seq_to_heads" ? (ctx.rankTokens[q] ?? 0) : (ctx.rankTokens[rank] ?? 0);
        s += per * tokens;
      }
      return s * F32;
    }
    case "send_recv": {
      const origin = sendRecvOrigin(c, size, rank);
      return origin === null ? 0 : partsElems(c.parts, c, ctx, origin) * F32;
    }
  }
}

/** Bytes per rank for one collective: the max over the ranks of its group. */
export function maxBytesReceived(c: CommSizing, ctx: SizingCtx): number {
  const size = groupSize(c.group, ctx.mesh);
  if (c.collective === "all_gather" && size > 1) {
    // every part but its own: the max is the total less the smallest part (O(W), not O(W^2))
    const e = Array.from({ length: size }, (_, q) => partsElems(c.parts, c, ctx, q));
    return (e.reduce((a, b) => a + b, 0) - Math.min(...e)) * F32;
  }
  let m = 0;
  for (let r = 0; r < size; r++) m = Math.max(m, bytesReceived(c, ctx, r));
  return m;
}

/** The closed forms of ALGORITHM.md section 5 from the spec alone (what tests hold these counts to). */
export { expectedLayerBytes, expectedGradSyncBytes } from "./formulas.ts";
