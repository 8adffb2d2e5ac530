// CST -> AST: one generic walk, since every setting rule labels its parts `key`, `value`, `child`.
// Tolerates the partial trees Chevrotain's error recovery leaves behind (missing or inserted tokens).
import type { CstElement, CstNode, IToken } from "chevrotain";
import type { Span } from "./diagnostic.ts";
import type { Mix, Selector, Setting, SpecAst, Value } from "./ast.ts";
import { parseNumber } from "./numbers.ts";

function isToken(e: CstElement): e is IToken {
  return "image" in e;
}

export class AstBuilder {
  /** offset added to every token offset (a `--set` value is lexed apart from its flag) */
  constructor(
    private readonly file: string,
    private readonly base = 0,
    /** the whole `--set` flag text, carried on every span so diagnostics can name the flag */
    private readonly flag?: string,
  ) {}

  private tokSpan(t: IToken): Span | undefined {
    if (!Number.isFinite(t.startOffset) || t.image === "") return undefined;
    return this.mk(this.base + t.startOffset, this.base + t.startOffset + t.image.length);
  }

  private mk(start: number, end: number): Span {
    return this.flag !== undefined ? { file: this.file, start, end, flag: this.flag } as Span : { file: this.file, start, end };
  }

  /** The span covering every real token under a node (none if recovery left it empty). */
  private nodeSpan(e: CstElement): Span | undefined {
    if (isToken(e)) return this.tokSpan(e);
    let start = Infinity;
    let end = -Infinity;
    for (const list of Object.values(e.children)) {
      for (const c of list) {
        const s = this.nodeSpan(c);
        if (s !== undefined) {
          start = Math.min(start, s.start);
          end = Math.max(end, s.end);
        }
      }
    }
    return start === Infinity ? undefined : this.mk(start, end);
  }

  private spanOr(e: CstElement | undefined, fallback: Span): Span {
    return (e !== undefined ? this.nodeSpan(e) : undefined) ?? fallback;
  }

  spec(root: CstNode | undefined): SpecAst {
    const sections = (root?.children["child"] ?? []).flatMap((c) => (isToken(c) ? [] : this.setting(c)));
    return { file: this.file, sections };
  }

  /** A setting node (or an `is` wrapper around one); none when recovery left no keyword. */
  setting(node: CstNode): Setting[] {
    const inner = node.children["is"]?.[0];
    if (inner !== undefined) return isToken(inner) ? [] : this.setting(inner);
    const key = node.children["key"]?.[0];
    if (key === undefined || !isToken(key)) return [];
    const nameSpan = this.tokSpan(key);
    if (nameSpan === undefined) return [];
    const span = this.spanOr(node, nameSpan);
    const values = (node.children["value"] ?? []).flatMap((v) => this.value(v));
    const children = (node.children["child"] ?? []).flatMap((c) => (isToken(c) ? [] : this.setting(c)));
    const mixNode = node.children["mix"]?.[0];
    const mix = mixNode !== undefined && !isToken(mixNode) ? this.mixTerm(mixNode) : undefined;
    const selectNodes = node.children["select"];
    const select = selectNodes?.flatMap((s) => (isToken(s) ? [] : this.selector(s)));
    return [{
      name: key.image, nameSpan, values, children, span,
      ...(mix !== undefined ? { mix } : {}),
      ...(select !== undefined ? { select } : {}),
    }];
  }

  value(e: CstElement): Value[] {
    if (!isToken(e)) {
      const inner = e.children["is"]?.[0];
      if (inner !== undefined) return this.value(inner);
      if (e.name === "list") {
        const open = e.children["open"]?.[0];
        const span = this.nodeSpan(e);
        if (span === undefined || open === undefined) return [];
        const items = (e.children["item"] ?? []).flatMap((i) => this.value(i));
        return [{ kind: "list", items, span }];
      }
      return [];
    }
    const span = this.tokSpan(e);
    if (span === undefined) return [];
    switch (e.tokenType.name) {
      case "Number":
        return [{ kind: "number", text: e.image, value: parseNumber(e.image), span }];
      case "String":
        return [{ kind: "string", text: e.image, value: unquote(e.image), span }];
      case "Builtin":
        return [{ kind: "string", text: e.image, value: e.image, span }];
      default:
        return [{ kind: "word", text: e.image, span }];
    }
  }

  private mixTerm(node: CstNode): Mix | undefined {
    const atomNode = node.children["atom"]?.[0];
    let mix = atomNode !== undefined && !isToken(atomNode) ? this.mixAtom(atomNode) : undefined;
    if (mix === undefined) return undefined;
    for (const c of node.children["count"] ?? []) {
      const count = this.value(c)[0];
      if (count === undefined) continue;
      mix = { kind: "repeat", body: mix, count, span: this.mk(mix.span.start, count.span.end) };
    }
    return mix;
  }

  private mixAtom(node: CstNode): Mix | undefined {
    const kind = node.children["kind"]?.[0];
    if (kind !== undefined && isToken(kind)) {
      const span = this.tokSpan(kind);
      return span === undefined ? undefined : { kind: "layer", name: kind.image, span };
    }
    const span = this.nodeSpan(node);
    if (span === undefined) return undefined;
    const items = (node.children["item"] ?? []).flatMap((i) => {
      const m = isToken(i) ? undefined : this.mixTerm(i);
      return m === undefined ? [] : [m];
    });
    return { kind: "list", items, span };
  }

  private selector(node: CstNode): Selector[] {
    const fromTok = node.children["from"]?.[0];
    const from = fromTok !== undefined ? this.value(fromTok)[0] : undefined;
    if (from === undefined) return [];
    const toTok = node.children["to"]?.[0];
    const to = toTok !== undefined ? this.value(toTok)[0] : undefined;
    return [{ from, ...(to !== undefined ? { to } : {}), span: this.spanOr(node, from.span) }];
  }
}

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "t" ? "\t" : c));
}
