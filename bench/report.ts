/** The send benchmark's report: its shape, a terminal table, a Markdown page, and the files. */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DbLatency } from './db-figures.ts';
import type { HistoryFigures } from './history.ts';
import type { MemoryPeak } from './proc-stats.ts';
import type { CarrierRate, PeakSums } from './stack-procs.ts';
import { type LatencySummary, round } from './stats.ts';
import type { TemporalCost } from './temporal-metrics.ts';

/** Targets on the reference 2-core machine; missing them is reported, never a failure. */
export const TARGETS = { messagesPerSecond: 200, p99AcceptMs: 50 } as const;

/**
 * The no-op floor (bench/noop-floor.ts): `noopWorkflow` runs on the same stack right after the
 * measured phase, CPU summed over the same processes, and Herald's cost as a multiple of it.
 */
export interface NoopFloor {
  readonly workflows: number;
  readonly completed: number;
  readonly errors: { readonly count: number; readonly samples: readonly string[] };
  /** First start → last result. */
  readonly wallSec: number;
  readonly workflowsPerSecond: number;
  /** CPU seconds per process group over the no-op phase. */
  readonly cpuSeconds: Record<string, number>;
  /** CPU ms per no-op workflow per group, and `total` (every group: the floor). */
  readonly msPerWorkflow: Record<string, number>;
  /** Average history events of sampled no-op workflows. */
  readonly historyEvents: number;
  /** Herald's total CPU ms per message ÷ the floor's total CPU ms per workflow. */
  readonly ratio: number;
  /** The same ratio per group (Herald's ms per message ÷ the floor's, where the floor is > 0). */
  readonly ratioByProcess: Record<string, number>;
}

/** The commit a run measured, and whether the tree had changes on top. */
export interface GitState {
  readonly commit: string;
  readonly dirty: boolean;
}

/** The machine a run measured on. */
export interface MachineFigures {
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  /** 1-minute load average when the run started (other work on the machine skews figures). */
  readonly loadAvgAtStart: number;
}

/** CPU over a measured phase, per process group and per message (both scenarios report it). */
export interface CpuPerMessage {
  readonly wallSec: number;
  readonly seconds: Record<string, number>;
  /** CPU milliseconds per accepted message, per group and `total` (the stable figure on a shared machine). */
  readonly msPerMessage: Record<string, number>;
  /** CPU ms per message of each worker and API process; null with one of each. */
  readonly perProcessMsPerMessage: Record<string, number> | null;
}

/** Everything one run measured (the JSON file is exactly this). */
export interface SendBenchReport {
  readonly kind: 'send';
  /** ISO time the run started. */
  readonly startedAt: string;
  readonly label: string;
  readonly git: GitState | null;
  readonly environment: MachineFigures & {
    readonly db: 'postgres' | 'pglite';
    /** Tuning variables passed to the worker and the API ('default' when unset). */
    readonly tuning: Record<string, string>;
  };
  readonly messages: number;
  readonly concurrency: number;
  readonly warmup: number;
  /** Worker and API processes (`--workers`, `--apis`). */
  readonly topology: { readonly workers: number; readonly apis: number };
  readonly accepted: number;
  readonly apiErrors: { readonly count: number; readonly samples: readonly string[] };
  readonly acceptLatencyMs: LatencySummary;
  readonly acceptToSubmitMs: DbLatency;
  readonly acceptToTerminalMs: DbLatency;
  readonly throughput: {
    /** Accepted messages / (last terminal − first request). */
    readonly messagesPerSecond: number;
    readonly endToEndSec: number;
    /** How long sending every request took, and the accept rate that makes. */
    readonly requestPhaseSec: number;
    readonly acceptsPerSecond: number;
  };
  /** Status → time from acceptance to its first event (see DbFigures.stagesMs). */
  readonly stagesMs: Record<string, DbLatency>;
  readonly outcomes: {
    readonly statuses: Record<string, number>;
    readonly carriers: Record<string, number>;
    readonly attemptsPerMessage: number;
  };
  /** Whether every accepted message became terminal, and if not why the wait ended. */
  readonly terminal: { readonly count: number; readonly reason: 'done' | 'timeout' | 'stalled' };
  readonly history: HistoryFigures;
  /** Persistence calls and RPCs per message on the Temporal server; null when metrics were unavailable. */
  readonly temporalCost: TemporalCost | null;
  /** Peak RSS per process (`worker`, `api`; `worker-1` … with several). */
  readonly memory: Record<string, MemoryPeak>;
  /** Peak RSS summed over the processes of a kind, MiB. */
  readonly memorySummary: PeakSums;
  /** CPU seconds per process group over the measured phase, and cores used on average. */
  readonly cpu: CpuPerMessage & { readonly cores: Record<string, number> };
  /** The no-op floor measured after the measured phase; null when skipped (`--noop 0`). */
  readonly noopFloor: NoopFloor | null;
  /**
   * The receipt-shaped floor measured after the no-op floor (start → task → signal → task →
   * complete); null when skipped (`--noop 0`) and in reports written before it existed.
   */
  readonly receiptFloor?: NoopFloor | null;
  /** Each HTTP carrier simulator's max submissions in any 1 s window vs the configured TPS. */
  readonly carrierRate: readonly CarrierRate[];
  readonly targetsMet: boolean;
}

const f = (n: number, digits = 1): string => round(n, digits).toFixed(digits);

/** The key figures as `[label, value]` rows, shared by the terminal table and the Markdown. */
function rows(r: SendBenchReport): Array<[string, string]> {
  const lat = (l: LatencySummary | DbLatency, withP95 = true): string =>
    `p50 ${f(l.p50)} · ${withP95 ? `p95 ${f(l.p95)} · ` : ''}p99 ${f(l.p99)} · max ${f(l.max)}`;
  const others = Object.entries(r.outcomes.statuses)
    .filter(([s]) => s !== 'delivered')
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  const floor = r.noopFloor;
  return [
    ['messages × concurrency', `${r.messages} × ${r.concurrency} (warm-up ${r.warmup})`],
    ['db', r.environment.db],
    ['processes', `${r.topology.workers} worker · ${r.topology.apis} API`],
    [
      'end-to-end throughput',
      `${f(r.throughput.messagesPerSecond)} msg/s (${r.accepted} in ${f(r.throughput.endToEndSec, 2)} s)`,
    ],
    [
      'accept rate',
      `${f(r.throughput.acceptsPerSecond)} req/s (requests took ${f(r.throughput.requestPhaseSec, 2)} s)`,
    ],
    ['API accept latency, ms', lat(r.acceptLatencyMs)],
    ['accept → carrier submit, ms', lat(r.acceptToSubmitMs)],
    ['accept → terminal, ms', lat(r.acceptToTerminalMs)],
    [
      'accept → status, p50/p99 ms',
      Object.entries(r.stagesMs)
        .filter(([status]) => status !== 'accepted')
        .map(([status, l]) => `${status} ${f(l.p50, 0)}/${f(l.p99, 0)}`)
        .join(' · '),
    ],
    [
      'delivered',
      `${r.outcomes.statuses.delivered ?? 0} of ${r.accepted}${others ? ` (others: ${others})` : ''}`,
    ],
    ['API errors', String(r.apiErrors.count)],
    [
      'carriers',
      Object.entries(r.outcomes.carriers)
        .map(([c, n]) => `${c} ${n}`)
        .join(', '),
    ],
    ['attempts per message', f(r.outcomes.attemptsPerMessage, 2)],
    [
      'history events / message',
      `${f(r.history.avgEvents)} (min ${r.history.minEvents}, max ${r.history.maxEvents}, ${r.history.sampled} sampled)`,
    ],
    [
      'Temporal calls / message',
      r.temporalCost
        ? `${f(r.temporalCost.persistencePerMessage)} persistence · ${f(r.temporalCost.frontendPerMessage)} frontend RPCs`
        : 'n/a',
    ],
    ...Object.entries(r.memory).map(([name, m]): [string, string] => [
      `peak RSS ${name}`,
      `${f(m.peakRssMb)} MiB (VmHWM ${f(m.hwmMb)} MiB)`,
    ]),
    ...(r.topology.workers > 1 || r.topology.apis > 1
      ? [
          [
            'peak RSS summed',
            `workers ${f(r.memorySummary.workerPeakRssMb)} MiB · APIs ${f(r.memorySummary.apiPeakRssMb)} MiB`,
          ] as [string, string],
        ]
      : []),
    [
      'CPU-bound ceiling',
      `${f((r.environment.cpus * 1000) / Math.max(1, r.cpu.msPerMessage.total ?? 0))} msg/s (${r.environment.cpus} cores ÷ total CPU per message)`,
    ],
    ...cpuPerMessageRows(r.cpu),
    [
      'no-op floor, CPU ms / workflow',
      floor
        ? `${Object.entries(floor.msPerWorkflow)
            .map(([name, ms]) => `${name} ${f(ms, 2)}`)
            .join(
              ' · ',
            )} (${floor.completed} of ${floor.workflows} in ${f(floor.wallSec, 2)} s, ${f(floor.historyEvents)} events each)`
        : 'skipped',
    ],
    ['CPU per message ÷ no-op floor', floor ? `${f(floor.ratio, 2)} ×` : 'n/a'],
    ...(r.receiptFloor
      ? [
          [
            'receipt-shaped floor, CPU ms / workflow',
            `total ${f(r.receiptFloor.msPerWorkflow.total ?? 0, 2)} (${f(r.receiptFloor.workflowsPerSecond)}/s, ${f(r.receiptFloor.historyEvents)} events each; Herald ${f(r.receiptFloor.ratio, 2)} ×)`,
          ] as [string, string],
          [
            'CPU-bound ceiling of the receipt shape',
            `${f((r.environment.cpus * 1000) / Math.max(0.001, r.receiptFloor.msPerWorkflow.total ?? 0))} msg/s (${r.environment.cpus} cores ÷ its CPU per workflow: no design where a message is such a workflow exceeds it)`,
          ] as [string, string],
        ]
      : []),
    [
      'carrier rate, max in 1 s / tps',
      r.carrierRate
        .map((c) => `${c.carrier} ${c.maxPerSecond}/${c.configuredTps}${c.exceeded ? ' EXCEEDED' : ''}`)
        .join(' · ') || 'n/a',
    ],
    [
      'CPU cores used',
      Object.entries(r.cpu.cores)
        .map(([name, c]) => `${name} ${f(c, 2)}`)
        .join(' · '),
    ],
    ['node · CPUs', `${r.environment.node} · ${r.environment.cpus} × ${r.environment.cpuModel}`],
    ['load average at start', f(r.environment.loadAvgAtStart, 2)],
    [
      'tuning',
      Object.entries(r.environment.tuning)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ],
    [
      `targets (≥ ${TARGETS.messagesPerSecond} msg/s, p99 accept < ${TARGETS.p99AcceptMs} ms)`,
      r.targetsMet ? 'met' : 'missed',
    ],
  ];
}

/** A plain two-column table for the terminal. */
export function formatTable(r: SendBenchReport): string {
  const all = rows(r);
  const width = Math.max(...all.map(([k]) => k.length));
  return all.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The human-readable page (`bench/results/latest-send.md`). */
export function toMarkdown(r: SendBenchReport, jsonFile: string): string {
  const table = rows(r)
    .map(([k, v]) => `| ${k} | ${v.replaceAll('|', '\\|')} |`)
    .join('\n');
  const events = Object.entries(r.history.avgByType)
    .map(([type, n]) => `| ${type} | ${f(n, 2)} |`)
    .join('\n');
  const cpu = Object.entries(r.cpu.seconds)
    .map(
      ([name, s]) =>
        `| ${name} | ${f(s, 2)} | ${f(r.cpu.cores[name] ?? 0, 2)} | ${name === 'others' ? '' : f(r.cpu.msPerMessage[name] ?? 0)} |`,
    )
    .join('\n');
  const stages = Object.entries(r.stagesMs)
    .map(([status, l]) => `| ${status} | ${f(l.p50)} | ${f(l.p95)} | ${f(l.p99)} | ${f(l.max)} |`)
    .join('\n');
  const opRows = (ops: TemporalCost['persistence']): string =>
    ops.map((o) => `| ${o.operation} | ${f(o.perMessage, 2)} | ${f(o.avgMs, 2)} |`).join('\n');
  const temporal = r.temporalCost
    ? `
## Temporal server cost per message

${f(r.temporalCost.persistencePerMessage)} persistence calls and ${f(r.temporalCost.frontendPerMessage)} frontend RPCs per message (dev server, SQLite in memory).

| persistence operation | per message | avg ms |
|---|---|---|
${opRows(r.temporalCost.persistence)}

| frontend RPC | per message | avg ms |
|---|---|---|
${opRows(r.temporalCost.frontend)}
`
    : '';
  const floorTable = (
    fl: NoopFloor,
  ): string => `| process | floor CPU ms / workflow | Herald CPU ms / message | ratio |
|---|---|---|---|
${Object.entries(fl.msPerWorkflow)
  .map(
    ([name, ms]) =>
      `| ${name} | ${f(ms, 2)} | ${f(r.cpu.msPerMessage[name] ?? 0)} | ${
        name === 'total'
          ? f(fl.ratio, 2)
          : fl.ratioByProcess[name] === undefined
            ? '—'
            : f(fl.ratioByProcess[name] ?? 0, 2)
      } |`,
  )
  .join('\n')}
`;
  const floor = r.noopFloor
    ? `
## No-op floor (${r.noopFloor.completed} of ${r.noopFloor.workflows} \`noopWorkflow\` runs, ${f(r.noopFloor.wallSec, 2)} s, ${f(r.noopFloor.workflowsPerSecond)}/s)

Same stack, right after the measured phase: each started by the bench's Temporal client on \`herald-main\`
(${r.concurrency} starts in flight), one workflow task, complete; ${f(r.noopFloor.historyEvents)} history events each.
Herald costs **${f(r.noopFloor.ratio, 2)} ×** the floor (total CPU ms per message ÷ total CPU ms per no-op workflow).

${floorTable(r.noopFloor)}`
    : '';
  const receiptFloor = r.receiptFloor
    ? `
## Receipt-shaped floor (${r.receiptFloor.completed} of ${r.receiptFloor.workflows} \`receiptShapedWorkflow\` runs, ${f(r.receiptFloor.wallSec, 2)} s, ${f(r.receiptFloor.workflowsPerSecond)}/s)

Right after the no-op floor: each started as above, then signalled once (as the receipt intake signals
a message's run), a workflow task for the start and one for the signal, complete; ${f(r.receiptFloor.historyEvents)} history
events each. It is the least a message costs in any design where the message is a workflow that awaits its
receipt as a signal — no API, database, carrier, activity, timer or search attribute — so
${r.environment.cpus} cores ÷ its CPU per workflow, **${f((r.environment.cpus * 1000) / Math.max(0.001, r.receiptFloor.msPerWorkflow.total ?? 0))} msg/s**, bounds every such design on this machine.
Herald costs **${f(r.receiptFloor.ratio, 2)} ×** it.

${floorTable(r.receiptFloor)}`
    : '';
  const rates =
    r.carrierRate.length === 0
      ? ''
      : `
## Carrier rate (simulators' submission logs, warm-up included)

| carrier | configured tps | submissions | max in any 1 s | above tps |
|---|---|---|---|---|
${r.carrierRate.map((c) => `| ${c.carrier} | ${c.configuredTps} | ${c.submissions} | ${c.maxPerSecond} | ${c.exceeded ? '**yes**' : 'no'} |`).join('\n')}
`;
  const errors =
    r.apiErrors.samples.length === 0
      ? ''
      : `\n## API errors (first ${r.apiErrors.samples.length})\n\n${r.apiErrors.samples.map((s) => `- ${s}`).join('\n')}\n`;
  return `# Send benchmark — ${r.startedAt}${r.label ? ` — ${r.label}` : ''}

\`npm run bench -- --messages ${r.messages} --concurrency ${r.concurrency} --db ${r.environment.db}${
    r.environment.tuning.carrierTps && r.environment.tuning.carrierTps !== '10000'
      ? ` --carrier-tps ${r.environment.tuning.carrierTps}`
      : ''
  }${r.topology.workers > 1 ? ` --workers ${r.topology.workers}` : ''}${r.topology.apis > 1 ? ` --apis ${r.topology.apis}` : ''}${
    r.noopFloor === null
      ? ' --noop 0'
      : r.noopFloor.workflows !== r.messages
        ? ` --noop ${r.noopFloor.workflows}`
        : ''
  }\`
(git ${r.git ? `${r.git.commit}${r.git.dirty ? ' + uncommitted changes' : ''}` : 'unknown'}; raw figures in \`${jsonFile}\`)

| figure | value |
|---|---|
${table}

## Stages: from acceptance to each status's first event, ms

| status | p50 | p95 | p99 | max |
|---|---|---|---|---|
${stages}

## CPU over the measured phase (${f(r.cpu.wallSec, 2)} s wall)

| process | CPU s | cores | CPU ms / message |
|---|---|---|---|
${cpu}

"bench" is this process: the load generator, both carrier simulators${r.environment.db === 'pglite' ? ' and PGlite' : ''}; "others" is everything else the machine ran meanwhile (other test runs skew the figures).

## Temporal history events per message (average of ${r.history.sampled})

| event type | per message |
|---|---|
${events}
${floor}${receiptFloor}${rates}${temporal}${errors}`;
}

/**
 * Writes `<name>-<YYYY-MM-DD-HHmm>.json` and `latest-<name>.md` into `dir`; returns their paths.
 * `name` is `send` (default) or `send-smpp` (`--carrier smpp`).
 */
export function writeReports(
  r: SendBenchReport,
  dir: string,
  name = 'send',
): Promise<{ json: string; markdown: string }> {
  return writeResultFiles(r, r.startedAt, dir, name, (file) => toMarkdown(r, `bench/results/${file}`));
}

/**
 * Writes `value` as `<name>-<YYYY-MM-DD-HHmm>.json` (stamp of `startedAt`; `-2` … when taken)
 * and `markdown(file)` as `latest-<name>.md` into `dir`.
 */
export async function writeResultFiles(
  value: unknown,
  startedAt: string,
  dir: string,
  name: string,
  markdown: (jsonFile: string) => string,
): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const d = new Date(startedAt);
  const p = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
  // Two runs in one minute: the second gets `-2` rather than overwriting the first.
  let file = `${name}-${stamp}.json`;
  for (let n = 2; existsSync(join(dir, file)); n++) file = `${name}-${stamp}-${n}.json`;
  const json = join(dir, file);
  const md = join(dir, `latest-${name}.md`);
  await writeFile(json, `${JSON.stringify(value, null, 2)}\n`);
  await writeFile(md, markdown(file));
  return { json, markdown: md };
}

/**
 * The report rows of CPU ms per message: by kind of process (with `note` after it) and, with
 * several workers or APIs, per process.
 */
export function cpuPerMessageRows(
  cpu: Pick<CpuPerMessage, 'msPerMessage' | 'perProcessMsPerMessage'>,
  note = '',
): Array<[string, string]> {
  const list = (byName: Readonly<Record<string, number>>): string =>
    Object.entries(byName)
      .map(([name, ms]) => `${name} ${f(ms)}`)
      .join(' · ');
  return [
    ['CPU ms / message', `${list(cpu.msPerMessage)}${note}`],
    ...(cpu.perProcessMsPerMessage
      ? [['CPU ms / message per process', list(cpu.perProcessMsPerMessage)] as [string, string]]
      : []),
  ];
}
