// Child process of vk-device-tag.test.ts (the Vulkan loader reads its environment from the process, so the
// test runs this in a process of its own): spreads R worker-thread ranks over the node's GPUs and prints
// what each rank opened as one JSON line.
import { spreadRanksOverGpus } from "../../../runtime/backend/vk-device-tag.ts";
import { launchRanks } from "../../../runtime/comm/threads/launch.ts";
import type { TagRankResult } from "./rank.ts";

const ranks = Number(process.argv[2]);
const tags = await spreadRanksOverGpus(ranks, "webgpu");
try {
  const results = await launchRanks<TagRankResult>({ sp: ranks, dp: 1, entry: new URL("./rank.ts", import.meta.url), args: {}, timeoutMs: 90_000 });
  process.stdout.write(JSON.stringify({ tags, results }) + "\n");
} catch (e) {
  process.stderr.write(`child: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
