// The simulator's prediction for a benchmark plan (compiler/cost/simulate.ts predictPlan) with the `local`
// profile (this machine measured: compiler/cost/hardware/local.ts), printed beside the measured step.
// Imported statically, so the esbuild bundles of bench/device-cpu carry it (a path resolved at run time
// from the bundle's own folder pointed outside the tree there, and the column and --link xauto were lost).
import type { Plan } from "../../compiler/plan/schema.ts";
import type { HardwareProfile } from "../../compiler/cost/hardware/profile.ts";
import { predictPlan } from "../../compiler/cost/simulate.ts";
import { loadLocalProfile } from "../../compiler/cost/hardware/local.ts";
import type { LinkEmulation } from "../../runtime/comm/link-emulator.ts";

export interface Predicted {
  readonly stepSeconds: number;
  readonly computeSeconds: number;
  readonly exposedCommSeconds: number;
}

export interface Simulator {
  readonly profile: HardwareProfile;
  /** the profile's first source line: what was measured, and when */
  readonly source: string;
  /** with `hw` (default: the local profile; see emulatedProfile for runs with --link or --devices) */
  predict(plan: Plan, hw?: HardwareProfile): Predicted | null;
}

/**
 * The profile a run with an emulated link and/or emulated devices behaves like: this machine's compute (a
 * whole device per rank when `devices`, else the cores shared), and the link's collectives as
 * link-emulator.ts charges them: the cluster profile's costs times the link's scale (collectiveTime is a
 * sum of call overhead, latencies and bytes / bandwidth, so scaling those scales it), sent eagerly.
 */
export function emulatedProfile(local: HardwareProfile, link: LinkEmulation | null, devices: boolean): HardwareProfile {
  const { computeUnits, ...rest } = local;
  const compute: HardwareProfile = devices ? { ...rest, name: `${local.name}, a device per rank` } : { ...rest, computeUnits };
  if (link === null) return compute;
  const L = link.profile;
  const k = link.scale;
  return {
    ...compute,
    name: `${compute.name}, ${L.name} link x ${k.toPrecision(4)}`,
    devicesPerNode: link.perNode,
    intra: { bandwidth: L.intra.bandwidth / k, latency: L.intra.latency * k },
    inter: { nicsPerNode: L.inter.nicsPerNode, nicBandwidth: L.inter.nicBandwidth / k, latency: L.inter.latency * k },
    callOverhead: L.callOverhead * k,
    collectives: L.collectives,
    p2p: "eager",
  };
}

/** The simulator with the local profile (`refresh`: measure this machine now), or null when the profile cannot be measured. */
export async function loadSimulator(refresh: boolean): Promise<Simulator | null> {
  let profile: HardwareProfile;
  try {
    profile = await loadLocalProfile({ refresh });
  } catch (e) {
    process.stderr.write(`bench: the local profile could not be measured (${(e as Error).message}); no predicted column\n`);
    return null;
  }
  return {
    profile,
    source: profile.sources[0] ?? "",
    predict(plan, hw = profile) {
      try {
        const p = predictPlan(plan, hw, "fp32");
        return { stepSeconds: p.stepSeconds, computeSeconds: p.time.computeSeconds, exposedCommSeconds: p.time.exposedCommSeconds };
      } catch (e) {
        process.stderr.write(`bench: simulate failed: ${(e as Error).message}\n`);
        return null;
      }
    },
  };
}
