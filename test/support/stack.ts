/**
 * The whole Herald stack for integration tests, on real parts: a Temporal dev server of its own
 * (so leftover workflows of one file never meet another file's database), a fresh PostgreSQL
 * database, both carrier simulators over sockets, the worker (in-process or as a child process
 * that tests may SIGKILL) and the API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type ActivityInterceptorsFactory, NativeConnection } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { inject } from 'vitest';
import { createJsonLogger } from '../../api/log.ts';
import { startApi } from '../../api/server.ts';
import { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec.ts';
import { heraldDataConverter } from '../../codec/data-converter.ts';
import { type CodecKeyring, formatCodecKeys, generateKey } from '../../codec/keys.ts';
import { WORKER_NODE_FLAGS } from '../../config/worker-defaults.ts';
import type { Database } from '../../db/schema.ts';
import { type MessageStatus, TERMINAL_STATUSES } from '../../domain/status.ts';
import { loadCarrierFile } from '../../scripts/carrier-file.ts';
import { DEMO_PRICES, seedCarriers } from '../../scripts/seed.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/temporal-dev-server.ts';
import { startInfobipSimulator } from '../../simulators/infobip-sim.ts';
import type { RunningSimulator, SimConfig } from '../../simulators/sim-core.ts';
import { type RunningSmsc, type SmscConfigPatch, startSmscSimulator } from '../../simulators/smsc-sim.ts';
import { startTwilioSimulator } from '../../simulators/twilio-sim.ts';
import { startVonageSimulator } from '../../simulators/vonage-sim.ts';
import { startXmlAggSimulator } from '../../simulators/xml-agg-sim.ts';
import { type RunningWorkers, type RunWorkersOptions, runWorkers } from '../../workers/run-workers.ts';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions.ts';
import { createEmbeddedTestDatabase, createTestDatabase } from './db.ts';

export const ADMIN_KEY = 'test-admin-key-0123456789';
const TWILIO_CREDS = { accountSid: 'AC11111111111111111111111111111111', authToken: 'twilio-test-token' };
const VONAGE_CREDS = { apiKey: 'testkey1', apiSecret: 'vonage-test-secret' };
const SMSC_CREDS = { systemId: 'herald', password: 'smpp-pw' };
/** The `smpp-sim` carrier (opt-in, `smsc` option) is the cheapest route for this country only. */
export const SMPP_TEST_COUNTRY = 'FR';
export const SMPP_TEST_PRICE = '0.010000';
const projectRoot = resolve(import.meta.dirname, '../..');
/** The configured XML carrier's definition; its prices make it the cheapest route for GB. */
export const XML_AGGREGATOR_FILE = resolve(projectRoot, 'carriers/xml-aggregator.json');
/** The `infobip-sim` carrier (opt-in, `infobip` option) is the only route for this country. */
export const INFOBIP_TEST_COUNTRY = 'AT';
export const INFOBIP_TEST_PRICE = '0.060000';
export const INFOBIP_CREDS = { apiKey: 'infobip-test-key', webhookSecret: 'infobip-test-webhook-secret' };

export interface StackOptions {
  /** `postgres` (a fresh database on the local server) or `pglite` (embedded, `npm start`'s default). Default postgres. */
  readonly db?: 'postgres' | 'pglite';
  readonly twilio?: Partial<SimConfig>;
  readonly vonage?: Partial<SimConfig>;
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
  readonly temporal: TemporalDevServer;
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

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const temporal = await startTemporalDevServer({
    cliPath: inject('temporalCliPath'),
    port: 0,
    uiPort: false,
    searchAttributes: SEARCH_ATTRIBUTES,
  });
  cleanups.push(() => temporal.stop());
  const database = opts.db === 'pglite' ? await createEmbeddedTestDatabase() : await createTestDatabase();
  cleanups.push(() => database.drop());
  const twilio = await startTwilioSimulator({
    port: 0,
    credentials: TWILIO_CREDS,
    config: opts.twilio ?? {},
  });
  const vonage = await startVonageSimulator({
    port: 0,
    credentials: VONAGE_CREDS,
    config: opts.vonage ?? {},
  });
  cleanups.push(
    () => twilio.close(),
    () => vonage.close(),
  );
  const smsc = opts.smsc
    ? await startSmscSimulator({ credentials: SMSC_CREDS, config: opts.smsc, control: false })
    : undefined;
  if (smsc) cleanups.push(() => smsc.close());
  await seedCarriers(database.db, [
    {
      id: 'twilio-sim',
      kind: 'twilio',
      config: { baseUrl: twilio.url, ...TWILIO_CREDS, timeoutMs: 2_000, ...opts.carriers?.twilio?.config },
      ...(opts.carriers?.twilio?.tps ? { tps: opts.carriers.twilio.tps } : {}),
      prices: opts.prices?.twilio ?? DEMO_PRICES.twilio,
    },
    {
      id: 'vonage-sim',
      kind: 'vonage',
      config: { baseUrl: vonage.url, ...VONAGE_CREDS, timeoutMs: 2_000, ...opts.carriers?.vonage?.config },
      ...(opts.carriers?.vonage?.tps ? { tps: opts.carriers.vonage.tps } : {}),
      prices: opts.prices?.vonage ?? DEMO_PRICES.vonage,
    },
    ...(smsc
      ? [
          {
            id: 'smpp-sim',
            kind: 'smpp',
            tps: 500,
            config: {
              host: smsc.host,
              port: smsc.port,
              ...SMSC_CREDS,
              idBase: 'hex',
              receiptIdBase: 'decimal',
              submitTimeoutMs: 2_000,
              reconnectInitialMs: 100,
              reconnectMaxMs: 500,
            },
            prices: { [SMPP_TEST_COUNTRY]: SMPP_TEST_PRICE },
          },
        ]
      : []),
  ]);

  const { xmlAggregator, infobip } = await startOptInHttpCarriers(database.db, opts, cleanups);

  // Tests run with encryption on, as production does: a fresh key per stack.
  const keyring: CodecKeyring = { keys: new Map([['test-1', generateKey()]]), currentKeyId: 'test-1' };
  const dataConverter = heraldDataConverter(keyring);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, dataConverter });
  const api = await startApi({
    db: database.db,
    temporal: client,
    adminApiKey: ADMIN_KEY,
    currency: 'USD',
    port: 0,
    // Request lines at info would bury the test output; warnings and errors still show.
    log: createJsonLogger('warn'),
    ...(opts.callbacks?.allowedHosts ? { callbackAllowedHosts: opts.callbacks.allowedHosts } : {}),
    ...(opts.routing ? { routing: opts.routing } : {}),
  });
  cleanups.push(() => api.close());
  // The API's URL is where carriers post receipts; workers put it into each callback URL.
  const publicBaseUrl = api.url;

  let inProcess: { workers: RunningWorkers; connection: NativeConnection } | undefined;
  let child: ChildProcess | undefined;
  const startWorker = async (): Promise<void> => {
    if (opts.workerProcess) {
      if (child && child.exitCode === null && child.signalCode === null) return;
      child = spawnWorker({
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: temporal.address,
        PUBLIC_BASE_URL: publicBaseUrl,
        HERALD_CODEC_KEYS: formatCodecKeys(keyring.keys),
        HERALD_CODEC_KEY_ID: keyring.currentKeyId,
        ...(opts.callbacks?.allowedHosts
          ? { CALLBACK_ALLOWED_HOSTS: opts.callbacks.allowedHosts.join(',') }
          : {}),
        ...(opts.callbacks?.retryInitialMs
          ? { CALLBACK_RETRY_INITIAL_MS: String(opts.callbacks.retryInitialMs) }
          : {}),
      });
      await waitForOutput(child, /worker: polling/);
      return;
    }
    if (inProcess) return;
    installWorkerRuntime('warn');
    const nc = await NativeConnection.connect({ address: temporal.address });
    const workers = await runWorkers({
      connection: nc,
      db: database.db,
      dataConverter,
      publicBaseUrl,
      ...(opts.callbacks ? { callbacks: opts.callbacks } : {}),
      // Tests see deterministic routes unless they ask for exploration.
      routing: { explorationShare: 0, ...opts.routing },
      ...(opts.activityInterceptors ? { activityInterceptors: opts.activityInterceptors(database.db) } : {}),
      ...(opts.strandedMessages !== undefined ? { strandedMessages: opts.strandedMessages } : {}),
    });
    inProcess = { workers, connection: nc };
  };
  await startWorker();

  return {
    apiUrl: api.url,
    db: database.db,
    client,
    twilio,
    vonage,
    ...(smsc ? { smsc } : {}),
    ...(xmlAggregator ? { xmlAggregator } : {}),
    ...(infobip ? { infobip } : {}),
    temporal,
    keyring,
    codec: new AesGcmPayloadCodec(keyring),
    startWorker,
    async resetRouting() {
      await inProcess?.workers.routeStats.flush();
      await database.db.deleteFrom('route_stats').execute();
      inProcess?.workers.routeStats.reset();
    },
    killWorker() {
      child?.kill('SIGKILL');
    },
    async stopWorker() {
      const running = inProcess;
      inProcess = undefined;
      if (running) {
        await running.workers.shutdown();
        await running.connection.close();
      }
    },
    async stop() {
      if (inProcess) {
        await inProcess.workers.shutdown();
        await inProcess.connection.close();
      }
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child?.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      await connection.close();
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    },
  };
}

/** The opt-in HTTP carriers: simulators started and carriers seeded only when asked for. */
async function startOptInHttpCarriers(
  db: Kysely<Database>,
  opts: StackOptions,
  cleanups: Array<() => Promise<unknown>>,
): Promise<{ xmlAggregator?: RunningSimulator; infobip?: RunningSimulator }> {
  const out: { xmlAggregator?: RunningSimulator; infobip?: RunningSimulator } = {};
  if (opts.xmlAggregator) {
    const file = loadCarrierFile(XML_AGGREGATOR_FILE);
    const config = file.config as {
      auth: { username: string; password: string };
      receipts: { auth: { secret: string } };
    };
    const sim = await startXmlAggSimulator({
      credentials: {
        username: config.auth.username,
        password: config.auth.password,
        webhookSecret: config.receipts.auth.secret,
      },
      config: opts.xmlAggregator,
    });
    cleanups.push(() => sim.close());
    await seedCarriers(db, [loadCarrierFile(XML_AGGREGATOR_FILE, { baseUrl: sim.url })]);
    out.xmlAggregator = sim;
  }
  if (opts.infobip) {
    const sim = await startInfobipSimulator({ credentials: INFOBIP_CREDS, config: opts.infobip });
    cleanups.push(() => sim.close());
    await seedCarriers(db, [
      {
        id: 'infobip-sim',
        kind: 'infobip',
        config: { baseUrl: sim.url, ...INFOBIP_CREDS, timeoutMs: 2_000 },
        prices: { [INFOBIP_TEST_COUNTRY]: INFOBIP_TEST_PRICE },
      },
    ]);
    out.infobip = sim;
  }
  return out;
}

function spawnWorker(env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    [...WORKER_NODE_FLAGS, '--import', 'tsx', resolve(projectRoot, 'workers/main.ts')],
    {
      cwd: projectRoot,
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr?.on('data', (c: Buffer) => process.stderr.write(`[worker] ${c.toString()}`));
  return child;
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('worker did not start in time')), timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      if (pattern.test(c.toString())) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`worker exited with ${code}`));
    });
  });
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
