// Lowering of the final IR to the plan JSON: checks that only plan ops remain and attaches the spec,
// the estimates and the source. The IR nodes already have the plan step shape.
import { InternalError } from "../../dsl/diagnostic.ts";
import { LOGICAL_OPS, TOKENS, TARGETS, LOSS, type Graph, type Node } from "../ir/graph.ts";
import type { Plan, Step } from "./schema.ts";

function toStep(n: Node): Step {
  if ((LOGICAL_OPS as readonly string[]).includes(n.op)) throw new InternalError(`logical op ${n.op} (${n.id}) reached the plan`);
  return n as Step;
}

export function lowerToPlan(g: Graph, source: { file: string; hash: string }): Plan {
  if (g.estimates === null) throw new InternalError("plan lowering needs the estimate pass");
  return {
    format: "lasp-plan/1",
    spec: g.spec,
    mesh: g.mesh,
    params: g.params.map((p) => ({ ...p, shape: [...p.shape] })),
    inputs: { tokens: TOKENS, targets: TARGETS },
    loss: LOSS,
    forward: g.forward.map(toStep),
    backward: g.backward.map(toStep),
    gradSync: g.gradSync.map(toStep),
    estimates: g.estimates,
    source,
  };
}
