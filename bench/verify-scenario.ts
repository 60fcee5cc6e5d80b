/**
 * `npm run bench -- --verify`: verifications start at a steady rate, then checks arrive at a
 * steady rate, open loop (each on its schedule, whatever the answers before it): for each
 * verification some wrong codes, then the right one, so every check is a real Update decided by
 * its workflow. Reports start and check latency (p50 / p99) and the check rate reached; target:
 * p99 check < 100 ms at 50 checks/s. Writes bench/results/verify-<stamp>.json and latest-verify.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { deriveCode } from '../services/verification-codes.ts';
import type { SendBenchArgs } from './bench-args.ts';
import { type BenchStack, startBenchStack, stopOnInterrupt } from './bench-stack.ts';
import { waitForTerminal } from './db-figures.ts';
import { type LatencySummary, round, summarize } from './stats.ts';

/** Checks per verification: this many minus one wrong codes, then the right one. */
const CHECKS_PER_VERIFICATION = 4;
/** The check latency target at the target rate, ms. */
const TARGET_P99_CHECK_MS = 100;
const TARGET_CHECK_RATE = 50;

export interface VerifyContext {
  readonly log: (msg: string) => void;
  readonly resultsDir: string;
  readonly git: { readonly commit: string; readonly dirty: boolean } | null;
}

interface VerifyReport {
  readonly kind: 'verify';
  readonly startedAt: string;
  readonly label: string;
  readonly git: VerifyContext['git'];
  readonly environment: { readonly node: string; readonly cpus: number; readonly loadAvgAtStart: number };
  readonly db: 'postgres' | 'pglite';
  readonly verifications: number;
  readonly startRate: number;
  readonly checkRate: number;
  readonly start: LatencySummary;
  readonly check: LatencySummary;
  /** Checks answered per second over the check phase. */
  readonly checksPerSecond: number;
  readonly approved: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly targetMet: boolean;
}

/** A US number of its own prefix (the guard's 20-per-prefix limit never binds): +1 415 2EE K000. */
function numberFor(i: number): string {
  const exchange = 200 + Math.floor(i / 10);
  return `+1415${exchange}${i % 10}000`;
}

export async function runVerifyScenario(args: SendBenchArgs, ctx: VerifyContext): Promise<number> {
  const startedAt = new Date().toISOString();
  const loadAvgAtStart = loadavg()[0] ?? 0;
  ctx.log(`verify scenario on ${args.db}: starting the stack`);
  const stack = await startBenchStack({
    db: args.db,
    credit: String(100 + args.verifications),
    log: ctx.log,
    dynamicConfig: args.dynamicConfig,
    carrierTps: args.carrierTps,
    workers: args.workers,
    apis: args.apis,
  });
  const removeInterruptHandlers = stopOnInterrupt(stack, ctx.log);
  try {
    const report = await measure(args, stack, ctx, startedAt, loadAvgAtStart);
    const stamp = startedAt.replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    await mkdir(ctx.resultsDir, { recursive: true });
    const jsonFile = join(ctx.resultsDir, `verify-${stamp}.json`);
    await writeFile(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(ctx.resultsDir, 'latest-verify.md'), markdown(report, jsonFile));
    console.log(markdown(report, jsonFile));
    return Object.keys(report.errors).length === 0 ? 0 : 1;
  } finally {
    removeInterruptHandlers();
    ctx.log('tearing down');
    await stack.stop();
  }
}

async function measure(
  args: SendBenchArgs,
  stack: BenchStack,
  ctx: VerifyContext,
  startedAt: string,
  loadAvgAtStart: number,
): Promise<VerifyReport> {
  const headers = { authorization: `Bearer ${stack.account.apiKey}`, 'content-type': 'application/json' };
  const errors: Record<string, number> = {};
  const fail = (what: string): void => {
    errors[what] = (errors[what] ?? 0) + 1;
  };
  const timed = async (
    url: string,
    body: unknown,
  ): Promise<{ ms: number; status: number; json: unknown }> => {
    const t0 = performance.now();
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    const json: unknown = await res.json();
    return { ms: performance.now() - t0, status: res.status, json };
  };
  /** Runs `n` calls, the i-th at t0 + i / rate, without waiting for earlier answers. */
  const openLoop = async <T>(n: number, rate: number, call: (i: number) => Promise<T>): Promise<T[]> => {
    const t0 = performance.now();
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const due = t0 + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        return call(i);
      }),
    );
  };

  const api = stack.apiUrls;
  ctx.log(`starting ${args.verifications} verifications at ${args.startRate}/s`);
  const started = await openLoop(args.verifications, args.startRate, async (i) => {
    const r = await timed(`${api[i % api.length]}/v1/verifications`, { to: numberFor(i) });
    if (r.status !== 201) fail(`start ${r.status}`);
    return { ...r, id: (r.json as { id?: string }).id };
  });
  const ids = started.flatMap((s) => (s.id ? [s.id] : []));
  // Checks are measured on their own: once every code has been delivered (as a user types it).
  const delivered = await waitForTerminal(stack.db, stack.account.id, {
    expected: ids.length,
    timeoutMs: 120_000,
    stallMs: 30_000,
  });
  if (delivered.reason !== 'done') fail(`messages ${delivered.reason}`);
  const checks = ids.flatMap((id) =>
    Array.from({ length: CHECKS_PER_VERIFICATION }, (_, k) => {
      const right = deriveCode(stack.verifySecret, id, 6);
      const wrong = right === '000000' ? '000001' : '000000';
      return { id, code: k === CHECKS_PER_VERIFICATION - 1 ? right : wrong };
    }),
  );
  // Interleave verifications, so consecutive checks hit different workflows as real traffic does.
  const order = checks.map(
    (_, i) => checks[(i % ids.length) * CHECKS_PER_VERIFICATION + Math.floor(i / ids.length)],
  );
  ctx.log(`${order.length} checks at ${args.checkRate}/s`);
  const t0 = performance.now();
  const answers = await openLoop(order.length, args.checkRate, async (i) => {
    const c = order[i];
    if (!c) return { ms: 0, status: 0, json: null };
    const r = await timed(`${api[i % api.length]}/v1/verifications/${c.id}/check`, { code: c.code });
    if (r.status !== 200) fail(`check ${r.status}`);
    return r;
  });
  const seconds = (performance.now() - t0) / 1000;
  const approved = answers.filter(
    (a) => (a.json as { status?: string } | null)?.status === 'approved',
  ).length;
  const check = summarize(answers.map((a) => a.ms));
  return {
    kind: 'verify',
    startedAt,
    label: args.label,
    git: ctx.git,
    environment: { node: process.version, cpus: cpus().length, loadAvgAtStart },
    db: args.db,
    verifications: args.verifications,
    startRate: args.startRate,
    checkRate: args.checkRate,
    start: summarize(started.map((s) => s.ms)),
    check,
    checksPerSecond: round(answers.length / seconds, 1),
    approved,
    errors,
    targetMet: args.checkRate >= TARGET_CHECK_RATE && check.p99 < TARGET_P99_CHECK_MS,
  };
}

function markdown(r: VerifyReport, jsonFile: string): string {
  const ms = (s: LatencySummary) =>
    `p50 ${round(s.p50, 1)} · p95 ${round(s.p95, 1)} · p99 ${round(s.p99, 1)} · max ${round(s.max, 1)}`;
  return `# Verify benchmark — ${r.startedAt}

\`npm run bench -- --verify --db ${r.db} --verifications ${r.verifications} --start-rate ${r.startRate} --check-rate ${r.checkRate}\`
(git ${r.git ? `${r.git.commit}${r.git.dirty ? ' + uncommitted changes' : ''}` : 'unknown'}; raw figures in \`${jsonFile}\`)

| figure | value |
|---|---|
| verifications started | ${r.start.count} at ${r.startRate}/s |
| start latency, ms | ${ms(r.start)} |
| checks | ${r.check.count} at ${r.checkRate}/s asked, ${r.checksPerSecond}/s answered (${CHECKS_PER_VERIFICATION - 1} wrong, then the right code, per verification) |
| check latency, ms | ${ms(r.check)} |
| approved | ${r.approved} |
| errors | ${Object.keys(r.errors).length === 0 ? 'none' : JSON.stringify(r.errors)} |
| load average at start | ${round(r.environment.loadAvgAtStart, 2)} |
| target (p99 check < ${TARGET_P99_CHECK_MS} ms at ${TARGET_CHECK_RATE} checks/s) | ${r.targetMet ? 'met' : 'missed'} |
`;
}
