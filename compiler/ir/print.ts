// Readable text form of the IR (for --dump-after and the per-pass tests): one node a line,
// `id  out = op{attrs}(in)  [free: ...]`, grouped by phase, attrs in key order.
import type { Graph, Node } from "./graph.ts";

const SKIP = new Set(["id", "op", "in", "out", "layer", "phase", "loc", "free"]);

function attrText(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(attrText).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${k}:${attrText((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return typeof v === "number" && !Number.isInteger(v) ? String(Number(v.toPrecision(6))) : String(v);
}

export function printNode(n: Node): string {
  const attrs = Object.keys(n)
    .filter((k) => !SKIP.has(k))
    .sort()
    .map((k) => `${k}=${attrText((n as unknown as Record<string, unknown>)[k])}`);
  const lhs = n.out.length > 0 ? `${n.out.join(", ")} = ` : "";
  const a = attrs.length > 0 ? `{${attrs.join(" ")}}` : "";
  const free = n.free !== undefined && n.free.length > 0 ? `  ; free ${n.free.join(" ")}` : "";
  return `${n.id.padEnd(5)} ${lhs}${n.op}${a}(${n.in.join(", ")})${free}`;
}

export function printGraph(g: Graph): string {
  const lines: string[] = [];
  lines.push(`# mesh sp=${g.mesh.sp} dp=${g.mesh.dp}` + (g.partition ? ` layout=${g.partition.layout} tokens=[${g.partition.rankTokens.join(",")}]` : ""));
  for (const p of g.params) lines.push(`param ${p.name} [${p.shape.join(",")}] ${attrText(p.init)}`);
  for (const [name, list] of [["forward", g.forward], ["backward", g.backward], ["grad_sync", g.gradSync]] as const) {
    if (list.length === 0) continue;
    lines.push(`${name}:`);
    for (const n of list) lines.push(`  ${printNode(n)}`);
  }
  return lines.join("\n") + "\n";
}
