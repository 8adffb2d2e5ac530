// `lasp op --transport mpi`: one attention layer on 3 MPI processes through the same passes and executor;
// rank 0 writes OUT, which equals the float64 oracle, and every process received what the plan predicts.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors, toFloat32, writeSafetensors } from "../../runtime/io/safetensors.ts";
import { oracleBackward, oracleForward } from "../oracle/linear-attention.ts";
import { randArray, relErr } from "../oracle/random.ts";
import { mpirun } from "./mpirun.ts";

const [H, N, DK, DV] = [2, 19, 4, 3];
const DECAY = [0.875, 0.5];
const r32 = (n: number, seed: number) => Float32Array.from(randArray(n, seed));

describe("lasp op --transport mpi", () => {
  it("linear-attention lasp2 with decay on 3 MPI processes equals the float64 oracle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lasp-op-mpi-"));
    const [q, k, v, dO] = [r32(H * N * DK, 11), r32(H * N * DK, 12), r32(H * N * DV, 13), r32(H * N * DV, 14)];
    const inFile = join(dir, "in.safetensors");
    const outFile = join(dir, "out.safetensors");
    writeSafetensors(inFile, new Map([
      ["q", { shape: [H, N, DK], data: q }],
      ["k", { shape: [H, N, DK], data: k }],
      ["v", { shape: [H, N, DV], data: v }],
      ["decay", { shape: [H], data: Float32Array.from(DECAY) }],
      ["do", { shape: [H, N, DV], data: dO }],
    ]));
    const args = ["op", "linear-attention", "--ranks", "3", "--method", "lasp2", "--causal", "--block", "4", "--in", inFile, "--out", outFile, "--transport", "mpi"];
    const run = await mpirun(3, "cli/lasp.mjs", args, { killAfterMs: 150_000 });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/every rank received exactly what the plan predicts/);
    const out = readSafetensors(outFile);
    const x = { bh: H, n: N, dk: DK, dv: DV, q: Float64Array.from(q), k: Float64Array.from(k), v: Float64Array.from(v), g: null, lambdas: Float64Array.from(DECAY), causal: true };
    const g = oracleBackward(x, Float64Array.from(dO));
    const ref: Record<string, Float64Array> = { o: oracleForward(x), dq: g.dq, dk: g.dk, dv: g.dv };
    for (const [name, want] of Object.entries(ref)) expect(relErr(toFloat32(out.tensors.get(name)!), want), name).toBeLessThan(1e-4);
  }, 200_000);
});
