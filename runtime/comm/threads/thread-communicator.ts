// Communicator for ranks that are worker threads of one process: contributions go through a shared
// arena (SharedArrayBuffer), blocking uses Atomics.wait, and every blocked call drives all pending ops.
import {
  zeroByteCounts,
  type ByteCounts,
  type CollectiveKind,
  type CommHandle,
  type Communicator,
} from "../communicator.ts";
import { allReduceCounts, badPeer, hashInts, offsetsOf, receivedBytes, resolveCounts } from "../parts.ts";
import {
  advanceCollective,
  collectiveRead,
  describeMissing,
  publishCollective,
  slotFree,
  type CollOp,
} from "./collective.ts";
import { GroupView, type TransportOptions } from "./group-view.ts";
import type { JobView } from "./job.ts";
import type { GroupShared } from "./layout.ts";
import { advanceRecv, describeRecv, mailboxRoom, messageRead, postMessage, type RecvOp } from "./mailbox.ts";
import { RingArena } from "./arena.ts";
import { Waiter } from "./waiter.ts";

type Pending = { type: "coll"; op: CollOp } | { type: "recv"; op: RecvOp };

export class ThreadCommunicator implements Communicator {
  readonly rank: number;
  readonly size: number;
  private readonly g: GroupView;
  private readonly arena: RingArena;
  private seq = 0;
  private readonly sent: number[];
  private readonly received: number[];
  private pending: Pending[] = [];
  private bytes: ByteCounts = zeroByteCounts();

  /** `waiter`: the rank's one Waiter; pass the same to all communicators of a rank (see Waiter.add). */
  constructor(
    shared: GroupShared,
    worldRank: number,
    private readonly job: JobView,
    opts: TransportOptions,
    waiter: Waiter = new Waiter(job, worldRank, opts.timeoutMs),
  ) {
    this.g = new GroupView(shared, worldRank, job, opts, waiter);
    waiter.add(() => this.progress());
    this.rank = this.g.rank;
    this.size = this.g.size;
    this.arena = new RingArena(this.g.cap);
    this.sent = new Array<number>(this.size).fill(0);
    this.received = new Array<number>(this.size).fill(0);
  }

  get name(): string {
    return this.g.name;
  }

  // ---- collectives -------------------------------------------------------------------------

  startAllGather(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = this.counts("all_gather", label, counts, data.length);
    this.expectLength("all_gather", label, data.length, c[this.rank]!);
    const op = this.collective("all_gather", label, c, hashInts(c), receivedBytes.allGather(c, this.rank));
    op.result.set(data, op.offsets[this.rank]);
    return this.publish(op, data, null);
  }

  startReduceScatter(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const equal = data.length / this.size;
    if (counts === undefined && !Number.isInteger(equal)) {
      throw this.g.error(
        label,
        `reduce_scatter '${label}': ${data.length} elements do not split into ${this.size} equal parts; pass counts`,
      );
    }
    const c = this.counts("reduce_scatter", label, counts, equal);
    this.expectLength(
      "reduce_scatter",
      label,
      data.length,
      c.reduce((a, b) => a + b, 0),
    );
    const op = this.collective(
      "reduce_scatter",
      label,
      c,
      hashInts(c),
      receivedBytes.reduceScatter(c, this.rank),
      c[this.rank],
    );
    return this.publish(op, data, null);
  }

  startAllReduce(data: Float32Array, label: string): CommHandle {
    const c = allReduceCounts(data.length, this.size);
    const op = this.collective(
      "all_reduce",
      label,
      c,
      hashInts([data.length]),
      receivedBytes.allReduce(data.length, this.size, this.rank),
    );
    return this.publish(op, data, null);
  }

  startAllToAll(
    data: Float32Array,
    label: string,
    sendCounts?: readonly number[],
    recvCounts?: readonly number[],
  ): CommHandle {
    const equal = data.length / this.size;
    if (sendCounts === undefined && !Number.isInteger(equal)) {
      throw this.g.error(
        label,
        `all_to_all '${label}': ${data.length} elements do not split into ${this.size} equal parts; pass sendCounts`,
      );
    }
    const s = this.counts("all_to_all", label, sendCounts, equal);
    const r = this.counts("all_to_all", label, recvCounts, equal);
    this.expectLength(
      "all_to_all",
      label,
      data.length,
      s.reduce((a, b) => a + b, 0),
    );
    if (s[this.rank] !== r[this.rank]) {
      throw this.g.error(
        label,
        `all_to_all '${label}': sends ${s[this.rank]} elements to itself but expects ${r[this.rank]}`,
      );
    }
    const sendOff = offsetsOf(s);
    const op = this.collective("all_to_all", label, r, 0, receivedBytes.allToAll(r, this.rank));
    op.result.set(data.subarray(sendOff[this.rank], sendOff[this.rank + 1]), op.offsets[this.rank]);
    return this.publish(op, data, sendOff);
  }

  barrier(label: string): Promise<void> {
    const op = this.collective("barrier", label, [], 0, 0, 0);
    return this.publish(op, new Float32Array(0), null)
      .wait()
      .then(() => undefined);
  }

  // ---- point to point ----------------------------------------------------------------------

  startSendRecv(
    data: Float32Array | null,
    to: number | null,
    from: number | null,
    recvCount: number,
    label: string,
  ): CommHandle {
    const bad = badPeer(to, from, this.size);
    if (bad !== null) throw this.g.error(label, `send_recv '${label}': ${bad} is not a rank of ${this.name} (size ${this.size})`);
    this.job.setActivity(this.g.worldRank, "start", "send_recv", this.name, label);
    if (to !== null) {
      const msg = data ?? new Float32Array(0);
      const n = this.sent[to]!++;
      this.block(
        () => mailboxRoom(this.g, to, n),
        label,
        "send_recv",
        () => `mailbox to ${this.g.peer(to)} is full (${this.g.lay.mailbox} unreceived messages)`,
      );
      const off = this.place(msg, label, "send_recv", () => messageRead(this.g, to, n));
      postMessage(this.g, to, n, off, msg.length, label);
    }
    let op: RecvOp | null = null;
    if (from !== null) {
      op = { label, from, index: this.received[from]!++, result: new Float32Array(recvCount), done: false };
      this.pending.push({ type: "recv", op });
    }
    this.job.setIdle(this.g.worldRank);
    const bytes = from === null || from === this.rank ? 0 : 4 * recvCount;
    const recv = op;
    return this.handle("send_recv", label, () => {
      if (recv === null) return new Float32Array(0);
      this.block(
        () => recv.done,
        label,
        "send_recv",
        () => describeRecv(this.g, recv),
      );
      this.bytes.send_recv += bytes;
      return recv.result;
    });
  }

  bytesReceived(): ByteCounts {
    return { ...this.bytes };
  }

  resetByteCounts(): void {
    this.bytes = zeroByteCounts();
  }

  // ---- machinery ---------------------------------------------------------------------------

  private counts(kind: CollectiveKind, label: string, counts: readonly number[] | undefined, each: number): number[] {
    return resolveCounts(counts, this.size, each, { rank: this.g.worldRank, label, what: kind });
  }

  private expectLength(kind: CollectiveKind, label: string, got: number, want: number): void {
    if (got !== want) throw this.g.error(label, `${kind} '${label}': data has ${got} elements, counts say ${want}`);
  }

  private collective(
    kind: CollectiveKind,
    label: string,
    counts: number[],
    countsHash: number,
    bytes: number,
    resultLen?: number,
  ): CollOp {
    const offsets = offsetsOf(counts);
    const result = new Float32Array(resultLen ?? offsets[counts.length]!);
    return { kind, label, seq: this.seq++, counts, offsets, countsHash, result, bytes, phase: 0 };
  }

  /** Copy data into my arena region (blocking while it is full) and return its offset. */
  private place(data: Float32Array, label: string, kind: CollectiveKind, freed: () => boolean): number {
    if (data.length === 0) return 0;
    if (data.length > this.g.cap) {
      throw this.g.error(
        label,
        `${kind} '${label}': message of ${data.length * 4} bytes exceeds the arena capacity of ${this.g.cap * 4} bytes per rank; raise launchRanks option capacityBytes`,
      );
    }
    let off: number | null = null;
    this.block(
      () => (off = this.arena.tryAlloc(data.length, freed)) !== null,
      label,
      kind,
      () => {
        const f = this.arena.inFlight();
        return `arena full: ${f.count} earlier message(s) of ${f.elements * 4} bytes not yet read by every peer (raise launchRanks option capacityBytes, or wait handles earlier)`;
      },
    );
    this.g.arena.set(data, this.g.regionAt(this.rank, off!));
    return off!;
  }

  private publish(op: CollOp, data: Float32Array, a2aOffsets: readonly number[] | null): CommHandle {
    const { kind, label, seq } = op;
    this.job.setActivity(this.g.worldRank, "start", kind, this.name, label);
    this.block(
      () => slotFree(this.g, seq),
      label,
      kind,
      () =>
        `slot ring full: collective #${seq - this.g.lay.slots} is not finished by every rank (each rank must wait() its handles)`,
    );
    const off = this.place(data, label, kind, () => collectiveRead(this.g, seq));
    publishCollective(this.g, op, off, data.length, a2aOffsets);
    this.pending.push({ type: "coll", op });
    this.job.setIdle(this.g.worldRank);
    return this.handle(kind, label, () => {
      this.block(
        () => op.phase === 2,
        label,
        kind,
        () => describeMissing(this.g, op),
      );
      this.bytes[kind] += op.bytes;
      return op.result;
    });
  }

  private handle(kind: CollectiveKind, label: string, finish: () => Float32Array): CommHandle {
    let used = false;
    const g = this.g;
    const job = this.job;
    return {
      kind,
      label,
      // Blocks the thread inside (Atomics.wait) before resolving: intended, workers may block.
      wait: async () => {
        if (used) throw g.error(label, `${kind} '${label}': wait() called twice`);
        used = true;
        job.setActivity(g.worldRank, "wait", kind, g.name, label);
        const out = finish();
        job.setIdle(g.worldRank);
        return out;
      },
    };
  }

  /** Block until ready(), driving every pending op meanwhile (so out-of-order waits cannot deadlock). */
  private block(ready: () => boolean, label: string, kind: CollectiveKind, missing: () => string): void {
    const describe = (): { label: string; what: string; missing: string } => ({
      label,
      what: `${kind} '${label}' on ${this.name}`,
      missing: missing(),
    });
    // A rank that was computing when the job failed stops at its next collective, ready or not.
    this.g.waiter.checkAbort(describe);
    this.g.waiter.until(ready, describe);
  }

  private progress(): void {
    if (this.pending.length === 0) return;
    const blockedFrom = new Set<number>();
    for (const p of this.pending) {
      if (p.type === "coll") advanceCollective(this.g, p.op);
      else if (!blockedFrom.has(p.op.from) && !advanceRecv(this.g, p.op)) blockedFrom.add(p.op.from);
    }
    this.pending = this.pending.filter((p) => (p.type === "coll" ? p.op.phase !== 2 : !p.op.done));
  }
}
