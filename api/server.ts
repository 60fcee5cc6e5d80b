/** Runs the API on a port: used by `api/main.ts`, the start script and tests (in-process). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import type { AppDeps } from './context.ts';

/** Options of {@link startApi}: the app's dependencies plus where to listen. */
export interface StartApiOptions extends AppDeps {
  /** Default 0: a free port chosen by the OS. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
}

export interface RunningApi {
  /** `http://<host>:<port>` (IPv6 hosts in brackets; a wildcard host shows as 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and waits for requests in flight. Leaves db and Temporal open. */
  close(): Promise<void>;
}

/** Starts the API and resolves once it listens. */
export async function startApi(opts: StartApiOptions): Promise<RunningApi> {
  const { port = 0, host = '127.0.0.1', ...deps } = opts;
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port: actualPort } = server.address() as AddressInfo;
  return {
    url: `http://${urlHost(host)}:${actualPort}`,
    port: actualPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
