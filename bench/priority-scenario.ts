/**
 * `npm run bench -- --priority`: does a `high` message overtake a `low` flood from the same
 * account (DESIGN §9)? Per database (`--db`, or PostgreSQL then PGlite): one account sends
 * `--low` (1500) `low` messages as fast as the API takes them (`--concurrency` in flight) while,
 * from 2 s after the first low one was accepted, the SAME account sends one `high` message every
 * `--high-every` ms until no low message is left waiting (at least `--min-high`). Every message
 * goes to the same country (US), so they share one carrier queue, whose `--carrier-tps` (default
 * 50) makes the backlog.
 *
 * For each high message: accepted → sent (its first `sent` event from `GET /v1/messages/:id`;
 * `delivered` / `undelivered` when a receipt beat the submit answer), and the order fraction: of
 * the low messages accepted before it and not yet sent when it was accepted, the share sent after
 * it. Targets: worst high accepted → sent ≤ 2000 ms, min order fraction ≥ 0.9. Writes
 * bench/results/priority-<stamp>.json and latest-priority.md.
 */
import { cpus, loadavg } from 'node:os';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.ts';
import type { SendBenchArgs } from './bench-args.ts';
import { type BenchStack, startBenchStack, stopOnInterrupt } from './bench-stack.ts';
import { waitForTerminal } from './db-figures.ts';
import { sendMessages } from './load.ts';
import { type MemoryPeak, readMachineBusySeconds, startRssSampler } from './proc-stats.ts';
import {
  type CpuPerMessage,
  cpuPerMessageRows,
  type GitState,
  type MachineFigures,
  writeResultFiles,
} from './report.ts';
import {
  type CarrierRate,
  observedCarrierRates,
  type PeakSums,
  rssPids,
  snapshotStack,
  stackCpuBetween,
  summedPeaks,
} from './stack-procs.ts';
import { type LatencySummary, round, summarize } from './stats.ts';
import { warmUp } from './warm-up.ts';

/** Targets of the scenario; missing them is reported, never a failure. */
export const PRIORITY_TARGETS = { worstHighAcceptedToSentMs: 2000, minOrderFraction: 0.9 } as const;
/**
 * The order target applies to high messages with at least this many low ones waiting (as in
 * test/integration/priority-lanes.test.ts): the 10–20 a worker already holds cannot be overtaken.
 */
export const BACKLOG_FOR_ORDER = 200;
/** The first high message goes this long after the first low one was accepted. */
const FIRST_HIGH_AFTER_MS = 2_000;
/** The scenario gives up sending high messages this long after the first low one. */
const MAX_SCENARIO_MS = 15 * 60_000;
/** Statuses of a message not yet handed to the carrier. */
const WAITING_STATUSES = ['accepted', 'scheduled', 'queued', 'sending'] as const;
/** Events that mean "the carrier has it", first one wins (a receipt may beat the submit answer). */
const SENT_EVENTS = ['sent', 'delivered', 'undelivered'] as const;

/** One high message's figures. */
export interface HighFigures {
  readonly id: string;
  /** `priority` as the API returned it (null when the API left it out). */
  readonly priorityEcho: string | null;
  readonly acceptedAt: string;
  readonly acceptLatencyMs: number;
  /** ISO time of its first sent event; null when never sent. */
  readonly sentAt: string | null;
  /** Which event gave `sentAt`. */
  readonly sentEvent: string | null;
  readonly acceptedToSentMs: number | null;
  /** Low messages accepted before it and not sent when it was accepted. */
  readonly waitingLows: number;
  /** Of those, how many were sent after it (or never). */
  readonly overtaken: number;
  /** `waitingLows − overtaken`: low messages already waiting that still went to the carrier first. */
  readonly lowsAhead: number;
  /** `overtaken / waitingLows`; null when no low message was waiting. */
  readonly orderFraction: number | null;
}

/** One database's run of the scenario. */
export interface PriorityRun {
  readonly db: 'postgres' | 'pglite';
  readonly topology: { readonly workers: number; readonly apis: number };
  readonly carrierTps: number;
  readonly low: {
    readonly requested: number;
    readonly accepted: number;
    readonly errors: number;
    readonly errorSamples: readonly string[];
    readonly acceptLatencyMs: LatencySummary;
    readonly acceptsPerSecond: number;
    /** First low accepted → last low sent, s. */
    readonly drainSec: number | null;
    /** Low messages sent per second over the drain. */
    readonly sentPerSecond: number | null;
    readonly notSent: number;
  };
  readonly highs: readonly HighFigures[];
  readonly highErrors: readonly string[];
  /** Worst accepted → sent over the high messages (a never-sent one counts as null → failure). */
  readonly worstHighAcceptedToSentMs: number | null;
  /** Lowest order fraction over the high messages with low ones waiting. */
  readonly minOrderFraction: number | null;
  /** Lowest order fraction over the high messages with ≥ {@link BACKLOG_FOR_ORDER} low ones waiting: the target's figure. */
  readonly minOrderFractionWithBacklog: number | null;
  /**
   * Most low messages that went to the carrier ahead of one high message although they were
   * waiting when it was accepted: the absolute view of the order, which does not grow with the
   * backlog (the last high messages, with a small backlog left, dominate `minOrderFraction`).
   */
  readonly maxLowsAhead: number | null;
  readonly targetsMet: boolean;
  readonly terminal: { readonly count: number; readonly expected: number; readonly reason: string };
  readonly statuses: Record<string, number>;
  readonly carriers: Record<string, number>;
  readonly carrierRate: readonly CarrierRate[];
  readonly memory: Record<string, MemoryPeak>;
  readonly memorySummary: PeakSums;
  /** Per accepted message (low and high). */
  readonly cpu: CpuPerMessage & {
    /** Cores the rest of the machine used meanwhile (other test runs skew the figures). */
    readonly othersCores: number;
  };
  readonly failures: readonly string[];
}

/** The JSON file: one run per database. */
export interface PriorityReport {
  readonly kind: 'priority';
  readonly startedAt: string;
  readonly label: string;
  readonly git: GitState | null;
  readonly environment: MachineFigures;
  readonly settings: {
    readonly low: number;
    readonly concurrency: number;
    readonly highEveryMs: number;
    readonly minHigh: number;
    readonly carrierTps: number;
    readonly workers: number;
    readonly apis: number;
  };
  readonly targets: typeof PRIORITY_TARGETS;
  readonly runs: readonly PriorityRun[];
}

/** Context from send-bench.ts. */
export interface PriorityContext {
  readonly log: (msg: string) => void;
  readonly resultsDir: string;
  readonly git: PriorityReport['git'];
}

/** A US number per message, so every message takes the same (cheapest) carrier queue. */
const usNumber = (i: number): string => `+1202555${String(i % 10_000).padStart(4, '0')}`;

/** Runs the scenario on each database in `args.dbs`; returns the exit code (1 on a real failure). */
export async function runPriorityScenario(args: SendBenchArgs, ctx: PriorityContext): Promise<number> {
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = loadavg()[0] ?? 0;
  const runs: PriorityRun[] = [];
  for (const db of args.dbs) {
    ctx.log(`priority scenario on ${db}: starting the stack (carrier tps ${args.carrierTps})`);
    const stack = await startBenchStack({
      db,
      credit: String(100 + args.low + 1000 + args.warmup),
      log: ctx.log,
      dynamicConfig: args.dynamicConfig,
      carrierTps: args.carrierTps,
      workers: args.workers,
      apis: args.apis,
    });
    const removeInterruptHandlers = stopOnInterrupt(stack, ctx.log);
    try {
      const run = await runOnce(args, stack, ctx.log);
      runs.push(run);
      ctx.log(`${db}: ${summaryLine(run)}`);
      if (run.failures.length > 0) {
        const out = stack.childOutput();
        console.error(`--- worker output (tail) ---\n${out.worker}\n--- api output (tail) ---\n${out.api}`);
      }
    } finally {
      removeInterruptHandlers();
      ctx.log(`${db}: tearing down`);
      await stack.stop();
    }
  }
  const report: PriorityReport = {
    kind: 'priority',
    startedAt,
    label: args.label,
    git: ctx.git,
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      loadAvgAtStart,
    },
    settings: {
      low: args.low,
      concurrency: args.concurrency,
      highEveryMs: args.highEveryMs,
      minHigh: args.minHigh,
      carrierTps: args.carrierTps,
      workers: args.workers,
      apis: args.apis,
    },
    targets: PRIORITY_TARGETS,
    runs,
  };
  console.log(`\nPriority scenario${args.label ? ` — ${args.label}` : ''}\n${formatPriorityTable(report)}\n`);
  const files = await writeResultFiles(report, startedAt, ctx.resultsDir, 'priority', (file) =>
    priorityMarkdown(report, `bench/results/${file}`),
  );
  ctx.log(`wrote ${files.json} and ${files.markdown}`);
  const failures = runs.flatMap((r) => r.failures.map((f) => `${r.db}: ${f}`));
  for (const f of failures) console.error(`[bench] FAILED: ${f}`);
  return failures.length > 0 ? 1 : 0;
}

async function runOnce(
  args: SendBenchArgs,
  stack: BenchStack,
  log: (msg: string) => void,
): Promise<PriorityRun> {
  const failures: string[] = [];
  const memory = startRssSampler(rssPids(stack));
  await warmUp(stack, { count: args.warmup, concurrency: args.concurrency, to: usNumber }, log);

  const cpuBefore = snapshotStack(stack);
  const machineBefore = readMachineBusySeconds() ?? 0;
  const account = stack.account;
  // The first low acceptance starts the high clock.
  let firstLowAccepted: () => void = () => {};
  const firstLow = new Promise<void>((r) => {
    firstLowAccepted = r;
  });
  log(`sending ${args.low} low messages, ${args.concurrency} in flight`);
  let lowsDone = false;
  const lowLoad = sendMessages({
    apiUrl: stack.apiUrls,
    apiKey: account.apiKey,
    count: args.low,
    concurrency: args.concurrency,
    to: usNumber,
    body: (i) => `Herald campaign message ${i}`,
    priority: () => 'low',
    onAccepted: () => firstLowAccepted(),
  }).finally(() => {
    lowsDone = true;
  });

  const highs: Array<{ id: string; latencyMs: number }> = [];
  const highErrors: string[] = [];
  const highLoop = (async (): Promise<void> => {
    // No low accepted at all (the API refuses them): still send the minimum of high ones.
    await Promise.race([firstLow, lowLoad]);
    const clockStart = Date.now();
    for (let k = 0; ; k++) {
      const due = clockStart + FIRST_HIGH_AFTER_MS + k * args.highEveryMs;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      if (k >= args.minHigh) {
        const waiting = lowsDone
          ? await countWaitingExcept(
              stack.db,
              account.id,
              highs.map((h) => h.id),
            )
          : 1;
        if (waiting === 0) return;
        if (Date.now() - clockStart > MAX_SCENARIO_MS) {
          failures.push(`low backlog not drained in ${MAX_SCENARIO_MS / 60_000} min (${waiting} waiting)`);
          return;
        }
      }
      const one = await sendMessages({
        apiUrl: stack.apiUrls[k % stack.apiUrls.length] ?? stack.apiUrl,
        apiKey: account.apiKey,
        count: 1,
        concurrency: 1,
        to: (i) => usNumber(9_000 + k + i),
        body: () => `Your Herald code is ${String(100000 + k)}`,
        priority: () => 'high',
      });
      const id = one.ids[0];
      if (id === undefined) {
        highErrors.push(`${one.errors[0]?.status ?? 'no answer'}: ${one.errors[0]?.detail ?? '?'}`);
      } else {
        highs.push({ id, latencyMs: one.latenciesMs[0] ?? 0 });
        log(`high ${highs.length} accepted (${(one.latenciesMs[0] ?? 0).toFixed(0)} ms)`);
      }
    }
  })();

  const low = await lowLoad;
  log(
    `low requests done in ${((low.finishedAt - low.startedAt) / 1000).toFixed(2)} s: ${low.ids.length} accepted, ${low.errors.length} errors`,
  );
  if (low.errors.length > 0)
    failures.push(`${low.errors.length} low requests failed (${low.errors[0]?.detail})`);
  await highLoop;
  if (highErrors.length > 0) failures.push(`${highErrors.length} high requests failed (${highErrors[0]})`);
  if (highs.length < args.minHigh) failures.push(`only ${highs.length} high messages accepted`);

  const expected = low.ids.length + highs.length;
  const terminal = await waitForTerminal(stack.db, account.id, {
    expected,
    timeoutMs: 120_000 + 50 * expected,
    stallMs: 60_000,
    onProgress: (n) => log(`${n} of ${expected} terminal`),
  });
  const cpuAfter = snapshotStack(stack);
  const machineBusy = (readMachineBusySeconds() ?? 0) - machineBefore;
  const peaks = memory.stop();
  if (terminal.reason !== 'done')
    failures.push(`only ${terminal.terminal} of ${expected} terminal (${terminal.reason})`);
  const childFailure = stack.childFailure();
  if (childFailure) failures.push(childFailure);

  // Low messages: acceptance and first sent event, from the database.
  const times = await readMessageTimes(stack.db, account.id);
  const lowTimes = low.ids.map((id) => times.get(id) ?? { createdAt: Number.NaN, sentAt: null });
  // High messages: from the API, as a client would see them.
  const highFigures: HighFigures[] = [];
  for (const h of highs) {
    const view = await getMessage(stack.apiUrl, account.apiKey, h.id);
    const acceptedAt = view ? Date.parse(view.createdAt) : (times.get(h.id)?.createdAt ?? Number.NaN);
    const sent = view ? firstSent(view.events ?? []) : null;
    const sentAt = sent?.at ?? null;
    const waiting = lowTimes.filter(
      (l) => l.createdAt < acceptedAt && (l.sentAt === null || l.sentAt > acceptedAt),
    );
    const overtaken =
      sentAt === null ? 0 : waiting.filter((l) => l.sentAt === null || l.sentAt > sentAt).length;
    highFigures.push({
      id: h.id,
      priorityEcho: view?.priority ?? null,
      acceptedAt: new Date(acceptedAt).toISOString(),
      acceptLatencyMs: h.latencyMs,
      sentAt: sentAt === null ? null : new Date(sentAt).toISOString(),
      sentEvent: sent?.status ?? null,
      acceptedToSentMs: sentAt === null ? null : sentAt - acceptedAt,
      waitingLows: waiting.length,
      overtaken,
      lowsAhead: waiting.length - overtaken,
      orderFraction: waiting.length === 0 ? null : overtaken / waiting.length,
    });
  }
  const notEcho = highFigures.filter((h) => h.priorityEcho !== 'high').length;
  if (notEcho > 0) failures.push(`${notEcho} high messages not returned with priority "high"`);
  const sentTimes = highFigures.map((h) => h.acceptedToSentMs);
  const worst =
    sentTimes.length === 0 || sentTimes.some((t) => t === null) ? null : Math.max(...(sentTimes as number[]));
  const fractions = highFigures.flatMap((h) => (h.orderFraction === null ? [] : [h.orderFraction]));
  const minOrderFraction = fractions.length === 0 ? null : Math.min(...fractions);
  const backlogFractions = highFigures.flatMap((h) =>
    h.orderFraction === null || h.waitingLows < BACKLOG_FOR_ORDER ? [] : [h.orderFraction],
  );
  const minOrderFractionWithBacklog = backlogFractions.length === 0 ? null : Math.min(...backlogFractions);
  const maxLowsAhead = highFigures.length === 0 ? null : Math.max(...highFigures.map((h) => h.lowsAhead));
  const lowSent = lowTimes.flatMap((l) => (l.sentAt === null ? [] : [l.sentAt]));
  const firstLowAt = Math.min(...lowTimes.map((l) => l.createdAt));
  const drainSec = lowSent.length === 0 ? null : (Math.max(...lowSent) - firstLowAt) / 1000;

  const carrierRate = observedCarrierRates(stack);
  for (const c of carrierRate) {
    if (c.exceeded) {
      failures.push(
        `carrier ${c.carrier}: ${c.maxPerSecond} submissions in 1 s, above its tps ${c.configuredTps}`,
      );
    }
  }
  const cpu = stackCpuBetween(cpuBefore, cpuAfter);
  const perMessage = (s: number): number => (s * 1000) / Math.max(1, expected);
  const figures = await statusAndCarrierCounts(stack.db, account.id);
  const requestSec = Math.max(0.001, (low.finishedAt - low.startedAt) / 1000);
  return {
    db: stack.dbKind,
    topology: { workers: stack.pids.workers.length, apis: stack.pids.apis.length },
    carrierTps: stack.carrierTps,
    low: {
      requested: args.low,
      accepted: low.ids.length,
      errors: low.errors.length,
      errorSamples: low.errors.slice(0, 5).map((e) => `${e.status ?? 'no answer'}: ${e.detail}`),
      acceptLatencyMs: summarize(low.latenciesMs),
      acceptsPerSecond: low.ids.length / requestSec,
      drainSec,
      sentPerSecond: drainSec === null || drainSec <= 0 ? null : lowSent.length / drainSec,
      notSent: lowTimes.length - lowSent.length,
    },
    highs: highFigures,
    highErrors,
    worstHighAcceptedToSentMs: worst,
    minOrderFraction,
    minOrderFractionWithBacklog,
    maxLowsAhead,
    targetsMet:
      worst !== null &&
      worst <= PRIORITY_TARGETS.worstHighAcceptedToSentMs &&
      minOrderFractionWithBacklog !== null &&
      minOrderFractionWithBacklog >= PRIORITY_TARGETS.minOrderFraction,
    terminal: { count: terminal.terminal, expected, reason: terminal.reason },
    statuses: figures.statuses,
    carriers: figures.carriers,
    carrierRate,
    memory: peaks,
    memorySummary: summedPeaks(peaks),
    cpu: {
      wallSec: cpu.wallSec,
      seconds: cpu.seconds,
      msPerMessage: Object.fromEntries([
        ...Object.entries(cpu.seconds).map(([k, s]) => [k, perMessage(s)]),
        ['total', perMessage(cpu.total)],
      ]),
      perProcessMsPerMessage: cpu.perProcess
        ? Object.fromEntries(Object.entries(cpu.perProcess).map(([k, s]) => [k, perMessage(s)]))
        : null,
      othersCores: Math.max(0, machineBusy - cpu.total) / Math.max(0.001, cpu.wallSec),
    },
    failures,
  };
}

/** Messages of the account still waiting for the carrier, the given ids left out. */
async function countWaitingExcept(
  db: Kysely<Database>,
  accountId: string,
  except: readonly string[],
): Promise<number> {
  let q = db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', 'in', [...WAITING_STATUSES]);
  if (except.length > 0) q = q.where('id', 'not in', [...except]);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Per message of the account: accepted (`created_at`) and first sent event, epoch ms. */
async function readMessageTimes(
  db: Kysely<Database>,
  accountId: string,
): Promise<Map<string, { createdAt: number; sentAt: number | null }>> {
  const result = await sql<{ id: string; created_at: number; sent_at: number | null }>`
    select m.id,
           (extract(epoch from m.created_at) * 1000)::float8 as created_at,
           (extract(epoch from min(e.at)) * 1000)::float8 as sent_at
    from messages m
    left join message_events e on e.message_id = m.id and e.status in (${sql.join([...SENT_EVENTS])})
    where m.account_id = ${accountId}
    group by m.id, m.created_at`.execute(db);
  return new Map(result.rows.map((r) => [r.id, { createdAt: r.created_at, sentAt: r.sent_at }]));
}

async function statusAndCarrierCounts(
  db: Kysely<Database>,
  accountId: string,
): Promise<{ statuses: Record<string, number>; carriers: Record<string, number> }> {
  const rows = await db
    .selectFrom('messages')
    .select(['status', 'carrier_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('account_id', '=', accountId)
    .groupBy(['status', 'carrier_id'])
    .execute();
  const statuses: Record<string, number> = {};
  const carriers: Record<string, number> = {};
  for (const r of rows) {
    statuses[r.status] = (statuses[r.status] ?? 0) + Number(r.n);
    const c = r.carrier_id ?? 'none';
    carriers[c] = (carriers[c] ?? 0) + Number(r.n);
  }
  return { statuses, carriers };
}

const messageViewSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  priority: z.string().optional(),
  events: z.array(z.object({ status: z.string(), at: z.string() })).optional(),
});
type MessageView = z.infer<typeof messageViewSchema>;

/** `GET /v1/messages/:id` (with its events); null when it did not answer 200. */
async function getMessage(apiUrl: string, apiKey: string, id: string): Promise<MessageView | null> {
  const res = await fetch(new URL(`/v1/messages/${encodeURIComponent(id)}`, apiUrl), {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  if (!res.ok) {
    await res.arrayBuffer();
    return null;
  }
  const parsed = messageViewSchema.safeParse(await res.json());
  return parsed.success ? parsed.data : null;
}

/** The first `sent` event, else the first `delivered` / `undelivered` (a receipt that beat it). */
function firstSent(events: readonly { status: string; at: string }[]): { status: string; at: number } | null {
  for (const status of SENT_EVENTS) {
    const times = events.filter((e) => e.status === status).map((e) => Date.parse(e.at));
    if (times.length > 0) return { status, at: Math.min(...times) };
  }
  return null;
}

const f = (n: number | null, digits = 1): string => (n === null ? '—' : round(n, digits).toFixed(digits));

function summaryLine(r: PriorityRun): string {
  return `worst high accepted → sent ${f(r.worstHighAcceptedToSentMs, 0)} ms (target ≤ ${PRIORITY_TARGETS.worstHighAcceptedToSentMs}), min order fraction ${f(r.minOrderFractionWithBacklog, 3)} with ≥ ${BACKLOG_FOR_ORDER} waiting (target ≥ ${PRIORITY_TARGETS.minOrderFraction}; ${f(r.minOrderFraction, 3)} over all), ${r.highs.length} high, ${r.low.accepted} low`;
}

function runRows(r: PriorityRun): Array<[string, string]> {
  return [
    ['processes', `${r.topology.workers} worker · ${r.topology.apis} API · carrier tps ${r.carrierTps}`],
    [
      'worst high accepted → sent',
      `${f(r.worstHighAcceptedToSentMs, 0)} ms (target ≤ ${PRIORITY_TARGETS.worstHighAcceptedToSentMs})`,
    ],
    [
      'min order fraction',
      `${f(r.minOrderFractionWithBacklog, 3)} with ≥ ${BACKLOG_FOR_ORDER} lows waiting (target ≥ ${PRIORITY_TARGETS.minOrderFraction}); ${f(r.minOrderFraction, 3)} over all`,
    ],
    [
      'most lows sent ahead of a high',
      `${r.maxLowsAhead ?? '—'} (waiting when it was accepted, sent before it)`,
    ],
    ['targets', r.targetsMet ? 'met' : 'missed'],
    [
      'low flood',
      `${r.low.accepted} of ${r.low.requested} accepted at ${f(r.low.acceptsPerSecond)} req/s (p50 ${f(r.low.acceptLatencyMs.p50, 0)} · p99 ${f(r.low.acceptLatencyMs.p99, 0)} ms); drained in ${f(r.low.drainSec, 1)} s (${f(r.low.sentPerSecond)} sent/s)`,
    ],
    ['terminal', `${r.terminal.count} of ${r.terminal.expected} (${r.terminal.reason})`],
    [
      'statuses · carriers',
      `${Object.entries(r.statuses)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')} · ${Object.entries(r.carriers)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
    ],
    [
      'carrier rate, max in 1 s / tps',
      r.carrierRate
        .map((c) => `${c.carrier} ${c.maxPerSecond}/${c.configuredTps}${c.exceeded ? ' EXCEEDED' : ''}`)
        .join(' · '),
    ],
    ...cpuPerMessageRows(r.cpu, ` (others used ${f(r.cpu.othersCores, 2)} cores meanwhile)`),
    [
      'peak RSS',
      `${Object.entries(r.memory)
        .map(([k, m]) => `${k} ${f(m.peakRssMb, 0)} MiB`)
        .join(' · ')} (workers summed ${f(r.memorySummary.workerPeakRssMb, 0)} MiB)`,
    ],
    ...r.failures.map((x): [string, string] => ['FAILED', x]),
  ];
}

function highTable(r: PriorityRun): string {
  return [
    '| # | accepted at | accept ms | sent event | accepted → sent ms | lows waiting | overtaken | lows ahead | fraction | priority |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.highs.map(
      (h, i) =>
        `| ${i + 1} | ${h.acceptedAt.slice(11, 23)} | ${f(h.acceptLatencyMs, 0)} | ${h.sentEvent ?? '—'} | ${f(h.acceptedToSentMs, 0)} | ${h.waitingLows} | ${h.overtaken} | ${h.lowsAhead} | ${f(h.orderFraction, 3)} | ${h.priorityEcho ?? '—'} |`,
    ),
  ].join('\n');
}

/** Terminal table: a block per database. */
export function formatPriorityTable(report: PriorityReport): string {
  return report.runs
    .map((r) => {
      const rows = runRows(r);
      const width = Math.max(...rows.map(([k]) => k.length));
      return `  [${r.db}]\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}`;
    })
    .join('\n\n');
}

/** `bench/results/latest-priority.md`. */
export function priorityMarkdown(report: PriorityReport, jsonFile: string): string {
  const s = report.settings;
  const flags = [
    '--priority',
    report.runs.length === 1 ? `--db ${report.runs[0]?.db}` : '',
    s.carrierTps !== 50 ? `--carrier-tps ${s.carrierTps}` : '',
    s.workers > 1 ? `--workers ${s.workers}` : '',
    s.apis > 1 ? `--apis ${s.apis}` : '',
    s.low !== 1500 ? `--low ${s.low}` : '',
    s.highEveryMs !== 2000 ? `--high-every ${s.highEveryMs}` : '',
    s.concurrency !== 64 ? `--concurrency ${s.concurrency}` : '',
  ]
    .filter((x) => x !== '')
    .join(' ');
  const summary = [
    `| db | worst high accepted → sent ms | min order fraction (≥ ${BACKLOG_FOR_ORDER} waiting) | min order fraction (all) | most lows ahead | high msgs | low drained in s | targets |`,
    '|---|---|---|---|---|---|---|---|',
    ...report.runs.map(
      (r) =>
        `| ${r.db} | ${f(r.worstHighAcceptedToSentMs, 0)} | ${f(r.minOrderFractionWithBacklog, 3)} | ${f(r.minOrderFraction, 3)} | ${r.maxLowsAhead ?? '—'} | ${r.highs.length} | ${f(r.low.drainSec, 1)} | ${r.targetsMet ? 'met' : 'missed'} |`,
    ),
  ].join('\n');
  const sections = report.runs
    .map(
      (r) => `## ${r.db}

| figure | value |
|---|---|
${runRows(r)
  .map(([k, v]) => `| ${k} | ${v.replaceAll('|', '\\|')} |`)
  .join('\n')}

${highTable(r)}
`,
    )
    .join('\n');
  return `# Priority scenario — ${report.startedAt}${report.label ? ` — ${report.label}` : ''}

\`npm run bench -- ${flags}\`
(git ${report.git ? `${report.git.commit}${report.git.dirty ? ' + uncommitted changes' : ''}` : 'unknown'}; raw figures in \`${jsonFile}\`)

One account floods ${s.low} \`low\` messages (${s.concurrency} requests in flight); from 2 s after the first was
accepted the same account sends a \`high\` message every ${s.highEveryMs} ms until no low one is waiting
(at least ${s.minHigh}). All go to US numbers (one carrier queue), every carrier at ${s.carrierTps} tps.
"accepted → sent": the high message's \`createdAt\` to its first \`sent\` event (\`delivered\` when the
receipt beat the submit answer), from \`GET /v1/messages/:id\`. "Order fraction": of the low messages
accepted before the high one and not yet sent at that moment, the share sent after it. Targets:
worst ≤ ${report.targets.worstHighAcceptedToSentMs} ms, min fraction ≥ ${report.targets.minOrderFraction} over the high
messages with ≥ ${BACKLOG_FOR_ORDER} low ones waiting (fewer: the 10–20 a worker holds already weigh too much).

${summary}

${sections}`;
}
