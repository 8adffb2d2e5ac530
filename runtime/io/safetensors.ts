// The safetensors format (8-byte LE header length, JSON header, raw little-endian data), read with
// strict validation so a bad file is an Error naming the file and the fault, never garbage tensors.
import * as fs from "node:fs";
import * as os from "node:os";
import { writeFileAtomic } from "./atomic.ts";

export type DType = "F32" | "F64" | "I32" | "I64" | "F16" | "BF16" | "U8" | "I8";
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array | Uint8Array | Int8Array;

/** One tensor: F16/BF16 data is kept as raw Uint16Array bits (read-only support; see toFloat32). */
export interface Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface SafetensorsContent {
  readonly tensors: Map<string, Tensor>;
  readonly metadata: Record<string, string>;
}

const ITEM_SIZE: Record<DType, number> = { F32: 4, F64: 8, I32: 4, I64: 8, F16: 2, BF16: 2, U8: 1, I8: 1 };
/** Header larger than this is refused (the reference implementation's limit). */
const MAX_HEADER = 100_000_000;
const METADATA_KEY = "__metadata__";

if (os.endianness() !== "LE") throw new Error("safetensors.ts assumes a little-endian host");

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Uint8Array) return "U8";
  if (data instanceof Int8Array) return "I8";
  throw new Error("safetensors: Uint16Array data needs an explicit dtype (F16 or BF16)");
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialise tensors (insertion order) and string metadata into safetensors bytes. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, { dtype?: DType; shape: readonly number[]; data: TensorData }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) throw new Error(`safetensors: '${METADATA_KEY}' is not a valid tensor name`);
    const dtype = t.dtype ?? dtypeOf(t.data);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new Error(`safetensors: tensor '${name}' has an invalid shape [${t.shape.join(", ")}]`);
    }
    if (numel(t.shape) * ITEM_SIZE[dtype] !== bytes.length) {
      throw new Error(
        `safetensors: tensor '${name}' shape [${t.shape.join(", ")}] ${dtype} needs ` +
          `${numel(t.shape) * ITEM_SIZE[dtype]} bytes, data has ${bytes.length}`,
      );
    }
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data starts 8-byte aligned, as the reference writer does
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function viewAs(dtype: DType, bytes: Uint8Array): TensorData {
  const buf = new Uint8Array(bytes).buffer; // copy: aligned at 0 and independent of the file buffer
  switch (dtype) {
    case "F32":
      return new Float32Array(buf);
    case "F64":
      return new Float64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "I64":
      return new BigInt64Array(buf);
    case "F16":
    case "BF16":
      return new Uint16Array(buf);
    case "U8":
      return new Uint8Array(buf);
    case "I8":
      return new Int8Array(buf);
    default:
      return dtype satisfies never;
  }
}

/** Parse safetensors bytes. `source` (a file name) is named in every error. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContent {
  const fail = (what: string): never => {
    throw new Error(`${source}: invalid safetensors file: ${what}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, the 8-byte header length is missing`);
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER)) fail(`header length ${headerLen} exceeds the limit of ${MAX_HEADER} bytes`);
  const hl = Number(headerLen);
  if (8 + hl > bytes.length) fail(`header length ${hl} is out of bounds (file has ${bytes.length} bytes): truncated?`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, hl).toString("utf8"));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header is not a JSON object");
  const data = bytes.subarray(8 + hl);
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: DType; shape: number[]; start: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("__metadata__ is not an object");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) fail(`tensor '${name}': entry is not an object`);
    if (typeof e.dtype !== "string" || !(e.dtype in ITEM_SIZE)) {
      fail(`tensor '${name}': unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(ITEM_SIZE).join(", ")})`);
    }
    const dtype = e.dtype as DType;
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      fail(`tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
      fail(`tensor '${name}': data_offsets ${JSON.stringify(offs)} is not a pair of non-negative integers`);
    }
    const [start, end] = offs as [number, number];
    if (end < start) fail(`tensor '${name}': data_offsets [${start}, ${end}] end before start`);
    if (end > data.length) {
      fail(`tensor '${name}': data_offsets [${start}, ${end}] outside the data buffer of ${data.length} bytes (truncated?)`);
    }
    const want = numel(shape as number[]) * ITEM_SIZE[dtype];
    if (end - start !== want) {
      fail(`tensor '${name}': shape [${(shape as number[]).join(", ")}] ${dtype} needs ${want} bytes, data_offsets give ${end - start}`);
    }
    entries.push({ name, dtype, shape: shape as number[], start, end });
  }
  // tensors must tile the data buffer exactly: no overlap, no hole, no trailing bytes
  const sorted = [...entries].sort((a, b) => a.start - b.start || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.start < pos) fail(`tensor '${e.name}': data_offsets [${e.start}, ${e.end}] overlap another tensor`);
    if (e.start > pos) fail(`tensor '${e.name}': hole in the data buffer before offset ${e.start}`);
    pos = e.end;
  }
  if (pos !== data.length) fail(`${data.length - pos} trailing bytes after the last tensor`);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: viewAs(e.dtype, data.subarray(e.start, e.end)) });
  return { tensors, metadata };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Any numeric tensor as float32 (F64 rounds, integers convert, F16/BF16 widen). */
export function toFloat32(t: Tensor): Float32Array {
  const d = t.data;
  if (t.dtype === "F32") return d as Float32Array;
  if (t.dtype === "BF16") {
    const bits = new Uint32Array(d.length);
    for (let i = 0; i < d.length; i++) bits[i] = (d as Uint16Array)[i]! << 16;
    return new Float32Array(bits.buffer);
  }
  const out = new Float32Array(d.length);
  if (t.dtype === "F16") for (let i = 0; i < d.length; i++) out[i] = halfToFloat((d as Uint16Array)[i]!);
  else if (d instanceof BigInt64Array) for (let i = 0; i < d.length; i++) out[i] = Number(d[i]!);
  else for (let i = 0; i < d.length; i++) out[i] = (d as Float64Array)[i]!;
  return out;
}

export function readSafetensors(file: string): SafetensorsContent {
  return decodeSafetensors(fs.readFileSync(file), file);
}

/** Write atomically (temp file + fsync + rename). */
export function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, { dtype?: DType; shape: readonly number[]; data: TensorData }>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** The named tensor as float32, checked against an expected shape (null dims match anything). */
export function requireTensor(
  content: SafetensorsContent,
  name: string,
  source: string,
  shape?: readonly (number | null)[],
): { data: Float32Array; shape: readonly number[] } {
  const t = content.tensors.get(name);
  if (t === undefined) {
    throw new Error(`${source}: no tensor '${name}' (has: ${[...content.tensors.keys()].join(", ") || "none"})`);
  }
  if (t.dtype === "U8" || t.dtype === "I8") throw new Error(`${source}: tensor '${name}' is ${t.dtype}, a float or integer tensor is needed`);
  if (shape !== undefined && (shape.length !== t.shape.length || shape.some((d, i) => d !== null && d !== t.shape[i]))) {
    const want = shape.map((d) => (d === null ? "*" : String(d))).join(", ");
    throw new Error(`${source}: tensor '${name}' has shape [${t.shape.join(", ")}], expected [${want}]`);
  }
  return { data: toFloat32(t), shape: t.shape };
}
