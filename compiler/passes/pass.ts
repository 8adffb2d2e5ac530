// What a pass is: a named, documented, pure function from IR to IR. pipeline.ts lists them in order.
import type { Graph } from "../ir/graph.ts";

export interface PassCtx {
  /** the spec's source text when known: lets diagnostics carry byte spans */
  readonly source?: string;
}

export interface Pass {
  /** kebab-case; the pass's file and test share it */
  readonly name: string;
  readonly summary: string;
  run(g: Graph, ctx: PassCtx): Graph;
}
