// `lasp compile --emit ts` in-process: writes the module (-o), which loads with loadCompiledProgram and
// embeds the same plan `--emit json` prints; --emit json stays the default; a bad --emit is a usage error.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { canonicalJson } from "../../compiler/plan/canonical.ts";
import { loadCompiledProgram } from "../../runtime/exec/compiled.ts";

const run = runCli;

afterEach(() => vi.restoreAllMocks());
const dir = mkdtempSync(join(tmpdir(), "lasp-emit-"));
const SETS = ["--set", "model.layers=[linear, softmax]", "--set", "train.seq=37", "--set", "model.hidden=32"];

describe("lasp compile --emit", () => {
  it("--emit ts -o FILE.mts writes a loadable module embedding the --emit json plan", async () => {
    const path = join(dir, "tiny.plan.mts");
    const r = await run(["compile", "examples/tiny.lasp", ...SETS, "--emit", "ts", "-o", path]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`wrote ${path}`);
    const text = readFileSync(path, "utf8");
    expect(text.split("\n")[0]).toMatch(/^\/\/ Compiled lasp plan: model 'tiny' \(examples\/tiny\.lasp, sha256 [0-9a-f]{12}\), mesh sp 2 x dp 1/);
    expect(text).toContain("lasp compile --emit ts examples/tiny.lasp");
    const json = await run(["compile", "examples/tiny.lasp", ...SETS]);
    expect(json.code).toBe(0);
    const program = await loadCompiledProgram(path);
    expect(canonicalJson(program.plan)).toBe(json.out);
    expect(typeof program.forward).toBe("function");
  });

  it("rejects an unknown --emit with a usage error", async () => {
    const r = await run(["compile", "examples/tiny.lasp", "--emit", "wasm"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--emit must be json or ts");
  });
});
