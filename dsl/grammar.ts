// The .lasp grammar as a Chevrotain CstParser. Every setting rule labels its opening keyword `key`, its
// values `value` and its nested settings `child`, so one generic visitor builds the uniform AST.
import { CstParser } from "chevrotain";
import {
  ALL_TOKENS, Comma, DotDot, Equals, Identifier, Kw, LBracket, LCurly, NotBrace, NumberLit, RBracket, RCurly, Star,
  StringLit, Word, type Keyword,
} from "./tokens.ts";
import { syntaxMessages } from "./syntax-messages.ts";

export class LaspParser extends CstParser {
  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 2, errorMessageProvider: syntaxMessages });
    this.performSelfAnalysis();
  }

  private keys(names: readonly Keyword[]): void {
    this.OR(names.map((n) => ({ ALT: () => this.CONSUME(Kw[n], { LABEL: "key" }) })));
  }

  spec = this.RULE("spec", () => {
    this.MANY(() => this.SUBRULE(this.section, { LABEL: "child" }));
  });

  section = this.RULE("section", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.modelSection, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.parallelSection, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.trainSection, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  modelSection = this.RULE("modelSection", () => {
    this.CONSUME(Kw.model, { LABEL: "key" });
    this.OPTION(() => this.CONSUME(Word, { LABEL: "value" }));
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.modelItem, { LABEL: "child" }));
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  parallelSection = this.RULE("parallelSection", () => {
    this.CONSUME(Kw.parallel, { LABEL: "key" });
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.parallelItem, { LABEL: "child" }));
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  trainSection = this.RULE("trainSection", () => {
    this.CONSUME(Kw.train, { LABEL: "key" });
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.trainItem, { LABEL: "child" }));
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  /** A word the block does not know, with whatever values follow: reported by the checker, with a suggestion. */
  unknownSetting = this.RULE("unknownSetting", () => {
    this.CONSUME(Word, { LABEL: "key" });
    this.MANY(() => this.SUBRULE(this.value, { LABEL: "value" }));
    this.OPTION(() => this.SUBRULE(this.skippedBlock));
  });

  /** The body of an unknown block, skipped whatever it holds (balanced braces), so one typo is one error. */
  skippedBlock = this.RULE("skippedBlock", () => {
    this.CONSUME(LCurly);
    this.MANY(() =>
      this.OR([
        { ALT: () => this.CONSUME(NotBrace) },
        { ALT: () => this.SUBRULE(this.skippedBlock) },
      ]),
    );
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  value = this.RULE("value", () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLit, { LABEL: "is" }) },
      { ALT: () => this.CONSUME(Identifier, { LABEL: "is" }) },
      { ALT: () => this.CONSUME(StringLit, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.list, { LABEL: "is" }) },
    ]);
  });

  list = this.RULE("list", () => {
    this.CONSUME(LBracket, { LABEL: "open" });
    this.MANY_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.value, { LABEL: "item" }) });
    this.CONSUME(RBracket, { LABEL: "end" });
  });

  // ---- model ----
  modelItem = this.RULE("modelItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.dimSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.ffnSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.normSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.switchSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.layersSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.layerOverride, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.linearBlock, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.softmaxBlock, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  dimSetting = this.RULE("dimSetting", () => {
    this.keys(["vocab", "hidden", "heads", "kv_heads", "head_dim", "value_dim"]);
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  ffnSetting = this.RULE("ffnSetting", () => {
    this.CONSUME(Kw.ffn, { LABEL: "key" });
    this.CONSUME(NumberLit, { LABEL: "value" });
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "value" }));
  });

  normSetting = this.RULE("normSetting", () => {
    this.CONSUME(Kw.norm, { LABEL: "key" });
    // `layer` is also the override keyword, so the norm kind accepts that keyword as a name
    this.OPTION(() =>
      this.OR([
        { ALT: () => this.CONSUME(Identifier, { LABEL: "value" }) },
        { ALT: () => this.CONSUME(Kw.layer, { LABEL: "value" }) },
      ]),
    );
    this.MANY(() => this.SUBRULE(this.normParam, { LABEL: "child" }));
  });

  normParam = this.RULE("normParam", () => {
    this.CONSUME(Kw.eps, { LABEL: "key" });
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  /** on|off switches; `causal` also appears in linear and softmax blocks. */
  switchSetting = this.RULE("switchSetting", () => {
    this.keys(["tie_embeddings", "causal"]);
    this.CONSUME(Identifier, { LABEL: "value" });
  });

  layersSetting = this.RULE("layersSetting", () => {
    this.CONSUME(Kw.layers, { LABEL: "key" });
    this.OPTION(() => this.CONSUME(NumberLit, { LABEL: "value" }));
    this.OPTION2(() => this.CONSUME(Equals));
    this.SUBRULE(this.mixTerm, { LABEL: "mix" });
  });

  mixTerm = this.RULE("mixTerm", () => {
    this.SUBRULE(this.mixAtom, { LABEL: "atom" });
    this.MANY(() => {
      this.CONSUME(Star);
      this.CONSUME(NumberLit, { LABEL: "count" });
    });
  });

  mixAtom = this.RULE("mixAtom", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LBracket, { LABEL: "open" });
          this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.mixTerm, { LABEL: "item" }) });
          this.CONSUME(RBracket, { LABEL: "end" });
        },
      },
      { ALT: () => this.CONSUME(Kw.linear, { LABEL: "kind" }) },
      { ALT: () => this.CONSUME(Kw.softmax, { LABEL: "kind" }) },
      { ALT: () => this.CONSUME(Identifier, { LABEL: "kind" }) },
    ]);
  });

  layerOverride = this.RULE("layerOverride", () => {
    this.CONSUME(Kw.layer, { LABEL: "key" });
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.selector, { LABEL: "select" }) });
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.layerItem, { LABEL: "child" }));
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  selector = this.RULE("selector", () => {
    this.CONSUME(NumberLit, { LABEL: "from" });
    this.OPTION(() => {
      this.CONSUME(DotDot);
      this.CONSUME2(NumberLit, { LABEL: "to" });
    });
  });

  layerItem = this.RULE("layerItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.linearBlock, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.softmaxBlock, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  linearBlock = this.RULE("linearBlock", () => {
    this.CONSUME(Kw.linear, { LABEL: "key" });
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.linearItem, { LABEL: "child" }));
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  linearItem = this.RULE("linearItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.wordSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.decaySetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.convSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.switchSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  /** Settings that take one name: kind, feature (linear), overlap, layout (parallel), dtype, schedule (train). */
  wordSetting = this.RULE("wordSetting", () => {
    this.keys(["kind", "feature", "overlap", "layout", "dtype", "schedule"]);
    this.CONSUME(Identifier, { LABEL: "value" });
  });

  decaySetting = this.RULE("decaySetting", () => {
    this.CONSUME(Kw.decay, { LABEL: "key" });
    this.CONSUME(Identifier, { LABEL: "value" });
    this.OPTION(() =>
      this.OR([
        { ALT: () => this.CONSUME(NumberLit, { LABEL: "value" }) },
        { ALT: () => this.SUBRULE(this.list, { LABEL: "value" }) },
      ]),
    );
    this.MANY(() => this.SUBRULE(this.decayParam, { LABEL: "child" }));
  });

  decayParam = this.RULE("decayParam", () => {
    this.keys(["rank", "tau"]);
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  convSetting = this.RULE("convSetting", () => {
    this.CONSUME(Kw.conv, { LABEL: "key" });
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  softmaxBlock = this.RULE("softmaxBlock", () => {
    this.CONSUME(Kw.softmax, { LABEL: "key" });
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.softmaxItem, { LABEL: "child" }));
    this.CONSUME(RCurly, { LABEL: "end" });
  });

  softmaxItem = this.RULE("softmaxItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.ropeSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.switchSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  ropeSetting = this.RULE("ropeSetting", () => {
    this.CONSUME(Kw.rope, { LABEL: "key" });
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "value" }));
    this.MANY(() => this.SUBRULE(this.ropeParam, { LABEL: "child" }));
  });

  ropeParam = this.RULE("ropeParam", () => {
    this.CONSUME(Kw.theta, { LABEL: "key" });
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  // ---- parallel ----
  parallelItem = this.RULE("parallelItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.countSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.methodSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.wordSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  /** Settings that take one number: sp, dp, block, bucket (parallel), seq, batch, accum, steps, seed (train). */
  countSetting = this.RULE("countSetting", () => {
    this.keys(["sp", "dp", "block", "bucket", "seq", "batch", "accum", "steps", "seed"]);
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  methodSetting = this.RULE("methodSetting", () => {
    this.keys(["linear", "softmax"]);
    this.CONSUME(Identifier, { LABEL: "value" });
  });

  // ---- train ----
  trainItem = this.RULE("trainItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.countSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.wordSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.optimizerSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.dataSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.recomputeSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.evalSetting, { LABEL: "is" }) },
      { ALT: () => this.SUBRULE(this.unknownSetting, { LABEL: "is" }), IGNORE_AMBIGUITIES: true },
    ]);
  });

  /** recompute on|off|N (train): activation recomputation in every layer, none, or the first N. */
  recomputeSetting = this.RULE("recomputeSetting", () => {
    this.CONSUME(Kw.recompute, { LABEL: "key" });
    this.OR([
      { ALT: () => this.CONSUME(Identifier, { LABEL: "value" }) },
      { ALT: () => this.CONSUME(NumberLit, { LABEL: "value" }) },
    ]);
  });

  /** eval every K batches B holdout F (train): held-out loss every K steps, over B global batches. */
  evalSetting = this.RULE("evalSetting", () => {
    this.CONSUME(Kw.eval, { LABEL: "key" });
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "value" }));
    this.MANY(() => this.SUBRULE(this.evalParam, { LABEL: "child" }));
  });

  evalParam = this.RULE("evalParam", () => {
    this.keys(["every", "batches", "holdout"]);
    this.CONSUME(NumberLit, { LABEL: "value" });
  });

  optimizerSetting = this.RULE("optimizerSetting", () => {
    this.CONSUME(Kw.optimizer, { LABEL: "key" });
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "value" }));
    this.MANY(() => this.SUBRULE(this.optParam, { LABEL: "child" }));
  });

  optParam = this.RULE("optParam", () => {
    this.OR([
      {
        ALT: () => {
          const names = ["lr", "eps", "weight_decay", "warmup", "min_lr_ratio", "clip"] as const;
          this.OR1(names.map((n) => ({ ALT: () => this.CONSUME(Kw[n], { LABEL: "key" }) })));
          this.CONSUME(NumberLit, { LABEL: "value" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(Kw.betas, { LABEL: "key" });
          this.CONSUME2(NumberLit, { LABEL: "value" });
          this.CONSUME3(NumberLit, { LABEL: "value" });
        },
      },
      {
        ALT: () => {
          this.CONSUME(Kw.schedule, { LABEL: "key" });
          this.CONSUME(Identifier, { LABEL: "value" });
        },
      },
    ]);
  });

  dataSetting = this.RULE("dataSetting", () => {
    this.CONSUME(Kw.data, { LABEL: "key" });
    this.OPTION(() => this.CONSUME(Identifier, { LABEL: "value" }));
    this.OPTION2(() => this.CONSUME(StringLit, { LABEL: "value" }));
    this.MANY(() => this.SUBRULE(this.dataParam, { LABEL: "child" }));
  });

  dataParam = this.RULE("dataParam", () => {
    this.CONSUME(Kw.pairs, { LABEL: "key" });
    this.CONSUME(NumberLit, { LABEL: "value" });
  });
}

/** One parser for the process: Chevrotain parsers are costly to build and reusable. */
export const parser = new LaspParser();

/** Rules a `--set` value can be parsed with: the rule that parses one item of the setting's block. */
export type ItemRule =
  | "section" | "modelItem" | "parallelItem" | "trainItem" | "linearItem" | "softmaxItem" | "layerItem"
  | "normParam" | "decayParam" | "ropeParam" | "optParam" | "dataParam" | "evalParam";
