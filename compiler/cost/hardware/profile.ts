// Hardware profiles for `lasp simulate`: per-device compute, memory and links, with where each number comes
// from (docs/COST-MODEL.md). Vendor figures are peaks; the efficiency factors turn them into achieved rates.

/** Element type the simulated run computes and moves in. The runtime is float32; bf16 = mixed precision. */
export type SimDtype = "fp32" | "bf16";
export const SIM_DTYPES: readonly SimDtype[] = ["fp32", "bf16"];

export interface LinkSpec {
  /** bytes/s one device can receive over this link, one direction */
  readonly bandwidth: number;
  /** seconds per dependent hop of a collective (software + wire), small-message latency */
  readonly latency: number;
}

export interface HardwareProfile {
  readonly name: string;
  readonly description: string;
  /** devices sharing one node's intra-node fabric; Infinity = a single machine */
  readonly devicesPerNode: number;
  /** bytes of memory per device */
  readonly memoryBytes: number;
  /** local only: one memory pool for every rank; a device gets min(memoryBytes, sharedMemoryBytes / world) */
  readonly sharedMemoryBytes?: number;
  /** peak dense matmul FLOP/s per device, by dtype (fp32 = true fp32, no TF32) */
  readonly peakFlops: Readonly<Record<SimDtype, number>>;
  /** fraction of peak that large matmuls reach */
  readonly matmulEfficiency: number;
  /** attention kernels' (linear and softmax) rate relative to matmul */
  readonly attentionEfficiency: number;
  /** the linear-attention kernels' (la_*) rate relative to matmul where it differs from softmax attention's (local: both measured) */
  readonly linearAttentionEfficiency?: number;
  /** device memory bandwidth, bytes/s: bounds elementwise ops (roofline) and the optimizer update */
  readonly memoryBandwidth: number;
  /** FLOP/s of elementwise math (norms, activations, RoPE, softmax pieces), which never runs on tensor cores */
  readonly elementwiseFlops: number;
  /** fixed cost of one compute step (kernel launch / op dispatch), seconds */
  readonly opOverhead: number;
  /**
   * local only: per plan op, a factor on its modelled time, from running the runtime's own steps op by op
   * (hardware/local.ts calibrateOps); ops not listed keep the roofline time
   */
  readonly opScale?: Readonly<Partial<Record<string, number>>>;
  /**
   * local only: the rank's own work in a comm_start / comm_wait step (packing parts, making tensors of what
   * arrived), seconds per byte of the step's inputs and outputs, from the same calibration
   */
  readonly commStepSecondsPerByte?: number;
  /** local only: compute units all ranks share; W ranks each get min(1, computeUnits / W) of a device */
  readonly computeUnits?: number;
  /** inside a node: per-device bandwidth (one direction) and per-hop latency */
  readonly intra: LinkSpec;
  /** fixed cost of one collective or point-to-point call (launch, setup), seconds */
  readonly callOverhead: number;
  /** ring: collectives run as rings of dependent hops (NCCL); shared: one shared-memory exchange, one wake-up */
  readonly collectives: "ring" | "shared";
  /** point-to-point: eager = the data leaves at the send; rendezvous = once the receiver has posted too (NCCL) */
  readonly p2p: "eager" | "rendezvous";
  /** between nodes: NICs per node, each NIC's bandwidth (one direction), per-hop latency */
  readonly inter: { readonly nicsPerNode: number; readonly nicBandwidth: number; readonly latency: number };
  /** where the numbers come from */
  readonly sources: readonly string[];
}

const GB = 1e9;
const T = 1e12;
const MiB = 2 ** 20;

// Shared by the GPU profiles: large bf16/fp32 GEMMs reach ~70% of the dense peak (cuBLAS); FlashAttention-2 /
// Lightning-attention kernels ~60% of the GEMM rate; kernel launch ~5 us. Collectives follow NCCL's own
// tuning model (src/graph/tuning.cc: base latency per call + per-hop latency, ring LL128/Simple protocols).
const GPU_COMMON = {
  matmulEfficiency: 0.7,
  attentionEfficiency: 0.6,
  opOverhead: 5e-6,
  callOverhead: 8e-6,
  collectives: "ring",
  p2p: "rendezvous",
} as const;
const NCCL_LATENCY =
  "latency: NCCL tuning model (src/graph/tuning.cc): ~8 us per call, ~2 us per NVLink hop, ~5 us per network hop; not vendor figures";

export const A100_80GB: HardwareProfile = {
  name: "A100-80GB",
  description: "NVIDIA A100 80GB SXM, 8 per node (DGX A100), NVSwitch, 4x HDR 200 Gb/s InfiniBand per node",
  devicesPerNode: 8,
  memoryBytes: 81920 * MiB,
  peakFlops: { fp32: 19.5 * T, bf16: 312 * T },
  ...GPU_COMMON,
  memoryBandwidth: 2039 * GB,
  elementwiseFlops: 19.5 * T,
  intra: { bandwidth: 300 * GB, latency: 2e-6 },
  inter: { nicsPerNode: 4, nicBandwidth: 25 * GB, latency: 5e-6 },
  sources: [
    "NVIDIA A100 datasheet: FP32 19.5 TFLOP/s, BF16 tensor 312 TFLOP/s dense, HBM2e 2039 GB/s, 80 GB",
    "NVLink 3 / NVSwitch: 600 GB/s per GPU bidirectional = 300 GB/s each way",
    "InfiniBand HDR 200 Gb/s = 25 GB/s per NIC each way, 4 NICs per node (as the issue specifies)",
    NCCL_LATENCY,
  ],
};

export const H100_80GB: HardwareProfile = {
  name: "H100-80GB",
  description: "NVIDIA H100 80GB SXM5, 8 per node (DGX H100), NVLink 4 / NVSwitch, 8x NDR 400 Gb/s InfiniBand per node",
  devicesPerNode: 8,
  memoryBytes: 81559 * MiB,
  peakFlops: { fp32: 67 * T, bf16: 989 * T },
  ...GPU_COMMON,
  memoryBandwidth: 3350 * GB,
  elementwiseFlops: 67 * T,
  intra: { bandwidth: 450 * GB, latency: 2e-6 },
  inter: { nicsPerNode: 8, nicBandwidth: 50 * GB, latency: 5e-6 },
  sources: [
    "NVIDIA H100 SXM5 datasheet: FP32 67 TFLOP/s, BF16 tensor 989 TFLOP/s dense (1979 with sparsity), HBM3 3.35 TB/s",
    "memory: 81559 MiB as nvidia-smi reports an H100 80GB",
    "NVLink 4: 900 GB/s per GPU bidirectional = 450 GB/s each way",
    "InfiniBand NDR 400 Gb/s = 50 GB/s per NIC each way, 8 NICs per node (one per GPU)",
    NCCL_LATENCY,
  ],
};

export const H200: HardwareProfile = {
  ...H100_80GB,
  name: "H200",
  description: "NVIDIA H200 141GB SXM, 8 per node, NVLink 4 / NVSwitch, 8x NDR 400 Gb/s InfiniBand per node",
  memoryBytes: 141 * GB,
  memoryBandwidth: 4800 * GB,
  sources: [
    "NVIDIA H200 datasheet: 141 GB HBM3e at 4.8 TB/s; compute as H100 SXM (FP32 67, BF16 989 TFLOP/s dense)",
    "NVLink 4: 900 GB/s per GPU bidirectional = 450 GB/s each way; 8x NDR 400 Gb/s (50 GB/s) per node",
    NCCL_LATENCY,
  ],
};

/** The fixed profiles by lower-case name; `local` is measured (hardware/local.ts). */
export const PROFILES: ReadonlyMap<string, HardwareProfile> = new Map(
  [A100_80GB, H100_80GB, H200].map((p) => [p.name.toLowerCase(), p] as const),
);

/** Every profile name `--hardware` accepts. */
export const PROFILE_NAMES: readonly string[] = [...[...PROFILES.values()].map((p) => p.name), "local"];

export function findProfile(name: string): HardwareProfile | undefined {
  const key = name.toLowerCase();
  return (
    PROFILES.get(key) ??
    PROFILES.get(key.replace(/-sxm$/, "")) ??
    (key === "h100" ? H100_80GB : key === "a100" ? A100_80GB : undefined)
  );
}
