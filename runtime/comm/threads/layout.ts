// Shared-memory layout of one group of the worker-thread transport: an Int32 control block (a ring of
// collective slots with one record per rank, point-to-point mailboxes) and a Float32 arena.
import type { CollectiveKind } from "../communicator.ts";

/** Everything a rank needs to attach to a group; plain data + SharedArrayBuffers (goes in workerData). */
export interface GroupShared {
  /** "world" | "sp" | "dp" */
  readonly name: string;
  /** world ranks of the members, in group-rank order */
  readonly members: readonly number[];
  /** collective slots in the ring: how many collectives of this group may be in flight at once */
  readonly slots: number;
  /** mailbox entries per ordered pair: how many sends to one peer may be unreceived at once */
  readonly mailbox: number;
  /** per-rank arena capacity in float32 elements */
  readonly capacityFloats: number;
  readonly control: SharedArrayBuffer;
  /** the link emulator's stamp board (launchRanks option `link`), else absent */
  readonly linkBoard?: SharedArrayBuffer;
  /** members.length regions of capacityFloats each; region r is written only by group rank r */
  readonly arena: SharedArrayBuffer;
}

export const KINDS: readonly CollectiveKind[] = [
  "all_gather",
  "reduce_scatter",
  "all_reduce",
  "all_to_all",
  "send_recv",
  "barrier",
];
export const kindCode = (k: CollectiveKind): number => KINDS.indexOf(k);
export const kindName = (c: number): string => KINDS[c] ?? `kind#${c}`;

/** Label text kept in shared memory for error messages (longer labels are cut; the hash is of the full label). */
export const LABEL_CHARS = 48;
const LABEL_INTS = LABEL_CHARS / 2;

const HEADER = 4;

/** Fields of a slot record (one per slot per rank), offsets in Int32 words. */
export const F = {
  /** seq + 1 once this rank's contribution is in the arena */
  PUB: 0,
  /** seq + 1 once this rank's reduced part is in the arena (all_reduce second phase) */
  PH2: 1,
  /** seq + 1 once this rank has read everything it needs from the slot */
  DONE: 2,
  KIND: 3,
  /** element offset of the contribution inside the rank's region */
  OFF: 4,
  LEN: 5,
  COUNTS_HASH: 6,
  LABEL_HASH: 7,
  LABEL_LEN: 8,
  LABEL: 9,
  /** all_to_all: size + 1 element offsets of the parts inside the contribution */
  A2A: 9 + LABEL_INTS,
} as const;

/** Fields of a mailbox (one per ordered pair src -> dst), offsets in Int32 words. */
export const M = { SENT: 0, RECVD: 1, ENTRIES: 2 } as const;
/** Fields of one mailbox entry. */
export const E = { OFF: 0, LEN: 1, LABEL_HASH: 2, SIZE: 3 } as const;

/** Index arithmetic for one group's control block. */
export class Layout {
  readonly rec: number;
  readonly chan: number;
  readonly p2pBase: number;
  readonly total: number;

  constructor(
    readonly size: number,
    readonly slots: number,
    readonly mailbox: number,
  ) {
    this.rec = F.A2A + size + 1;
    this.chan = M.ENTRIES + mailbox * E.SIZE;
    this.p2pBase = HEADER + slots * size * this.rec;
    this.total = this.p2pBase + size * size * this.chan;
  }

  /** Int32 index of field `f` of (slot, rank)'s record. */
  at(slot: number, rank: number, f: number): number {
    return HEADER + (slot * this.size + rank) * this.rec + f;
  }

  /** Int32 index of the mailbox src -> dst. */
  mailboxAt(src: number, dst: number): number {
    return this.p2pBase + (src * this.size + dst) * this.chan;
  }

  /** Int32 index of entry `n` (mod mailbox) of the mailbox starting at `box`. */
  entryAt(box: number, n: number): number {
    return box + M.ENTRIES + (n % this.mailbox) * E.SIZE;
  }
}

/** Allocate a group's shared state (called once by the launcher). */
export function createGroup(
  name: string,
  members: readonly number[],
  capacityBytes: number,
  slots = 16,
  mailbox = 8,
): GroupShared {
  const layout = new Layout(members.length, slots, mailbox);
  const capacityFloats = Math.ceil(capacityBytes / 4);
  return {
    name,
    members: [...members],
    slots,
    mailbox,
    capacityFloats,
    control: new SharedArrayBuffer(layout.total * 4),
    arena: new SharedArrayBuffer(members.length * capacityFloats * 4),
  };
}

/** Write `label` (cut to LABEL_CHARS) at Int32 index `lenAt` (length) and `lenAt + 1` (UTF-16 text). */
export function writeLabel(i32: Int32Array, u16: Uint16Array, lenAt: number, label: string): void {
  const n = Math.min(label.length, LABEL_CHARS);
  const base = (lenAt + 1) * 2;
  for (let i = 0; i < n; i++) u16[base + i] = label.charCodeAt(i);
  i32[lenAt] = n;
}

export function readLabel(i32: Int32Array, u16: Uint16Array, lenAt: number): string {
  const n = Math.min(Math.max(i32[lenAt] ?? 0, 0), LABEL_CHARS);
  const base = (lenAt + 1) * 2;
  return String.fromCharCode(...u16.subarray(base, base + n));
}
