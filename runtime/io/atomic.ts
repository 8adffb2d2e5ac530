// Atomic file writes: temp file in the same directory, fsync, rename over the target, fsync the
// directory, so a crash at any moment leaves either the old file or the complete new one.
import * as fs from "node:fs";
import * as path from "node:path";

let counter = 0;

/** A temp name beside `target` (same directory, so rename stays on one filesystem). */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}-${counter++}`);
}

/** fsync a directory so a rename inside it is durable. Some platforms cannot open dirs: ignore that. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL") throw e;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Write `data` to a file and fsync it (not atomic by itself: the building block of writeFileAtomic). */
export function writeFileSynced(file: string, data: Uint8Array | string): void {
  const fd = fs.openSync(file, "w");
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replace `target` atomically with `data`: the target is never seen half written. */
export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(target);
  try {
    writeFileSynced(tmp, data);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(target));
}
