/**
 * The API's graceful close under keep-alive traffic (issue 10): it stops taking connections,
 * finishes the requests in flight, closes keep-alive connections instead of serving on them
 * forever, and is done within 5 s. Real PostgreSQL; Temporal is not needed by these routes.
 */
import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJsonLogger } from '../../api/log.ts';
import { type RunningApi, startApi } from '../../api/server.ts';
import { createAccount } from '../../db/accounts.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let t: TestDatabase;
let apiKey: string;

beforeAll(async () => {
  t = await createTestDatabase();
  apiKey = (await createAccount(t.db, { name: 'shutdown' })).apiKey;
});
afterAll(async () => {
  await t?.drop();
});

/** One keep-alive GET on `agent`; resolves with the status and the response's Connection header. */
function get(agent: http.Agent, url: string): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${apiKey}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.on('error', reject);
  });
}

it('closes within 5 s under steady keep-alive traffic, finishing the request in flight', async () => {
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const api: RunningApi = await startApi({
    db: t.db,
    temporal,
    adminApiKey: 'a'.repeat(32),
    currency: 'USD',
    log: createJsonLogger('error'),
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const url = `${api.url}/v1/balance`;
  expect((await get(agent, url)).status).toBe(200);

  // Four clients that never pause, each on its own kept-alive connection.
  let stop = false;
  const served: number[] = [];
  const errors: string[] = [];
  const loops = Array.from({ length: 4 }, async () => {
    while (!stop) {
      try {
        served.push((await get(agent, url)).status);
      } catch (err) {
        errors.push((err as NodeJS.ErrnoException).code ?? String(err));
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });

  // A request in flight when the close begins: headers sent, body still coming.
  const inFlight = new Promise<number>((resolve, reject) => {
    const req = http.request(
      `${api.url}/v1/messages/quote`,
      { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.write('{"to":"+14155552671",');
    setTimeout(() => req.end('"body":"hello"}'), 500);
  });
  await new Promise((r) => setTimeout(r, 200));

  const started = Date.now();
  await api.close();
  const closedInMs = Date.now() - started;
  stop = true;
  await Promise.all(loops);
  agent.destroy();

  expect(closedInMs).toBeLessThan(5_000);
  // The quote finished (answered, not cut off) although the close began while it was read.
  expect(await inFlight).toBeGreaterThanOrEqual(200);
  expect(served.length).toBeGreaterThan(0);
  // After the close nothing is served: new connections are refused.
  await expect(get(new http.Agent(), url)).rejects.toThrow(/ECONNREFUSED/);
}, 30_000);
