// Tokens of the .lasp language: keywords (setting names), names, numbers with K/M suffixes, strings,
// punctuation. Enumerated values (basic, rms, on, lasp2, ...) are plain names checked by dsl/check.
import { createToken, Lexer, type TokenType } from "chevrotain";

/** Any token but a brace: what the body of an unknown block is skipped over as. */
export const NotBrace = createToken({ name: "NotBrace", pattern: Lexer.NA });
/** Any word: a name or a keyword. Used where a keyword may stand as a name (model names, unknown settings). */
export const Word = createToken({ name: "Word", pattern: Lexer.NA, categories: [NotBrace] });
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [Word] });

/** Keyword spelling -> token name. Every setting name of every block is a keyword. */
export const KEYWORDS = [
  "model", "parallel", "train",
  "vocab", "hidden", "heads", "kv_heads", "head_dim", "value_dim", "ffn", "norm", "eps", "tie_embeddings",
  "causal", "layers", "layer", "linear", "softmax",
  "kind", "feature", "decay", "rank", "tau", "conv", "rope", "theta",
  "sp", "dp", "overlap", "layout", "block", "bucket",
  "eval", "every", "batches", "holdout",
  "seq", "batch", "accum", "steps", "dtype", "optimizer", "lr", "betas", "weight_decay", "warmup", "schedule",
  "min_lr_ratio", "clip", "data", "pairs", "seed", "recompute",
] as const;
export type Keyword = (typeof KEYWORDS)[number];

function keywordToken(word: string): TokenType {
  return createToken({
    name: "Kw_" + word,
    label: `'${word}'`,
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [Word],
  });
}

export const Kw = Object.fromEntries(KEYWORDS.map((w) => [w, keywordToken(w)])) as Record<Keyword, TokenType>;

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: "Comment", pattern: /#[^\n]*/, group: Lexer.SKIPPED });
/** Numbers: 16, 3e-4, 0.99, 2048K (K = 1024), 1M; a sign is lexed so `lr -1` is a range error, not a syntax error. */
export const NumberLit = createToken({
  name: "Number",
  label: "a number",
  pattern: /-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?[KMkm]?(?![A-Za-z0-9_])/,
  categories: [NotBrace],
});
export const StringLit = createToken({ name: "String", label: "a string", pattern: /"(?:[^"\\\n]|\\.)*"/, categories: [NotBrace] });
/** A string with no closing quote on its line: kept out of the token stream, reported as LASP1002. */
export const BadString = createToken({ name: "BadString", pattern: /"(?:[^"\\\n]|\\.)*/, group: "errors" });
/** `builtin:shakespeare`: a corpus shipped with the project, written without quotes. */
export const BuiltinRef = createToken({ name: "Builtin", label: "a builtin:NAME", pattern: /builtin:[A-Za-z0-9_.-]+/, categories: [StringLit, NotBrace] });
export const LCurly = createToken({ name: "LCurly", label: "'{'", pattern: /\{/ });
export const RCurly = createToken({ name: "RCurly", label: "'}'", pattern: /\}/ });
export const LBracket = createToken({ name: "LBracket", label: "'['", pattern: /\[/, categories: [NotBrace] });
export const RBracket = createToken({ name: "RBracket", label: "']'", pattern: /\]/, categories: [NotBrace] });
export const Comma = createToken({ name: "Comma", label: "','", pattern: /,/, categories: [NotBrace] });
export const Star = createToken({ name: "Star", label: "'*'", pattern: /\*/, categories: [NotBrace] });
export const Equals = createToken({ name: "Equals", label: "'='", pattern: /=/, categories: [NotBrace] });
export const DotDot = createToken({ name: "DotDot", label: "'..'", pattern: /\.\./, categories: [NotBrace] });

export const ALL_TOKENS: TokenType[] = [
  WhiteSpace, Comment, NumberLit, StringLit, BadString, BuiltinRef,
  LCurly, RCurly, LBracket, RBracket, Comma, Star, Equals, DotDot,
  // keywords before Identifier; longer_alt makes `layers` win over `layer` and `heads_x` an identifier
  ...[...KEYWORDS].sort((a, b) => b.length - a.length).map((w) => Kw[w]),
  Word, NotBrace, Identifier,
];

export const lexer = new Lexer(ALL_TOKENS, { positionTracking: "onlyOffset", ensureOptimizations: false });

/** The keyword spelled by a token type, if it is one. */
export function keywordOf(t: TokenType): Keyword | undefined {
  return t.name.startsWith("Kw_") ? (t.name.slice(3) as Keyword) : undefined;
}
