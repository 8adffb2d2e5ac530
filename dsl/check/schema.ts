// Which settings each block accepts, and the grammar rule that parses one of them (used by `--set`).
// The checkers key their handler tables by these names, so a new setting fails to type-check until handled.
import type { ItemRule } from "../grammar.ts";

export const BLOCKS = {
  root: { title: "top level", rule: "section", names: ["model", "parallel", "train"] },
  model: {
    title: "model",
    rule: "modelItem",
    names: ["vocab", "hidden", "heads", "kv_heads", "head_dim", "value_dim", "ffn", "norm", "tie_embeddings", "causal", "layers", "layer", "linear", "softmax"],
  },
  norm: { title: "norm", rule: "normParam", names: ["eps"] },
  linear: { title: "linear", rule: "linearItem", names: ["kind", "feature", "decay", "conv", "causal"] },
  decay: { title: "decay", rule: "decayParam", names: ["rank", "tau"] },
  softmax: { title: "softmax", rule: "softmaxItem", names: ["rope", "causal"] },
  rope: { title: "rope", rule: "ropeParam", names: ["theta"] },
  layer: { title: "layer override", rule: "layerItem", names: ["linear", "softmax"] },
  parallel: { title: "parallel", rule: "parallelItem", names: ["sp", "dp", "linear", "softmax", "overlap", "layout", "block", "bucket"] },
  train: { title: "train", rule: "trainItem", names: ["seq", "batch", "accum", "steps", "dtype", "optimizer", "data", "seed", "recompute", "eval"] },
  optimizer: {
    title: "optimizer",
    rule: "optParam",
    names: ["lr", "betas", "eps", "weight_decay", "warmup", "schedule", "min_lr_ratio", "clip"],
  },
  data: { title: "data", rule: "dataParam", names: ["pairs"] },
  eval: { title: "eval", rule: "evalParam", names: ["every", "batches", "holdout"] },
} as const satisfies Record<string, { title: string; rule: ItemRule; names: readonly string[] }>;

export type BlockName = keyof typeof BLOCKS;
export type NamesOf<B extends BlockName> = (typeof BLOCKS)[B]["names"][number];

/** The block a nested setting opens, by (parent block, setting name): `model.norm` opens `norm`. */
export const NESTED: Partial<Record<BlockName, Partial<Record<string, BlockName>>>> = {
  root: { model: "model", parallel: "parallel", train: "train" },
  model: { norm: "norm", linear: "linear", softmax: "softmax", layer: "layer" },
  linear: { decay: "decay" },
  softmax: { rope: "rope" },
  layer: { linear: "linear", softmax: "softmax" },
  train: { optimizer: "optimizer", data: "data", eval: "eval" },
};

/** Blocks a misplaced keyword does belong to, for "'sp' belongs in parallel". */
export function homesOf(name: string): string[] {
  return Object.values(BLOCKS)
    .filter((b) => b.title !== "top level" && (b.names as readonly string[]).includes(name))
    .map((b) => b.title);
}
