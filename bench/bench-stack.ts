import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { addCredit, createAccount } from '../db/accounts.ts';
import type { Database } from '../db/schema.ts';
import { parseMoney } from '../domain/money.ts';
import { DEMO_PRICES } from '../scripts/seed.ts';
import { composeStack } from '../scripts/stack/compose.ts';
import type { RunningSimulator } from '../simulators/sim-core.ts';
import { findPostgresBackendPids, findTemporalDevServerPid } from './proc-stats.ts';

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
  /** The VERIFY_SECRET of every API and worker (the verify scenario types the right codes with it). */
  readonly verifySecret: string;
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

/** Starts the stack (scripts/stack/compose.ts); on a failure half-way, what was started is torn down. */
export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const carrierTps = opts.carrierTps ?? DEFAULT_CARRIER_TPS;
  const nodeArgs = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
  const stack = await composeStack({
    log: opts.log,
    temporal: {
      kind: 'dev-server',
      // Persistence and RPC counts per message come from its metrics.
      metrics: true,
      ...(opts.dynamicConfig ? { dynamicConfig: opts.dynamicConfig } : {}),
    },
    database:
      opts.db === 'pglite'
        ? { kind: 'pglite', maxConnections: 500 }
        : {
            kind: 'postgres',
            prefix: 'herald_bench',
            ...(process.env.DATABASE_URL ? { adminUrl: process.env.DATABASE_URL } : {}),
          },
    carriers: {
      twilio: { sim: SIM_CONFIG, tps: carrierTps },
      vonage: { sim: SIM_CONFIG, tps: carrierTps },
      ...(opts.smsc
        ? {
            smpp: {
              sim: SIM_CONFIG,
              tps: carrierTps,
              config: { window: 64, receiptIdBase: 'decimal' },
              // Below every HTTP price: all traffic goes over the bind.
              prices: Object.fromEntries(Object.keys(DEMO_PRICES.twilio).map((c) => [c, '0.005000'])),
            },
          }
        : {}),
    },
    apis: { mode: 'process', count: opts.apis ?? 1, nodeArgs },
    workers: { mode: 'process', count: opts.workers ?? 1, nodeArgs, prebuiltBundle: true },
    processes: { env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } },
  });
  try {
    const fund = async (name: string): Promise<BenchAccount> => {
      const { account, apiKey } = await createAccount(stack.db, { name });
      await addCredit(stack.db, {
        accountId: account.id,
        amountMicros: parseMoney(opts.credit),
        reference: 'bench',
      });
      return { id: account.id, apiKey };
    };
    const warmupAccount = await fund('bench-warmup');
    const account = await fund('bench');
    const pidList = (parts: ReadonlyArray<{ pid(): number | undefined }>): number[] =>
      parts.map((p) => p.pid() ?? 0);
    const tails = (parts: ReadonlyArray<{ tail(): string }>, kind: string): string =>
      parts.map((p, i) => (parts.length === 1 ? p.tail() : `[${kind}-${i + 1}]\n${p.tail()}`)).join('\n');
    const temporalPort = Number(stack.temporal.address.split(':').at(-1));
    const { twilio, vonage } = stack.carriers;
    return {
      apiUrl: stack.apis[0]?.url ?? '',
      apiUrls: stack.apis.map((a) => a.url),
      carrierTps,
      simulators: {
        ...(twilio ? { 'twilio-sim': twilio } : {}),
        ...(vonage ? { 'vonage-sim': vonage } : {}),
      },
      warmupAccount,
      account,
      verifySecret: stack.verifySecret,
      db: stack.db,
      temporal: stack.client,
      temporalMetricsUrl: stack.temporal.metricsUrl ?? '',
      dbKind: opts.db,
      pids: {
        get worker() {
          return pidList(stack.workers)[0] ?? 0;
        },
        get api() {
          return pidList(stack.apis)[0] ?? 0;
        },
        get workers() {
          return pidList(stack.workers);
        },
        get apis() {
          return pidList(stack.apis);
        },
        temporal: findTemporalDevServerPid(temporalPort),
        postgres: () => {
          const name = stack.database.name;
          return name === undefined ? [] : findPostgresBackendPids(name);
        },
      },
      childFailure: () => stack.childFailure(),
      childOutput: () => ({ worker: tails(stack.workers, 'worker'), api: tails(stack.apis, 'api') }),
      stop: () => stack.stop(),
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
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
