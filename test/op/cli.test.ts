// `lasp op` as a command: the real binary (node cli/lasp.mjs) on 3 ranks reads an IN file written with
// runtime/io/safetensors.ts and writes OUT, checked against the float64 oracle; error cases run in-process
// (exit 1 naming the flag, file or tensor; exit 2 for usage errors) and one through the binary.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { readSafetensors, writeSafetensors, toFloat32 } from "../../runtime/io/safetensors.ts";
import { oracleBackward, oracleForward } from "../oracle/linear-attention.ts";
import { randArray, relErr } from "../oracle/random.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "lasp-op-"));
const [H, N, DK, DV] = [2, 17, 4, 3];
const DECAY = [0.875, 0.5];

const r32 = (n: number, seed: number) => Float32Array.from(randArray(n, seed));
const q = r32(H * N * DK, 1);
const k = r32(H * N * DK, 2);
const v = r32(H * N * DV, 3);
const dO = r32(H * N * DV, 4);

type T = { shape: number[]; data: Float32Array | Float64Array };
function writeIn(name: string, over: Record<string, T | null> = {}): string {
  const all: Record<string, T | null> = { q: { shape: [H, N, DK], data: q }, k: { shape: [H, N, DK], data: k }, v: { shape: [H, N, DV], data: v }, decay: { shape: [H], data: Float32Array.from(DECAY) }, do: { shape: [H, N, DV], data: dO }, ...over };
  const file = join(dir, name);
  writeSafetensors(file, new Map(Object.entries(all).filter((e): e is [string, T] => e[1] !== null)));
  return file;
}

const run = runCli;
afterEach(() => vi.restoreAllMocks());

describe("lasp op (binary)", () => {
  it("linear-attention lasp1 on 3 ranks with decay and do: OUT equals the float64 oracle, bytes equal the plan", () => {
    const inFile = writeIn("in.safetensors");
    const outFile = join(dir, "out.safetensors");
    const args = ["cli/lasp.mjs", "op", "linear-attention", "--ranks", "3", "--method", "lasp1", "--causal", "--block", "4", "--in", inFile, "--out", outFile];
    const p = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 110_000 });
    expect(p.stderr).toBe("");
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/linear-attention lasp1 on 3 rank\(s\), H=2 N=17 Dk=4 Dv=3/);
    // one state of H dk dv floats per hop: rank 0 receives the suffix only, rank 2 the prefix only
    const hop = H * DK * DV * 4;
    expect(p.stdout).toMatch(new RegExp(`\\n\\s+0\\s+6\\s+${hop} B\\n\\s+1\\s+6\\s+${2 * hop} B\\n\\s+2\\s+5\\s+${hop} B\\n`));
    expect(p.stdout).toMatch(/every rank received exactly what the plan predicts/);
    const out = readSafetensors(outFile);
    expect([...out.tensors.keys()]).toEqual(["o", "dq", "dk", "dv"]);
    const x = { bh: H, n: N, dk: DK, dv: DV, q: Float64Array.from(q), k: Float64Array.from(k), v: Float64Array.from(v), g: null, lambdas: Float64Array.from(DECAY), causal: true };
    const g = oracleBackward(x, Float64Array.from(dO));
    const ref: Record<string, [Float64Array, number]> = { o: [oracleForward(x), DV], dq: [g.dq, DK], dk: [g.dk, DK], dv: [g.dv, DV] };
    for (const [name, [want, d]] of Object.entries(ref)) {
      const t = out.tensors.get(name)!;
      expect(t.shape).toEqual([H, N, d]);
      expect(t.dtype).toBe("F32");
      expect(relErr(toFloat32(t), want)).toBeLessThan(1e-4);
    }
    expect(out.metadata).toMatchObject({ kind: "linear-attention", method: "lasp1", ranks: "3" });
  });
  it("exits 1 naming the missing tensor", () => {
    const inFile = writeIn("no-v.safetensors", { v: null, do: null });
    const args = ["cli/lasp.mjs", "op", "softmax-attention", "--ranks", "2", "--method", "ring", "--in", inFile, "--out", join(dir, "x.safetensors")];
    const p = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/missing tensor 'v'/);
  });
});

describe("lasp op errors (in-process)", () => {
  const out = join(dir, "never.safetensors");
  const base = (inFile: string) => ["op", "linear-attention", "--ranks", "3", "--method", "lasp2", "--causal", "--in", inFile, "--out", out];
  it.each([
    ["a bad method for the kind", (f: string) => ["op", "linear-attention", "--ranks", "3", "--method", "ulysses", "--causal", "--in", f, "--out", out], /--method 'ulysses' is not a linear-attention method \(one of lasp2, lasp1, ring\)/],
    ["ulysses with heads not divisible by --ranks", (f: string) => ["op", "softmax-attention", "--ranks", "3", "--method", "ulysses", "--in", f, "--out", out], /ulysses needs the heads \(2, axis 0 of q\) divisible by --ranks 3/],
    ["decay without --causal", (f: string) => ["op", "linear-attention", "--ranks", "3", "--method", "lasp2", "--in", f, "--out", out], /decay needs --causal/],
    ["a missing IN file", () => base(join(dir, "nope.safetensors")), /--in: .*nope\.safetensors/],
  ] as [string, (f: string) => string[], RegExp][])("%s: exit 1", async (_n, argv, re) => {
    const r = await run(argv(writeIn("ok.safetensors")));
    expect(r.err).toMatch(re);
    expect(r.code).toBe(1);
  });
  it("a k of the wrong shape: exit 1 naming k", async () => {
    const r = await run(base(writeIn("bad-k.safetensors", { k: { shape: [H, N, DK + 1], data: new Float32Array(H * N * (DK + 1)) } })));
    expect(r.err).toMatch(/tensor 'k' has shape \[2, 17, 5\], expected q's \[2, 17, 4\]/);
    expect(r.code).toBe(1);
  });
  it("a float64 q: exit 1 naming q", async () => {
    const r = await run(base(writeIn("f64.safetensors", { q: { shape: [H, N, DK], data: Float64Array.from(q) } })));
    expect(r.err).toMatch(/tensor 'q' is F64/);
    expect(r.code).toBe(1);
  });
  it.each([
    ["an unknown kind", ["op", "mamba", "--ranks", "2", "--method", "lasp2", "--in", "a", "--out", "b"], /unknown kind 'mamba'/],
    ["no --ranks", ["op", "linear-attention", "--method", "lasp2", "--in", "a", "--out", "b"], /missing --ranks/],
    ["no --out", ["op", "linear-attention", "--ranks", "2", "--method", "lasp2", "--in", "a"], /missing --out/],
    ["a bad --layout", ["op", "linear-attention", "--ranks", "2", "--method", "lasp2", "--layout", "spiral", "--in", "a", "--out", "b"], /--layout must be contiguous or zigzag/],
    ["--ranks 0", ["op", "linear-attention", "--ranks", "0", "--method", "lasp2", "--in", "a", "--out", "b"], /--ranks must be an integer >= 1/],
    ["an unknown flag", ["op", "linear-attention", "--rank", "2"], /unknown flag '--rank' \(did you mean --ranks\?\)/],
  ] as [string, string[], RegExp][])("%s: usage error, exit 2", async (_n, argv, re) => {
    const r = await run(argv);
    expect(r.err).toMatch(re);
    expect(r.code).toBe(2);
  });
});
