// lasp generate (runtime/exec/generate.ts): each new token from the plan's forward over the whole sequence.
// A causal model's prediction at t must not depend on the padding after it nor on how many tokens are
// asked for: generating 12 tokens equals generating 7, then 5 more from the prompt plus those 7. Sampling:
// greedy is the argmax, top-k 1 is greedy, draws follow softmax(logits / T) over the top k.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { initBackend } from "../../runtime/backend/index.ts";
import { bidirectionalLayers, generate, pick } from "../../runtime/exec/generate.ts";
import { seedWeights } from "../../runtime/exec/seed.ts";
import { compile } from "../../compiler/index.ts";
import { Rng } from "../../runtime/train/rng.ts";
import { smallSpec } from "./helpers.ts";

await initBackend("wasm");

describe("generate", () => {
  const spec = smallSpec(["model.vocab=64", "parallel.sp=2"]);
  const weights = seedWeights(compile(spec).plan!);
  const prompt = Int32Array.of(5, 17, 3, 42, 9);

  it("12 greedy tokens at once equal 7, then 5 more from the prompt and those 7 (logits too)", async () => {
    const all = await generate(spec, weights, prompt, { tokens: 12, temperature: 0, topK: 0, seed: 0 });
    const first = await generate(spec, weights, prompt, { tokens: 7, temperature: 0, topK: 0, seed: 0 });
    const rest = await generate(spec, weights, first.tokens, { tokens: 5, temperature: 0, topK: 0, seed: 0 });
    expect([...rest.tokens]).toEqual([...all.tokens]);
    expect([...all.tokens.slice(0, 5)]).toEqual([...prompt]);
    const rows = [...first.logits, ...rest.logits];
    rows.forEach((row, i) => {
      let worst = 0;
      for (let j = 0; j < row.length; j++) worst = Math.max(worst, Math.abs(row[j]! - all.logits[i]![j]!));
      expect(worst, `token ${i}`).toBeLessThan(1e-5);
    });
    // each greedy token is the argmax of the row it came from
    all.logits.forEach((row, i) => expect(all.tokens[5 + i]).toBe(row.indexOf(Math.max(...row))));
  });

  it("what the positions after t hold does not change the prediction at t", async () => {
    const zero = await generate(spec, weights, prompt, { tokens: 6, temperature: 0, topK: 0, seed: 0 });
    const other = await generate(spec, weights, prompt, { tokens: 6, temperature: 0, topK: 0, seed: 0, pad: 61 });
    expect([...other.tokens]).toEqual([...zero.tokens]);
    other.logits.forEach((row, i) => expect(Math.max(...row.map((x, j) => Math.abs(x - zero.logits[i]![j]!)))).toBeLessThan(1e-5));
  });

  it("sampling with a seed repeats; top-k 1 is greedy", async () => {
    const a = await generate(spec, weights, prompt, { tokens: 6, temperature: 1, topK: 0, seed: 3 });
    const b = await generate(spec, weights, prompt, { tokens: 6, temperature: 1, topK: 0, seed: 3 });
    expect([...a.tokens]).toEqual([...b.tokens]);
    const g = await generate(spec, weights, prompt, { tokens: 6, temperature: 0, topK: 0, seed: 0 });
    const k1 = await generate(spec, weights, prompt, { tokens: 6, temperature: 1.5, topK: 1, seed: 9 });
    expect([...k1.tokens]).toEqual([...g.tokens]);
  });

  it("refuses bidirectional models and tokens outside the vocabulary", async () => {
    const bidi = smallSpec(["model.linear.causal=off", "model.layers=[linear, linear]"]);
    expect(bidirectionalLayers(bidi)).toEqual([0, 1]);
    await expect(generate(bidi, seedWeights(compile(bidi).plan!), prompt, { tokens: 1, temperature: 0, topK: 0, seed: 0 })).rejects.toThrow(/bidirectional/);
    await expect(generate(spec, weights, Int32Array.of(64), { tokens: 1, temperature: 0, topK: 0, seed: 0 })).rejects.toThrow(/outside the vocabulary \[0, 64\)/);
  });
});

describe("pick", () => {
  const row = Float32Array.of(1, 3, 2, -1);
  it("greedy is the argmax", () => expect(pick(row, { temperature: 0, topK: 0 }, new Rng(0))).toBe(1));
  it("draws follow softmax(logits / T) over the top k", () => {
    const rng = new Rng(11);
    const n = 20000;
    const count = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) count[pick(row, { temperature: 2, topK: 3 }, rng)]!++;
    expect(count[3]).toBe(0); // outside the top 3
    const w = [1, 3, 2].map((x) => Math.exp(x / 2));
    const z = w.reduce((a, b) => a + b, 0);
    [0, 1, 2].forEach((j) => expect(Math.abs(count[j]! / n - w[j]! / z)).toBeLessThan(0.015));
  });
});

describe("lasp generate (CLI)", () => {
  const root = new URL("../../", import.meta.url).pathname;
  const lasp = (args: string[]) => spawnSync(process.execPath, [`${root}cli/lasp.mjs`, "generate", ...args], { cwd: root, encoding: "utf8" });
  it("continues a text prompt byte by byte; asks for exactly one prompt form", () => {
    const r = lasp(["examples/tiny.lasp", "--prompt", "DOG, n.", "--tokens", "5", "--temperature", "0"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.startsWith("DOG, n.")).toBe(true);
    expect(r.stderr).toMatch(/s per token \(a whole forward of 12 tokens each\)/);
    expect(r.stderr).toMatch(/weights the seed's initial weights \(no --resume\): expect noise.*5 tokens, greedy/);
    const both = lasp(["examples/tiny.lasp", "--prompt", "a", "--prompt-tokens", "1"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/give the prompt as --prompt TEXT or as --prompt-tokens/);
    const ids = lasp(["examples/mqar_linear.lasp", "--prompt", "a"]);
    expect(ids.status).toBe(2);
    expect(ids.stderr).toMatch(/needs a byte-level text model .* mqar data: use --prompt-tokens/);
  });
});
