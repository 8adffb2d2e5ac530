// `lasp generate SPEC --resume CKPT --prompt TEXT`: continue a prompt with a trained model on one rank
// (runtime/exec/generate.ts: the plan's forward, recomputed for each new token). Byte-level text models
// read and print text; other models take and print token ids.
import { initBackend } from "../../runtime/backend/index.ts";
import { generate } from "../../runtime/exec/generate.ts";
import { seedWeights } from "../../runtime/exec/seed.ts";
import { resolveResume, trainSpecHash } from "../../runtime/exec/train-loop.ts";
import { loadCheckpoint } from "../../runtime/train/checkpoint.ts";
import { UsageError, flagInt, flagList, flagString, parseArgs } from "../args.ts";
import { loadInput } from "../input.ts";
import type { Command } from "../main.ts";
import { parseBackend } from "./verify.ts";

function number(v: string | undefined, flag: string, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === "" || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${flag} must be ${what}, got '${v}'`);
  return x;
}

export const command: Command = {
  summary: "Continue a prompt with a trained model (one rank; the plan's forward for each new token).",
  usage:
    "lasp generate SPEC [--resume CKPT|RUN_DIR] (--prompt TEXT | --prompt-tokens 1,2,3) [--tokens N] [--temperature T] " +
    "[--top-k K] [--seed S] [--set path=value]... [--backend auto|wasm|cpu|tensorflow|webgpu]",
  async run(argv) {
    const a = parseArgs(argv, {
      resume: { type: "string" },
      prompt: { type: "string" },
      "prompt-tokens": { type: "string" },
      tokens: { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      seed: { type: "string" },
      set: { type: "list" },
      backend: { type: "string" },
    });
    if (a.positional.length !== 1) throw new UsageError(a.positional.length === 0 ? "missing SPEC" : "expected one SPEC");
    const file = a.positional[0]!;
    if (file.endsWith(".json")) throw new UsageError("generate takes a spec (.lasp), not a compiled plan: it compiles its own plan for one sequence");
    const loaded = loadInput("generate", file, flagList(a, "set"));
    if ("exit" in loaded) return loaded.exit;
    const { spec } = loaded;
    const text = spec.train.data.kind === "text";
    const promptText = flagString(a, "prompt");
    const promptIds = flagString(a, "prompt-tokens");
    if ((promptText === undefined) === (promptIds === undefined)) throw new UsageError("give the prompt as --prompt TEXT or as --prompt-tokens 1,2,3 (one of them)");
    if (promptText !== undefined && !text)
      throw new UsageError(`--prompt TEXT needs a byte-level text model (train { data text ... }); this one trains on ${spec.train.data.kind} data: use --prompt-tokens`);
    let prompt: Int32Array;
    if (promptText !== undefined) prompt = Int32Array.from(new TextEncoder().encode(promptText));
    else {
      const parts = promptIds!.split(",").map((s) => s.trim());
      if (parts.some((p) => !/^\d+$/.test(p))) throw new UsageError(`--prompt-tokens must be token ids separated by commas, got '${promptIds}'`);
      prompt = Int32Array.from(parts.map(Number));
    }
    const tokens = flagInt(a, "tokens", 100, 1);
    const temperature = number(flagString(a, "temperature"), "temperature", 0.8, (x) => x >= 0, "a number >= 0 (0: greedy)");
    const topK = flagInt(a, "top-k", 40, 0);
    const seed = flagInt(a, "seed", 0, 0);
    const resume = flagString(a, "resume") ?? null;
    try {
      const backend = await initBackend(parseBackend(flagString(a, "backend")));
      let weights = seedWeights(loaded.plan);
      let from = "the seed's initial weights (no --resume): expect noise";
      if (resume !== null) {
        const dir = resolveResume(resume);
        const ck = loadCheckpoint(dir, trainSpecHash(loaded.plan));
        weights = ck.state.weights;
        from = `${dir} (after step ${ck.state.step})`;
      }
      process.stderr.write(`lasp generate: ${spec.model.name}, weights ${from}, backend ${backend}, ${tokens} tokens, ` +
        `${temperature === 0 ? "greedy" : `temperature ${temperature}, top-k ${topK || "all"}, seed ${seed}`}\n`);
      const decoder = new TextDecoder("utf-8");
      if (text) process.stdout.write(decoder.decode(Uint8Array.from(prompt), { stream: true }));
      else process.stdout.write(`${[...prompt].join(" ")} |`);
      const r = await generate(spec, weights, prompt, {
        tokens,
        temperature,
        topK,
        seed,
        onToken: (t) => process.stdout.write(text ? decoder.decode(Uint8Array.of(t), { stream: true }) : ` ${t}`),
      });
      process.stdout.write((text ? decoder.decode() : "") + "\n");
      process.stderr.write(`lasp generate: ${r.secondsPerToken.toFixed(3)} s per token (a whole forward of ${prompt.length + tokens} tokens each)\n`);
      return 0;
    } catch (e) {
      process.stderr.write(`lasp generate: ${(e as Error).message}\n`);
      return 1;
    }
  },
};
