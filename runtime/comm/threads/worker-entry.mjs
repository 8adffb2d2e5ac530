// Worker-thread bootstrap of launchRanks: register the TypeScript loader (tsx) in this thread, so
// the rank's .ts modules load under vitest and the CLI alike, then run the rank.
import { register } from "tsx/esm/api";

register();
await import("./rank-worker.ts");
