/**
 * The whole Herald stack for integration tests, on real parts: a Temporal dev server of its own
 * (so leftover workflows of one file never meet another file's database), a fresh PostgreSQL
 * database, both carrier simulators over sockets, the worker (in-process or as a child process
 * that tests may SIGKILL) and the API.
 */
import type { Client } from '@temporalio/client';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { inject } from 'vitest';
import type { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec.ts';
import { type CodecKeyring, generateKey } from '../../codec/keys.ts';
import type { Database } from '../../db/schema.ts';
import { type MessageStatus, TERMINAL_STATUSES } from '../../domain/status.ts';
import { SIM_CREDENTIALS } from '../../scripts/stack/carriers.ts';
import { type ComposedStack, composeStack } from '../../scripts/stack/compose.ts';
import type { RunningSimulator, SimConfig } from '../../simulators/sim-core.ts';
import type { RunningSmsc, SmscConfigPatch } from '../../simulators/smsc-sim.ts';
import type { RunWorkersOptions } from '../../workers/run-workers.ts';
import { TEST_PG_ADMIN_URL } from './db.ts';

export { XML_AGGREGATOR_FILE } from '../../scripts/stack/carriers.ts';

export const ADMIN_KEY = 'test-admin-key-0123456789';
/** The `smpp-sim` carrier (opt-in, `smsc` option) is the cheapest route for this country only. */
export const SMPP_TEST_COUNTRY = 'FR';
export const SMPP_TEST_PRICE = '0.010000';
/** The `infobip-sim` carrier (opt-in, `infobip` option) is the only route for this country. */
export const INFOBIP_TEST_COUNTRY = 'AT';
export const INFOBIP_TEST_PRICE = '0.060000';
export const INFOBIP_CREDS = SIM_CREDENTIALS.infobip;
/** Carrier HTTP timeouts in tests: a fault simulated as a hang fails in 2 s, not the production 10 s. */
const CARRIER_TIMEOUT_MS = 2_000;

export interface StackOptions {
  /** `postgres` (a fresh database on the local server) or `pglite` (embedded, `npm start`'s default). Default postgres. */
  readonly db?: 'postgres' | 'pglite';
  readonly twilio?: Partial<SimConfig>;
  readonly vonage?: Partial<SimConfig>;
  /** Seed of the HTTP simulators' dice (each its own), for tests that weigh their outcomes. Default: random. */
  readonly seed?: number;
  /** Run the worker as a child process (to SIGKILL it). Default: in-process. */
  readonly workerProcess?: boolean;
  /** Activity interceptors of the in-process worker, given the stack's database. Default none. */
  readonly activityInterceptors?: (db: Kysely<Database>) => ActivityInterceptorsFactory[];
  /**
   * Extra carrier settings of the two HTTP carriers: `tps` (segments per second, default 100) and
   * config keys merged into the adapter config (e.g. `failoverReceiptCodes`). Default none.
   */
  readonly carriers?: {
    readonly twilio?: { readonly tps?: number; readonly config?: Record<string, unknown> };
    readonly vonage?: { readonly tps?: number; readonly config?: Record<string, unknown> };
  };
  /** Routing and breaker settings of the in-process worker (RunWorkersOptions.routing). Default: production defaults, but no exploration. */
  readonly routing?: RunWorkersOptions['routing'];
  /** Override prices: carrier kind → country → price. Default DEMO_PRICES. */
  readonly prices?: { twilio?: Record<string, string>; vonage?: Record<string, string> };
  /**
   * Status callbacks: SSRF allow-list of the API and worker (e.g. `['127.0.0.1']` for receivers in
   * the test) and the first retry delay. Default: no allow-list, production timing (1 s).
   */
  readonly callbacks?: { readonly allowedHosts?: readonly string[]; readonly retryInitialMs?: number };
  /**
   * Start the SMSC simulator with this config and seed carrier `smpp-sim` (kind `smpp`), the
   * cheapest route for {@link SMPP_TEST_COUNTRY} at {@link SMPP_TEST_PRICE}. Default: no SMSC.
   */
  readonly smsc?: SmscConfigPatch;
  /**
   * Start the XML aggregator simulator with this config and seed carrier `xml-aggregator` from
   * {@link XML_AGGREGATOR_FILE} (its prices, its credentials, the simulator's URL). Default: off.
   */
  readonly xmlAggregator?: Partial<SimConfig>;
  /** Start the Infobip simulator and seed `infobip-sim`, priced for {@link INFOBIP_TEST_COUNTRY} only. Default: off. */
  readonly infobip?: Partial<SimConfig>;
  /** The in-process worker's stranded-message reconciler (`false`: none). Default: production settings. */
  readonly strandedMessages?: RunWorkersOptions['strandedMessages'];
}

export interface Stack {
  readonly apiUrl: string;
  readonly db: Kysely<Database>;
  readonly client: Client;
  readonly twilio: RunningSimulator;
  readonly vonage: RunningSimulator;
  /** The SMSC simulator, when `smsc` was given. */
  readonly smsc?: RunningSmsc;
  /** The XML aggregator simulator, when `xmlAggregator` was given. */
  readonly xmlAggregator?: RunningSimulator;
  /** The Infobip simulator, when `infobip` was given. */
  readonly infobip?: RunningSimulator;
  readonly temporal: { readonly address: string };
  /** The secret verification codes are derived under (to read a code as its recipient would). */
  readonly verifySecret: string;
  /** The stack's payload-encryption keys (every client and worker encrypts with them). */
  readonly keyring: CodecKeyring;
  /** A codec over {@link keyring}, to decode raw history in tests. */
  readonly codec: AesGcmPayloadCodec;
  /** Start (or restart) the worker; a no-op while one runs. */
  startWorker(): Promise<void>;
  /**
   * Forgets the live route stats (table and the in-process worker's batch and breaker view), so
   * routing is cheapest-first again: for tests whose cases expect a given carrier after others failed.
   */
  resetRouting(): Promise<void>;
  /** SIGKILL the child worker process (workerProcess only). */
  killWorker(): void;
  /** Shut the in-process worker down (it drains what it runs); {@link startWorker} starts a new one. */
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole stack on real parts, built by the composition root (scripts/stack/compose.ts): a
 * Temporal dev server of its own (so one file's leftover workflows never meet another's database),
 * a fresh database, the simulators over sockets, the API in this process and the worker in this
 * process or as a child process that a test may SIGKILL.
 */
export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const callbackEnv: Record<string, string> = {
    LOG_LEVEL: 'warn',
    // As the in-process worker below: tests see deterministic routes (a child worker's 5 %
    // exploration sent the worker-crash test's message to the other carrier now and then).
    ROUTING_EXPLORATION: '0',
    ...(opts.callbacks?.allowedHosts
      ? { CALLBACK_ALLOWED_HOSTS: opts.callbacks.allowedHosts.join(',') }
      : {}),
    ...(opts.callbacks?.retryInitialMs
      ? { CALLBACK_RETRY_INITIAL_MS: String(opts.callbacks.retryInitialMs) }
      : {}),
  };
  const stack: ComposedStack = await composeStack({
    temporal: { kind: 'dev-server', cliPath: inject('temporalCliPath') },
    database:
      opts.db === 'pglite'
        ? { kind: 'pglite', maxConnections: 200 }
        : { kind: 'postgres', adminUrl: TEST_PG_ADMIN_URL, prefix: 'herald_test' },
    poolSize: 10,
    // Tests run with encryption on, as production does: a fresh key per stack.
    codec: { keyring: { keys: new Map([['test-1', generateKey()]]), currentKeyId: 'test-1' } },
    carriers: {
      twilio: {
        sim: opts.twilio ?? {},
        ...(opts.seed === undefined ? {} : { seed: opts.seed }),
        config: { timeoutMs: CARRIER_TIMEOUT_MS, ...opts.carriers?.twilio?.config },
        ...(opts.carriers?.twilio?.tps ? { tps: opts.carriers.twilio.tps } : {}),
        ...(opts.prices?.twilio ? { prices: opts.prices.twilio } : {}),
      },
      vonage: {
        sim: opts.vonage ?? {},
        ...(opts.seed === undefined ? {} : { seed: opts.seed + 1 }),
        config: { timeoutMs: CARRIER_TIMEOUT_MS, ...opts.carriers?.vonage?.config },
        ...(opts.carriers?.vonage?.tps ? { tps: opts.carriers.vonage.tps } : {}),
        ...(opts.prices?.vonage ? { prices: opts.prices.vonage } : {}),
      },
      ...(opts.smsc
        ? {
            smpp: {
              sim: opts.smsc,
              tps: 500,
              config: {
                idBase: 'hex',
                receiptIdBase: 'decimal',
                submitTimeoutMs: CARRIER_TIMEOUT_MS,
                reconnectInitialMs: 100,
                reconnectMaxMs: 500,
              },
              prices: { [SMPP_TEST_COUNTRY]: SMPP_TEST_PRICE },
            },
          }
        : {}),
      ...(opts.xmlAggregator ? { xmlAggregator: { sim: opts.xmlAggregator } } : {}),
      ...(opts.infobip
        ? {
            infobip: {
              sim: opts.infobip,
              config: { timeoutMs: CARRIER_TIMEOUT_MS },
              prices: { [INFOBIP_TEST_COUNTRY]: INFOBIP_TEST_PRICE },
            },
          }
        : {}),
    },
    adminApiKey: ADMIN_KEY,
    apis: {
      mode: 'in-process',
      options: {
        ...(opts.callbacks?.allowedHosts ? { callbackAllowedHosts: opts.callbacks.allowedHosts } : {}),
        ...(opts.routing ? { routing: opts.routing } : {}),
      },
    },
    workers: opts.workerProcess
      ? { mode: 'process' }
      : {
          mode: 'in-process',
          options: {
            ...(opts.callbacks ? { callbacks: opts.callbacks } : {}),
            // Tests see deterministic routes unless they ask for exploration.
            routing: { explorationShare: 0, ...opts.routing },
            ...(opts.strandedMessages !== undefined ? { strandedMessages: opts.strandedMessages } : {}),
          },
          ...(opts.activityInterceptors ? { activityInterceptors: opts.activityInterceptors } : {}),
        },
    processes: {
      env: callbackEnv,
      output: (name, line, fromStderr) => {
        if (fromStderr) process.stderr.write(`[${name}] ${line}\n`);
      },
    },
  });
  const { twilio, vonage, smpp, xmlAggregator, infobip } = stack.carriers;
  const [api] = stack.apis;
  const [worker] = stack.workers;
  if (!twilio || !vonage || !api || !worker)
    throw new Error('the composed stack lacks a part it was asked for');
  return {
    apiUrl: api.url,
    db: stack.db,
    client: stack.client,
    twilio,
    vonage,
    ...(smpp ? { smsc: smpp } : {}),
    ...(xmlAggregator ? { xmlAggregator } : {}),
    ...(infobip ? { infobip } : {}),
    temporal: stack.temporal,
    keyring: stack.keyring,
    verifySecret: stack.verifySecret,
    codec: stack.codec,
    startWorker: () => worker.start(),
    async resetRouting() {
      const running = worker.running();
      await running?.routeStats.flush();
      await stack.db.deleteFrom('route_stats').execute();
      running?.routeStats.reset();
    },
    killWorker() {
      void worker.kill();
    },
    stopWorker: () => worker.stop(),
    stop: () => stack.stop(),
  };
}

/** A tiny API client for tests: JSON in, `{ status, body }` out. */
export function apiClient(baseUrl: string, key?: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };
}

/** Creates an account through the admin API and funds it. */
export async function createFundedAccount(
  apiUrl: string,
  credit: string,
): Promise<{ id: string; apiKey: string }> {
  const admin = apiClient(apiUrl, ADMIN_KEY);
  const created = await admin('POST', '/v1/accounts', {
    name: `acct-${Math.random().toString(36).slice(2, 8)}`,
  });
  if (created.status !== 201)
    throw new Error(`create account: ${created.status} ${JSON.stringify(created.body)}`);
  const funded = await admin('POST', `/v1/accounts/${created.body.id}/credits`, { amount: credit });
  if (funded.status !== 200) throw new Error(`credit: ${funded.status} ${JSON.stringify(funded.body)}`);
  return { id: created.body.id, apiKey: created.body.apiKey };
}

/** Polls a message until `done(message)` holds or the timeout passes; returns the last message. */
/** A message (as the API shows it) in a final status: the predicate most {@link waitForMessage} calls use. */
export const terminal = (m: { status: string }): boolean => TERMINAL_STATUSES.has(m.status as MessageStatus);

export async function waitForMessage(
  apiUrl: string,
  key: string,
  id: string,
  done: (m: any) => boolean,
  timeoutMs = 30_000,
): Promise<any> {
  const call = apiClient(apiUrl, key);
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await call('GET', `/v1/messages/${id}`);
    last = res.body;
    if (res.status === 200 && done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`message ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
}
