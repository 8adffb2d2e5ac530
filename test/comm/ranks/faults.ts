// Rank module for the fault tests: a loop of all_gathers where one rank misbehaves at step k
// (throws, exits the thread, crashes it, returns early, skips one collective, or sends more than the arena holds),
// or behaves and leaves a timer running, so its thread cannot end on its own after it returns ("linger").
import type { RankContext } from "../../../runtime/comm/context.ts";

export interface FaultArgs {
  mode: "throw" | "exit" | "crash" | "return" | "skip" | "oversize" | "stall" | "none" | "rankLabels" | "linger";
  who: number;
  step: number;
  steps: number;
}

export async function rankMain(ctx: RankContext, a: FaultArgs): Promise<number> {
  const c = ctx.world;
  let acc = 0;
  for (let k = 0; k < a.steps; k++) {
    if (ctx.rank === a.who && k === a.step) {
      if (a.mode === "throw") throw new Error(`boom at step ${k}`);
      if (a.mode === "exit") process.exit(3);
      // an uncaught error outside rankMain's promise chain kills the worker thread
      if (a.mode === "crash")
        await new Promise(() =>
          setTimeout(() => {
            throw new Error("async boom");
          }, 10),
        );
      if (a.mode === "return") return -1;
      if (a.mode === "skip") continue;
      if (a.mode === "oversize") await c.startAllReduce(new Float32Array(1 << 20), `step${k}`).wait();
      // never resolves, while the thread stays alive (a timer keeps the event loop busy)
      if (a.mode === "stall") await new Promise(() => setInterval(() => {}, 1000));
      if (a.mode === "linger") setInterval(() => {}, 1000);
    }
    // rankLabels: every rank uses its own labels (allowed only with checkLabels: false)
    const label = a.mode === "rankLabels" ? `step${k}@${ctx.rank}` : `step${k}`;
    const got = await c.startAllGather(new Float32Array([ctx.rank + k]), label).wait();
    acc += got.reduce((s, x) => s + x, 0);
  }
  return acc;
}
