/**
 * Which processes of a bench stack are measured, and under which names: CPU groups (`api`,
 * `worker` — every process of that kind summed —, `temporal`, `postgres`, `bench`), one group per
 * process when there are several workers or APIs (`worker-1`, `api-2` …), and the pids whose
 * resident memory is sampled. Also the carrier simulators' observed rate against the configured
 * TPS.
 */
import { maxSegmentsInWindow } from '../simulators/sim-core.ts';
import type { BenchStack } from './bench-stack.ts';
import { type CpuSnapshot, cpuBetween, type MemoryPeak, type PidGroups, snapshotCpu } from './proc-stats.ts';

/** Process names of a kind: `worker` alone, or `worker-1`, `worker-2` … */
function named(kind: string, pids: readonly number[]): Array<[string, number]> {
  return pids.map((pid, i) => [pids.length === 1 ? kind : `${kind}-${i + 1}`, pid]);
}

/** The CPU groups every report shares; PGlite runs inside this process, so it is in `bench`. */
export function stackPidGroups(stack: BenchStack): PidGroups {
  return {
    api: () => stack.pids.apis,
    worker: () => stack.pids.workers,
    ...(stack.pids.temporal === undefined ? {} : { temporal: () => [stack.pids.temporal ?? 0] }),
    ...(stack.dbKind === 'postgres' ? { postgres: () => stack.pids.postgres() } : {}),
    bench: () => [process.pid],
  };
}

/** One group per worker and API process when there are several of a kind; else undefined. */
export function perProcessGroups(stack: BenchStack): PidGroups | undefined {
  if (stack.pids.workers.length === 1 && stack.pids.apis.length === 1) return undefined;
  return Object.fromEntries(
    [...named('worker', stack.pids.workers), ...named('api', stack.pids.apis)].map(([name, pid]) => [
      name,
      () => [pid],
    ]),
  );
}

/** The pids whose RSS is sampled: `worker` and `api`, or `worker-1` … `api-2` … */
export function rssPids(stack: BenchStack): Record<string, number> {
  return Object.fromEntries([...named('worker', stack.pids.workers), ...named('api', stack.pids.apis)]);
}

/** Peak RSS summed over the processes of a kind, MiB. */
export interface PeakSums {
  readonly workerPeakRssMb: number;
  readonly apiPeakRssMb: number;
}

/** Peak RSS summed over the processes of each kind (MiB): the `worker` figure with several workers. */
export function summedPeaks(peaks: Readonly<Record<string, MemoryPeak>>): PeakSums {
  const sum = (kind: string): number =>
    Object.entries(peaks)
      .filter(([name]) => name === kind || name.startsWith(`${kind}-`))
      .reduce((s, [, m]) => s + m.peakRssMb, 0);
  return { workerPeakRssMb: sum('worker'), apiPeakRssMb: sum('api') };
}

/** CPU readings of the stack's groups (and per-process groups) at one instant. */
export interface StackCpuSnapshot {
  readonly groups: CpuSnapshot;
  readonly perProcess: CpuSnapshot | undefined;
  readonly at: number;
}

export function snapshotStack(stack: BenchStack): StackCpuSnapshot {
  const per = perProcessGroups(stack);
  return { groups: snapshotCpu(stackPidGroups(stack)), perProcess: per && snapshotCpu(per), at: Date.now() };
}

/** CPU seconds per group between two snapshots, `total` added; per process when measured. */
export function stackCpuBetween(
  from: StackCpuSnapshot,
  to: StackCpuSnapshot,
): {
  seconds: Record<string, number>;
  total: number;
  perProcess: Record<string, number> | undefined;
  wallSec: number;
} {
  const seconds = cpuBetween(from.groups, to.groups);
  const total = Object.values(seconds).reduce((a, b) => a + b, 0);
  const perProcess =
    from.perProcess && to.perProcess ? cpuBetween(from.perProcess, to.perProcess) : undefined;
  return { seconds, total, perProcess, wallSec: (to.at - from.at) / 1000 };
}

/** One carrier simulator's observed submission rate against the configured `tps`. */
export interface CarrierRate {
  readonly carrier: string;
  readonly configuredTps: number;
  /** Submissions (that passed auth and validation) over the whole run, warm-up included. */
  readonly submissions: number;
  /** The most segments received within any sliding 1 s window. */
  readonly maxPerSecond: number;
  /**
   * True when `maxPerSecond` > `configuredTps`: the carrier saw more than its limit in some one-second
   * window (the pacer books a little under it for that reason: activities/submission.ts
   * `bookedSegmentsPerSecond`).
   */
  readonly exceeded: boolean;
}

/** Every HTTP carrier simulator's observed rate (SMPP's SMSC simulator keeps no log). */
export function observedCarrierRates(stack: BenchStack): CarrierRate[] {
  return Object.entries(stack.simulators).map(([carrier, sim]) => {
    const log = sim.submissionLog();
    const maxPerSecond = maxSegmentsInWindow(log, 1_000);
    return {
      carrier,
      configuredTps: stack.carrierTps,
      submissions: log.length,
      maxPerSecond,
      exceeded: maxPerSecond > stack.carrierTps,
    };
  });
}
