// A Communicator that plays one rank of a W-rank group with nobody else there: every collective returns at
// once, with zeros where the peers' parts would be (its own part where the result holds it). Used to time a
// rank's compute alone (runtime/exec/calibrate.ts): the kernels see the shapes of a real run, the values of
// what they receive do not change their speed. Never for results: nothing is exchanged.
import { zeroByteCounts, type ByteCounts, type CollectiveKind, type CommHandle, type Communicator } from "./communicator.ts";
import { offsetsOf, resolveCounts } from "./parts.ts";

function done(kind: CollectiveKind, label: string, value: Float32Array): CommHandle {
  return { kind, label, wait: () => Promise.resolve(value) };
}

export class NullCommunicator implements Communicator {
  constructor(
    readonly name: string,
    readonly size: number,
    readonly rank: number,
  ) {
    if (!(Number.isInteger(size) && size >= 1 && Number.isInteger(rank) && rank >= 0 && rank < size))
      throw new RangeError(`NullCommunicator '${name}': rank ${rank} of ${size} is out of range`);
  }

  private who(what: string, label: string) {
    return { rank: this.rank, label, what };
  }

  startAllGather(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = resolveCounts(counts, this.size, data.length, this.who("all_gather", label));
    const out = new Float32Array(c.reduce((a, b) => a + b, 0));
    out.set(data.subarray(0, c[this.rank]), offsetsOf(c)[this.rank]);
    return done("all_gather", label, out);
  }

  startReduceScatter(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = resolveCounts(counts, this.size, data.length / this.size, this.who("reduce_scatter", label));
    const at = offsetsOf(c)[this.rank]!;
    return done("reduce_scatter", label, data.slice(at, at + c[this.rank]!));
  }

  startAllReduce(data: Float32Array, label: string): CommHandle {
    return done("all_reduce", label, data.slice());
  }

  startAllToAll(data: Float32Array, label: string, _sendCounts?: readonly number[], recvCounts?: readonly number[]): CommHandle {
    const r = resolveCounts(recvCounts, this.size, data.length / this.size, this.who("all_to_all", label));
    return done("all_to_all", label, new Float32Array(r.reduce((a, b) => a + b, 0)));
  }

  startSendRecv(_data: Float32Array | null, _to: number | null, from: number | null, recvCount: number, label: string): CommHandle {
    return done("send_recv", label, new Float32Array(from === null ? 0 : recvCount));
  }

  barrier(_label: string): Promise<void> {
    return Promise.resolve();
  }

  bytesReceived(): ByteCounts {
    return zeroByteCounts();
  }

  resetByteCounts(): void {}
}
