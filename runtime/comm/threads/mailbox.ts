// Point-to-point messages of the worker-thread transport: one FIFO mailbox per ordered pair of group
// ranks (sent / received counters + a small ring of entries pointing into the sender's arena region).
import { hashString } from "../parts.ts";
import { E, M } from "./layout.ts";
import type { GroupView } from "./group-view.ts";

export interface RecvOp {
  readonly label: string;
  readonly from: number;
  /** index of the message in the from -> me mailbox */
  readonly index: number;
  readonly result: Float32Array;
  done: boolean;
}

/** Whether the mailbox me -> to has room for message n. */
export function mailboxRoom(g: GroupView, to: number, n: number): boolean {
  return n - Atomics.load(g.ctrl, g.lay.mailboxAt(g.rank, to) + M.RECVD) < g.lay.mailbox;
}

/** Whether `to` has consumed message n of me -> to (its arena space may be reused). */
export function messageRead(g: GroupView, to: number, n: number): boolean {
  return Atomics.load(g.ctrl, g.lay.mailboxAt(g.rank, to) + M.RECVD) >= n + 1;
}

/** Post message n (already at `off` in my region) into the mailbox me -> to. */
export function postMessage(g: GroupView, to: number, n: number, off: number, len: number, label: string): void {
  const box = g.lay.mailboxAt(g.rank, to);
  const e = g.lay.entryAt(box, n);
  g.ctrl[e + E.OFF] = off;
  g.ctrl[e + E.LEN] = len;
  g.ctrl[e + E.LABEL_HASH] = hashString(label);
  Atomics.store(g.ctrl, box + M.SENT, n + 1);
  g.ring();
}

/** Receive op's message if it has arrived (earlier messages of the same sender must be taken first). */
export function advanceRecv(g: GroupView, op: RecvOp): boolean {
  if (op.done) return true;
  const box = g.lay.mailboxAt(op.from, g.rank);
  if (Atomics.load(g.ctrl, box + M.SENT) <= op.index) return false;
  const e = g.lay.entryAt(box, op.index);
  const len = g.ctrl[e + E.LEN]!;
  if (len !== op.result.length) {
    throw g.error(
      op.label,
      `send_recv '${op.label}': ${g.peer(op.from)} sent ${len} elements, this rank expects ${op.result.length}`,
    );
  }
  if (g.opts.checkLabels && g.ctrl[e + E.LABEL_HASH] !== hashString(op.label)) {
    throw g.error(
      op.label,
      `send_recv '${op.label}': message ${op.index} from ${g.peer(op.from)} was sent under another label (launchRanks option checkLabels: false allows that)`,
    );
  }
  const src = g.regionAt(op.from, g.ctrl[e + E.OFF]!);
  op.result.set(g.arena.subarray(src, src + len));
  Atomics.store(g.ctrl, box + M.RECVD, op.index + 1);
  g.ring();
  op.done = true;
  return true;
}

export function describeRecv(g: GroupView, op: RecvOp): string {
  const sent = Atomics.load(g.ctrl, g.lay.mailboxAt(op.from, g.rank) + M.SENT);
  return `${g.peer(op.from)} has sent ${sent} message(s) to this rank, message ${op.index} has not arrived`;
}
