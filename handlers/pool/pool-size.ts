// How many workers and threads the pool starts, from the CPUs this process may use.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface PoolSize {
  /** Worker threads, each with its own onnxruntime session. */
  workers: number;
  /** onnxruntime intra-op threads per session. */
  intraOpThreads: number;
  /** The CPUs the sizes were derived from. */
  cpus: number;
}

/**
 * The CPUs this process may use: the scheduler affinity (`availableParallelism`), lowered to a
 * cgroup v2 CPU quota when one is set (`docker run --cpus`, a Kubernetes CPU limit), where
 * counting the host's cores would start threads that only wait for their share.
 */
export function cpuBudget(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const cores = availableParallelism();
  let text: string;
  try {
    text = readFileSync(cpuMaxFile, 'utf8');
  } catch {
    return cores;
  }
  const [quota, period] = text.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !(q > 0) || !(p > 0)) return cores;
  return Math.max(1, Math.min(cores, Math.ceil(q / p)));
}

/**
 * How many workers, and how many intra-op threads each: together they fill the CPUs once, so
 * sessions do not fight over cores. By default one worker per CPU with one thread each, which
 * gives the most throughput for concurrent requests (a single request then runs on one core).
 * Given only `intraOpThreads`, the workers are the CPUs divided by it; given only `workers`, the
 * threads are the CPUs divided among them.
 */
export function poolSize(options: { workers?: number; intraOpThreads?: number; cpus?: number } = {}): PoolSize {
  const cpus = Math.max(1, Math.floor(options.cpus ?? cpuBudget()));
  const { workers, intraOpThreads } = options;
  for (const [name, value] of [['workers', workers], ['intraOpThreads', intraOpThreads]] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new RangeError(`${name} is ${value}; it must be a positive integer`);
    }
  }
  if (workers !== undefined) return { workers, intraOpThreads: intraOpThreads ?? Math.max(1, Math.floor(cpus / workers)), cpus };
  if (intraOpThreads !== undefined) return { workers: Math.max(1, Math.floor(cpus / intraOpThreads)), intraOpThreads, cpus };
  return { workers: cpus, intraOpThreads: 1, cpus };
}
