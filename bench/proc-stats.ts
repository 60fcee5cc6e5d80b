/**
 * Linux `/proc` readings for the benchmark: resident memory (peak, sampled) and CPU time of the
 * processes under test, so a report can say which process is the bottleneck. Read-only: nothing
 * here signals or changes another process. Off Linux every reading is simply absent.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on every common Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `VmRSS` / `VmHWM` of a process in KiB, or undefined when it is gone (or not Linux). */
export function readMemoryKb(pid: number): { rssKb: number; hwmKb: number } | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** User + system CPU seconds a process has used so far (all its threads), or undefined when gone. */
export function readCpuSeconds(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) and stime (field 15) are rest[11] and rest[12].
  const ticks = Number(rest[11] ?? 0) + Number(rest[12] ?? 0);
  return ticks / CLOCK_TICKS_PER_SECOND;
}

/** Pids of processes whose NUL-separated command line satisfies `match`. */
export function findPids(match: (args: readonly string[]) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = readText(`/proc/${entry}/cmdline`);
    if (cmdline === undefined || cmdline === '') continue;
    if (match(cmdline.split('\0').filter((a) => a !== ''))) pids.push(Number(entry));
  }
  return pids;
}

/** The `temporal server start-dev` process listening on `port`, if it can be found. */
export function findTemporalDevServerPid(port: number): number | undefined {
  return findPids((args) => {
    const i = args.indexOf('--port');
    return args.includes('start-dev') && i >= 0 && args[i + 1] === String(port);
  })[0];
}

/**
 * PostgreSQL backends serving database `dbName`: their title is `postgres: user db host(port) …`
 * (Debian clusters insert `15/main:` after `postgres:`).
 */
export function findPostgresBackendPids(dbName: string): number[] {
  return findPids((args) => {
    const title = args.length === 1 ? (args[0] ?? '') : '';
    return title.startsWith('postgres: ') && title.split(' ').includes(dbName);
  });
}

/** Peak resident memory of a watched process. */
export interface MemoryPeak {
  /** Highest VmRSS seen by the sampler, MiB. */
  readonly peakRssMb: number;
  /** VmHWM (the kernel's own high-water mark) at the end, MiB; 0 when the process was gone. */
  readonly hwmMb: number;
}

/** A sampler of VmRSS for named processes. */
export interface RssSampler {
  /** Stops sampling and reads VmHWM once more: call before the processes are stopped. */
  stop(): Record<string, MemoryPeak>;
}

/**
 * Polls `/proc/<pid>/status` VmRSS of each named process every `intervalMs` (default 200) and
 * keeps the peak.
 */
export function startRssSampler(pids: Readonly<Record<string, number>>, intervalMs = 200): RssSampler {
  const peakKb = new Map<string, number>(Object.keys(pids).map((name) => [name, 0]));
  const sample = (): void => {
    for (const [name, pid] of Object.entries(pids)) {
      const mem = readMemoryKb(pid);
      if (mem && mem.rssKb > (peakKb.get(name) ?? 0)) peakKb.set(name, mem.rssKb);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const out: Record<string, MemoryPeak> = {};
      for (const [name, pid] of Object.entries(pids)) {
        out[name] = {
          peakRssMb: (peakKb.get(name) ?? 0) / 1024,
          hwmMb: (readMemoryKb(pid)?.hwmKb ?? 0) / 1024,
        };
      }
      return out;
    },
  };
}

/** Named groups of pids whose CPU time is compared between two instants. */
export type PidGroups = Readonly<Record<string, () => readonly number[]>>;

/** CPU seconds per group at one instant, keyed by pid so processes that appear later count from 0. */
export type CpuSnapshot = Map<string, Map<number, number>>;

/** Reads the CPU time of every pid of every group. */
export function snapshotCpu(groups: PidGroups): CpuSnapshot {
  const snap: CpuSnapshot = new Map();
  for (const [name, pids] of Object.entries(groups)) {
    const perPid = new Map<number, number>();
    for (const pid of pids()) {
      const cpu = readCpuSeconds(pid);
      if (cpu !== undefined) perPid.set(pid, cpu);
    }
    snap.set(name, perPid);
  }
  return snap;
}

/** CPU seconds each group used between two snapshots (a pid absent at `from` counts from 0). */
export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, perPid] of to) {
    let total = 0;
    for (const [pid, cpu] of perPid) total += cpu - (from.get(name)?.get(pid) ?? 0);
    out[name] = total;
  }
  return out;
}

/** CPU seconds the whole machine has been busy (all CPUs: user, nice, system, irq, softirq, steal). */
export function readMachineBusySeconds(): number | undefined {
  const line = readText('/proc/stat')?.split('\n')[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    CLOCK_TICKS_PER_SECOND
  );
}
