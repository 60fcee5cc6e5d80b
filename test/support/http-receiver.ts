/**
 * A webhook receiver for tests (status callbacks, forwarded inbound messages) on 127.0.0.1:
 * records every request, answering each with the status `answer(path, n)` picks for the n-th
 * (0-based) request to that path.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received<B> {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The body as received (signatures cover it). */
  readonly raw: string;
  /** JSON bodies parsed; form bodies as an object of their first values. */
  readonly body: B;
  readonly at: number;
  readonly answered: number;
}

export function startReceiver<B = Record<string, unknown>>(
  answer: (path: string, n: number) => number = () => 200,
) {
  const received: Array<Received<B>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      const status = answer(path, received.filter((r) => r.path === path).length);
      const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
      received.push({
        path,
        headers: req.headers,
        raw,
        body: (form ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw)) as B,
        at: Date.now(),
        answered: status,
      });
      res.writeHead(status).end();
    });
  });
  return {
    received,
    listen: () =>
      new Promise<string>((ok) =>
        server.listen(0, '127.0.0.1', () => ok(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Polls `probe` every 50 ms until it answers something other than undefined. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
