// Time of one collective on a profile: call overhead + latency x dependent hops + bytes / bandwidth, the link
// chosen by whether the group spans nodes. Ring all-gather / reduce-scatter (W-1 hops), ring all-reduce (2(W-1)),
// pairwise all-to-all (W-1), send_recv (1). Bytes are what one rank receives (cost/bytes.ts).
import type { Collective, Group, Mesh } from "../plan/schema.ts";
import type { HardwareProfile } from "./hardware/profile.ts";

/** World ranks of every group of kind `group` (world rank = dpIndex * sp + spIndex). */
export function groupsOf(group: Group, mesh: Mesh): number[][] {
  const { sp, dp } = mesh;
  if (group === "world") return [Array.from({ length: mesh.world }, (_, r) => r)];
  if (group === "sp") return Array.from({ length: dp }, (_, i) => Array.from({ length: sp }, (_, s) => i * sp + s));
  return Array.from({ length: sp }, (_, s) => Array.from({ length: dp }, (_, i) => i * sp + s));
}

/** Devices are filled node by node: world rank r sits on node floor(r / devicesPerNode). */
export function nodeOf(rank: number, hw: HardwareProfile): number {
  return Math.floor(rank / hw.devicesPerNode);
}

/** The most nodes one group of this kind spans (1: every group stays inside a node). */
export function groupNodes(group: Group, mesh: Mesh, hw: HardwareProfile): number {
  return Math.max(1, ...groupsOf(group, mesh).map((g) => new Set(g.map((r) => nodeOf(r, hw))).size));
}

export function spansNodes(group: Group, mesh: Mesh, hw: HardwareProfile): boolean {
  return groupNodes(group, mesh, hw) > 1;
}

/** Largest number of a group's ranks on one node (how many share the node's NICs). */
function perNode(size: number, hw: HardwareProfile): number {
  return Math.min(size, hw.devicesPerNode);
}

export interface CommTime {
  readonly seconds: number;
  readonly hops: number;
  /** bytes/s the bandwidth term used */
  readonly bandwidth: number;
  readonly interNode: boolean;
}

/**
 * Seconds of one collective of `size` ranks in which a rank receives `bytes`. Across nodes: a ring runs
 * one ring per NIC (NCCL), so its rate is min(intra, NICs x NIC bandwidth); a point-to-point hop uses one
 * NIC; an all-to-all sends the share of its bytes bound for other nodes through NICs it shares with the
 * other devices of its node.
 */
export function collectiveTime(
  collective: Collective,
  size: number,
  bytes: number,
  nodes: number,
  hw: HardwareProfile,
): CommTime {
  if (size <= 1) return { seconds: 0, hops: 0, bandwidth: hw.intra.bandwidth, interNode: false };
  const t = hopTime(collective, size, bytes, nodes, hw);
  return { ...t, seconds: hw.callOverhead + t.seconds };
}

function hopTime(collective: Collective, size: number, bytes: number, nodes: number, hw: HardwareProfile): CommTime {
  const inter = nodes > 1;
  if (hw.collectives === "shared") {
    // one machine: every rank writes its part to shared memory, one wake-up, then copies what it receives
    return {
      seconds: hw.intra.latency + bytes / hw.intra.bandwidth,
      hops: 1,
      bandwidth: hw.intra.bandwidth,
      interNode: false,
    };
  }
  // NCCL's ring latency: of the dependent steps, (nodes - 1) cross a node boundary (twice for all-reduce)
  const ringLatency = (steps: number, crossings: number) =>
    (steps - crossings) * hw.intra.latency + crossings * hw.inter.latency;
  const nodeNic = hw.inter.nicsPerNode * hw.inter.nicBandwidth;
  switch (collective) {
    case "all_gather":
    case "reduce_scatter":
    case "all_reduce": {
      const k = collective === "all_reduce" ? 2 : 1;
      const hops = k * (size - 1);
      const bw = inter ? Math.min(hw.intra.bandwidth, nodeNic) : hw.intra.bandwidth;
      return { seconds: ringLatency(hops, k * (nodes - 1)) + bytes / bw, hops, bandwidth: bw, interNode: inter };
    }
    case "send_recv": {
      const bw = inter ? Math.min(hw.intra.bandwidth, hw.inter.nicBandwidth) : hw.intra.bandwidth;
      return { seconds: ringLatency(1, inter ? 1 : 0) + bytes / bw, hops: 1, bandwidth: bw, interNode: inter };
    }
    case "all_to_all": {
      const hops = size - 1;
      const lat = ringLatency(hops, nodes - 1);
      if (!inter)
        return { seconds: lat + bytes / hw.intra.bandwidth, hops, bandwidth: hw.intra.bandwidth, interNode: false };
      const local = perNode(size, hw);
      const intraBytes = (bytes * (local - 1)) / (size - 1);
      const interBytes = bytes - intraBytes;
      const nicShare = nodeNic / local;
      const seconds = lat + Math.max(intraBytes / hw.intra.bandwidth, interBytes / nicShare);
      return { seconds, hops, bandwidth: bytes / Math.max(seconds - lat, 1e-30), interNode: true };
    }
  }
}
