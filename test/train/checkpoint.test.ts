// Checkpoints: round trip, corruption / truncation / other spec refused with the file named, and a
// kill between the data files and the manifest leaves the previous checkpoint loadable.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { type CheckpointState, hashSpec, latestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint } from "../../runtime/train/checkpoint.ts";
import { Rng } from "../../runtime/train/rng.ts";

function state(step: number): CheckpointState {
  const rng = new Rng(step);
  const shapes = new Map<string, number[]>([["emb", [5, 4]], ["layers.0.norm", [4]]]);
  const mk = (s: number) => new Map([...shapes].map(([n, sh]) => [n, new Rng(step, s).normalArray(sh.reduce((a, b) => a * b, 1))]));
  return { step, seed: 7, dataPosition: step, weights: mk(1), shapes, optimizer: { step, m: mk(2), v: mk(3) }, meta: { ranks: 2, r: rng.int(100) } };
}

const tmpRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), "ckpt-"));
const H = hashSpec({ model: { hidden: 64, loc: { file: "a.lasp", line: 1, col: 1 } } });

describe("checkpoint", () => {
  it("round-trips weights, optimizer state, step, seed and meta", () => {
    const root = tmpRoot();
    const s = state(10);
    const dir = saveCheckpoint(root, H, s);
    expect(path.basename(dir)).toBe("step-00000010");
    expect(fs.readdirSync(dir).sort()).toEqual(["manifest.json", "optimizer.safetensors", "weights.safetensors"]);
    const got = loadCheckpoint(root, H);
    expect(got.dir).toBe(dir);
    expect(got.state.step).toBe(10);
    expect(got.state.dataPosition).toBe(10);
    expect(got.state.seed).toBe(7);
    expect(got.state.meta).toEqual(s.meta);
    expect(got.state.shapes).toEqual(s.shapes);
    expect(got.state.weights).toEqual(s.weights);
    expect(got.state.optimizer.m).toEqual(s.optimizer.m);
    expect(got.state.optimizer.v).toEqual(s.optimizer.v);
    expect(got.state.optimizer.step).toBe(10);
    expect(got.manifest.files["weights.safetensors"]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loadCheckpoint(dir, H).state.step).toBe(10); // a step directory works too
  });

  it("the spec hash ignores source locations and key order, not values", () => {
    expect(hashSpec({ a: 1, b: { loc: { line: 3 }, c: 2 } })).toBe(hashSpec({ b: { c: 2, loc: { line: 9 } }, a: 1 }));
    expect(hashSpec({ a: 1 })).not.toBe(hashSpec({ a: 2 }));
  });

  it("keeps the newest `keep` checkpoints and loads the latest", () => {
    const root = tmpRoot();
    for (const s of [1, 2, 3, 12]) saveCheckpoint(root, H, state(s));
    expect(listCheckpoints(root).map((d) => path.basename(d))).toEqual(["step-00000003", "step-00000012"]);
    expect(loadCheckpoint(root, H).state.step).toBe(12);
    saveCheckpoint(root, H, state(12)); // same step again replaces it
    expect(listCheckpoints(root).length).toBe(2);
  });

  it("refuses a corrupted byte, naming the file", () => {
    const root = tmpRoot();
    const dir = saveCheckpoint(root, H, state(4));
    const f = path.join(dir, "weights.safetensors");
    const b = fs.readFileSync(f);
    b[b.length - 5] = b[b.length - 5]! ^ 0x40;
    fs.writeFileSync(f, b);
    expect(() => loadCheckpoint(root, H)).toThrow(new RegExp(`checkpoint file .*step-00000004/weights\\.safetensors is corrupted: sha256 [0-9a-f]{64}, the manifest says`));
  });

  it("refuses a truncated file, naming the file", () => {
    const root = tmpRoot();
    const dir = saveCheckpoint(root, H, state(4));
    const f = path.join(dir, "optimizer.safetensors");
    fs.truncateSync(f, 100);
    expect(() => loadCheckpoint(root, H)).toThrow(/optimizer\.safetensors has 100 bytes, the manifest says \d+ \(truncated/);
    fs.rmSync(f);
    expect(() => loadCheckpoint(root, H)).toThrow(/optimizer\.safetensors cannot be read/);
  });

  it("refuses a checkpoint written for another spec", () => {
    const root = tmpRoot();
    saveCheckpoint(root, H, state(4));
    const other = hashSpec({ model: { hidden: 128 } });
    expect(() => loadCheckpoint(root, other)).toThrow(
      `checkpoint was written for spec hash ${H} (file ${path.join(root, "step-00000004", "manifest.json")}), this run's spec hash is ${other}`,
    );
  });

  it("a kill between the data files and the manifest leaves the previous checkpoint loadable", () => {
    const root = tmpRoot();
    saveCheckpoint(root, H, state(5));
    expect(() =>
      saveCheckpoint(root, H, state(6), {
        afterDataFiles: () => {
          throw new Error("killed");
        },
      }),
    ).toThrow("killed");
    expect(latestCheckpoint(root)).toBe(path.join(root, "step-00000005"));
    const got = loadCheckpoint(root, H);
    expect(got.state.step).toBe(5);
    expect(got.state.weights).toEqual(state(5).weights);
    // the next save cleans the debris and completes
    saveCheckpoint(root, H, state(6));
    expect(fs.readdirSync(root).sort()).toEqual(["step-00000005", "step-00000006"]);
  });

  it("a kill between the two renames of a same-step save is recovered from the set-aside copy", () => {
    const root = tmpRoot();
    saveCheckpoint(root, H, state(8), { keep: 1 });
    fs.renameSync(path.join(root, "step-00000008"), path.join(root, ".old-step-00000008-123"));
    expect(loadCheckpoint(root, H).state.step).toBe(8);
    expect(fs.readdirSync(root)).toEqual(["step-00000008"]);
  });

  it("an empty or missing root is a clear error", () => {
    expect(() => loadCheckpoint(path.join(tmpRoot(), "none"), H)).toThrow(/no checkpoint in .*none/);
  });
});
