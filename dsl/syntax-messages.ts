// Chevrotain error messages in the project's words ("expected a number after 'hidden', found '{'"),
// plus the did-you-mean for a misspelt keyword, recorded per token offset for dsl/parse.ts to pick up.
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import { closest } from "./suggest.ts";
import { keywordOf } from "./tokens.ts";

/** Suggestions found while building messages, keyed by the offending token's start offset. */
export const pendingSuggestions = new Map<number, string>();

function describe(t: TokenType): string {
  const kw = keywordOf(t);
  if (kw !== undefined) return `'${kw}'`;
  if (t.name === "Identifier" || t.name === "Word") return "a name";
  return typeof t.LABEL === "string" ? t.LABEL : t.name;
}

function found(tok: IToken | undefined): string {
  if (tok === undefined || tok.tokenType === EOF) return "the end of the file";
  return `'${tok.image}'`;
}

function after(prev: IToken | undefined): string {
  return prev !== undefined && prev.image !== "" && prev.tokenType !== EOF ? ` after '${prev.image}'` : "";
}

function oneOf(types: readonly TokenType[]): string {
  const names = [...new Set(types.map(describe))];
  if (names.length > 6) return `one of ${names.slice(0, 6).join(", ")}, ...`;
  if (names.length === 1) return names[0]!;
  return `one of ${names.join(", ")}`;
}

function suggest(actual: IToken | undefined, expected: readonly TokenType[]): void {
  if (actual === undefined || actual.tokenType === EOF || !/^[A-Za-z_]/.test(actual.image)) return;
  const words = expected.map(keywordOf).filter((k): k is NonNullable<typeof k> => k !== undefined);
  const hint = closest(actual.image, words);
  if (hint !== undefined && hint !== actual.image) pendingSuggestions.set(actual.startOffset, hint);
}

export const syntaxMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous }) {
    suggest(actual, [expected]);
    return `expected ${describe(expected)}${after(previous)}, found ${found(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `unexpected ${found(firstRedundant)}: expected a section (model, parallel or train)`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous }) {
    const firsts = expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0])).filter((t) => t !== undefined);
    suggest(actual[0], firsts);
    return `expected ${oneOf(firsts)}${after(previous)}, found ${found(actual[0])}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, previous }) {
    const firsts = expectedIterationPaths.map((p) => p[0]).filter((t) => t !== undefined);
    suggest(actual[0], firsts);
    return `expected ${oneOf(firsts)}${after(previous)}, found ${found(actual[0])}`;
  },
};
