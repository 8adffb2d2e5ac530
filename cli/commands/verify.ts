// `lasp verify SPEC [--ranks R]`: one training step on R sequence-parallel ranks and on one device from
// the same seed; per layer the max relative error of activations and weight gradients; exit 1 on excess.
import { BACKEND_NAMES, type BackendName } from "../../runtime/backend/index.ts";
import { verifySpec, type Compared, type VerifyReport } from "../../runtime/exec/verify.ts";
import { UsageError, flagBool, flagInt, flagList, flagString, flagTransport, parseArgs } from "../args.ts";
import { loadInput } from "../input.ts";
import type { Command } from "../main.ts";

const fmt = (e: number): string => (Number.isFinite(e) ? e.toExponential(2) : String(e));

function worstOf(cs: readonly Compared[]): Compared | undefined {
  return cs.reduce<Compared | undefined>((w, c) => (w === undefined || c.relErr > w.relErr ? c : w), undefined);
}

export function parseBackend(v: string | undefined): BackendName {
  const b = v ?? "wasm";
  if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(", ")}, got '${b}'`);
  return b as BackendName;
}

export const command: Command = {
  summary: "One training step on R ranks vs one device: per-layer activation and gradient errors, bytes vs plan.",
  usage: "lasp verify SPEC [--ranks R] [--set path=value]... [--backend auto|wasm|cpu|tensorflow|webgpu] [--tolerance 1e-4] [--step K] [--json] [--transport threads|mpi]",
  async run(argv) {
    const a = parseArgs(argv, {
      ranks: { type: "string" },
      set: { type: "list" },
      backend: { type: "string" },
      tolerance: { type: "string" },
      step: { type: "string" },
      json: { type: "boolean" },
      transport: { type: "string" },
    });
    const transport = flagTransport(a);
    if (a.positional.length !== 1) throw new UsageError("expected one SPEC");
    const tolerance = Number(flagString(a, "tolerance") ?? "1e-4");
    if (!(tolerance > 0)) throw new UsageError(`--tolerance must be a positive number, got '${flagString(a, "tolerance")}'`);
    const backend = parseBackend(flagString(a, "backend"));
    const ranksFlag = flagString(a, "ranks") === undefined ? undefined : flagInt(a, "ranks", 2, 2);
    const loaded = loadInput("verify", a.positional[0]!, flagList(a, "set"), ranksFlag);
    if ("exit" in loaded) return loaded.exit;
    const ranks = loaded.plan.mesh.sp;
    if (ranks < 2) throw new UsageError("the spec runs on one SP rank: pass --ranks R (R >= 2) to compare R ranks with one device");
    const vopts = { ranks, backend, tolerance, step: flagInt(a, "step", 0, 0) };
    let rep: VerifyReport;
    if (transport === "mpi") {
      const { verifySpecMpi } = await import("../../runtime/exec/verify-mpi.ts");
      const { mpiFinalize } = await import("../../runtime/comm/mpi/index.ts");
      const r = await verifySpecMpi(loaded.spec, vopts);
      mpiFinalize();
      if (r === null) return 0; // not rank 0: rank 0 prints the report
      rep = r;
    } else rep = await verifySpec(loaded.spec, vopts);
    if (flagBool(a, "json")) {
      process.stdout.write(JSON.stringify(rep, null, 2) + "\n");
      return rep.ok ? 0 : 1;
    }
    const { dp } = loaded.plan.mesh;
    const where = dp > 1 ? `${ranks * dp} ranks (sp ${ranks} x dp ${dp})` : `${ranks} ranks`;
    const out: string[] = [`lasp verify: ${loaded.file} on ${where} vs 1 device (backend ${rep.backend}, tolerance ${tolerance})`, ""];
    out.push("layer  kind     method   activation  worst grad (weight)");
    for (const l of rep.layers) {
      const w = worstOf(l.grads);
      const bad = !l.activation.ok || l.grads.some((g) => !g.ok) ? "  <-- exceeds tolerance" : "";
      out.push(`${String(l.index).padStart(5)}  ${l.kind.padEnd(7)}  ${l.method.padEnd(7)}  ${fmt(l.activation.relErr).padStart(10)}  ${w ? `${fmt(w.relErr)} (${w.name})` : "-"}${bad}`);
    }
    const o = worstOf(rep.other);
    if (o) out.push(`  other weights (embedding, final norm, head): worst ${fmt(o.relErr)} (${o.name})${o.ok ? "" : "  <-- exceeds tolerance"}`);
    out.push(`  loss: 1 device ${rep.loss.single.toFixed(6)}, ${ranks} ranks ${rep.loss.parallel.toFixed(6)} (rel ${fmt(rep.loss.relErr)})`);
    out.push(rep.bytes.length === 0 ? "  bytes received per rank: equal to the plan's prediction for every rank and collective" : `  bytes differ from the plan:\n    ${rep.bytes.join("\n    ")}`);
    out.push("", rep.ok ? "OK" : "FAILED");
    process.stdout.write(out.join("\n") + "\n");
    return rep.ok ? 0 : 1;
  },
};
