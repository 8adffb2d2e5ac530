// `lasp` as one bundle for the device machine (no tsx there): prepare.sh bundles this with esbuild.
import { main } from "../../cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
