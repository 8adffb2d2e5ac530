// What a lowering rule gets: the graph, its partition, and an emitter that sizes collectives with
// cost/bytes.ts as it creates them. Lowering rules replace one logical node by kernel + collective nodes.
import type { SourceLoc } from "../../dsl/spec.ts";
import type { Draft, Graph, PartitionInfo, Node } from "../ir/graph.ts";
import type { Phase } from "../plan/schema.ts";
import { maxBytesReceived, type CommSizing } from "../cost/bytes.ts";

export class Lowerer {
  readonly out: Draft[] = [];
  constructor(
    readonly g: Graph,
    readonly part: PartitionInfo,
  ) {}

  emit(d: Draft): void {
    this.out.push(d);
  }

  /** A collective node moving `ins` (results `outs`), sized for the plan's partition; `blocking`: see comm_start. */
  collective(sizing: CommSizing & { readonly blocking?: boolean }, ins: readonly string[], outs: readonly string[], site: Site): void {
    const bytesPerRank = maxBytesReceived(sizing, { mesh: this.g.mesh, rankTokens: this.part.rankTokens });
    this.out.push({ op: "collective", ...sizing, parts: [...sizing.parts], bytesPerRank, in: [...ins], out: [...outs], ...site });
  }
}

/** Where lowered nodes go: the layer, phase and loc of the node they replace. */
export interface Site {
  readonly layer: number | null;
  readonly phase: Phase;
  readonly loc: SourceLoc;
}
export const siteOf = (n: Node): Site => ({ layer: n.layer, phase: n.phase, loc: n.loc });
