/**
 * The worker's Prometheus `/metrics`: Herald's activity metrics (prom-client, measured where the
 * work happens) followed by the Temporal runtime's own metrics, which the runtime exports on an
 * internal port that this server reads and appends, so one scrape target covers the process.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Submit round-trip buckets (seconds), as the API's DB-derived histogram. */
const SUBMIT_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The worker's own metrics, in a registry of their own. */
export interface WorkerMetrics {
  readonly registry: Registry;
  /** submitToCarrier durations by carrier and outcome (`accepted` or the error class). */
  readonly submitDuration: Histogram<'carrier' | 'outcome'>;
  /** A message's submit moved from one carrier to another. */
  readonly failovers: Counter<'from' | 'to'>;
  /** Every activity's duration by type and result (`ok` / `error`: it threw). */
  readonly activityDuration: Histogram<'activity' | 'result'>;
}

/** Creates the metrics; with `processMetrics` (default true) Node's own too, prefixed `herald_worker_`. */
export function createWorkerMetrics(opts: { readonly processMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'herald_worker_' });
  return {
    registry,
    submitDuration: new Histogram({
      name: 'herald_worker_submit_duration_seconds',
      help: 'Carrier submit activity duration, by carrier and outcome',
      labelNames: ['carrier', 'outcome'],
      buckets: SUBMIT_BUCKETS_SECONDS,
      registers: [registry],
    }),
    failovers: new Counter({
      name: 'herald_worker_failovers_total',
      help: 'Submits that moved a message from one carrier to another',
      labelNames: ['from', 'to'],
      registers: [registry],
    }),
    activityDuration: new Histogram({
      name: 'herald_worker_activity_duration_seconds',
      help: 'Activity duration by activity type and result',
      labelNames: ['activity', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}

export interface WorkerMetricsServerOptions {
  readonly metrics: WorkerMetrics;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** The Temporal runtime's exporter (`http://127.0.0.1:<port>/metrics`), appended when given. */
  readonly runtimeMetricsUrl?: string;
}

export interface WorkerMetricsServer {
  /** `http://<host>:<port>/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** How long a scrape waits for the runtime's exporter. */
const RUNTIME_SCRAPE_TIMEOUT_MS = 2_000;

/** Serves `GET /metrics` (anything else: 404). */
export async function startWorkerMetricsServer(
  opts: WorkerMetricsServerOptions,
): Promise<WorkerMetricsServer> {
  const { registry } = opts.metrics;
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    void (async () => {
      try {
        const own = await registry.metrics();
        const runtime = opts.runtimeMetricsUrl ? await scrapeRuntime(opts.runtimeMetricsUrl) : '';
        res.writeHead(200, { 'content-type': registry.contentType }).end(own + runtime);
      } catch (err) {
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`${err instanceof Error ? err.message : err}\n`);
      }
    })();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () => closeServer(server),
  };
}

/** The runtime's text, or a comment saying why it is missing (the scrape itself still succeeds). */
async function scrapeRuntime(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(RUNTIME_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) return `# temporal runtime metrics unavailable: HTTP ${res.status}\n`;
    const text = await res.text();
    return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  } catch (err) {
    return `# temporal runtime metrics unavailable: ${err instanceof Error ? err.message : String(err)}\n`;
  }
}

/** A port that was free a moment ago on `host` (for the runtime's exporter, which needs a fixed one). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok, fail) => {
    probe.once('error', fail);
    probe.listen(0, host, () => ok());
  });
  const { port } = probe.address() as AddressInfo;
  await closeServer(probe);
  return port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((ok, fail) => {
    server.close((err) => (err ? fail(err) : ok()));
    server.closeAllConnections();
  });
}
