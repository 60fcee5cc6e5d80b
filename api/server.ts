/** Runs the API on a port: used by `api/main.ts`, the start script and tests (in-process). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { AppDeps } from './context.ts';

/** Options of {@link startApi}: the app's dependencies plus where to listen. */
export interface StartApiOptions extends AppDeps {
  /** Default 0: a free port chosen by the OS. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /**
   * How long {@link RunningApi.close} lets requests in flight finish before it cuts their
   * connections, ms. Default 4000 (a process manager's SIGTERM grace is often 5–10 s).
   */
  readonly drainTimeoutMs?: number;
}

/** Default of {@link StartApiOptions.drainTimeoutMs}. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 4_000;
/** How often a closing server sweeps connections that went idle since the last sweep. */
const IDLE_SWEEP_MS = 50;

export interface RunningApi {
  /** `http://<host>:<port>` (IPv6 hosts in brackets; a wildcard host shows as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  /**
   * Graceful close: stops accepting connections, answers every request in flight with
   * `Connection: close`, closes keep-alive connections as soon as they are idle (clients that never
   * pause would otherwise keep them open for ever), and after `drainTimeoutMs` cuts whatever is
   * left. Leaves db and Temporal open.
   */
  close(): Promise<void>;
}

/** Starts the API and resolves once it listens. */
export async function startApi(opts: StartApiOptions): Promise<RunningApi> {
  const { port = 0, host = '127.0.0.1', drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS, ...deps } = opts;
  const app = createApp(deps);
  let draining = false;
  // While closing, every answer tells the client to drop the connection after it.
  const server = createServer((req, res) => {
    if (draining) res.setHeader('Connection', 'close');
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: actualPort } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(host)}:${actualPort}`,
    port: actualPort,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        draining = true;
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        const cut = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
        server.close((err) => {
          clearInterval(sweep);
          clearTimeout(cut);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
