// One rank's attachment to one group's shared state: typed views, its own index, the waiter, and
// the message prefix used by every error this transport raises.
import { CommError } from "../communicator.ts";
import { Layout, type GroupShared } from "./layout.ts";
import type { Waiter } from "./waiter.ts";
import type { JobView } from "./job.ts";

export interface TransportOptions {
  /** a blocked wait longer than this rejects with a CommError */
  readonly timeoutMs: number;
  /** compare collective labels across ranks (catches a rank that skipped a collective of the same shape) */
  readonly checkLabels: boolean;
}

export class GroupView {
  readonly ctrl: Int32Array;
  readonly u16: Uint16Array;
  readonly arena: Float32Array;
  readonly lay: Layout;
  readonly rank: number;
  readonly size: number;
  readonly cap: number;

  constructor(
    readonly shared: GroupShared,
    readonly worldRank: number,
    readonly job: JobView,
    readonly opts: TransportOptions,
    /** the rank's waiter, shared by all its communicators */
    readonly waiter: Waiter,
  ) {
    this.ctrl = new Int32Array(shared.control);
    this.u16 = new Uint16Array(shared.control);
    this.arena = new Float32Array(shared.arena);
    this.size = shared.members.length;
    this.rank = shared.members.indexOf(worldRank);
    if (this.rank < 0)
      throw new Error(`world rank ${worldRank} is not a member of group ${shared.name} [${shared.members.join(", ")}]`);
    this.lay = new Layout(this.size, shared.slots, shared.mailbox);
    this.cap = shared.capacityFloats;
  }

  /** Wake every member: something one of them may be waiting for has changed. */
  ring(): void {
    for (const m of this.shared.members) this.job.ring(m);
  }

  get name(): string {
    return this.shared.name;
  }

  /** Arena element index of offset `off` inside group rank q's region. */
  regionAt(q: number, off: number): number {
    return q * this.cap + off;
  }

  /** "rank 5 (sp rank 1/4)" */
  who(): string {
    return `rank ${this.worldRank} (${this.name} rank ${this.rank}/${this.size})`;
  }

  /** "sp rank 2 (world 6)" */
  peer(q: number): string {
    return `${this.name} rank ${q} (world ${this.shared.members[q]})`;
  }

  error(label: string, msg: string): CommError {
    return new CommError(`${this.who()}: ${msg}`, this.worldRank, label);
  }
}
