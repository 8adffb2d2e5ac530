// Batch sources: MQAR invariants (Zoology layout), random and text sources; every batch a pure
// function of (seed, step).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { makeDataSource } from "../../runtime/train/data/index.ts";
import { mqarLayout } from "../../runtime/train/data/mqar.ts";
import { resolveCorpusPath } from "../../runtime/train/data/corpus.ts";

describe("mqar", () => {
  it("follows the Zoology layout: keys low, values high, each query's target is its key's value", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 64 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 3 }),
        (pairs, extraSeq, seed, step, extraVocab) => {
          const vocab = 2 * pairs + 2 + extraVocab * 37;
          const seq = 4 * pairs + extraSeq;
          const batch = 3;
          const src = makeDataSource({ kind: "mqar", pairs }, { vocab, seq, batch, seed });
          const { tokens, targets } = src.next(step);
          const { keyVocab, context } = mqarLayout(pairs, { vocab, seq, batch, seed });
          expect(tokens.length).toBe(batch * seq);
          for (let b = 0; b < batch; b++) {
            const row = (i: number) => tokens[b * seq + i]!;
            const kv = new Map<number, number>();
            for (let i = 0; i < pairs; i++) {
              const k = row(2 * i);
              const v = row(2 * i + 1);
              expect(k >= 1 && k < keyVocab).toBe(true);
              expect(v >= keyVocab && v < vocab).toBe(true);
              expect(kv.has(k)).toBe(false); // distinct keys
              kv.set(k, v);
              expect(targets[b * seq + 2 * i]).toBe(-1);
              expect(targets[b * seq + 2 * i + 1]).toBe(-1);
            }
            expect(new Set(kv.values()).size).toBe(pairs); // distinct values
            const queried: number[] = [];
            for (let p = context; p < seq; p++) {
              const t = targets[b * seq + p]!;
              expect(row(p) >= 0 && row(p) < vocab).toBe(true);
              if (t === -1) continue;
              expect((p - context) % 2).toBe(0);
              expect(t).toBe(kv.get(row(p)));
              queried.push(row(p));
            }
            expect(queried.sort((x, y) => x - y)).toEqual([...kv.keys()].sort((x, y) => x - y)); // each key once
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("puts queries close after the context (power law)", () => {
    const pairs = 8;
    const seq = 256;
    const src = makeDataSource({ kind: "mqar", pairs }, { vocab: 256, seq, batch: 64, seed: 5 });
    const { targets } = src.next(0);
    const space = (seq - 2 * pairs) / 2;
    let early = 0;
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      if (targets[i] === -1) continue;
      total++;
      if ((i % seq) - 2 * pairs < space) early++; // first half of the query region
    }
    expect(total).toBe(64 * pairs);
    expect(early / total).toBeGreaterThan(0.6);
  });

  it("is a pure function of (seed, step)", () => {
    const shape = { vocab: 128, seq: 64, batch: 4, seed: 11 };
    const a = makeDataSource({ kind: "mqar", pairs: 8 }, shape);
    const b = makeDataSource({ kind: "mqar", pairs: 8 }, shape);
    const s3 = a.next(3);
    a.next(0);
    expect(b.next(3)).toEqual(s3);
    expect(a.next(3)).toEqual(s3);
    expect(a.next(4).tokens).not.toEqual(s3.tokens);
    expect(makeDataSource({ kind: "mqar", pairs: 8 }, { ...shape, seed: 12 }).next(3).tokens).not.toEqual(s3.tokens);
    expect(a.describe()).toMatch(/mqar: 8 key-value pairs/);
  });

  it("rejects impossible sizes with the reason", () => {
    expect(() => makeDataSource({ kind: "mqar", pairs: 16 }, { vocab: 256, seq: 63, batch: 1, seed: 0 })).toThrow(/need seq >= 64/);
    expect(() => makeDataSource({ kind: "mqar", pairs: 16 }, { vocab: 20, seq: 64, batch: 1, seed: 0 })).toThrow(/vocabulary/);
  });
});

describe("random tokens", () => {
  it("targets are the next token, in range, deterministic", () => {
    const shape = { vocab: 50, seq: 33, batch: 2, seed: 1 };
    const s = makeDataSource({ kind: "random" }, shape);
    const { tokens, targets } = s.next(9);
    for (let b = 0; b < 2; b++) for (let i = 0; i + 1 < 33; i++) expect(targets[b * 33 + i]).toBe(tokens[b * 33 + i + 1]);
    for (const t of tokens) expect(t >= 0 && t < 50).toBe(true);
    expect(makeDataSource({ kind: "random" }, shape).next(9)).toEqual({ tokens, targets });
  });
});

describe("text corpus", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "txt-"));
  const file = path.join(dir, "c.txt");
  const text = "naïve café — ".repeat(60); // a non-ASCII byte in every 16-byte window
  fs.writeFileSync(file, text);
  const bytes = Buffer.from(text, "utf8");

  it("yields byte windows of the file with next-byte targets, deterministic per (seed, step)", () => {
    const shape = { vocab: 256, seq: 16, batch: 5, seed: 2 };
    const s = makeDataSource({ kind: "text", path: file }, shape);
    const { tokens, targets } = s.next(4);
    const hay = bytes.toString("latin1");
    for (let b = 0; b < 5; b++) {
      const win = [...tokens.subarray(b * 16, b * 16 + 16), targets[b * 16 + 15]!];
      expect(hay.includes(String.fromCharCode(...win))).toBe(true); // a real window of the bytes
      for (let i = 0; i < 15; i++) expect(targets[b * 16 + i]).toBe(tokens[b * 16 + i + 1]);
    }
    expect(tokens.some((t) => t > 127)).toBe(true); // UTF-8 bytes, not characters (é = c3 a9)
    expect(makeDataSource({ kind: "text", path: file }, shape).next(4)).toEqual({ tokens, targets });
    expect(s.next(5).tokens).not.toEqual(tokens);
  });

  it("refuses a vocab under 256, a missing file, an unknown builtin", () => {
    expect(() => makeDataSource({ kind: "text", path: file }, { vocab: 255, seq: 8, batch: 1, seed: 0 })).toThrow(/vocab >= 256.*255/);
    expect(() => makeDataSource({ kind: "text", path: path.join(dir, "nope.txt") }, { vocab: 256, seq: 8, batch: 1, seed: 0 })).toThrow(/cannot read corpus .*nope\.txt/);
    expect(() => makeDataSource({ kind: "text", path: "builtin:nope" }, { vocab: 256, seq: 8, batch: 1, seed: 0 })).toThrow(/unknown builtin corpus 'nope' \(available: builtin:devils-dictionary\)/);
  });

  it("resolves the shipped builtin corpus", () => {
    expect(fs.existsSync(resolveCorpusPath("builtin:devils-dictionary"))).toBe(true);
    const s = makeDataSource({ kind: "text", path: "builtin:devils-dictionary" }, { vocab: 256, seq: 64, batch: 2, seed: 0 });
    expect(s.describe()).toMatch(/383147 bytes/);
    expect(s.next(0).tokens.length).toBe(128);
  });
});
