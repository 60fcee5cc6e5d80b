/**
 * The composition root: builds any subset of the Herald stack from one typed configuration, in
 * dependency order — Temporal (a dev server or an existing cluster) → codec (keys, optional codec
 * server) → database (migrated) → simulated carriers (seeded) → API(s) and worker(s), in this process
 * or as child processes on their production entry points. `npm start` (scripts/start.ts), the test
 * stack (test/support/stack.ts), the benchmark stack (bench/bench-stack.ts) and the chaos run
 * (bench/chaos.ts) are thin callers. Whatever was started is torn down by `stop()`, in reverse, and
 * also when start-up fails half-way.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { type ActivityInterceptorsFactory, NativeConnection } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import { createJsonLogger } from '../../api/log.ts';
import { type RunningApi, type StartApiOptions, startApi } from '../../api/server.ts';
import { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec.ts';
import { heraldDataConverter } from '../../codec/data-converter.ts';
import { type CodecKeyring, formatCodecKeys, generateKey } from '../../codec/keys.ts';
import { type RunningCodecServer, startCodecServer } from '../../codec/server.ts';
import { loadEnv } from '../../config/env.ts';
import { WORKER_NODE_FLAGS, WORKER_PROCESS_ENV } from '../../config/worker-defaults.ts';
import { createDb, destroyDb } from '../../db/connection.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Database } from '../../db/schema.ts';
import type { HeraldLogLevel } from '../../observability/logger.ts';
import { workerOptionsFromEnv } from '../../workers/options-from-env.ts';
import {
  buildWorkflowBundle,
  type RunningWorkers,
  type RunWorkersOptions,
  runWorkers,
} from '../../workers/run-workers.ts';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions.ts';
import { getFreeFixedPort, getFreePort, isPortFree } from '../ports.ts';
import { resolveTemporalCli } from '../temporal-cli.ts';
import {
  ensureSearchAttributes,
  startTemporalDevServer,
  type TemporalDevServerOptions,
} from '../temporal-dev-server.ts';
import { type CarriersConfig, type RunningCarriers, startCarriers } from './carriers.ts';
import {
  type ChildOutput,
  isRunning,
  killChild,
  type LaunchedChild,
  launch,
  startSupervised,
  stopChild,
  waitForHttp,
  waitForLine,
} from './child-processes.ts';
import { createFreshPostgres, type ProvisionedDatabase, startPglite } from './databases.ts';

const projectRoot = resolve(import.meta.dirname, '../..');

/** What a worker process prints once it polls (workers/main.ts). */
const WORKER_READY = /worker: polling/;
/** How long a worker process may take to start polling (a cold bundle build takes ~20 s here), ms. */
const WORKER_READY_TIMEOUT_MS = 120_000;

/** A Temporal dev server the stack starts (scripts/temporal-dev-server.ts). */
export interface DevServerPart {
  readonly kind: 'dev-server';
  /** Absolute path of the CLI. Default: resolved (and installed when missing) by scripts/temporal-cli.ts. */
  readonly cliPath?: string;
  /** gRPC port. Default 0: a free one (a restart then needs a fixed port). */
  readonly port?: number;
  /** Web UI port, or false for headless. Default false. */
  readonly uiPort?: number | false;
  /** SQLite file, so state survives a restart of the server. Default: in memory. */
  readonly dbFile?: string;
  /** Merged over the project's dynamic config. Default none. */
  readonly dynamicConfig?: TemporalDevServerOptions['dynamicConfig'];
  /** Also export the server's Prometheus metrics (on a free port). Default false. */
  readonly metrics?: boolean;
}

/** A Temporal cluster that already runs: Herald's search attributes are registered on it. */
export interface ExternalTemporalPart {
  readonly kind: 'external';
  readonly address: string;
  /** Default `default`. */
  readonly namespace?: string;
}

/** Where the stack's database comes from. */
export type DatabasePart =
  /** A fresh database on a PostgreSQL server, dropped at stop. */
  | { readonly kind: 'postgres'; readonly adminUrl?: string; readonly prefix?: string }
  /** Embedded PGlite: a temp dir removed at stop, or `dataDir`, kept. */
  | { readonly kind: 'pglite'; readonly dataDir?: string; readonly maxConnections?: number }
  /** An existing database, migrated and kept. */
  | { readonly kind: 'url'; readonly url: string };

/** Payload encryption of every client and worker of the stack. */
export interface CodecPart {
  /** Default: one fresh key. */
  readonly keyring?: CodecKeyring;
  /** Also run the codec server for the Temporal UI. Default: none. */
  readonly server?: {
    readonly token: string;
    /** Default 0: a free port. */
    readonly port?: number;
    /** CORS origins besides the dev server's own UI. Default none. */
    readonly allowedOrigins?: readonly string[];
  };
}

/** The API: in this process (tests) or as `api/main.ts` child processes. */
export type ApisPart =
  | {
      readonly mode: 'in-process';
      /** Passed to startApi over the stack's own (db, Temporal client, admin key, USD, port 0). */
      readonly options?: Partial<Omit<StartApiOptions, 'db' | 'temporal' | 'adminApiKey'>>;
    }
  | {
      readonly mode: 'process';
      /** Processes. Default 1. */
      readonly count?: number;
      /** The first API's port. Default: a free one below the ephemeral range (so is every other's). */
      readonly port?: number;
      /** Node flags. Default none. */
      readonly nodeArgs?: readonly string[];
    };

/** The worker: in this process (tests) or as `workers/main.ts` child processes. */
export type WorkersPart =
  | {
      readonly mode: 'in-process';
      /** Passed to runWorkers over the stack's own (connection, db, data converter, receipt URL). */
      readonly options?: Partial<
        Omit<
          RunWorkersOptions,
          'connection' | 'db' | 'dataConverter' | 'publicBaseUrl' | 'activityInterceptors'
        >
      >;
      /** Activity interceptors, given the stack's database. Default none. */
      readonly activityInterceptors?: (db: Kysely<Database>) => ActivityInterceptorsFactory[];
      /** The in-process runtime's log level. Default `warn`. */
      readonly logLevel?: HeraldLogLevel;
    }
  | {
      readonly mode: 'process';
      /** Processes. Default 1. */
      readonly count?: number;
      /** Node flags besides WORKER_NODE_FLAGS. Default none. */
      readonly nodeArgs?: readonly string[];
      /** Build the workflow bundle once and hand it to every worker, as the image does. Default false. */
      readonly prebuiltBundle?: boolean;
    };

/** The one configuration a stack is built from. */
export interface StackConfig {
  /** Progress lines. Default: none. */
  readonly log?: (line: string) => void;
  readonly temporal: DevServerPart | ExternalTemporalPart;
  readonly database: DatabasePart;
  /** Connections of the stack's own pool (seeding, callers' queries, in-process parts). Default 4. */
  readonly poolSize?: number;
  /** The pool drops connections that die while idle without a warning (chaos kills them). Default false. */
  readonly quietPool?: boolean;
  /** Default: a fresh key, no codec server. */
  readonly codec?: CodecPart;
  /** Simulated carriers to start and seed. Default none. */
  readonly carriers?: CarriersConfig;
  /** Runs after seeding, before any API or worker; may choose the admin key (e.g. a saved one). */
  readonly prepare?: (db: Kysely<Database>) => Promise<{ readonly adminApiKey?: string } | undefined>;
  /** The admin API key. Default: a random one (or what `prepare` answers). */
  readonly adminApiKey?: string;
  /** VERIFY_SECRET of every API and worker. Default: a random one. */
  readonly verifySecret?: string;
  /** Default: no API. */
  readonly apis?: ApisPart;
  /** Default: no worker. */
  readonly workers?: WorkersPart;
  /** Child processes: environment over `process.env` and the stack's own, and each output line. */
  readonly processes?: {
    readonly env?: Readonly<Record<string, string>>;
    /** Default: lines kept as each child's tail only. */
    readonly output?: ChildOutput;
  };
}

/** The stack's Temporal. */
export interface StackTemporal {
  readonly address: string;
  readonly namespace: string;
  /** The dev server's web UI, or null (headless or external). */
  readonly uiUrl: string | null;
  /** The dev server's Prometheus endpoint, when asked for. */
  readonly metricsUrl: string | undefined;
  /** Stops the dev server and starts it again on the same port and file (needs both fixed). */
  restart(): Promise<void>;
}

/** One API of the stack. */
export interface StackApi {
  readonly url: string;
  /** Its process id (process mode) or undefined. */
  pid(): number | undefined;
  /**
   * Process mode: SIGTERM, wait up to 15 s, start it again on the same port. Answers how long it
   * took to exit and whether it exited cleanly (code 0).
   */
  restart(): Promise<{ readonly exitMs: number; readonly clean: boolean }>;
  /** Its last output lines (process mode). */
  tail(): string;
}

/** One worker of the stack. */
export interface StackWorker {
  /** Its process id (process mode) or undefined. */
  pid(): number | undefined;
  /** Starts it (again); a no-op while it runs. */
  start(): Promise<void>;
  /** Graceful: an in-process worker drains what it runs, a process gets SIGTERM. */
  stop(): Promise<void>;
  /** SIGKILL (process mode) and wait for the exit; an in-process worker is stopped. */
  kill(): Promise<void>;
  /** The in-process workers while they run. */
  running(): RunningWorkers | undefined;
  /** Its last output lines (process mode). */
  tail(): string;
}

/** A running stack. */
export interface ComposedStack {
  readonly temporal: StackTemporal;
  readonly database: ProvisionedDatabase;
  /** The stack's own pool on the database. */
  readonly db: Kysely<Database>;
  readonly keyring: CodecKeyring;
  /** A codec over {@link keyring}, to decode raw history. */
  readonly codec: AesGcmPayloadCodec;
  readonly codecServer: RunningCodecServer | undefined;
  /** A Temporal client with the stack's data converter. */
  readonly client: Client;
  readonly carriers: RunningCarriers;
  readonly adminApiKey: string;
  /** The VERIFY_SECRET every API and worker of the stack has. */
  readonly verifySecret: string;
  readonly apis: readonly StackApi[];
  readonly workers: readonly StackWorker[];
  /** Why a child died, when one exited that the stack did not stop. */
  childFailure(): string | undefined;
  /** Stops everything in reverse start order; idempotent. */
  stop(): Promise<void>;
}

/** Builds the stack `config` describes; on a failure half-way, tears down what it started and rethrows. */
export async function composeStack(config: StackConfig): Promise<ComposedStack> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const log = config.log ?? (() => {});
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) {
        await cleanup().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
      }
    })();
    return stopped;
  };
  try {
    return await assemble(config, cleanups, stop, log);
  } catch (err) {
    await stop();
    throw err;
  }
}

async function assemble(
  config: StackConfig,
  cleanups: Array<() => Promise<unknown>>,
  stop: () => Promise<void>,
  log: (line: string) => void,
): Promise<ComposedStack> {
  // Codec first: the dev server's UI is pointed at the codec server's port.
  const keyring: CodecKeyring = config.codec?.keyring ?? {
    keys: new Map([['dev', generateKey()]]),
    currentKeyId: 'dev',
  };
  const codecServerPart = config.codec?.server;
  const codecPort = codecServerPart
    ? codecServerPart.port === undefined || codecServerPart.port === 0
      ? await getFreeFixedPort()
      : codecServerPart.port
    : undefined;

  const uiCodecEndpoint =
    codecServerPart && codecPort !== undefined
      ? `http://127.0.0.1:${codecPort}/t/${encodeURIComponent(codecServerPart.token)}`
      : undefined;
  const temporal = await startTemporal(config.temporal, uiCodecEndpoint, cleanups, log);

  const codec = new AesGcmPayloadCodec(keyring);
  let codecServer: RunningCodecServer | undefined;
  if (codecServerPart && codecPort !== undefined) {
    const uiUrl = temporal.uiUrl;
    codecServer = await startCodecServer({
      codec,
      token: codecServerPart.token,
      port: codecPort,
      // The UI is reached as 127.0.0.1 or localhost: both are its origin.
      allowedOrigins: [
        ...(codecServerPart.allowedOrigins ?? []),
        ...(uiUrl ? [uiUrl, uiUrl.replace('127.0.0.1', 'localhost')] : []),
      ],
    });
    const server = codecServer;
    cleanups.push(() => server.close());
    log(`codec server at ${server.url}`);
  }

  const database = await provisionDatabase(config.database);
  cleanups.push(() => database.drop());
  const db = createDb(database.url, {
    max: config.poolSize ?? 4,
    ...(config.quietPool ? { onIdleError: () => {} } : {}),
  });
  cleanups.push(() => destroyDb(db));
  await migrateToLatest(db);
  log(`database ${database.label}`);

  const carriers = config.carriers ? await startCarriers(db, config.carriers, cleanups) : {};
  const prepared = config.prepare ? await config.prepare(db) : undefined;
  const adminApiKey =
    prepared?.adminApiKey ?? config.adminApiKey ?? `admin_${randomBytes(18).toString('base64url')}`;

  const verifySecret = config.verifySecret ?? randomBytes(32).toString('base64url');
  const dataConverter = heraldDataConverter(keyring);
  const connection = await Connection.connect({ address: temporal.address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter });

  let failure: string | undefined;
  let stopping = false;
  const onExit = (name: string) => (code: number | null, signal: NodeJS.Signals | null) => {
    if (!stopping) failure ??= `${name} exited (${signal ?? `code ${code}`})`;
  };

  // APIs: their URLs are the receipt URLs the workers give carriers.
  const apis: StackApi[] = [];
  /** Process APIs answer `/readyz` once they listen; in-process ones already do. */
  const apisReady: Array<() => Promise<void>> = [];
  const processEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace,
    ADMIN_API_KEY: adminApiKey,
    VERIFY_SECRET: verifySecret,
    HERALD_CODEC_KEYS: formatCodecKeys(keyring.keys),
    HERALD_CODEC_KEY_ID: keyring.currentKeyId,
    ...config.processes?.env,
  };
  const output = config.processes?.output;
  const apiPart = config.apis;
  if (apiPart?.mode === 'in-process') {
    const api: RunningApi = await startApi({
      db,
      temporal: client,
      adminApiKey,
      verifySecret,
      currency: 'USD',
      port: 0,
      // Request lines at info would bury a test's output; warnings and errors still show.
      log: createJsonLogger('warn'),
      ...apiPart.options,
    });
    cleanups.push(() => api.close());
    apis.push({
      url: api.url,
      pid: () => undefined,
      restart: () => Promise.reject(new Error('an in-process API is not restarted')),
      tail: () => '',
    });
  } else if (apiPart?.mode === 'process') {
    const count = apiPart.count ?? 1;
    for (let i = 0; i < count; i++) {
      const port = i === 0 && apiPart.port !== undefined ? apiPart.port : await getFreeFixedPort();
      const api = processApi({
        name: count === 1 ? 'api' : `api-${i + 1}`,
        port,
        env: processEnv,
        nodeArgs: apiPart.nodeArgs ?? [],
        onExit,
        cleanups,
        ...(output ? { output } : {}),
      });
      apis.push(api);
      apisReady.push(api.ready);
    }
  }
  // A worker without an API still needs a receipt URL: the default API port's.
  const receiptUrl = (i: number): string =>
    apis[i % Math.max(1, apis.length)]?.url ?? 'http://127.0.0.1:3000';

  const workers: StackWorker[] = [];
  const workerPart = config.workers;
  if (workerPart?.mode === 'in-process') {
    workers.push(
      inProcessWorker(
        workerPart,
        { address: temporal.address, db, dataConverter, publicBaseUrl: receiptUrl(0), verifySecret },
        cleanups,
      ),
    );
  } else if (workerPart?.mode === 'process') {
    const env = { ...WORKER_PROCESS_ENV, ...processEnv };
    if (workerPart.prebuiltBundle) {
      // Built once, as the production image does (scripts/bundle-workflows.ts): workers load it
      // instead of running webpack at start, which would put the bundler's memory in their RSS.
      const dir = await mkdtemp(join(tmpdir(), 'herald-bundle-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      env.WORKFLOW_BUNDLE_PATH = join(dir, 'workflow-bundle.js');
      await writeFile(env.WORKFLOW_BUNDLE_PATH, (await buildWorkflowBundle()).code);
    }
    const count = workerPart.count ?? 1;
    for (let i = 0; i < count; i++) {
      workers.push(
        processWorker({
          name: count === 1 ? 'worker' : `worker-${i + 1}`,
          // Carriers post receipts to API `i mod apis` unless the environment names a public URL.
          env: { ...env, PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? receiptUrl(i) },
          nodeArgs: [...WORKER_NODE_FLAGS, ...(workerPart.nodeArgs ?? [])],
          onExit,
          cleanups,
          ...(output ? { output } : {}),
        }),
      );
    }
  }
  await Promise.all([...apisReady.map((ready) => ready()), ...workers.map((w) => w.start())]);
  if (apis.length + workers.length > 0) {
    log(
      `${workers.length} worker(s) and ${apis.length} API(s) ready${apis.length ? ` at ${apis.map((a) => a.url).join(', ')}` : ''}`,
    );
  }

  // Runs first on stop: the children's exits from here on are not failures.
  cleanups.push(async () => {
    stopping = true;
  });
  return {
    temporal,
    database,
    db,
    keyring,
    codec,
    codecServer,
    client,
    carriers,
    adminApiKey,
    verifySecret,
    apis,
    workers,
    childFailure: () => failure,
    stop,
  };
}

async function startTemporal(
  part: DevServerPart | ExternalTemporalPart,
  uiCodecEndpoint: string | undefined,
  cleanups: Array<() => Promise<unknown>>,
  log: (line: string) => void,
): Promise<StackTemporal> {
  if (part.kind === 'external') {
    const namespace = part.namespace ?? 'default';
    const connection = await Connection.connect({ address: part.address });
    try {
      await ensureSearchAttributes(connection, namespace, SEARCH_ATTRIBUTES);
    } finally {
      await connection.close();
    }
    log(`using Temporal at ${part.address}`);
    return {
      address: part.address,
      namespace,
      uiUrl: null,
      metricsUrl: undefined,
      restart: () => Promise.reject(new Error('an external Temporal is not restarted')),
    };
  }
  const cliPath = part.cliPath ?? (await resolveTemporalCli({ projectRoot, log }));
  const metricsPort = part.metrics ? await getFreePort() : undefined;
  const uiPort = part.uiPort ?? false;
  const options: TemporalDevServerOptions = {
    cliPath,
    port: part.port ?? 0,
    uiPort,
    searchAttributes: SEARCH_ATTRIBUTES,
    ...(part.dbFile ? { dbFile: part.dbFile } : {}),
    ...(part.dynamicConfig ? { dynamicConfig: part.dynamicConfig } : {}),
    extraArgs: [
      ...(metricsPort === undefined ? [] : ['--metrics-port', String(metricsPort)]),
      // The local UI shows payloads in clear through the codec server (its token is in the URL,
      // loopback only); production keeps the token from the UI (README).
      ...(uiCodecEndpoint && uiPort !== false ? ['--ui-codec-endpoint', uiCodecEndpoint] : []),
    ],
  };
  let server = await startTemporalDevServer(options);
  log(`Temporal dev server at ${server.address}`);
  cleanups.push(() => server.stop());
  const port = Number(server.address.split(':').at(-1));
  return {
    address: server.address,
    namespace: server.namespace,
    uiUrl: server.uiUrl,
    metricsUrl: metricsPort === undefined ? undefined : `http://127.0.0.1:${metricsPort}/metrics`,
    async restart() {
      if (!part.port || !part.dbFile) throw new Error('restarting Temporal needs a fixed port and a dbFile');
      await server.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      for (let i = 0; !(await isPortFree(port)); i++) {
        if (i > 50) throw new Error(`Temporal's port ${port} stayed taken`);
        await new Promise((r) => setTimeout(r, 200));
      }
      server = await startTemporalDevServer({ ...options, port });
    },
  };
}

function provisionDatabase(part: DatabasePart): Promise<ProvisionedDatabase> {
  switch (part.kind) {
    case 'postgres':
      return createFreshPostgres({
        prefix: part.prefix ?? 'herald_dev',
        ...(part.adminUrl ? { adminUrl: part.adminUrl } : {}),
      });
    case 'pglite':
      return startPglite({
        ...(part.dataDir ? { dataDir: part.dataDir } : {}),
        ...(part.maxConnections ? { maxConnections: part.maxConnections } : {}),
      });
    case 'url':
      return Promise.resolve({ url: part.url, name: undefined, label: part.url, drop: async () => {} });
  }
}

interface ProcessSpec {
  readonly name: string;
  readonly env: NodeJS.ProcessEnv;
  readonly nodeArgs: readonly string[];
  readonly onExit: (name: string) => (code: number | null, signal: NodeJS.Signals | null) => void;
  readonly cleanups: Array<() => Promise<unknown>>;
  readonly output?: ChildOutput;
}

type ProcessApi = StackApi & { readonly ready: () => Promise<void> };

function processApi(spec: ProcessSpec & { readonly port: number }): ProcessApi {
  const url = `http://127.0.0.1:${spec.port}`;
  const env = { ...spec.env, PORT: String(spec.port), PUBLIC_BASE_URL: spec.env.PUBLIC_BASE_URL ?? url };
  const start = (): LaunchedChild =>
    launch({
      name: spec.name,
      entry: 'api/main.ts',
      nodeArgs: spec.nodeArgs,
      env,
      onExit: spec.onExit(spec.name),
      ...(spec.output ? { output: spec.output } : {}),
    });
  let child = start();
  spec.cleanups.push(() => stopChild(child));
  const ready = (c: LaunchedChild): Promise<void> => waitForHttp(`${url}/readyz`, c.child);
  return {
    url,
    pid: () => child.child.pid,
    ready: () => ready(child),
    async restart() {
      const started = Date.now();
      child.child.kill('SIGTERM');
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 15_000))]);
      const exitMs = Date.now() - started;
      const clean = child.child.exitCode === 0;
      await killChild(child);
      child = await startSupervised(start, ready);
      return { exitMs, clean };
    },
    tail: () => child.tail(),
  };
}

function processWorker(spec: ProcessSpec): StackWorker {
  const start = (): LaunchedChild =>
    launch({
      name: spec.name,
      entry: 'workers/main.ts',
      nodeArgs: spec.nodeArgs,
      env: spec.env,
      onExit: spec.onExit(spec.name),
      ...(spec.output ? { output: spec.output } : {}),
    });
  let child: LaunchedChild | undefined;
  spec.cleanups.push(async () => {
    if (child) await stopChild(child);
  });
  const ready = (c: LaunchedChild): Promise<void> =>
    waitForLine(c.child, WORKER_READY, WORKER_READY_TIMEOUT_MS);
  return {
    pid: () => child?.child.pid,
    async start() {
      if (child && isRunning(child)) return;
      child = await startSupervised(start, ready, child ? 10 : 1);
    },
    async stop() {
      if (child) await stopChild(child);
    },
    async kill() {
      if (child) await killChild(child);
    },
    running: () => undefined,
    tail: () => child?.tail() ?? '',
  };
}

function inProcessWorker(
  part: Extract<WorkersPart, { mode: 'in-process' }>,
  deps: {
    readonly address: string;
    readonly db: Kysely<Database>;
    readonly dataConverter: RunWorkersOptions['dataConverter'];
    readonly publicBaseUrl: string;
    readonly verifySecret: string;
  },
  cleanups: Array<() => Promise<unknown>>,
): StackWorker {
  let current: { workers: RunningWorkers; connection: NativeConnection } | undefined;
  const stopCurrent = async (): Promise<void> => {
    const running = current;
    current = undefined;
    if (running) {
      await running.workers.shutdown();
      await running.connection.close();
    }
  };
  cleanups.push(stopCurrent);
  return {
    pid: () => undefined,
    async start() {
      if (current) return;
      installWorkerRuntime(part.logLevel ?? 'warn');
      const connection = await NativeConnection.connect({ address: deps.address });
      const workers = await runWorkers({
        // The production mapping of the environment first (workers/main.ts runs the same), then the caller's.
        ...workerOptionsFromEnv(loadEnv()),
        connection,
        db: deps.db,
        dataConverter: deps.dataConverter,
        publicBaseUrl: deps.publicBaseUrl,
        verifySecret: deps.verifySecret,
        ...part.options,
        ...(part.activityInterceptors ? { activityInterceptors: part.activityInterceptors(deps.db) } : {}),
      });
      current = { workers, connection };
    },
    stop: stopCurrent,
    kill: stopCurrent,
    running: () => current?.workers,
    tail: () => '',
  };
}
