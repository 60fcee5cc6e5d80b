import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { heraldDataConverter } from '../codec/data-converter.ts';
import { type CodecKeyring, formatCodecKeys, generateKey } from '../codec/keys.ts';
import { WORKER_NODE_FLAGS } from '../config/worker-defaults.ts';
import { addCredit, createAccount } from '../db/accounts.ts';
import { createDb, destroyDb } from '../db/connection.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { Database } from '../db/schema.ts';
import { parseMoney } from '../domain/money.ts';
import { getFreePort } from '../scripts/ports.ts';
import { DEMO_PRICES, seedCarriers } from '../scripts/seed.ts';
import { resolveTemporalCli } from '../scripts/temporal-cli.ts';
import { startTemporalDevServer } from '../scripts/temporal-dev-server.ts';
import type { RunningSimulator } from '../simulators/sim-core.ts';
import { startSmscSimulator } from '../simulators/smsc-sim.ts';
import { startTwilioSimulator } from '../simulators/twilio-sim.ts';
import { startVonageSimulator } from '../simulators/vonage-sim.ts';
import { buildWorkflowBundle } from '../workers/run-workers.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions.ts';
import {
  createPostgresDatabase,
  type LaunchedChild,
  launch,
  startPglite,
  stopChild,
  waitForHttp,
  waitForLine,
} from './child-processes.ts';
import { findPostgresBackendPids, findTemporalDevServerPid } from './proc-stats.ts';

const projectRoot = resolve(import.meta.dirname, '..');

const TWILIO_CREDS = { accountSid: 'AC22222222222222222222222222222222', authToken: 'bench-twilio-token' };
const VONAGE_CREDS = { apiKey: 'benchkey', apiSecret: 'bench-vonage-secret' };
const SMSC_CREDS = { systemId: 'bench', password: 'bench-pw' };
/** Far above what the stack can do, so the carriers' rate limit never binds. */
const DEFAULT_CARRIER_TPS = 10_000;
/** Zero carrier latency and receipts posted at once: the benchmark measures Herald, not carriers. */
const SIM_CONFIG = { latencyMs: 0, receiptDelayMs: 0 };

/** Options of {@link startBenchStack}. */
export interface BenchStackOptions {
  readonly db: 'postgres' | 'pglite';
  /** Credit of each account, decimal string. */
  readonly credit: string;
  /** Progress lines. */
  readonly log: (msg: string) => void;
  /** When set, the worker and the API run under `node --cpu-prof` writing into this directory. */
  readonly profileDir?: string;
  /** Merged over the project's dev-server dynamic config. Default none. */
  readonly dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
  /** Every carrier's `tps`. Default 10 000. */
  readonly carrierTps?: number;
  /** Also start the SMSC simulator and make `smpp-sim` the cheapest route everywhere. Default false. */
  readonly smsc?: boolean;
  /** Worker processes. Default 1. */
  readonly workers?: number;
  /** API processes (distinct ports). Default 1. */
  readonly apis?: number;
}

/** A funded account and its API key. */
export interface BenchAccount {
  readonly id: string;
  readonly apiKey: string;
}

/** A running benchmark stack. */
export interface BenchStack {
  /** The first API (`apiUrls[0]`). */
  readonly apiUrl: string;
  /** Every API process's base URL, in launch order. */
  readonly apiUrls: readonly string[];
  /** Every carrier's configured `tps`. */
  readonly carrierTps: number;
  /** The HTTP carrier simulators by carrier id (their submission logs give the observed rate). */
  readonly simulators: Readonly<Record<string, RunningSimulator>>;
  /** Used for the warm-up only, so measured queries see only measured messages. */
  readonly warmupAccount: BenchAccount;
  readonly account: BenchAccount;
  /** A small pool of the benchmark's own on the bench database. */
  readonly db: Kysely<Database>;
  readonly temporal: Client;
  /** The dev server's Prometheus endpoint. */
  readonly temporalMetricsUrl: string;
  readonly dbKind: 'postgres' | 'pglite';
  readonly pids: {
    /** The first worker (`workers[0]`). */
    readonly worker: number;
    /** The first API (`apis[0]`). */
    readonly api: number;
    readonly workers: readonly number[];
    readonly apis: readonly number[];
    readonly temporal: number | undefined;
    /** Backends of the bench database (PostgreSQL only; PGlite runs inside this process). */
    postgres(): number[];
  };
  /** Why a child died, when one exited before {@link BenchStack.stop}. */
  childFailure(): string | undefined;
  /** The last output lines of the worker(s) and the API(s), for a failure report. */
  childOutput(): { worker: string; api: string };
  /** Stops everything (children SIGTERM then SIGKILL), drops the bench database. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the stack; on a failure half-way, whatever was started is torn down before rethrowing. */
export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const runCleanups = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => opts.log(`cleanup failed: ${String(err)}`));
    }
  };
  try {
    return await assemble(opts, cleanups, runCleanups);
  } catch (err) {
    await runCleanups();
    throw err;
  }
}

async function assemble(
  opts: BenchStackOptions,
  cleanups: Array<() => Promise<unknown>>,
  runCleanups: () => Promise<void>,
): Promise<BenchStack> {
  const { log } = opts;
  const carrierTps = opts.carrierTps ?? DEFAULT_CARRIER_TPS;
  const cliPath = await resolveTemporalCli({ projectRoot, log });
  const metricsPort = await getFreePort();
  const server = await startTemporalDevServer({
    cliPath,
    port: 0,
    uiPort: false,
    searchAttributes: SEARCH_ATTRIBUTES,
    ...(opts.dynamicConfig ? { dynamicConfig: opts.dynamicConfig } : {}),
    // Persistence and RPC counts per message come from here.
    extraArgs: ['--metrics-port', String(metricsPort)],
  });
  cleanups.push(() => server.stop());
  const temporalPort = Number(server.address.split(':').at(-1));
  log(`Temporal dev server at ${server.address}`);

  const database = opts.db === 'pglite' ? await startPglite() : await createPostgresDatabase();
  cleanups.push(() => database.drop());
  const db = createDb(database.url, { max: 4 });
  cleanups.push(() => destroyDb(db));
  await migrateToLatest(db);
  log(`database ${database.label}`);

  const twilio = await startTwilioSimulator({ port: 0, credentials: TWILIO_CREDS, config: SIM_CONFIG });
  cleanups.push(() => twilio.close());
  const vonage = await startVonageSimulator({ port: 0, credentials: VONAGE_CREDS, config: SIM_CONFIG });
  cleanups.push(() => vonage.close());
  const smsc = opts.smsc
    ? await startSmscSimulator({
        credentials: SMSC_CREDS,
        config: { latencyMs: 0, receiptDelayMs: 0 },
        control: false,
      })
    : undefined;
  if (smsc) cleanups.push(() => smsc.close());
  await seedCarriers(db, [
    ...(smsc
      ? [
          {
            id: 'smpp-sim',
            kind: 'smpp',
            config: { host: smsc.host, port: smsc.port, ...SMSC_CREDS, window: 64, receiptIdBase: 'decimal' },
            tps: carrierTps,
            // Below every HTTP price: all traffic goes over the bind.
            prices: Object.fromEntries(Object.keys(DEMO_PRICES.twilio).map((c) => [c, '0.005000'])),
          },
        ]
      : []),
    {
      id: 'twilio-sim',
      kind: 'twilio',
      config: { baseUrl: twilio.url, ...TWILIO_CREDS },
      tps: carrierTps,
      prices: DEMO_PRICES.twilio,
    },
    {
      id: 'vonage-sim',
      kind: 'vonage',
      config: { baseUrl: vonage.url, ...VONAGE_CREDS },
      tps: carrierTps,
      prices: DEMO_PRICES.vonage,
    },
  ]);
  const fund = async (name: string): Promise<BenchAccount> => {
    const { account, apiKey } = await createAccount(db, { name });
    await addCredit(db, { accountId: account.id, amountMicros: parseMoney(opts.credit), reference: 'bench' });
    return { id: account.id, apiKey };
  };
  const warmupAccount = await fund('bench-warmup');
  const account = await fund('bench');

  const connection = await Connection.connect({ address: server.address });
  cleanups.push(() => connection.close());
  // Encrypted payloads, as production runs: the benchmark pays the codec's cost too.
  const keyring: CodecKeyring = { keys: new Map([['bench', generateKey()]]), currentKeyId: 'bench' };
  const temporal = new Client({ connection, dataConverter: heraldDataConverter(keyring) });

  // Built once, as the production image does (scripts/bundle-workflows.ts): workers load it instead
  // of running webpack at start, which would put the bundler's memory into their peak RSS.
  const bundleDir = await mkdtemp(join(tmpdir(), 'herald-bench-bundle-'));
  cleanups.push(() => rm(bundleDir, { recursive: true, force: true }));
  const bundlePath = join(bundleDir, 'workflow-bundle.js');
  await writeFile(bundlePath, (await buildWorkflowBundle()).code);

  const workerCount = opts.workers ?? 1;
  const apiCount = opts.apis ?? 1;
  const apiPorts: number[] = [];
  for (let i = 0; i < apiCount; i++) apiPorts.push(await getFreePort());
  const apiUrls = apiPorts.map((p) => `http://127.0.0.1:${p}`);
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_NAMESPACE: 'default',
    ADMIN_API_KEY: `bench_admin_${randomBytes(12).toString('hex')}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    HERALD_CODEC_KEYS: formatCodecKeys(keyring.keys),
    HERALD_CODEC_KEY_ID: keyring.currentKeyId,
    WORKFLOW_BUNDLE_PATH: bundlePath,
  };
  // Every process gets an API's port and URL: API `i` its own, worker `i` API `i mod apis`'s.
  const envFor = (apiIndex: number): NodeJS.ProcessEnv => ({
    ...baseEnv,
    PORT: String(apiPorts[apiIndex % apiCount]),
    PUBLIC_BASE_URL: apiUrls[apiIndex % apiCount],
  });
  let stopping = false;
  let failure: string | undefined;
  const onExit = (name: string) => (code: number | null, signal: NodeJS.Signals | null) => {
    if (!stopping) failure ??= `${name} exited (${signal ?? `code ${code}`})`;
  };
  const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const nameOf = (kind: string, i: number, n: number): string => (n === 1 ? kind : `${kind}-${i + 1}`);
  const workers: LaunchedChild[] = [];
  const apis: LaunchedChild[] = [];
  for (let i = 0; i < workerCount; i++) {
    const name = nameOf('worker', i, workerCount);
    const w = launch(name, 'workers/main.ts', [...WORKER_NODE_FLAGS, ...nodeArgs], envFor(i), onExit(name));
    cleanups.push(() => stopChild(w));
    workers.push(w);
  }
  for (let i = 0; i < apiCount; i++) {
    const name = nameOf('api', i, apiCount);
    const a = launch(name, 'api/main.ts', nodeArgs, envFor(i), onExit(name));
    cleanups.push(() => stopChild(a));
    apis.push(a);
  }
  const tails = (children: readonly LaunchedChild[]): string =>
    children.map((c) => (children.length === 1 ? c.tail() : `[${c.name}]\n${c.tail()}`)).join('\n');
  try {
    await Promise.all([
      ...workers.map((w) => waitForLine(w.child, /worker: polling/, 120_000)),
      ...apis.map((a, i) => waitForHttp(`${apiUrls[i]}/readyz`, a.child)),
    ]);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new Error(
      `${detail}\n--- worker stderr ---\n${tails(workers)}\n--- api stderr ---\n${tails(apis)}`,
    );
  }
  const pidList = (children: readonly LaunchedChild[]): number[] => children.map((c) => c.child.pid ?? 0);
  log(
    `worker${workerCount > 1 ? 's' : ''} (pid ${pidList(workers).join(', ')}) and API${apiCount > 1 ? 's' : ''} (pid ${pidList(apis).join(', ')}) ready at ${apiUrls.join(', ')}`,
  );

  let stopped: Promise<void> | undefined;
  return {
    apiUrl: apiUrls[0] ?? '',
    apiUrls,
    carrierTps,
    simulators: { 'twilio-sim': twilio, 'vonage-sim': vonage },
    warmupAccount,
    account,
    db,
    temporal,
    temporalMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dbKind: opts.db,
    pids: {
      worker: pidList(workers)[0] ?? 0,
      api: pidList(apis)[0] ?? 0,
      workers: pidList(workers),
      apis: pidList(apis),
      temporal: findTemporalDevServerPid(temporalPort),
      postgres: () => (database.name === undefined ? [] : findPostgresBackendPids(database.name)),
    },
    childFailure: () => failure,
    childOutput: () => ({ worker: tails(workers), api: tails(apis) }),
    stop() {
      stopping = true;
      stopped ??= runCleanups();
      return stopped;
    },
  };
}

/**
 * On SIGINT / SIGTERM, tears the stack down and exits 130 (once), so an interrupted run leaves no
 * server or database behind. Returns a function that removes the handlers again.
 */
export function stopOnInterrupt(stack: BenchStack, log: (msg: string) => void): () => void {
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: tearing down');
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
