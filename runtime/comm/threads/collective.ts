// The slot protocol of group collectives: publish a contribution into the slot ring, then advance
// (check agreement, read the peers' parts straight from the arena into the result, release the slot).
import type { CollectiveKind } from "../communicator.ts";
import { hashString } from "../parts.ts";
import { F, kindCode, kindName, readLabel, writeLabel } from "./layout.ts";
import type { GroupView } from "./group-view.ts";

export interface CollOp {
  readonly kind: CollectiveKind;
  readonly label: string;
  readonly seq: number;
  /** part lengths per group rank: all_gather parts, reduce_scatter / all_reduce parts, all_to_all receive counts */
  readonly counts: readonly number[];
  readonly offsets: readonly number[];
  /** agreement check across ranks (0 when the counts legitimately differ per rank) */
  readonly countsHash: number;
  readonly result: Float32Array;
  /** bytes received from others, added to the counters on completion */
  readonly bytes: number;
  /** 0: waiting for contributions, 1: all_reduce waiting for reduced parts, 2: done */
  phase: 0 | 1 | 2;
}

const slotOf = (g: GroupView, op: CollOp): number => op.seq % g.lay.slots;

/** Write this rank's record for op (contribution already at `off` in its region) and publish it. */
export function publishCollective(
  g: GroupView,
  op: CollOp,
  off: number,
  len: number,
  a2aOffsets: readonly number[] | null,
): void {
  const s = slotOf(g, op);
  const at = (f: number): number => g.lay.at(s, g.rank, f);
  g.ctrl[at(F.KIND)] = kindCode(op.kind);
  g.ctrl[at(F.OFF)] = off;
  g.ctrl[at(F.LEN)] = len;
  g.ctrl[at(F.COUNTS_HASH)] = op.countsHash;
  g.ctrl[at(F.LABEL_HASH)] = hashString(op.label);
  writeLabel(g.ctrl, g.u16, at(F.LABEL_LEN), op.label);
  if (a2aOffsets !== null) a2aOffsets.forEach((o, j) => (g.ctrl[at(F.A2A) + j] = o));
  Atomics.store(g.ctrl, at(F.PUB), op.seq + 1);
  g.ring();
}

/** Whether every rank has finished reading the slot's previous occupant (seq - slots). */
export function slotFree(g: GroupView, seq: number): boolean {
  const prev = seq - g.lay.slots;
  if (prev < 0) return true;
  for (let q = 0; q < g.size; q++)
    if (Atomics.load(g.ctrl, g.lay.at(prev % g.lay.slots, q, F.DONE)) < prev + 1) return false;
  return true;
}

/** Whether every rank has finished reading collective `seq` (its arena space may be reused). */
export function collectiveRead(g: GroupView, seq: number): boolean {
  const s = seq % g.lay.slots;
  for (let q = 0; q < g.size; q++) if (Atomics.load(g.ctrl, g.lay.at(s, q, F.DONE)) < seq + 1) return false;
  return true;
}

function allAt(g: GroupView, op: CollOp, f: number): boolean {
  const s = slotOf(g, op);
  for (let q = 0; q < g.size; q++) if (Atomics.load(g.ctrl, g.lay.at(s, q, f)) !== op.seq + 1) return false;
  return true;
}

/** Ranks that have not reached the op's current phase, for timeout messages. */
export function describeMissing(g: GroupView, op: CollOp): string {
  const s = slotOf(g, op);
  const f = op.phase === 0 ? F.PUB : F.PH2;
  const late = [];
  for (let q = 0; q < g.size; q++) if (Atomics.load(g.ctrl, g.lay.at(s, q, f)) !== op.seq + 1) late.push(g.peer(q));
  const step = op.phase === 0 ? "started it" : "published its reduced part (it must wait() too)";
  return `${late.join(", ")} ${late.length === 1 ? "has" : "have"} not ${step}`;
}

function checkAgreement(g: GroupView, op: CollOp): void {
  const s = slotOf(g, op);
  const mine = hashString(op.label);
  for (let q = 0; q < g.size; q++) {
    const at = (f: number): number => g.lay.at(s, q, f);
    const kind = g.ctrl[at(F.KIND)]!;
    const sameLabel = !g.opts.checkLabels || g.ctrl[at(F.LABEL_HASH)] === mine;
    if (kind !== kindCode(op.kind) || !sameLabel) {
      const theirs = `${kindName(kind)} '${readLabel(g.ctrl, g.u16, at(F.LABEL_LEN))}'`;
      throw g.error(
        op.label,
        `collective #${op.seq} of ${g.name} differs across ranks: this rank is at ${op.kind} '${op.label}', ${g.peer(q)} is at ${theirs}` +
          (kind === kindCode(op.kind) ? " (labels differ; launchRanks option checkLabels: false allows that)" : ""),
      );
    }
    if (op.countsHash !== 0 && g.ctrl[at(F.COUNTS_HASH)] !== op.countsHash) {
      throw g.error(
        op.label,
        `${op.kind} '${op.label}': ${g.peer(q)} passed different counts or lengths than this rank`,
      );
    }
  }
}

/** Sum part `rank` of every contribution, in group-rank order, into `dst`. */
function reducePart(g: GroupView, op: CollOp, dst: Float32Array): void {
  const s = slotOf(g, op);
  const partOff = op.offsets[g.rank]!;
  const n = dst.length;
  for (let q = 0; q < g.size; q++) {
    const src = g.regionAt(q, g.ctrl[g.lay.at(s, q, F.OFF)]! + partOff);
    if (q === 0) dst.set(g.arena.subarray(src, src + n));
    else {
      const a = g.arena;
      for (let i = 0; i < n; i++) dst[i]! += a[src + i]!;
    }
  }
}

/** Copy part `partOf(q)` of each peer q's contribution into the result at offsets[q]. */
function gatherParts(g: GroupView, op: CollOp, partStart: (q: number) => number): void {
  const s = slotOf(g, op);
  for (let q = 0; q < g.size; q++) {
    if (q === g.rank) continue;
    const n = op.counts[q]!;
    const src = g.regionAt(q, g.ctrl[g.lay.at(s, q, F.OFF)]! + partStart(q));
    op.result.set(g.arena.subarray(src, src + n), op.offsets[q]);
  }
}

function finish(g: GroupView, op: CollOp): void {
  Atomics.store(g.ctrl, g.lay.at(slotOf(g, op), g.rank, F.DONE), op.seq + 1);
  op.phase = 2;
  g.ring();
}

/** Move op forward as far as the shared state allows; true once it is done. Never blocks. */
export function advanceCollective(g: GroupView, op: CollOp): boolean {
  if (op.phase === 0) {
    if (!allAt(g, op, F.PUB)) return false;
    checkAgreement(g, op);
    const s = slotOf(g, op);
    switch (op.kind) {
      case "all_gather":
        gatherParts(g, op, () => 0);
        break;
      case "reduce_scatter":
        reducePart(g, op, op.result);
        break;
      case "all_reduce": {
        // Reduce my part, publish it in place (peers read only their own part of my contribution).
        const mine = op.result.subarray(op.offsets[g.rank], op.offsets[g.rank + 1]);
        reducePart(g, op, mine);
        g.arena.set(mine, g.regionAt(g.rank, g.ctrl[g.lay.at(s, g.rank, F.OFF)]! + op.offsets[g.rank]!));
        Atomics.store(g.ctrl, g.lay.at(s, g.rank, F.PH2), op.seq + 1);
        g.ring();
        op.phase = 1;
        return advanceCollective(g, op);
      }
      case "all_to_all":
        for (let q = 0; q < g.size; q++) {
          const base = g.lay.at(s, q, F.A2A);
          const sent = g.ctrl[base + g.rank + 1]! - g.ctrl[base + g.rank]!;
          if (q !== g.rank && sent !== op.counts[q]) {
            throw g.error(
              op.label,
              `all_to_all '${op.label}': ${g.peer(q)} sends ${sent} elements, this rank expects ${op.counts[q]}`,
            );
          }
        }
        gatherParts(g, op, (q) => g.ctrl[g.lay.at(s, q, F.A2A) + g.rank]!);
        break;
      case "barrier":
        break;
      case "send_recv":
        throw g.error(op.label, "send_recv is not a slot collective");
    }
    finish(g, op);
    return true;
  }
  if (op.phase === 1) {
    if (!allAt(g, op, F.PH2)) return false;
    gatherParts(g, op, (q) => op.offsets[q]!);
    finish(g, op);
    return true;
  }
  return true;
}
