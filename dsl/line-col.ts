// Offsets -> 1-based line and column, computed only when printing or filling a SourceLoc.

export function lineCol(source: string, offset: number): { line: number; col: number } {
  const at = Math.max(0, Math.min(offset, source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: at - lineStart + 1 };
}

/** The text of the line holding `offset`, and where that line starts. */
export function lineAt(source: string, offset: number): { text: string; start: number } {
  const at = Math.max(0, Math.min(offset, source.length));
  const start = source.lastIndexOf("\n", at - 1) + 1;
  let end = source.indexOf("\n", at);
  if (end < 0) end = source.length;
  return { text: source.slice(start, end).replace(/\r$/, ""), start };
}
