// Follows the plan's schedule on every rank of one SP group (DP replicas run the same timeline): compute
// steps advance the rank's device clock (local: ranks share the machine's cores while they compute); a comm_start puts a transfer on the rank's link, which runs beside
// compute; a comm_wait blocks until it lands. So overlap (max(compute, comm)) and serial chains (LASP-1's
// W-1 dependent hops) come from the plan's step order, not from per-method formulas.
import { InternalError } from "../../dsl/diagnostic.ts";
import type { Plan, Step, StepOf } from "../plan/schema.ts";
import { bytesReceived, partsElems, groupSize, type SizingCtx } from "./bytes.ts";
import { collectiveTime, groupNodes, nodeOf } from "./simulate-comm.ts";
import { stepSeconds, stepWork, DTYPE_BYTES } from "./simulate-compute.ts";
import type { HardwareProfile, SimDtype } from "./hardware/profile.ts";

export interface PhaseTimes {
  /** when the slowest rank finished the phase, seconds from the step's start */
  readonly forward: number;
  readonly backward: number;
  readonly gradSync: number;
}

export interface ScheduleResult {
  readonly phases: PhaseTimes;
  /** max over ranks of the seconds its device computed */
  readonly computeSeconds: number;
  /** max over ranks of the seconds its link was busy */
  readonly commSeconds: number;
  /** max over ranks of the seconds it sat blocked in comm_wait (communication not hidden by compute) */
  readonly exposedCommSeconds: number;
  /** true when some collective crossed a node boundary */
  readonly interNode: boolean;
}

type CommStart = StepOf<"comm_start">;

interface Pending {
  /** completion time on this rank of a group collective, or null while another rank still has to post */
  done: number | null;
  /** send_recv: the transfers this rank takes part in, as (channel, FIFO index) */
  transfers: { channel: string; index: number }[];
  post: number;
}

/** One point-to-point transfer on a channel "from>to": the k-th send matches the k-th receive. */
interface Transfer {
  sendPost?: number;
  seconds?: number;
  recvPost?: number;
  end?: number;
}

/** The simulated timeline of one training step (forward, backward, gradient sync) of a compiled plan. */
export function simulateSchedule(plan: Plan, hw: HardwareProfile, dtype: SimDtype): ScheduleResult {
  const W = plan.mesh.sp;
  const steps: Step[] = [...plan.forward, ...plan.backward, ...plan.gradSync];
  const ends = [plan.forward.length, plan.forward.length + plan.backward.length, steps.length];
  const scale = DTYPE_BYTES[dtype] / 4;
  const ctx: SizingCtx = { mesh: plan.mesh, rankTokens: plan.estimates.rankTokens };
  const compute = Array.from({ length: W }, (_, r) =>
    stepWork(plan, r).map((w, i) => stepSeconds(steps[i]!.op, w, hw, dtype)),
  );
  const node = (r: number) => nodeOf(r, hw);
  const nodes = {
    sp: groupNodes("sp", plan.mesh, hw),
    dp: groupNodes("dp", plan.mesh, hw),
    world: groupNodes("world", plan.mesh, hw),
  };
  let interNode = false;

  const pc = new Array<number>(W).fill(0);
  const clock = new Array<number>(W).fill(0);
  const link = new Array<number>(W).fill(0);
  const busy = new Array<number>(W).fill(0);
  const commBusy = new Array<number>(W).fill(0);
  const blocked = new Array<number>(W).fill(0);
  const phaseEnd = Array.from({ length: 3 }, () => new Array<number>(W).fill(0));
  const pending = Array.from({ length: W }, () => new Map<string, Pending>());
  const posts = new Map<string, { at: number[]; count: number }>(); // group collectives waiting for every rank
  const channels = new Map<string, Transfer[]>(); // send_recv channel "from>to" -> transfers, FIFO
  const sendCount = new Map<string, number>();
  const recvCount = new Map<string, number>();

  const neighbour = (r: number, peer: "prev" | "next", wrap: boolean): number | null => {
    const n = peer === "next" ? r + 1 : r - 1;
    if (wrap) return ((n % W) + W) % W;
    return n >= 0 && n < W ? n : null;
  };

  const transfer = (channel: string, index: number): Transfer => {
    const list = channels.get(channel) ?? [];
    channels.set(channel, list);
    while (list.length <= index) list.push({});
    return list[index]!;
  };

  /** Puts a transfer on the sender's link once it can start: eager at the send, rendezvous once both posted. */
  function schedule(x: Transfer, sender: number): void {
    if (x.end !== undefined || x.sendPost === undefined || x.seconds === undefined) return;
    if (hw.p2p === "rendezvous" && x.recvPost === undefined) return;
    const begin = Math.max(x.sendPost, x.recvPost ?? 0, link[sender]!);
    x.end = begin + x.seconds;
    link[sender] = x.end;
    commBusy[sender]! += x.seconds;
  }

  function startSendRecv(s: CommStart, r: number): Pending {
    const p: Pending = { done: null, transfers: [], post: clock[r]! };
    const wrap = s.wrap === true;
    const to = s.sendTo === undefined || s.sendTo === null ? null : neighbour(r, s.sendTo, wrap);
    if (to !== null && to !== r) {
      // the receiver's byte count for this step when it also receives (ring); else this rank's own parts
      const raw =
        s.recvFrom !== undefined && s.recvFrom !== null
          ? bytesReceived(s, ctx, to)
          : partsElems(s.parts, s, ctx, r) * 4;
      const inter = node(r) !== node(to);
      interNode ||= inter;
      const channel = `${r}>${to}`;
      const index = sendCount.get(channel) ?? 0;
      sendCount.set(channel, index + 1);
      const x = transfer(channel, index);
      x.sendPost = clock[r]!;
      x.seconds = collectiveTime("send_recv", W, raw * scale, inter ? 2 : 1, hw).seconds;
      schedule(x, r);
      p.transfers.push({ channel, index });
    }
    const from = s.recvFrom === undefined || s.recvFrom === null ? null : neighbour(r, s.recvFrom, wrap);
    if (from !== null && from !== r) {
      const channel = `${from}>${r}`;
      const index = recvCount.get(channel) ?? 0;
      recvCount.set(channel, index + 1);
      const x = transfer(channel, index);
      x.recvPost = clock[r]!;
      schedule(x, from);
      p.transfers.push({ channel, index });
    }
    if (p.transfers.length === 0) p.done = p.post; // an edge rank with no neighbour on that side
    return p;
  }

  function startGroup(s: CommStart, r: number): Pending {
    const size = groupSize(s.group, plan.mesh);
    const t = collectiveTime(s.collective, size, s.bytesPerRank * scale, nodes[s.group], hw);
    if (size > 1) interNode ||= t.interNode;
    if (s.group === "dp") {
      // the other members are this rank's DP replicas, on the same timeline: nothing to wait for
      const begin = Math.max(clock[r]!, link[r]!);
      link[r] = begin + t.seconds;
      commBusy[r]! += t.seconds;
      return { done: begin + t.seconds, transfers: [], post: clock[r]! };
    }
    const key = s.handle;
    const entry = posts.get(key) ?? { at: new Array<number>(W).fill(0), count: 0 };
    entry.at[r] = Math.max(clock[r]!, link[r]!);
    entry.count++;
    posts.set(key, entry);
    if (entry.count === W) {
      const end = Math.max(...entry.at) + t.seconds;
      for (let q = 0; q < W; q++) {
        link[q] = Math.max(link[q]!, end);
        commBusy[q]! += t.seconds;
        const pq = pending[q]!.get(key);
        if (pq !== undefined) pq.done = end;
      }
      posts.delete(key);
      return { done: end, transfers: [], post: clock[r]! };
    }
    return { done: null, transfers: [], post: clock[r]! };
  }

  /** Completion time of a pending collective on rank r, or null while it cannot be known yet. */
  function resolve(p: Pending): number | null {
    if (p.transfers.length === 0) return p.done;
    let t = p.post;
    for (const { channel, index } of p.transfers) {
      const end = channels.get(channel)?.[index]?.end;
      if (end === undefined) return null;
      t = Math.max(t, end);
    }
    return t;
  }

  // Event-driven, in time order: between two events every computing rank advances at the same rate. With a
  // shared pool of compute units (local: worker threads on the machine's cores) that rate is
  // min(1, units / ranks computing now), so a rank blocked in a wait leaves its core to the others.
  // DP replicas run the same timeline on the same pool: each SP group gets units / dp of it
  const units = hw.computeUnits === undefined ? undefined : hw.computeUnits / Math.max(1, plan.mesh.dp);
  const left = new Array<number>(W).fill(-1); // full-rate seconds left of the current compute step; -1 = none
  const until = new Array<number>(W).fill(-1); // a blocked wait's known end; -1 = none
  const waitFrom = new Array<number>(W).fill(-1); // when the rank reached its current comm_wait
  let now = 0;
  let remaining = W;
  const advance = (r: number): void => {
    pc[r]!++;
    for (let k = 0; k < 3; k++) if (pc[r] === ends[k]) phaseEnd[k]![r] = now;
    if (pc[r] === steps.length) remaining--;
  };
  /** Runs rank r's zero-time steps at `now` until it computes, blocks or ends; true when it moved. */
  const settle = (r: number): boolean => {
    let moved = false;
    while (pc[r]! < steps.length && left[r]! < 0) {
      const i = pc[r]!;
      const s = steps[i]!;
      clock[r] = now;
      if (s.op === "comm_start") {
        pending[r]!.set(s.handle, s.collective === "send_recv" ? startSendRecv(s, r) : startGroup(s, r));
        // the rank's own work in the step (local: packing the parts), after it posted
        const w = compute[r]![i]!;
        if (w > 0) {
          left[r] = w;
          return true;
        }
      } else if (s.op === "comm_wait") {
        const p = pending[r]!.get(s.handle);
        if (p === undefined) throw new InternalError(`comm_wait ${s.id} on rank ${r}: no pending ${s.handle}`);
        if (waitFrom[r]! < 0) waitFrom[r] = now;
        const done = resolve(p);
        if (done === null) return moved;
        if (done > now) {
          until[r] = done;
          return moved;
        }
        blocked[r]! += Math.max(0, done - waitFrom[r]!);
        waitFrom[r] = -1;
        until[r] = -1;
        pending[r]!.delete(s.handle);
        // the rank's own work once the data is there (local: turning the received parts into tensors)
        const w = compute[r]![i]!;
        if (w > 0) {
          left[r] = w;
          return true;
        }
      } else {
        const w = compute[r]![i]!;
        if (w > 0) {
          left[r] = w;
          return true;
        }
      }
      advance(r);
      moved = true;
    }
    return moved;
  };
  while (remaining > 0) {
    // a comm_start of one rank can complete another's wait: settle until nothing moves
    for (let moved = true; moved; ) {
      moved = false;
      for (let r = 0; r < W; r++) moved = settle(r) || moved;
    }
    if (remaining === 0) break;
    let active = 0;
    for (let r = 0; r < W; r++) if (left[r]! >= 0) active++;
    const rate = units === undefined || active === 0 ? 1 : Math.min(1, units / active);
    let next = Infinity;
    for (let r = 0; r < W; r++) {
      if (left[r]! >= 0) next = Math.min(next, now + left[r]! / rate);
      else if (until[r]! > now) next = Math.min(next, until[r]!);
    }
    if (next === Infinity)
      throw new InternalError(`schedule simulation stuck at steps ${pc.map((i) => steps[i]?.id).join(",")}`);
    const dt = next - now;
    now = next;
    for (let r = 0; r < W; r++) {
      if (left[r]! < 0) continue;
      busy[r]! += dt;
      if (left[r]! / rate - dt <= 1e-12 * Math.max(1, now)) {
        left[r] = -1;
        advance(r);
      } else left[r]! -= dt * rate;
    }
  }
  const max = (a: number[]) => Math.max(0, ...a);
  return {
    phases: { forward: max(phaseEnd[0]!), backward: max(phaseEnd[1]!), gradSync: max(phaseEnd[2]!) },
    computeSeconds: max(busy),
    commSeconds: max(commBusy),
    exposedCommSeconds: max(blocked),
    interNode,
  };
}
