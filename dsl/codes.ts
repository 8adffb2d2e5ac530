// The stable diagnostic codes of the language, one name each. Never renumber or reuse a code;
// docs/LANGUAGE.md lists them and test/fixtures/dsl/errors exercises them.

export const CODES = {
  // 1xxx: reading and syntax
  unreadableFile: "LASP1000",
  unexpectedChar: "LASP1001",
  unterminatedString: "LASP1002",
  syntax: "LASP1003",
  badOverride: "LASP1005",
  // 2xxx: names and shapes
  unknownSetting: "LASP2001",
  unknownSection: "LASP2002",
  unknownLayerKind: "LASP2003",
  unknownValue: "LASP2004",
  duplicate: "LASP2005",
  missing: "LASP2006",
  badValue: "LASP2007",
  outOfRange: "LASP2008",
  misplaced: "LASP2009",
  headsDivideHidden: "LASP2010",
  kvHeadsDivideHeads: "LASP2011",
  layerCount: "LASP2012",
  lambdaCount: "LASP2013",
  lambdaRange: "LASP2014",
  bidirectionalDecay: "LASP2015",
  layerIndex: "LASP2016",
  overrideKind: "LASP2017",
  gateVariant: "LASP2018",
  optionNotApplicable: "LASP2019",
  featureBlowup: "LASP2020",
  // 3xxx: parallel configuration
  methodKind: "LASP3001",
  ulyssesHeads: "LASP3002",
  seqTooShort: "LASP3003",
  lasp1Bidirectional: "LASP3004",
  convHalo: "LASP3005",
  batchDp: "LASP3006",
  // 4xxx: training setup
  mqarSeq: "LASP4001",
  mqarVocab: "LASP4002",
  textVocab: "LASP4003",
  dtype: "LASP4004",
  warmup: "LASP4005",
  textPath: "LASP4006",
  recomputeLayers: "LASP4007",
  // 9xxx: internal
  internal: "LASP9001",
} as const satisfies Record<string, `LASP${number}`>;

export type CodeName = keyof typeof CODES;
