// Atomic writes: replace in one step, leave no temp file behind, and keep the old content when the
// write fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../runtime/io/atomic.ts";

describe("writeFileAtomic", () => {
  it("creates and replaces a file, leaving no temp file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "at-"));
    const f = path.join(dir, "a.json");
    writeFileAtomic(f, "one");
    writeFileAtomic(f, new Uint8Array([0x74, 0x77, 0x6f]));
    expect(fs.readFileSync(f, "utf8")).toBe("two");
    expect(fs.readdirSync(dir)).toEqual(["a.json"]);
  });

  it("a failed replace leaves the old target and no temp file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "at-"));
    const target = path.join(dir, "busy");
    fs.mkdirSync(target); // rename of a file over a non-empty directory fails
    fs.writeFileSync(path.join(target, "keep"), "x");
    expect(() => writeFileAtomic(target, "new")).toThrow();
    expect(fs.readdirSync(dir)).toEqual(["busy"]);
    expect(fs.readFileSync(path.join(target, "keep"), "utf8")).toBe("x");
    expect(() => writeFileAtomic(path.join(dir, "no", "such", "f"), "x")).toThrow(/ENOENT/);
  });
});
