#!/usr/bin/env node
// Entry of the `lasp` command: registers the TypeScript loader (tsx), then runs cli/main.ts.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv.slice(2));
