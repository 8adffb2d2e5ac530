// Software Vulkan devices for the WebGPU tests that need several: Mesa's lavapipe ICD manifest, listed twice,
// makes the loader show two devices (the layer tests number and pick them); and whether Dawn is installed.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The lavapipe ICD manifest of this machine, or null without mesa-vulkan-drivers. */
export function lavapipeIcd(dir = "/usr/share/vulkan/icd.d"): string | null {
  try {
    const f = readdirSync(dir).find((n) => /^lvp_icd.*\.json$/.test(n));
    return f === undefined ? null : join(dir, f);
  } catch {
    return null;
  }
}

/** VK_DRIVER_FILES for two software devices: the lavapipe manifest copied twice. */
export function twoSoftwareDevices(icd: string): string {
  const dir = mkdtempSync(join(tmpdir(), "lasp-icd-"));
  const manifest = readFileSync(icd, "utf8");
  writeFileSync(join(dir, "a.json"), manifest);
  writeFileSync(join(dir, "b.json"), manifest);
  return `${join(dir, "a.json")}:${join(dir, "b.json")}`;
}

/** Whether the optional `webgpu` package (Dawn's Node binding) loads here. */
export async function dawnInstalled(): Promise<boolean> {
  try {
    await import("webgpu");
    return true;
  } catch {
    return false;
  }
}
