/**
 * Which GPUs Vertex AI online prediction attaches to which machine types, in one place: the schema
 * validates against it, the planner fills the default accelerator from it and the docs quote it.
 *
 * Source: Vertex AI "Configure compute resources for inference" (machine types and GPUs). The
 * accelerator-optimised families (g2, a2, a3, a4) come with a fixed GPU type and count per machine
 * type; n1 machines take a GPU of the listed types in the listed counts.
 */

/** The GPU accelerator types deploy-model accepts (Vertex AI's `AcceleratorType` enum names). */
export const VERTEX_GPU_TYPES = [
  'NVIDIA_TESLA_T4', 'NVIDIA_TESLA_P4', 'NVIDIA_TESLA_P100', 'NVIDIA_TESLA_V100',
  'NVIDIA_L4', 'NVIDIA_TESLA_A100', 'NVIDIA_A100_80GB', 'NVIDIA_H100_80GB', 'NVIDIA_H100_MEGA_80GB',
  'NVIDIA_H200_141GB', 'NVIDIA_B200',
] as const;
export type VertexGpuType = (typeof VERTEX_GPU_TYPES)[number];

export interface VertexMachineFamily {
  /** Machine type prefix, e.g. `g2-`. */
  prefix: string;
  /**
   * Machine types with a fixed GPU (accelerator-optimised families): type and count per machine
   * type. Undefined for families that take an attachable GPU.
   */
  fixed?: Readonly<Record<string, { type: VertexGpuType; count: number }>>;
  /** Attachable GPUs and the counts allowed (n1). */
  attachable?: Readonly<Partial<Record<VertexGpuType, readonly number[]>>>;
  /** Machine type names the family accepts when `attachable` (the rest of the name after the prefix). */
  pattern?: RegExp;
}

const range = (type: VertexGpuType, names: Record<string, number>) =>
  Object.fromEntries(Object.entries(names).map(([name, count]) => [name, { type, count }]));

export const VERTEX_MACHINE_FAMILIES: readonly VertexMachineFamily[] = [
  {
    prefix: 'g2-',
    fixed: range('NVIDIA_L4', {
      'g2-standard-4': 1, 'g2-standard-8': 1, 'g2-standard-12': 1, 'g2-standard-16': 1, 'g2-standard-32': 1,
      'g2-standard-24': 2, 'g2-standard-48': 4, 'g2-standard-96': 8,
    }),
  },
  {
    prefix: 'a2-',
    fixed: {
      ...range('NVIDIA_TESLA_A100', { 'a2-highgpu-1g': 1, 'a2-highgpu-2g': 2, 'a2-highgpu-4g': 4, 'a2-highgpu-8g': 8, 'a2-megagpu-16g': 16 }),
      ...range('NVIDIA_A100_80GB', { 'a2-ultragpu-1g': 1, 'a2-ultragpu-2g': 2, 'a2-ultragpu-4g': 4, 'a2-ultragpu-8g': 8 }),
    },
  },
  {
    prefix: 'a3-',
    fixed: {
      ...range('NVIDIA_H100_80GB', { 'a3-highgpu-1g': 1, 'a3-highgpu-2g': 2, 'a3-highgpu-4g': 4, 'a3-highgpu-8g': 8 }),
      ...range('NVIDIA_H100_MEGA_80GB', { 'a3-megagpu-8g': 8 }),
      ...range('NVIDIA_H200_141GB', { 'a3-ultragpu-8g': 8 }),
    },
  },
  {
    prefix: 'a4-',
    fixed: range('NVIDIA_B200', { 'a4-highgpu-8g': 8 }),
  },
  {
    prefix: 'n1-',
    pattern: /^n1-(standard|highmem|highcpu)-(2|4|8|16|32|64|96)$/,
    attachable: {
      NVIDIA_TESLA_T4: [1, 2, 4],
      NVIDIA_TESLA_P4: [1, 2, 4],
      NVIDIA_TESLA_P100: [1, 2, 4],
      NVIDIA_TESLA_V100: [1, 2, 4, 8],
    },
  },
];

export interface VertexMachineProblem {
  path: 'machineType' | 'accelerator' | 'accelerator.type' | 'accelerator.count';
  message: string;
}

export interface VertexAccelerator {
  type: VertexGpuType;
  count: number;
}

function familyOf(machineType: string): VertexMachineFamily | undefined {
  return VERTEX_MACHINE_FAMILIES.find((f) => machineType.startsWith(f.prefix));
}

function knownFamilies(): string {
  return VERTEX_MACHINE_FAMILIES.map((f) => `${f.prefix}*`).join(', ');
}

/**
 * The accelerator a machine type gets: the configured one, else the fixed GPU of an
 * accelerator-optimised machine type. Undefined when it cannot be derived (n1 without one).
 */
export function resolveVertexAccelerator(machineType: string, accelerator?: VertexAccelerator): VertexAccelerator | undefined {
  if (accelerator) return accelerator;
  const fixed = familyOf(machineType)?.fixed?.[machineType];
  return fixed ? { ...fixed } : undefined;
}

/**
 * Checks a machine type and its accelerator against the table. Triton's instance groups are
 * KIND_GPU, so every machine must end up with a GPU.
 */
export function checkVertexMachine(machineType: string, accelerator?: VertexAccelerator): VertexMachineProblem[] {
  const family = familyOf(machineType);
  if (!family) {
    return [{ path: 'machineType', message: `machine type '${machineType}' has no NVIDIA GPU on Vertex AI; use a GPU machine type (${knownFamilies()}), e.g. g2-standard-4 (1 x NVIDIA_L4)` }];
  }
  if (family.fixed) {
    const fixed = family.fixed[machineType];
    if (!fixed) {
      return [{ path: 'machineType', message: `'${machineType}' is not a ${family.prefix}* machine type Vertex AI serves on; use one of ${Object.keys(family.fixed).join(', ')}` }];
    }
    if (!accelerator) return [];
    const problems: VertexMachineProblem[] = [];
    if (accelerator.type !== fixed.type) {
      problems.push({ path: 'accelerator.type', message: `${machineType} comes with ${fixed.type}, not ${accelerator.type}; set accelerator.type to '${fixed.type}' or leave accelerator out` });
    }
    if (accelerator.count !== fixed.count) {
      problems.push({ path: 'accelerator.count', message: `${machineType} comes with ${fixed.count} GPU${fixed.count > 1 ? 's' : ''}, not ${accelerator.count}; set accelerator.count to ${fixed.count} or leave accelerator out` });
    }
    return problems;
  }
  if (family.pattern && !family.pattern.test(machineType)) {
    return [{ path: 'machineType', message: `'${machineType}' is not an ${family.prefix}* machine type Vertex AI serves on; use e.g. n1-standard-8` }];
  }
  const allowed = family.attachable ?? {};
  if (!accelerator) {
    return [{ path: 'accelerator', message: `${machineType} has no GPU of its own; set accelerator, e.g. { type: 'NVIDIA_TESLA_T4', count: 1 } (allowed on ${family.prefix}*: ${Object.keys(allowed).join(', ')})` }];
  }
  const counts = allowed[accelerator.type];
  if (!counts) {
    return [{ path: 'accelerator.type', message: `${accelerator.type} cannot be attached to ${family.prefix}* machines; use one of ${Object.keys(allowed).join(', ')}, or a machine type that comes with it (e.g. g2-standard-4 for NVIDIA_L4, a2-highgpu-1g for NVIDIA_TESLA_A100)` }];
  }
  if (!counts.includes(accelerator.count)) {
    return [{ path: 'accelerator.count', message: `${accelerator.type} is attached to ${family.prefix}* machines in counts of ${counts.join(', ')}, not ${accelerator.count}` }];
  }
  return [];
}
