// Text corpora: a file path, or "builtin:<name>" for a public-domain text shipped in data/ (see
// data/README.md for sources and licences).
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";

/** builtin name -> file in the repository's data/ folder */
export const BUILTIN_CORPORA: Readonly<Record<string, string>> = {
  "devils-dictionary": "devils-dictionary.txt",
};

const DATA_DIR = new URL("../../../data/", import.meta.url);

/** The file a corpus path names (builtins resolved into data/). */
export function resolveCorpusPath(path: string): string {
  if (!path.startsWith("builtin:")) return path;
  const name = path.slice("builtin:".length);
  const file = BUILTIN_CORPORA[name];
  if (file === undefined) {
    throw new Error(`text data: unknown builtin corpus '${name}' (available: ${Object.keys(BUILTIN_CORPORA).map((n) => `builtin:${n}`).join(", ")})`);
  }
  return fileURLToPath(new URL(file, DATA_DIR));
}

/** The corpus bytes; a missing file is an Error naming it. */
export function loadCorpus(path: string): Uint8Array {
  const file = resolveCorpusPath(path);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new Error(`text data: cannot read corpus '${path}'${file !== path ? ` (${file})` : ""}: ${(e as Error).message}`);
  }
}
