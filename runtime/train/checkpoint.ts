// Crash-safe checkpoints: each one a directory step-NNNNNNNN/ {weights, optimizer}.safetensors +
// manifest.json (sizes, sha256, spec hash), built under a temp name and renamed into place last.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fsyncDir, writeFileAtomic } from "../io/atomic.ts";
import { type Tensor, decodeSafetensors, encodeSafetensors, toFloat32 } from "../io/safetensors.ts";

export const CHECKPOINT_FORMAT = "lasp-checkpoint/1";
const WEIGHTS = "weights.safetensors";
const OPTIMIZER = "optimizer.safetensors";
const MANIFEST = "manifest.json";
const STEP_DIR = /^step-(\d{8,})$/;

export interface CheckpointState {
  /** training steps completed (the next step to run) */
  readonly step: number;
  readonly seed: number;
  /** where the data source resumes (batches are a function of (seed, step): normally = step) */
  readonly dataPosition: number;
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly optimizer: { readonly step: number; readonly m: ReadonlyMap<string, Float32Array>; readonly v: ReadonlyMap<string, Float32Array> };
  /** free-form JSON kept in the manifest (run settings, rank count, ...) */
  readonly meta?: Record<string, unknown>;
}

export interface Manifest {
  readonly format: string;
  readonly specHash: string;
  readonly step: number;
  readonly seed: number;
  readonly dataPosition: number;
  readonly createdAt: string;
  readonly files: Record<string, { bytes: number; sha256: string }>;
  readonly meta?: Record<string, unknown>;
}

export interface LoadedCheckpoint {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly state: {
    step: number;
    seed: number;
    dataPosition: number;
    weights: Map<string, Float32Array>;
    shapes: Map<string, number[]>;
    optimizer: { step: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> };
    meta?: Record<string, unknown>;
  };
}

export interface SaveOptions {
  /** complete checkpoints to keep, the new one included (default 2, at least 1) */
  readonly keep?: number;
  /** test hook: runs after the data files are written, before the manifest (simulate a kill by throwing) */
  readonly afterDataFiles?: () => void;
}

/** sha256 of canonical JSON (sorted keys), leaving out keys in `omit` ("loc": source positions) at any depth. */
export function hashSpec(spec: unknown, omit: readonly string[] = ["loc"]): string {
  const canon = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canon);
    if (x !== null && typeof x === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) if (!omit.includes(k)) out[k] = canon((x as Record<string, unknown>)[k]);
      return out;
    }
    return x;
  };
  return createHash("sha256").update(JSON.stringify(canon(spec))).digest("hex");
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(8, "0")}`;
}

/**
 * Finish an interrupted same-step replacement: a set-aside `.old-step-N-*` is put back when step-N
 * is missing (the kill fell between the two renames) and deleted otherwise.
 */
function recoverSetAside(root: string): void {
  for (const n of fs.readdirSync(root)) {
    const m = /^\.old-(step-\d{8,})-\d+$/.exec(n);
    if (m === null) continue;
    const final = path.join(root, m[1]!);
    if (fs.existsSync(path.join(final, MANIFEST))) fs.rmSync(path.join(root, n), { recursive: true, force: true });
    else {
      fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(path.join(root, n), final);
    }
  }
}

/** Complete checkpoint directories under root, oldest first (temp dirs are ignored). */
export function listCheckpoints(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  recoverSetAside(root);
  return fs
    .readdirSync(root)
    .filter((n) => STEP_DIR.test(n) && fs.existsSync(path.join(root, n, MANIFEST)))
    .sort((a, b) => Number(STEP_DIR.exec(a)![1]) - Number(STEP_DIR.exec(b)![1]))
    .map((n) => path.join(root, n));
}

export function latestCheckpoint(root: string): string | undefined {
  return listCheckpoints(root).at(-1);
}

function tensorsOf(names: Iterable<[string, Float32Array]>, shapes: ReadonlyMap<string, readonly number[]>, prefix: string) {
  const out = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, data] of names) {
    const shape = shapes.get(name);
    if (shape === undefined) throw new Error(`saveCheckpoint: no shape for parameter '${name}'`);
    out.set(prefix + name, { shape, data });
  }
  return out;
}

/**
 * Write a checkpoint under root and return its directory. Order: data files (fsynced) in a temp dir,
 * manifest last, rename the dir into place, fsync root, then prune old ones. A crash at any point
 * leaves the previous complete checkpoint loadable.
 */
export function saveCheckpoint(root: string, specHash: string, state: CheckpointState, opts: SaveOptions = {}): string {
  const keep = Math.max(1, opts.keep ?? 2);
  fs.mkdirSync(root, { recursive: true });
  for (const n of fs.readdirSync(root)) if (n.startsWith(".tmp-step-")) fs.rmSync(path.join(root, n), { recursive: true, force: true });
  const final = path.join(root, stepDirName(state.step));
  const tmp = path.join(root, `.tmp-${stepDirName(state.step)}-${process.pid}`);
  fs.mkdirSync(tmp);
  const files: Record<string, Uint8Array> = {
    [WEIGHTS]: encodeSafetensors(tensorsOf(state.weights, state.shapes, ""), { format: "pt", step: String(state.step) }),
    [OPTIMIZER]: encodeSafetensors(
      new Map([...tensorsOf(state.optimizer.m, state.shapes, "m/"), ...tensorsOf(state.optimizer.v, state.shapes, "v/")]),
      { optimizer: "adamw", step: String(state.optimizer.step) },
    ),
  };
  const manifestFiles: Manifest["files"] = {};
  for (const [name, bytes] of Object.entries(files)) {
    writeFileAtomic(path.join(tmp, name), bytes);
    manifestFiles[name] = { bytes: bytes.length, sha256: sha256(bytes) };
  }
  opts.afterDataFiles?.();
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    specHash,
    step: state.step,
    seed: state.seed,
    dataPosition: state.dataPosition,
    createdAt: new Date().toISOString(),
    files: manifestFiles,
    ...(state.meta !== undefined ? { meta: state.meta } : {}),
  };
  writeFileAtomic(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  if (fs.existsSync(final)) {
    // same step saved again: set the old one aside, swap, then drop it
    const aside = path.join(root, `.old-${stepDirName(state.step)}-${process.pid}`);
    fs.renameSync(final, aside);
    fs.renameSync(tmp, final);
    fs.rmSync(aside, { recursive: true, force: true });
  } else {
    fs.renameSync(tmp, final);
  }
  fsyncDir(root);
  const all = listCheckpoints(root);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(old, { recursive: true, force: true });
  return final;
}

function readVerified(dir: string, name: string, entry: { bytes: number; sha256: string } | undefined): Uint8Array {
  const file = path.join(dir, name);
  if (entry === undefined) throw new Error(`checkpoint ${dir}: ${MANIFEST} does not list ${name}`);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`checkpoint file ${file} cannot be read: ${(e as Error).message}`);
  }
  if (bytes.length !== entry.bytes) {
    throw new Error(`checkpoint file ${file} has ${bytes.length} bytes, the manifest says ${entry.bytes} (truncated or replaced)`);
  }
  const got = sha256(bytes);
  if (got !== entry.sha256) throw new Error(`checkpoint file ${file} is corrupted: sha256 ${got}, the manifest says ${entry.sha256}`);
  return bytes;
}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch (e) {
    throw new Error(`checkpoint manifest ${file} cannot be read: ${(e as Error).message}`);
  }
  if (m.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint manifest ${file}: format ${JSON.stringify(m.format)}, expected ${CHECKPOINT_FORMAT}`);
  for (const k of ["step", "seed", "dataPosition"] as const) {
    if (!Number.isSafeInteger(m[k])) throw new Error(`checkpoint manifest ${file}: '${k}' is not an integer`);
  }
  if (typeof m.specHash !== "string" || typeof m.files !== "object" || m.files === null) {
    throw new Error(`checkpoint manifest ${file}: specHash or files missing`);
  }
  return m;
}

function f32(t: Tensor, where: string): Float32Array {
  if (t.dtype !== "F32") throw new Error(`${where}: dtype ${t.dtype}, expected F32`);
  return toFloat32(t);
}

/**
 * Load a checkpoint: `where` is one step directory, or a root whose latest complete checkpoint is
 * taken. Sizes, sha256 and the spec hash are checked before anything is used.
 */
export function loadCheckpoint(where: string, specHash: string): LoadedCheckpoint {
  const dir = fs.existsSync(path.join(where, MANIFEST)) ? where : latestCheckpoint(where);
  if (dir === undefined) throw new Error(`no checkpoint in ${where} (no ${MANIFEST} there nor in a step-* directory)`);
  const manifest = readManifest(dir);
  if (manifest.specHash !== specHash) {
    throw new Error(
      `checkpoint was written for spec hash ${manifest.specHash} (file ${path.join(dir, MANIFEST)}), this run's spec hash is ${specHash}`,
    );
  }
  const wFile = path.join(dir, WEIGHTS);
  const oFile = path.join(dir, OPTIMIZER);
  const w = decodeSafetensors(readVerified(dir, WEIGHTS, manifest.files[WEIGHTS]), wFile);
  const o = decodeSafetensors(readVerified(dir, OPTIMIZER, manifest.files[OPTIMIZER]), oFile);
  const weights = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [name, t] of w.tensors) {
    weights.set(name, f32(t, `${wFile}: tensor '${name}'`));
    shapes.set(name, [...t.shape]);
    for (const [kind, map] of [["m", m], ["v", v]] as const) {
      const s = o.tensors.get(`${kind}/${name}`);
      if (s === undefined) throw new Error(`${oFile}: no '${kind}/${name}' for weight '${name}'`);
      if (s.data.length !== t.data.length) throw new Error(`${oFile}: '${kind}/${name}' has ${s.data.length} values, the weight ${t.data.length}`);
      map.set(name, f32(s, `${oFile}: tensor '${kind}/${name}'`));
    }
  }
  if (o.tensors.size !== 2 * w.tensors.size) throw new Error(`${oFile}: ${o.tensors.size} tensors for ${w.tensors.size} weights (expected m/ and v/ for each)`);
  const optStep = Number(o.metadata.step);
  if (!Number.isSafeInteger(optStep)) throw new Error(`${oFile}: metadata 'step' missing or not an integer`);
  return {
    dir,
    manifest,
    state: {
      step: manifest.step,
      seed: manifest.seed,
      dataPosition: manifest.dataPosition,
      weights,
      shapes,
      optimizer: { step: optStep, m, v },
      ...(manifest.meta !== undefined ? { meta: manifest.meta } : {}),
    },
  };
}
