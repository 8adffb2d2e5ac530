// An emulated interconnect for the thread transport: every collective takes at least the time the
// simulator's cost model (compiler/cost/simulate-comm.ts collectiveTime) gives it on a cluster profile
// (A100 / H100 / H200: NVLink inside a node, InfiniBand between nodes), stretched by `scale`. On one machine
// the SharedArrayBuffer transport moves data at memory speed, so the methods' communication differences and
// the value of overlap cannot show; with a link as slow, relative to this CPU's compute, as the cluster's is
// relative to a GPU's (scale ~ GPU FLOP/s / CPU FLOP/s), they do. Measured byte counts are unchanged.
//
// Timing: each rank stamps, at start, the time its contribution would arrive: now + cost (cost from the
// bytes this rank receives, the group size and how many nodes the group spans). wait() returns the data no
// earlier than the latest stamp of the ranks it receives from (all of the group for a collective, `from`
// for send_recv). So a send that depends on a received value inherits its delay (LASP-1's chain adds up),
// and a collective started before a long compute step and waited after it costs nothing (overlap).
// The stamps live in a SharedArrayBuffer per group (`board`), written before the transport's own
// publish (whose Atomics store/notify orders them for the readers). Group collectives match stamps by the
// group's sequence number (every rank posts them in the same order); point-to-point transfers by channel:
// the k-th receive from rank q reads the stamp of q's k-th send to this rank (edge ranks of a chain post
// fewer of them, so the group sequence would pair a receive with the wrong collective).
//
// A rank's link carries one transfer at a time, as the simulator's does (simulate-schedule.ts): a collective or
// send posted while the link is still busy with an earlier one starts when that one is done. The link is
// the rank's, shared by its groups (`LinkState`, one per rank). Without this, a burst of small collectives
// (a gradient all-reduce per weight, as plans had it before buckets) cost one call's latency, not the sum.
//
// With emulated devices (device-clock.ts) the same stamps are in each rank's virtual clock, and a wait moves
// that clock instead of sleeping.
import { collectiveTime } from "../../compiler/cost/simulate-comm.ts";
import type { HardwareProfile } from "../../compiler/cost/hardware/profile.ts";
import type { DeviceClock } from "./device-clock.ts";
import { CommError, type CollectiveKind, type CommHandle, type Communicator } from "./communicator.ts";
import { receivedBytes } from "./parts.ts";

/** What launchRanks needs to emulate a link; cloned into every worker. */
export interface LinkEmulation {
  readonly profile: HardwareProfile;
  /** ranks per node (default the profile's devicesPerNode): a group spanning several nodes uses the inter-node link */
  readonly perNode: number;
  /** multiplies every cost (1 = the cluster's own times) */
  readonly scale: number;
}

/** When this rank's emulated link is free again (ms on the clock in use); one per rank, shared by its groups. */
export interface LinkState {
  freeAt: number;
}

/** Collectives a group may have in flight before its stamps are overwritten (ranks never drift that far apart). */
export const BOARD_SLOTS = 4096;
/** Sends one channel (rank -> rank) may have in flight before their stamps are overwritten. */
export const P2P_SLOTS = 256;

/** Float64 entries of a group's board: group collectives, then point-to-point channels. */
const boardLength = (groupSize: number): number => BOARD_SLOTS * groupSize * 2 + groupSize * groupSize * P2P_SLOTS * 2;

/**
 * A group's stamp board: per slot and group rank, [sequence number + 1, arrival time in ms]; then per
 * channel (from, to) and slot, [send number + 1, arrival time in ms].
 */
export function createBoard(groupSize: number): SharedArrayBuffer {
  return new SharedArrayBuffer(boardLength(groupSize) * 8);
}

/** Nodes a group of world ranks spans when ranks fill nodes `perNode` at a time in world order. */
export function nodesSpanned(members: readonly number[], perNode: number): number {
  return new Set(members.map((r) => Math.floor(r / perNode))).size;
}

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepUntil(t: number): void {
  for (;;) {
    const left = t - nowMs();
    if (left <= 0) return;
    Atomics.wait(sleeper, 0, 0, left);
  }
}

export class EmulatedLinkCommunicator implements Communicator {
  private seq = 0;
  /** point-to-point: sends to / receives from each group rank so far */
  private readonly sent: number[];
  private readonly received: number[];
  private readonly board: Float64Array;
  private readonly nodes: number;

  constructor(
    private readonly inner: Communicator,
    board: SharedArrayBuffer,
    members: readonly number[],
    private readonly link: LinkEmulation,
    /** emulated devices: stamp and wait in this rank's virtual clock (else the wall clock) */
    private readonly clock: DeviceClock | null = null,
    /** the rank's link (pass the same object to all of a rank's communicators) */
    private readonly linkState: LinkState = { freeAt: 0 },
  ) {
    this.board = new Float64Array(board);
    this.nodes = nodesSpanned(members, link.perNode);
    if (this.board.length !== boardLength(inner.size)) throw new Error(`link emulation: the ${inner.name} board is for another group size`);
    this.sent = new Array<number>(inner.size).fill(0);
    this.received = new Array<number>(inner.size).fill(0);
  }

  get rank(): number {
    return this.inner.rank;
  }
  get size(): number {
    return this.inner.size;
  }
  get name(): string {
    return this.inner.name;
  }

  private now(): number {
    return this.clock === null ? nowMs() : this.clock.nowMs();
  }

  private until(t: number): void {
    if (this.clock === null) sleepUntil(t);
    else this.clock.advanceTo(t);
  }

  /** Puts a transfer of `seconds` on the rank's link once it is free; returns when it lands (ms). */
  private occupy(seconds: number): number {
    const end = Math.max(this.now(), this.linkState.freeAt) + 1000 * seconds;
    this.linkState.freeAt = end;
    return end;
  }

  /** Seconds this collective takes on the emulated link for a rank receiving `bytes`. */
  cost(kind: CollectiveKind, bytes: number): number {
    if (this.size <= 1) return 0;
    const collective = kind === "barrier" ? "all_reduce" : kind;
    return this.link.scale * collectiveTime(collective, this.size, bytes, this.nodes, this.link.profile).seconds;
  }

  /** Stamps this rank's arrival time for the next collective; returns its sequence number. */
  private stamp(kind: CollectiveKind, bytes: number): number {
    const seq = this.seq++;
    const at = ((seq % BOARD_SLOTS) * this.size + this.rank) * 2;
    this.board[at] = seq + 1;
    this.board[at + 1] = this.occupy(this.cost(kind, bytes));
    return seq;
  }

  /** Waits until the latest arrival among `from` ranks (their stamps for `seq`). */
  private hold(seq: number, from: readonly number[], label: string): void {
    let latest = 0;
    for (const q of from) {
      const at = ((seq % BOARD_SLOTS) * this.size + q) * 2;
      if (this.board[at] !== seq + 1)
        throw new CommError(`${this.name}: link emulation lost rank ${q}'s stamp for collective #${seq} (more than ${BOARD_SLOTS} in flight)`, this.rank, label);
      latest = Math.max(latest, this.board[at + 1]!);
    }
    // the collective ends for every rank at the latest arrival: this rank's link is busy until then
    this.linkState.freeAt = Math.max(this.linkState.freeAt, latest);
    this.until(latest);
  }

  private wrap<T>(h: CommHandle<T>, seq: number, from: readonly number[]): CommHandle<T> {
    return this.after(h, () => this.hold(seq, from, h.label));
  }

  private after<T>(h: CommHandle<T>, hold: () => void): CommHandle<T> {
    return {
      kind: h.kind,
      label: h.label,
      wait: async () => {
        const r = await h.wait();
        hold();
        return r;
      },
    };
  }

  /** Board index of the stamp of the k-th send on channel from -> to. */
  private channelAt(from: number, to: number, k: number): number {
    return BOARD_SLOTS * this.size * 2 + ((from * this.size + to) * P2P_SLOTS + (k % P2P_SLOTS)) * 2;
  }

  private all(): number[] {
    return Array.from({ length: this.size }, (_, q) => q);
  }

  startAllGather(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = counts ?? new Array<number>(this.size).fill(data.length);
    const seq = this.stamp("all_gather", receivedBytes.allGather(c, this.rank));
    return this.wrap(this.inner.startAllGather(data, label, counts), seq, this.all());
  }

  startReduceScatter(data: Float32Array, label: string, counts?: readonly number[]): CommHandle {
    const c = counts ?? new Array<number>(this.size).fill(data.length / this.size);
    const seq = this.stamp("reduce_scatter", receivedBytes.reduceScatter(c, this.rank));
    return this.wrap(this.inner.startReduceScatter(data, label, counts), seq, this.all());
  }

  startAllReduce(data: Float32Array, label: string): CommHandle {
    const seq = this.stamp("all_reduce", receivedBytes.allReduce(data.length, this.size, this.rank));
    return this.wrap(this.inner.startAllReduce(data, label), seq, this.all());
  }

  startAllToAll(data: Float32Array, label: string, sendCounts?: readonly number[], recvCounts?: readonly number[]): CommHandle {
    const rc = recvCounts ?? new Array<number>(this.size).fill(data.length / this.size);
    const seq = this.stamp("all_to_all", receivedBytes.allToAll(rc, this.rank));
    return this.wrap(this.inner.startAllToAll(data, label, sendCounts, recvCounts), seq, this.all());
  }

  startSendRecv(data: Float32Array | null, to: number | null, from: number | null, recvCount: number, label: string): CommHandle {
    // the stamp is the arrival time of what this rank sends; the receiver waits for its sender's stamp
    if (to !== null && to !== this.rank && this.size > 1) {
      const k = this.sent[to]!++;
      const at = this.channelAt(this.rank, to, k);
      this.board[at] = k + 1;
      this.board[at + 1] = this.occupy(this.cost("send_recv", 4 * (data === null ? 0 : data.length)));
    }
    const h = this.inner.startSendRecv(data, to, from, recvCount, label);
    if (from === null || from === this.rank || this.size <= 1) return h;
    const k = this.received[from]!++;
    return this.after(h, () => {
      // the transport has delivered the data, so the sender's stamp (written before it published) is there
      const at = this.channelAt(from, this.rank, k);
      if (this.board[at] !== k + 1)
        throw new CommError(`${this.name}: link emulation lost rank ${from}'s stamp for send #${k} (more than ${P2P_SLOTS} in flight)`, this.rank, label);
      this.until(this.board[at + 1]!);
    });
  }

  async barrier(label: string): Promise<void> {
    const seq = this.stamp("barrier", 0);
    await this.inner.barrier(label);
    this.hold(seq, this.all(), label);
  }

  bytesReceived() {
    return this.inner.bytesReceived();
  }
  resetByteCounts(): void {
    this.inner.resetByteCounts();
  }
}

/** "h100", "h100/2" (2 ranks per node), "h100/2x3000" (costs x 3000): the profile name is matched loosely. */
export function parseLink(spec: string, find: (name: string) => HardwareProfile | undefined): LinkEmulation {
  const m = /^([A-Za-z0-9_-]+)(?:\/(\d+))?(?:x([0-9.e+]+))?$/.exec(spec.trim());
  const profile = m ? find(m[1]!) : undefined;
  if (!m || profile === undefined)
    throw new Error(`--link '${spec}': expected PROFILE[/RANKS_PER_NODE][xSCALE], e.g. h100/2x3000 (profiles: A100-80GB, H100-80GB, H200)`);
  const perNode = m[2] !== undefined ? Number(m[2]) : profile.devicesPerNode;
  const scale = m[3] !== undefined ? Number(m[3]) : 1;
  if (!(perNode >= 1) || !(scale > 0)) throw new Error(`--link '${spec}': ranks per node must be >= 1 and the scale > 0`);
  return { profile, perNode, scale };
}
