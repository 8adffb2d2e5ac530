// safetensors: round trip of every dtype, a hand-built file read as the format defines it, and
// every corruption refused with an Error naming the file and the fault.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, readSafetensors, requireTensor, toFloat32, writeSafetensors } from "../../runtime/io/safetensors.ts";

function sample(): Map<string, { shape: number[]; data: Float32Array | Float64Array | Int32Array | BigInt64Array }> {
  return new Map<string, { shape: number[]; data: Float32Array | Float64Array | Int32Array | BigInt64Array }>([
    ["w", { shape: [2, 3], data: new Float32Array([1, -2, 3.5, 4, 5, 6e-8]) }],
    ["d", { shape: [3], data: new Float64Array([Math.PI, -1e300, 0.1]) }],
    ["i", { shape: [2, 1], data: new Int32Array([-7, 2147483647]) }],
    ["l", { shape: [], data: new BigInt64Array([-(2n ** 40n)]) }],
    ["empty", { shape: [0, 4], data: new Float32Array(0) }],
  ]);
}

/** A file built byte by byte from the format's definition (header JSON, LE data). */
function handBuilt(header: object, data: number[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return out;
}

describe("safetensors", () => {
  it("round-trips F32, F64, I32, I64, scalars, empty tensors and metadata", () => {
    const bytes = encodeSafetensors(sample(), { format: "pt", step: "12" });
    const back = decodeSafetensors(bytes, "mem");
    expect(back.metadata).toEqual({ format: "pt", step: "12" });
    for (const [name, t] of sample()) {
      const got = back.tensors.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
    }
    expect(back.tensors.get("w")!.dtype).toBe("F32");
    expect(back.tensors.get("l")!.dtype).toBe("I64");
    // data starts 8-byte aligned, as the reference writer pads the header with spaces
    expect(Number(Buffer.from(bytes).readBigUInt64LE(0)) % 8).toBe(0);
  });

  it("reads a hand-built file and converts F64 / I64 to float32 on request", () => {
    const f64 = Buffer.alloc(16);
    f64.writeDoubleLE(0.1, 0);
    f64.writeDoubleLE(-2.5, 8);
    const i64 = Buffer.alloc(8);
    i64.writeBigInt64LE(-3n, 0);
    const bytes = handBuilt(
      { __metadata__: { a: "b" }, x: { dtype: "F64", shape: [2], data_offsets: [0, 16] }, n: { dtype: "I64", shape: [1, 1], data_offsets: [16, 24] } },
      [...f64, ...i64],
    );
    const c = decodeSafetensors(bytes, "hand.safetensors");
    expect(Array.from(toFloat32(c.tensors.get("x")!))).toEqual([Math.fround(0.1), -2.5]);
    expect(Array.from(toFloat32(c.tensors.get("n")!))).toEqual([-3]);
    expect(c.metadata).toEqual({ a: "b" });
  });

  it("reads a file written by the reference (Python) implementation", () => {
    const file = fileURLToPath(new URL("fixtures/reference-writer.safetensors", import.meta.url));
    const c = readSafetensors(file);
    expect(c.metadata).toEqual({ k: "v" });
    const got = Object.fromEntries([...c.tensors].map(([n, t]) => [n, [t.dtype, t.shape, Array.from(toFloat32(t))]]));
    expect(got).toEqual({
      a: ["F32", [2, 3], [0, 0.5, 1, 1.5, 2, 2.5]],
      b: ["F64", [2], [1.5, -2.25]],
      c: ["I64", [1, 1], [-3]],
      d: ["I32", [2], [7, 8]],
      h: ["F16", [3], [1, -2, 0.5]],
    });
  });

  it("widens F16 and BF16 to float32", () => {
    // F16 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24; BF16 0x3f80 = 1, 0xc040 = -3
    const bytes = handBuilt(
      { h: { dtype: "F16", shape: [3], data_offsets: [0, 6] }, b: { dtype: "BF16", shape: [2], data_offsets: [6, 10] } },
      [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x80, 0x3f, 0x40, 0xc0],
    );
    const c = decodeSafetensors(bytes, "half");
    expect(Array.from(toFloat32(c.tensors.get("h")!))).toEqual([1, -2, 2 ** -24]);
    expect(Array.from(toFloat32(c.tensors.get("b")!))).toEqual([1, -3]);
  });

  it("writes atomically to disk and reads back, with the file name in errors", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-"));
    const file = path.join(dir, "t.safetensors");
    writeSafetensors(file, sample());
    expect(readSafetensors(file).tensors.size).toBe(5);
    expect(fs.readdirSync(dir)).toEqual(["t.safetensors"]); // no temp file left behind
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 3));
    expect(() => readSafetensors(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*outside the data buffer`));
  });

  it("requireTensor checks presence and shape, naming the file", () => {
    const c = decodeSafetensors(encodeSafetensors(sample()), "in.safetensors");
    expect(Array.from(requireTensor(c, "i", "in.safetensors", [2, null]).data)).toEqual([-7, 2 ** 31]); // int32 max rounds in float32
    expect(() => requireTensor(c, "q", "in.safetensors")).toThrow("in.safetensors: no tensor 'q' (has: w, d, i, l, empty)");
    expect(() => requireTensor(c, "w", "in.safetensors", [3, 2])).toThrow("in.safetensors: tensor 'w' has shape [2, 3], expected [3, 2]");
  });

  it("refuses an encode with mismatched shape", () => {
    expect(() => encodeSafetensors(new Map([["x", { shape: [3], data: new Float32Array(2) }]]))).toThrow(/needs 12 bytes, data has 8/);
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ["fewer than 8 bytes", () => new Uint8Array(5), /truncated: 5 bytes/],
    ["header length past the end", () => {
      const b = Buffer.from(encodeSafetensors(sample()));
      b.writeBigUInt64LE(BigInt(b.length), 0);
      return b;
    }, /header length \d+ is out of bounds/],
    ["huge header length", () => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(2n ** 60n, 0);
      return b;
    }, /exceeds the limit/],
    ["header not JSON", () => {
      const b = Buffer.alloc(12);
      b.writeBigUInt64LE(4n, 0);
      b.write("{x:1", 8);
      return b;
    }, /not valid JSON/],
    ["header not an object", () => handBuilt([1, 2], []), /not a JSON object/],
    ["truncated data", () => encodeSafetensors(sample()).subarray(0, -1), /tensor 'l': data_offsets \[56, 64\] outside the data buffer of 63 bytes/],
    ["offsets outside the buffer", () => handBuilt({ x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]), /tensor 'x': data_offsets \[0, 8\] outside the data buffer of 4 bytes/],
    ["overlapping offsets", () => handBuilt({
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    }, new Array(12).fill(0)), /tensor 'b': data_offsets \[4, 12\] overlap/],
    ["a hole between tensors", () => handBuilt({
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      b: { dtype: "F32", shape: [1], data_offsets: [8, 12] },
    }, new Array(12).fill(0)), /hole in the data buffer before offset 8/],
    ["trailing bytes", () => handBuilt({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Array(6).fill(0)), /2 trailing bytes/],
    ["end before start", () => handBuilt({ a: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, new Array(4).fill(0)), /end before start/],
    ["dtype/shape size mismatch", () => handBuilt({ a: { dtype: "F64", shape: [2, 2], data_offsets: [0, 16] } }, new Array(16).fill(0)), /shape \[2, 2\] F64 needs 32 bytes, data_offsets give 16/],
    ["unknown dtype", () => handBuilt({ a: { dtype: "C64", shape: [1], data_offsets: [0, 8] } }, new Array(8).fill(0)), /unsupported dtype "C64"/],
    ["bad shape", () => handBuilt({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Array(4).fill(0)), /shape \[-1\] is not a list/],
    ["bad offsets", () => handBuilt({ a: { dtype: "F32", shape: [1], data_offsets: [0] } }, new Array(4).fill(0)), /data_offsets \[0\] is not a pair/],
    ["non-string metadata", () => handBuilt({ __metadata__: { a: 1 } }, []), /__metadata__.a is not a string/],
  ];
  for (const [what, make, msg] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => decodeSafetensors(make(), "bad.safetensors")).toThrow(/^bad\.safetensors: invalid safetensors file: /);
      expect(() => decodeSafetensors(make(), "bad.safetensors")).toThrow(msg);
    });
  }
});
