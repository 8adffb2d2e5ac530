// Number literals: decimal or exponent form with an optional size suffix (K = 1024, M = 1024^2).

export function parseNumber(text: string): number {
  const last = text[text.length - 1]!.toUpperCase();
  if (last === "K") return Number(text.slice(0, -1)) * 1024;
  if (last === "M") return Number(text.slice(0, -1)) * 1024 * 1024;
  return Number(text);
}

/** Whether the literal carries a K/M suffix. */
export function hasSuffix(text: string): boolean {
  return /[KMkm]$/.test(text);
}
