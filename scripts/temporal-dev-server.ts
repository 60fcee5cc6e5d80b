/**
 * Starts and stops the official Temporal dev server (`temporal server start-dev`), and registers
 * search attributes on servers Herald did not start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { getFreePort, isPortFree } from './ports.ts';

/** Options for {@link startTemporalDevServer}. */
export interface TemporalDevServerOptions {
  /** Absolute path of the `temporal` binary (see `resolveTemporalCli`). */
  readonly cliPath: string;
  /** SQLite file that persists state across restarts. Default: in-memory (lost when the server stops). */
  readonly dbFile?: string;
  /** Frontend gRPC port; 0 picks a free port. Default: 7233. */
  readonly port?: number;
  /**
   * Web UI port, or false for `--headless`. Default: `port + 1000` (8233 for 7233), or a free
   * port when `port` is 0.
   */
  readonly uiPort?: number | false;
  /** Namespace created at start (`default` always exists). Default: 'default'. */
  readonly namespace?: string;
  /** Search attributes registered at start, all of type Keyword. Default: none. */
  readonly searchAttributes?: readonly string[];
  /** Server log level: debug, info, warn, error, never. Default: 'warn'. */
  readonly logLevel?: string;
  /** Extra `start-dev` flags, e.g. `['--ui-codec-endpoint', url]`. Default: none. */
  readonly extraArgs?: readonly string[];
  /**
   * Dynamic config, passed as `--dynamic-config-value KEY=<JSON value>`; merged over
   * {@link DEV_SERVER_DYNAMIC_CONFIG}.
   */
  readonly dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
  /** Each line the server prints (stdout and stderr). Default: kept only for error messages. */
  readonly onOutput?: (line: string) => void;
  /** How long to wait for the frontend to answer. Default: 30 000 ms. */
  readonly startTimeoutMs?: number;
}

/** A running dev server. */
export interface TemporalDevServer {
  /** gRPC frontend, `127.0.0.1:PORT`. */
  readonly address: string;
  /** Web UI URL, or null when headless. */
  readonly uiUrl: string | null;
  readonly namespace: string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Dynamic config Herald applies to every dev server. One task-queue partition (default 4): the
 * server splits a task queue's rate limit across partitions, so one partition keeps each carrier
 * queue's server-side TPS limit exact, and with few pollers it avoids forwarding hops between
 * partitions. Task-queue Priority is enforced within a partition, so one partition also makes
 * lane order (DESIGN §9) exact rather than approximate.
 *
 * Fairness on (`matching.enableFairness`): within a priority level, tasks are handed out in
 * proportion across fairness keys (Herald's: the account id) instead of first come, first served,
 * so one account's flood cannot starve another account's messages.
 *
 * Search-attribute cache refresh on read off: the dev server turns it on so attributes added at
 * run time show at once, at the price of two SQLite reads (cluster metadata, namespace) every time
 * an attribute is read — 26 of the 42 persistence calls a message cost (bench/results/README.md).
 * Herald registers its attributes with `--search-attribute` before the server starts, so the
 * regular cache always holds them. Everything else stays at the dev server's defaults.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  'matching.enableFairness': true,
  'system.forceSearchAttributesCacheRefreshOnRead': false,
};

const KILL_AFTER_MS = 5_000;
const OUTPUT_HEAD_LINES = 5;
const OUTPUT_TAIL_LINES = 20;

/**
 * Spawns `temporal server start-dev` on 127.0.0.1 and resolves once its frontend answers and the
 * namespace is registered. The child is killed when this process exits or gets SIGINT/SIGTERM
 * (not when it is SIGKILLed: nothing can run then).
 *
 * @throws Error with the server's last output lines when it exits or does not answer in time.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  // A free port can be taken between our probe and the server's bind: retry with new ports.
  const attempts = opts.port === 0 ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      const portTaken = err instanceof NotStartedError && /address already in use/.test(err.message);
      if (attempt >= attempts || !portTaken) throw err;
    }
  }
}

/** The server did not come up (port taken, bad flags, crash); the message carries its output. */
class NotStartedError extends Error {}

async function startOnce(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const port = opts.port === 0 ? await getFreePort() : (opts.port ?? 7233);
  const uiPort =
    opts.uiPort === false
      ? false
      : (opts.uiPort ?? (opts.port === 0 || port + 1000 > 65_535 ? await getFreePort() : port + 1000));
  const namespace = opts.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  // Without this, the readiness check would happily talk to whatever server already holds the port.
  for (const [what, p] of [
    ['gRPC', port],
    ['UI', uiPort],
  ] as const) {
    if (p !== false && !(await isPortFree(p))) {
      throw new NotStartedError(
        `Cannot start the Temporal dev server: its ${what} port 127.0.0.1:${p} is taken (address already in use); stop what listens there or pick another port.`,
      );
    }
  }

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push(...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFile !== undefined) args.push('--db-filename', opts.dbFile);
  args.push('--namespace', namespace);
  for (const name of opts.searchAttributes ?? []) args.push('--search-attribute', `${name}=Keyword`);
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...opts.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  args.push('--log-level', opts.logLevel ?? 'warn', ...(opts.extraArgs ?? []));

  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  // Startup output, for the error message when the server does not come up.
  const startup: string[] = [];
  let collecting = true;
  const onLine = (line: string): void => {
    if (collecting && startup.length < 1_000) startup.push(line);
    opts.onOutput?.(line);
  };
  const startupOutput = (): string => {
    const lines = startup.filter((line) => line.trim() !== '');
    return (
      lines.length > OUTPUT_HEAD_LINES + OUTPUT_TAIL_LINES
        ? [...lines.slice(0, OUTPUT_HEAD_LINES), '…', ...lines.slice(-OUTPUT_TAIL_LINES)]
        : lines
    ).join('\n');
  };
  forwardLines(child.stdout, onLine);
  forwardLines(child.stderr, onLine);

  // 'close' rather than 'exit': it comes after stdout/stderr end, so the last lines (the error) are in.
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
  });
  const stop = memoize(() => stopChild(child, exited));

  const giveUp = new AbortController();
  try {
    await Promise.race([
      waitUntilReady(address, namespace, opts.startTimeoutMs ?? 30_000, giveUp.signal),
      exited.then((how) => {
        throw new NotStartedError(
          `temporal server start-dev exited (${how}) before it answered on ${address}:\n${startupOutput()}`,
        );
      }),
    ]);
  } catch (err) {
    giveUp.abort();
    await stop();
    if (err instanceof NotStartedError) throw err;
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${startupOutput()}`, {
      cause: err,
    });
  } finally {
    collecting = false;
  }

  return {
    address,
    uiUrl: uiPort === false ? null : `http://127.0.0.1:${uiPort}`,
    namespace,
    stop,
  };
}

/** Polls until the frontend answers `describeNamespace`, so callers can start workflows at once. */
async function waitUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !signal.aborted) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      lastError = err;
      await sleep(200);
    } finally {
      await connection?.close();
    }
  }
  throw new Error(
    `Temporal dev server at ${address} did not answer within ${timeoutMs} ms: ${
      lastError instanceof Error ? lastError.message : String(lastError)
    }`,
  );
}

async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => false), sleep(KILL_AFTER_MS).then(() => true)]);
    if (killed) child.kill('SIGKILL');
  }
  await exited;
  liveChildren.delete(child);
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (buffered !== '') onLine(buffered);
  });
}

function memoize(fn: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => {
    result ??= fn();
    return result;
  };
}

// Children still running, killed when this process goes away. Hooks are installed once.
const liveChildren = new Set<ChildProcess>();
let hooksInstalled = false;

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAll();
      // Our listener replaced Node's default "exit on signal"; restore it when nobody else listens.
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function killAll(): void {
  for (const child of liveChildren) child.kill('SIGTERM');
}

/** Wire value of `temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD`. */
const INDEXED_VALUE_TYPE_KEYWORD = 2;
const GRPC_ALREADY_EXISTS = 6;

/**
 * Registers `names` as Keyword search attributes on `namespace`, for servers Herald did not start
 * (`TEMPORAL_ADDRESS`). Names already registered are left alone; an "already exists" answer from
 * a concurrent registration is ignored.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
  names: readonly string[],
): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([
    ...Object.keys(existing.customAttributes),
    ...Object.keys(existing.systemAttributes),
  ]);
  // One request per name, so one already registered by someone else does not block the rest.
  for (const name of names.filter((n) => !known.has(n))) {
    try {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: { [name]: INDEXED_VALUE_TYPE_KEYWORD },
      });
    } catch (err) {
      const alreadyExists =
        isGrpcServiceError(err) && (err.code === GRPC_ALREADY_EXISTS || /already exists/i.test(err.details));
      if (!alreadyExists) throw err;
    }
  }
}
