// The `lasp` command: dispatches to one module per subcommand (cli/commands/<name>.ts), loaded lazily
// so `lasp compile` never pays for TensorFlow.js. Exit codes: 0 ok, 1 user error, 2 usage error.
import { UsageError } from "./args.ts";

export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  compile: () => import("./commands/compile.ts"),
  explain: () => import("./commands/explain.ts"),
  run: () => import("./commands/run.ts"),
  op: () => import("./commands/op.ts"),
  verify: () => import("./commands/verify.ts"),
  eval: () => import("./commands/eval.ts"),
  generate: () => import("./commands/generate.ts"),
  simulate: () => import("./commands/simulate.ts"),
  report: () => import("./commands/report.ts"),
};

function help(): string {
  return [
    "usage: lasp <command> [options]",
    "",
    "commands:",
    "  compile SPEC [-o plan.json]     compile a .lasp spec to an execution plan",
    "  explain SPEC|PLAN [--json]      per-layer communication, FLOPs and memory of a plan",
    "  run SPEC|PLAN [--ranks R]       train the model across ranks",
    "  op linear-attention|softmax-attention ...   one attention layer on R ranks",
    "  verify SPEC [--ranks R]         one training step on R ranks vs one device",
    "  eval SPEC --resume CKPT         held-out loss of a checkpoint on R ranks",
    "  generate SPEC --resume CKPT     continue a prompt with a trained model",
    "  simulate SPEC --gpus G          predict step time and memory on a cluster",
    "  report RUN_DIR                  an HTML report of a run",
    "",
    "Every command that takes a spec accepts repeated --set path=value overrides.",
    "`lasp <command> --help` shows a command's options.",
  ].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(help() + "\n");
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    process.stderr.write(`lasp: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  let command: Command;
  try {
    command = (await load()).command;
  } catch (e) {
    process.stderr.write(`lasp ${name}: this command is not available in this build (${(e as Error).message})\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${command.summary}\n\nusage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`lasp ${name}: ${e.message}\nusage: ${command.usage}\n`);
      return 2;
    }
    throw e;
  }
}
