// A Communicator for a group of one rank (sp = 1 or dp = 1, single-device runs): every collective
// is a local copy, no shared memory, nothing received from others (all byte counts stay 0).
import {
  CommError,
  zeroByteCounts,
  type ByteCounts,
  type CollectiveKind,
  type CommHandle,
  type Communicator,
} from "./communicator.ts";
import { resolveCounts } from "./parts.ts";

function done<T>(kind: CollectiveKind, label: string, value: T): CommHandle<T> {
  let used = false;
  return {
    kind,
    label,
    wait: () => {
      if (used) return Promise.reject(new CommError(`${kind} '${label}': wait() called twice`, 0, label));
      used = true;
      return Promise.resolve(value);
    },
  };
}

export class SoloCommunicator implements Communicator {
  readonly size = 1;
  readonly rank = 0;
  private readonly selfQueue: Float32Array[] = [];

  constructor(
    readonly name: string,
    /** world rank, for error messages */
    private readonly worldRank = 0,
  ) {}

  private checkLen(kind: CollectiveKind, label: string, got: number, want: number): void {
    if (got !== want) {
      throw new CommError(
        `rank ${this.worldRank} (${this.name} of 1): ${kind} '${label}': data has ${got} elements, counts say ${want}`,
        this.worldRank,
        label,
      );
    }
  }

  startAllGather(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = resolveCounts(counts, 1, data.length, { rank: this.worldRank, label, what: "all_gather" });
    this.checkLen("all_gather", label, data.length, c[0] ?? 0);
    return done("all_gather", label, data.slice());
  }

  startReduceScatter(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = resolveCounts(counts, 1, data.length, { rank: this.worldRank, label, what: "reduce_scatter" });
    this.checkLen("reduce_scatter", label, data.length, c[0] ?? 0);
    return done("reduce_scatter", label, data.slice());
  }

  startAllReduce(data: Float32Array, label: string): CommHandle {
    return done("all_reduce", label, data.slice());
  }

  startAllToAll(
    data: Float32Array,
    label: string,
    sendCounts?: readonly number[],
    recvCounts?: readonly number[],
  ): CommHandle {
    const who = { rank: this.worldRank, label, what: "all_to_all" };
    const s = resolveCounts(sendCounts, 1, data.length, who);
    const r = resolveCounts(recvCounts, 1, data.length, who);
    this.checkLen("all_to_all", label, data.length, s[0] ?? 0);
    this.checkLen("all_to_all", label, data.length, r[0] ?? 0);
    return done("all_to_all", label, data.slice());
  }

  startSendRecv(
    data: Float32Array | null,
    to: number | null,
    from: number | null,
    recvCount: number,
    label: string,
  ): CommHandle {
    if ((to !== null && to !== 0) || (from !== null && from !== 0)) {
      throw new CommError(
        `rank ${this.worldRank} (${this.name} of 1): send_recv '${label}': peer out of range`,
        this.worldRank,
        label,
      );
    }
    if (to === 0) this.selfQueue.push((data ?? new Float32Array(0)).slice());
    if (from === null) return done("send_recv", label, new Float32Array(0));
    const got = this.selfQueue.shift();
    if (got === undefined) {
      throw new CommError(
        `rank ${this.worldRank} (${this.name} of 1): send_recv '${label}': nothing was sent to self`,
        this.worldRank,
        label,
      );
    }
    this.checkLen("send_recv", label, got.length, recvCount);
    return done("send_recv", label, got);
  }

  barrier(_label: string): Promise<void> {
    return Promise.resolve();
  }

  bytesReceived(): ByteCounts {
    return zeroByteCounts();
  }

  resetByteCounts(): void {}
}
