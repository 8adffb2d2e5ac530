// Held-out data (train.eval): text keeps the corpus's last `holdout` out of training and evaluates on it, every
// window with its targets inside its own part; random and MQAR draw held-out batches from a stream of their own.
import { describe, expect, it } from "vitest";
import { makeDataSource } from "../../runtime/train/data/index.ts";
import { textPartRange, textSourceFromBytes } from "../../runtime/train/data/text.ts";

// bytes 0..99 are 'a' (97), 100..199 'z' (122): the held-out part (holdout 0.5) is all 'z'
const bytes = Uint8Array.from({ length: 200 }, (_, i) => (i < 100 ? 97 : 122));
const shape = { vocab: 256, seq: 16, batch: 64, seed: 3 };

describe("held-out text", () => {
  it("training windows and targets stay in the first part, held-out ones in the last", () => {
    const part = (p: "train" | "eval") => ({ part: p, holdout: 0.5 });
    expect(textPartRange(200, part("train"))).toEqual([0, 100]);
    expect(textPartRange(200, part("eval"))).toEqual([100, 200]);
    expect(textPartRange(200, null)).toEqual([0, 200]);
    const train = textSourceFromBytes(bytes, "t", shape, part("train"));
    const held = textSourceFromBytes(bytes, "t", shape, part("eval"));
    for (let step = 0; step < 20; step++) {
      const t = train.next(step);
      const h = held.next(step);
      expect(new Set([...t.tokens, ...t.targets])).toEqual(new Set([97]));
      expect(new Set([...h.tokens, ...h.targets])).toEqual(new Set([122]));
    }
    expect(held.describe()).toMatch(/held out: bytes 100\.\.200/);
  });

  it("a part too small for seq is refused with what to change", () => {
    expect(() => textSourceFromBytes(bytes, "t", { ...shape, seq: 150 }, { part: "eval", holdout: 0.3 })).toThrow(
      /the held-out part of corpus 't' \(train\.eval holdout 0\.3\) has 60 bytes, seq 150 needs at least 151: change holdout/,
    );
  });

  it("without train.eval the text source is the whole corpus, as before", () => {
    const all = textSourceFromBytes(bytes, "t", shape);
    const seen = new Set<number>();
    for (let step = 0; step < 10; step++) for (const x of all.next(step).tokens) seen.add(x);
    expect(seen).toEqual(new Set([97, 122]));
  });
});

describe("held-out random and MQAR batches", () => {
  const ev = { every: 1, batches: 1, holdout: 0.1 };
  for (const spec of [{ kind: "random" as const }, { kind: "mqar" as const, pairs: 2 }])
    it(`${spec.kind}: deterministic, and not the training batches`, () => {
      const s = { vocab: 64, seq: 32, batch: 4, seed: 1 };
      const train = makeDataSource(spec, s, ev, "train");
      const held = makeDataSource(spec, s, ev, "eval");
      // training is the same with or without evaluation
      expect(train.next(0)).toEqual(makeDataSource(spec, s).next(0));
      expect(held.next(0)).toEqual(makeDataSource(spec, s, ev, "eval").next(0));
      expect(held.next(0).tokens).not.toEqual(train.next(0).tokens);
    });

  it("asking for held-out batches without train.eval is an error", () => {
    expect(() => makeDataSource({ kind: "random" }, { vocab: 64, seq: 8, batch: 1, seed: 0 }, null, "eval")).toThrow(/without train\.eval/);
  });
});

describe("checkpoints and train.eval", () => {
  it("how often a run evaluates does not change the spec hash; text's held-out part does", async () => {
    const { compile } = await import("../../compiler/index.ts");
    const { parseSpec } = await import("../../dsl/index.ts");
    const { trainSpecHash } = await import("../../runtime/exec/train-loop.ts");
    const M = "model m { vocab 256 hidden 32 heads 4 layers 2 = [linear, softmax] }\ntrain { seq 64 data text builtin:devils-dictionary }\n";
    const hash = (sets: string[]) => trainSpecHash(compile(parseSpec(M, "t.lasp", sets).spec!).plan!);
    const none = hash([]);
    const every5 = hash(["train.eval.every=5"]);
    expect(hash(["train.eval.every=9", "train.eval.batches=4"])).toBe(every5);
    expect(hash(["train.eval.every=5", "train.eval.holdout=0.2"])).not.toBe(every5);
    expect(every5).not.toBe(none);
    // random data: evaluation never changes the training stream
    expect(hash(["train.data=random"])).toBe(hash(["train.data=random", "train.eval.every=5", "train.eval.holdout=0.3"]));
  });
});
