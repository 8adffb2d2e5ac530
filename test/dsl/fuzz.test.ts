// Fuzzing: examples mutated by deleting, duplicating and swapping tokens and characters never make
// parseSpec throw or hang; each gives a spec or at least one error, with spans inside the text.
// Then random valid specs written out as text resolve to exactly the values they were written with.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDiagnostic, parseSpec } from "../../dsl/index.ts";

const dir = join(import.meta.dirname, "../../examples");
const sources = readdirSync(dir).filter((f) => f.endsWith(".lasp")).sort().map((f) => readFileSync(join(dir, f), "utf8"));

/** Pieces of the text: words, punctuation and the whitespace between them (an independent tokenizer). */
function pieces(s: string): string[] {
  return s.split(/(\s+|[{}[\],*=]|\.\.)/).filter((p) => p !== "");
}

type Mutation =
  | { op: "deleteToken" | "duplicateToken"; at: number }
  | { op: "swapTokens"; at: number; other: number }
  | { op: "deleteChar" | "duplicateChar"; at: number }
  | { op: "insertChar"; at: number; ch: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom("deleteToken" as const, "duplicateToken" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("swapTokens" as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constantFrom("deleteChar" as const, "duplicateChar" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insertChar" as const), at: fc.nat(), ch: fc.constantFrom(..."{}[],*=.#\"9Kx-@ \n") }),
);

function apply(s: string, m: Mutation): string {
  const c = m.at % (s.length + 1);
  const p = pieces(s);
  const i = m.at % Math.max(1, p.length);
  switch (m.op) {
    case "deleteChar":
      return s.slice(0, c) + s.slice(c + 1);
    case "duplicateChar":
      return s.slice(0, c) + s.slice(c, c + 1) + s.slice(c);
    case "insertChar":
      return s.slice(0, c) + m.ch + s.slice(c);
    case "deleteToken":
      p.splice(i, 1);
      return p.join("");
    case "duplicateToken":
      p.splice(i, 0, p[i] ?? "");
      return p.join("");
    case "swapTokens": {
      const j = m.other % Math.max(1, p.length);
      [p[i], p[j]] = [p[j] ?? "", p[i] ?? ""];
      return p.join("");
    }
  }
}

function wellFormed(text: string): void {
  const r = parseSpec(text, "fuzz.lasp");
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  expect(r.spec === undefined).toBe(errors.length > 0);
  for (const d of r.diagnostics) {
    expect(d.code).toMatch(/^LASP[1-4]\d{3}$/);
    if (d.span !== undefined && d.span.file === "fuzz.lasp") {
      expect(d.span.start).toBeGreaterThanOrEqual(0);
      expect(d.span.end).toBeLessThanOrEqual(text.length);
      expect(d.span.start).toBeLessThanOrEqual(d.span.end);
    }
    expect(formatDiagnostic(d, r.source, { pretty: true }).length).toBeGreaterThan(0);
  }
}

describe("fuzz", () => {
  it("mutated examples give a spec or diagnostics, never an exception", () => {
    fc.assert(
      fc.property(fc.nat(sources.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, ms) => {
        wellFormed(ms.reduce(apply, sources[which]!));
      }),
      { numRuns: 400, seed: 20260226 },
    );
  });

  it("random bytes and token soup never throw", () => {
    const soup = fc.array(fc.constantFrom("model", "m", "{", "}", "[", "]", "linear", "softmax", "layers", "=", "*", "4", "2K",
      "layer", "0..3", ",", "decay", "fixed", "0.5", "parallel", "sp", "train", "seq", '"x"', "data", "\n", "#c\n", "heads", "vocab"), { maxLength: 60 });
    fc.assert(fc.property(soup, (ws) => wellFormed(ws.join(" "))), { numRuns: 300, seed: 7 });
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => wellFormed(s)), { numRuns: 200, seed: 11 });
  });

  it("huge repetition counts are refused, not expanded", () => {
    const r = parseSpec("model m { vocab 256 hidden 64 heads 4 layers = [[linear]*1M]*1M }", "f");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["LASP2008"]);
  });
});

describe("random valid specs", () => {
  const specArb = fc.record({
    headDim: fc.constantFrom(8, 16, 32),
    heads: fc.constantFrom(1, 2, 4, 8),
    kvDiv: fc.constantFrom(1, 2, 4),
    vocab: fc.integer({ min: 256, max: 5000 }),
    // starts with a linear layer, so the model-level linear block is used (an unused one is a warning)
    mix: fc.array(fc.constantFrom("linear", "softmax"), { maxLength: 5 }).map((m) => ["linear", ...m]),
    reps: fc.integer({ min: 1, max: 3 }),
    variant: fc.constantFrom("basic", "lightning", "retention", "gla", "based", "rebased"),
    sp: fc.constantFrom(1, 2, 4, 8),
    seqK: fc.integer({ min: 1, max: 64 }),
    layout: fc.constantFrom("contiguous", "zigzag"),
    lr: fc.constantFrom("1e-3", "3e-4", "0.01"),
  });

  it("resolve to the values written", () => {
    fc.assert(
      fc.property(specArb, (g) => {
        const kv = g.heads % g.kvDiv === 0 ? g.heads / g.kvDiv : g.heads;
        const text = `model r {\n vocab ${g.vocab} hidden ${g.heads * g.headDim} heads ${g.heads} kv_heads ${kv}\n` +
          ` layers ${g.mix.length * g.reps} = [${g.mix.join(", ")}] * ${g.reps}\n linear { kind ${g.variant} }\n}\n` +
          `parallel { sp ${g.sp} layout ${g.layout} }\ntrain { seq ${g.seqK}K optimizer adamw lr ${g.lr} }\n`;
        const r = parseSpec(text, "r.lasp");
        expect(r.diagnostics).toEqual([]);
        const s = r.spec!;
        expect(s.model).toMatchObject({ vocab: g.vocab, heads: g.heads, kvHeads: kv, headDim: g.headDim, hidden: g.heads * g.headDim });
        expect(s.model.layers.map((l) => l.kind)).toEqual(Array.from({ length: g.reps }, () => g.mix).flat());
        for (const l of s.model.layers) if (l.kind === "linear") expect(l.linear!.variant).toBe(g.variant);
        expect(s.parallel).toMatchObject({ sp: g.sp, layout: g.layout });
        expect(s.train.seq).toBe(g.seqK * 1024);
        expect(s.train.optimizer.lr).toBe(Number(g.lr));
      }),
      { numRuns: 150, seed: 3 },
    );
  });
});

describe("fuzz --set", () => {
  it("random flags give a spec or diagnostics, never an exception, with spans inside the flag", () => {
    const part = fc.constantFrom("model", "parallel", "train", "linear", "softmax", "optimizer", "data", "sp", "lr", "kind", "layers", "layer", "rope", "theta", "norm", "eps", "x", "");
    const value = fc.constantFrom("8", "64K", "abc", "[linear,softmax]*2", "gla", "off", "1e-3", "[", "}", '"x', "text builtin:a", "fixed [0.9]", "", "=");
    const flag = fc.tuple(fc.array(part, { minLength: 1, maxLength: 4 }), fc.boolean(), value).map(([ps, eq, v]) => ps.join(".") + (eq ? "=" : "") + v);
    fc.assert(
      fc.property(fc.array(flag, { maxLength: 3 }), (flags) => {
        const r = parseSpec(sources[0]!, "f.lasp", flags);
        expect(r.spec === undefined).toBe(r.diagnostics.some((d) => d.severity === "error"));
        for (const d of r.diagnostics) {
          expect(d.code).toMatch(/^LASP[1-4]\d{3}$/);
          if (d.span?.file === "--set") {
            const text = d.notes?.find((n) => n.message.startsWith("--set "))?.message.slice(6);
            expect(text).toBeDefined();
            expect(flags).toContain(text);
            expect(d.span.end).toBeLessThanOrEqual(text!.length);
          }
          formatDiagnostic(d, r.source, { pretty: true });
        }
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});
