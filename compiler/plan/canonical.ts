// Canonical JSON for golden files and hashes: object keys sorted, numbers printed the same way on every
// platform (integers as is, others with up to 12 significant digits), two-space indent; an object inside
// an array that fits in ONE_LINE characters is written on one line, so a plan step is one line of a diff.
function num(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`non-finite number ${n} in canonical JSON`);
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toPrecision(12)));
}

const ONE_LINE = 400;

/** The one-line canonical form: sorted keys, ", " and ": " separators. */
function compact(v: unknown): string {
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "number") return num(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(compact).join(", ")}]`;
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${compact(o[k])}`).join(", ")}}`;
  }
  throw new TypeError(`cannot write ${typeof v} as JSON`);
}

function write(v: unknown, indent: string, out: string[]): void {
  if (v === null || typeof v === "boolean") out.push(String(v));
  else if (typeof v === "number") out.push(num(v));
  else if (typeof v === "string") out.push(JSON.stringify(v));
  else if (Array.isArray(v)) {
    if (v.length === 0) return void out.push("[]");
    const inner = indent + "  ";
    const scalars = v.every((x) => x === null || typeof x !== "object");
    if (scalars) {
      out.push("[");
      v.forEach((x, i) => {
        if (i > 0) out.push(", ");
        write(x, inner, out);
      });
      out.push("]");
      return;
    }
    out.push("[\n");
    v.forEach((x, i) => {
      out.push(inner);
      const line = x !== null && typeof x === "object" && !Array.isArray(x) ? compact(x) : undefined;
      if (line !== undefined && line.length + inner.length <= ONE_LINE) out.push(line);
      else write(x, inner, out);
      out.push(i < v.length - 1 ? ",\n" : "\n");
    });
    out.push(indent + "]");
  } else if (typeof v === "object") {
    const keys = Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    if (keys.length === 0) return void out.push("{}");
    const inner = indent + "  ";
    out.push("{\n");
    keys.forEach((k, i) => {
      out.push(`${inner}${JSON.stringify(k)}: `);
      write((v as Record<string, unknown>)[k], inner, out);
      out.push(i < keys.length - 1 ? ",\n" : "\n");
    });
    out.push(indent + "}");
  } else throw new TypeError(`cannot write ${typeof v} as JSON`);
}

/** Canonical JSON text of a JSON value, with a final newline. */
export function canonicalJson(v: unknown): string {
  const out: string[] = [];
  write(v, "", out);
  return out.join("") + "\n";
}
