// makeDataSource: the DataSpec of a train spec -> a deterministic batch source (nothing downloaded).
import type { DataSpec } from "../../../dsl/spec.ts";
import { mqarSource } from "./mqar.ts";
import { randomSource } from "./random.ts";
import { textSource } from "./text.ts";
import type { DataShape, DataSource } from "./types.ts";

export type { Batch, DataShape, DataSource } from "./types.ts";

export function makeDataSource(spec: DataSpec, shape: DataShape): DataSource {
  switch (spec.kind) {
    case "mqar":
      return mqarSource(spec.pairs, shape);
    case "random":
      return randomSource(shape);
    case "text":
      return textSource(spec.path, shape);
    default:
      return spec satisfies never;
  }
}
