// Messages and start-up data exchanged between launchRanks and its worker threads (control path
// only: results, errors and ctx.post; collective data never goes through postMessage).
import type { DeviceInit } from "../device-clock.ts";
import type { LinkEmulation } from "../link-emulator.ts";
import type { GroupShared } from "./layout.ts";

export interface WorkerInit {
  readonly rank: number;
  readonly sp: number;
  readonly dp: number;
  /** file URL of the rank module (exports rankMain) */
  readonly entry: string;
  readonly args: unknown;
  readonly timeoutMs: number;
  readonly checkLabels: boolean;
  readonly job: SharedArrayBuffer;
  /** null when the group has a single rank (a SoloCommunicator is used) */
  readonly world: GroupShared | null;
  readonly spGroup: GroupShared | null;
  readonly dpGroup: GroupShared | null;
  /** emulate this interconnect (launchRanks option `link`) */
  readonly link: LinkEmulation | null;
  /** emulated devices (launchRanks option `devices`) with the job's gate */
  readonly devices: DeviceInit | null;
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly label: string | undefined;
  /** a CommError raised because another rank failed first */
  readonly aborted: boolean;
}

export type FromWorker =
  | { readonly type: "result"; readonly rank: number; readonly value: unknown }
  | { readonly type: "error"; readonly rank: number; readonly error: SerializedError; readonly activity: string }
  | { readonly type: "post"; readonly rank: number; readonly msg: unknown };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const label = "label" in e && typeof e.label === "string" ? e.label : undefined;
    const cause = "cause_" in e ? e.cause_ : undefined;
    const aborted = typeof cause === "object" && cause !== null && "aborted" in cause && cause.aborted === true;
    return { name: e.name, message: e.message, stack: e.stack, label, aborted };
  }
  return { name: "Error", message: String(e), stack: undefined, label: undefined, aborted: false };
}
