// Compile-time benchmark: the 16-layer, sp-64, 1/4-hybrid Linear-Llama3 spec (examples/), median of 20
// runs of each pass, of compile() as a whole, of plan validation and of canonical JSON. Prints a table.
// Run: npx tsx bench/compile.ts [SPEC] [--runs N]
import { loadSpecFile } from "../dsl/index.ts";
import { compile } from "../compiler/index.ts";
import { initialGraph } from "../compiler/ir/graph.ts";
import { PIPELINE } from "../compiler/passes/pipeline.ts";
import { canonicalJson } from "../compiler/plan/canonical.ts";
import { validatePlan } from "../compiler/plan/validate.ts";

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 20;
const file = args.find((a, i) => !a.startsWith("--") && (runsAt < 0 || i !== runsAt + 1)) ?? "examples/linear_llama3_1b_hybrid_1_4.lasp";

const loaded = loadSpecFile(file);
if (loaded.spec === undefined) {
  process.stderr.write(`cannot load ${file}\n`);
  process.exit(1);
}
const spec = loaded.spec;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const time = (f: () => void): number => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

const perPass = new Map<string, number[]>(PIPELINE.map((p) => [p.name, []]));
const total: number[] = [];
const validate: number[] = [];
const json: number[] = [];
validatePlan(compile(spec).plan); // warm up: the schema compiles once per process
for (let i = 0; i < runs; i++) {
  let g = initialGraph(spec);
  for (const p of PIPELINE) perPass.get(p.name)!.push(time(() => (g = p.run(g, {}))));
  let plan = null as ReturnType<typeof compile>["plan"];
  total.push(time(() => (plan = compile(spec).plan)));
  validate.push(time(() => validatePlan(plan)));
  json.push(time(() => canonicalJson(plan)));
}

const plan = compile(spec).plan!;
const rows: [string, string][] = [
  ...[...perPass.entries()].map(([n, xs]): [string, string] => [`  pass ${n}`, median(xs).toFixed(2)]),
  ["compile() (passes + verifier after each + lowering)", median(total).toFixed(2)],
  ["validatePlan (ajv, schema compiled once)", median(validate).toFixed(2)],
  ["canonicalJson", median(json).toFixed(2)],
];
const w = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(
  `${file}: ${spec.model.layers.length} layers, sp=${spec.parallel.sp}, seq=${spec.train.seq}; ` +
    `${plan.forward.length + plan.backward.length + plan.gradSync.length} steps; median of ${runs} runs\n\n` +
    `${"stage".padEnd(w)}  ms\n` +
    rows.map(([n, v]) => `${n.padEnd(w)}  ${v.padStart(8)}`).join("\n") +
    "\n",
);
