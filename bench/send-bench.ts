/**
 * `npm run bench`: the end-to-end send benchmark. Starts a production-shaped stack (see
 * bench-stack.ts; `--workers` / `--apis` processes), warms it up, sends `--messages` messages
 * with `--concurrency` requests in flight (round robin over the APIs), waits until every one is
 * terminal in the database, and reports accept latency, end-to-end throughput, accept →
 * carrier-submit latency, outcomes, Temporal history size, peak RSS and CPU per process, the
 * carriers' observed rate, then runs as many no-op workflows on the same stack (noop-floor.ts)
 * and reports CPU per message as a multiple of that floor, then as many receipt-shaped ones (the
 * least a message costs as a workflow that awaits its receipt as a signal). Writes
 * bench/results/send-<stamp>.json and latest-send.md. `--priority` runs the priority scenario
 * instead (priority-scenario.ts).
 *
 * Exits 1 only on a real failure (API errors, a message not terminal in time, a crashed child),
 * never because a target was missed. Tuning variables (DATABASE_POOL_SIZE,
 * WORKER_MAX_CONCURRENT_ACTIVITIES, WORKER_MAX_CONCURRENT_WORKFLOW_TASKS) pass through to the
 * worker and the API from the environment.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseBenchArgs, type SendBenchArgs, USAGE } from './bench-args.ts';
import { type BenchStack, startBenchStack, stopOnInterrupt } from './bench-stack.ts';
import { readDbFigures, waitForTerminal } from './db-figures.ts';
import { sampleHistories } from './history.ts';
import { sendMessages } from './load.ts';
import { type FloorShape, runNoopWorkflows } from './noop-floor.ts';
import { runPriorityScenario } from './priority-scenario.ts';
import { readCpuSeconds, readMachineBusySeconds, startRssSampler } from './proc-stats.ts';
import { formatTable, type NoopFloor, type SendBenchReport, TARGETS, writeReports } from './report.ts';
import { observedCarrierRates, rssPids, snapshotStack, stackCpuBetween, summedPeaks } from './stack-procs.ts';
import { summarize } from './stats.ts';
import { scrapeMetrics, temporalCost } from './temporal-metrics.ts';
import { runVerifyScenario } from './verify-scenario.ts';
import { warmUp } from './warm-up.ts';

const RESULTS_DIR = resolve(import.meta.dirname, 'results');
const TUNING_VARS = [
  'DATABASE_POOL_SIZE',
  'WORKER_MAX_CONCURRENT_ACTIVITIES',
  'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
] as const;
/** How long the count of terminal messages may stand still before the run is declared stuck. */
const STALL_MS = 60_000;
/** A group's floor below this (ms per workflow: idle processes) gets no per-group ratio. */
const MIN_FLOOR_MS_FOR_RATIO = 0.5;

const began = Date.now();
const loadAvgAtStart = loadavg()[0] ?? 0;
const log = (msg: string): void => console.log(`[bench ${((Date.now() - began) / 1000).toFixed(1)}s] ${msg}`);

/** Destination of message `i`: US (Twilio is cheaper) and GB (Vonage is) in turn, so both carriers work. */
function destination(i: number): string {
  return i % 2 === 0
    ? `+1202555${String(i % 10_000).padStart(4, '0')}`
    : `+447400${String(i % 1_000_000).padStart(6, '0')}`;
}

function gitState(): SendBenchReport['git'] {
  try {
    const run = (args: string[]): string =>
      execFileSync('git', args, { cwd: resolve(import.meta.dirname, '..'), encoding: 'utf8' }).trim();
    return { commit: run(['rev-parse', '--short', 'HEAD']), dirty: run(['status', '--porcelain']) !== '' };
  } catch {
    return null;
  }
}

async function run(
  args: SendBenchArgs,
  stack: BenchStack,
): Promise<{ report: SendBenchReport; failed: string[] }> {
  const failed: string[] = [];
  const memory = startRssSampler(rssPids(stack));

  await warmUp(stack, { count: args.warmup, concurrency: args.concurrency, to: destination }, log);

  const metricsBefore = await scrapeMetrics(stack.temporalMetricsUrl);
  const cpuBefore = snapshotStack(stack);
  const machineBefore = readMachineBusySeconds() ?? 0;

  log(
    `sending ${args.messages} messages, ${args.concurrency} in flight${stack.apiUrls.length > 1 ? `, round robin over ${stack.apiUrls.length} APIs` : ''}`,
  );
  const load = await sendMessages({
    apiUrl: stack.apiUrls,
    apiKey: stack.account.apiKey,
    count: args.messages,
    concurrency: args.concurrency,
    to: destination,
  });
  log(
    `requests done in ${((load.finishedAt - load.startedAt) / 1000).toFixed(2)} s: ${load.ids.length} accepted, ${load.errors.length} errors`,
  );
  if (load.errors.length > 0) failed.push(`${load.errors.length} API requests failed`);

  const terminal = await waitForTerminal(stack.db, stack.account.id, {
    expected: load.ids.length,
    timeoutMs: 120_000 + 50 * args.messages,
    stallMs: STALL_MS,
    onProgress: (n) => log(`${n} of ${load.ids.length} terminal`),
  });
  const cpuAfter = snapshotStack(stack);
  const machineBusy = (readMachineBusySeconds() ?? 0) - machineBefore;
  const measured = stackCpuBetween(cpuBefore, cpuAfter);
  const cpuWallSec = measured.wallSec;
  const peaks = memory.stop();
  const metricsAfter = await scrapeMetrics(stack.temporalMetricsUrl);
  if (terminal.reason !== 'done') {
    failed.push(`only ${terminal.terminal} of ${load.ids.length} messages terminal (${terminal.reason})`);
  }
  const failure = stack.childFailure();
  if (failure) failed.push(failure);
  log(`terminal: ${terminal.terminal} of ${load.ids.length} (${terminal.reason})`);

  const figures = await readDbFigures(stack.db, stack.account.id);
  const history = await sampleHistories(stack.temporal, load.ids);
  const end = figures.lastTerminalAt ?? terminal.reachedAt ?? Date.now();
  const endToEndSec = Math.max(0.001, (end - load.startedAt) / 1000);
  const requestPhaseSec = Math.max(0.001, (load.finishedAt - load.startedAt) / 1000);
  const acceptLatencyMs = summarize(load.latenciesMs);
  const messagesPerSecond = terminal.reason === 'done' ? load.ids.length / endToEndSec : 0;
  const ours = measured.seconds;
  // Whatever else ran on the machine meanwhile (other test runs skew a benchmark).
  const cpuSeconds = {
    ...ours,
    others: Math.max(0, machineBusy - measured.total),
  };
  const perMessage = (seconds: number): number => (seconds * 1000) / Math.max(1, load.ids.length);
  const msPerMessage: Record<string, number> = Object.fromEntries([
    ...Object.entries(ours).map(([k, s]) => [k, perMessage(s)]),
    ['total', perMessage(measured.total)],
  ]);
  const carrierRate = observedCarrierRates(stack);
  for (const c of carrierRate) {
    if (c.exceeded) {
      failed.push(
        `carrier ${c.carrier}: ${c.maxPerSecond} submissions in 1 s, above its tps ${c.configuredTps} (+1 allowed)`,
      );
    }
  }
  const noopFloor = args.noop > 0 ? await measureNoopFloor(args, stack, msPerMessage, failed, 'noop') : null;
  const receiptFloor =
    args.noop > 0 ? await measureNoopFloor(args, stack, msPerMessage, failed, 'receipt') : null;

  const report: SendBenchReport = {
    kind: 'send',
    startedAt: new Date(began).toISOString(),
    label: args.carrier === 'smpp' ? `SMPP${args.label ? `: ${args.label}` : ''}` : args.label,
    git: gitState(),
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      loadAvgAtStart,
      db: stack.dbKind,
      tuning: {
        ...Object.fromEntries(TUNING_VARS.map((k) => [k, process.env[k] || 'default'])),
        carrierTps: String(args.carrierTps),
        ...Object.fromEntries(Object.entries(args.dynamicConfig).map(([k, v]) => [k, JSON.stringify(v)])),
      },
    },
    messages: args.messages,
    concurrency: args.concurrency,
    warmup: args.warmup,
    topology: { workers: stack.pids.workers.length, apis: stack.pids.apis.length },
    accepted: load.ids.length,
    apiErrors: {
      count: load.errors.length,
      samples: load.errors.slice(0, 5).map((e) => `${e.status ?? 'no answer'}: ${e.detail}`),
    },
    acceptLatencyMs,
    acceptToSubmitMs: figures.acceptToSubmitMs,
    acceptToTerminalMs: figures.acceptToTerminalMs,
    stagesMs: figures.stagesMs,
    throughput: {
      messagesPerSecond,
      endToEndSec,
      requestPhaseSec,
      acceptsPerSecond: load.ids.length / requestPhaseSec,
    },
    outcomes: {
      statuses: figures.statuses,
      carriers: figures.carriers,
      attemptsPerMessage: figures.attemptsPerMessage,
    },
    terminal: { count: terminal.terminal, reason: terminal.reason },
    history,
    temporalCost:
      metricsBefore && metricsAfter ? temporalCost(metricsBefore, metricsAfter, load.ids.length) : null,
    memory: peaks,
    memorySummary: summedPeaks(peaks),
    cpu: {
      wallSec: cpuWallSec,
      seconds: cpuSeconds,
      cores: Object.fromEntries(Object.entries(cpuSeconds).map(([k, s]) => [k, s / cpuWallSec])),
      msPerMessage,
      perProcessMsPerMessage: measured.perProcess
        ? Object.fromEntries(Object.entries(measured.perProcess).map(([k, s]) => [k, perMessage(s)]))
        : null,
    },
    noopFloor,
    receiptFloor,
    carrierRate,
    targetsMet: messagesPerSecond >= TARGETS.messagesPerSecond && acceptLatencyMs.p99 < TARGETS.p99AcceptMs,
  };
  return { report, failed };
}

/**
 * Runs `args.noop` floor workflows of `shape` on the stack (same concurrency as the measured phase)
 * and measures CPU over the same processes: the floors Herald's per-message cost is compared with.
 */
async function measureNoopFloor(
  args: SendBenchArgs,
  stack: BenchStack,
  heraldMsPerMessage: Readonly<Record<string, number>>,
  failed: string[],
  shape: FloorShape,
): Promise<NoopFloor> {
  const name = `${shape === 'noop' ? 'no-op' : 'receipt-shaped'} floor`;
  log(`${name}: ${args.noop} runs, ${args.concurrency} starts in flight`);
  const before = snapshotStack(stack);
  const run = await runNoopWorkflows(stack.temporal, {
    count: args.noop,
    concurrency: args.concurrency,
    shape,
  });
  const after = snapshotStack(stack);
  const cpu = stackCpuBetween(before, after);
  if (run.errors.length > 0) failed.push(`${name}: ${run.errors.length} workflows failed (${run.errors[0]})`);
  const per = (seconds: number): number => (seconds * 1000) / Math.max(1, run.completed);
  const msPerWorkflow: Record<string, number> = Object.fromEntries([
    ...Object.entries(cpu.seconds).map(([k, s]) => [k, per(s)]),
    ['total', per(cpu.total)],
  ]);
  const history = await sampleHistories(stack.temporal, run.ids, 5);
  const wallSec = Math.max(0.001, (run.finishedAt - run.startedAt) / 1000);
  const floorTotal = msPerWorkflow.total ?? 0;
  const ratioByProcess = Object.fromEntries(
    Object.entries(msPerWorkflow)
      .filter(
        ([k, ms]) => k !== 'total' && ms >= MIN_FLOOR_MS_FOR_RATIO && heraldMsPerMessage[k] !== undefined,
      )
      .map(([k, ms]) => [k, (heraldMsPerMessage[k] ?? 0) / ms]),
  );
  const floor: NoopFloor = {
    workflows: args.noop,
    completed: run.completed,
    errors: { count: run.errors.length, samples: run.errors.slice(0, 5) },
    wallSec,
    workflowsPerSecond: run.completed / wallSec,
    cpuSeconds: cpu.seconds,
    msPerWorkflow,
    historyEvents: history.avgEvents,
    ratio: floorTotal > 0 ? (heraldMsPerMessage.total ?? 0) / floorTotal : 0,
    ratioByProcess,
  };
  log(
    `${name}: ${run.completed} done in ${wallSec.toFixed(2)} s, ${floorTotal.toFixed(2)} CPU ms each; Herald ${floor.ratio.toFixed(2)} × the floor`,
  );
  return floor;
}

async function main(): Promise<number> {
  let args: SendBenchArgs;
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  // Fail fast where /proc readings are impossible rather than print zeros as figures.
  if (readCpuSeconds(process.pid) === undefined) log('note: no /proc here; CPU and RSS figures will be 0');
  if (args.priority) return runPriorityScenario(args, { log, resultsDir: RESULTS_DIR, git: gitState() });
  if (args.verify) return runVerifyScenario(args, { log, resultsDir: RESULTS_DIR, git: gitState() });
  log(`starting the stack (db ${args.db})`);
  const profileDir = args.profile ? await mkdtemp(join(tmpdir(), 'herald-bench-profiles-')) : undefined;
  const stack = await startBenchStack({
    db: args.db,
    credit: String(100 + args.messages + args.warmup),
    log,
    dynamicConfig: args.dynamicConfig,
    carrierTps: args.carrierTps,
    ...(profileDir ? { profileDir } : {}),
    smsc: args.carrier === 'smpp',
    workers: args.workers,
    apis: args.apis,
  });
  stopOnInterrupt(stack, log);
  try {
    const { report, failed } = await run(args, stack).catch((err: unknown) => {
      const output = stack.childOutput();
      console.error(
        `--- worker output (tail) ---\n${output.worker}\n--- api output (tail) ---\n${output.api}`,
      );
      throw err;
    });
    console.log(`\nSend benchmark${args.label ? ` — ${args.label}` : ''}\n${formatTable(report)}\n`);
    const files = await writeReports(report, RESULTS_DIR, args.carrier === 'smpp' ? 'send-smpp' : 'send');
    log(`wrote ${files.json} and ${files.markdown}`);
    if (failed.length > 0) {
      const output = stack.childOutput();
      console.error(
        `--- worker output (tail) ---\n${output.worker}\n--- api output (tail) ---\n${output.api}`,
      );
    }
    for (const problem of failed) console.error(`[bench] FAILED: ${problem}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    log('tearing down');
    await stack.stop();
    // Written by the children as they exit (SIGTERM lets them); open them in Chrome DevTools.
    if (profileDir) log(`CPU profiles of the worker and the API: ${profileDir}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
