/**
 * The app's wiring without a database or Temporal: kysely's DummyDriver answers every query with
 * no rows (so no API key is known), and a fake Temporal connection is down. What needs real rows
 * or a real workflow is covered by the integration tests.
 */
import type { Client } from '@temporalio/client';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApi } from '../../api/server.ts';
import type { Database } from '../../db/schema.ts';

const ADMIN_KEY = 'unit-admin-key-0123456789';

const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

const temporalDown = {
  connection: {
    withDeadline: <R>(_deadline: number | Date, fn: () => Promise<R>) => fn(),
    workflowService: {
      getSystemInfo: async () => {
        throw new Error('14 UNAVAILABLE: connection refused');
      },
    },
  },
} as unknown as Client;

let api: RunningApi;

/** An answer; `error` is set on error answers (DESIGN §7 shape). */
interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

beforeAll(async () => {
  api = await startApi({
    db,
    temporal: temporalDown,
    adminApiKey: ADMIN_KEY,
    currency: 'USD',
    log: () => {},
  });
});

afterAll(async () => {
  await api.close();
  await db.destroy();
});

async function call(
  method: string,
  path: string,
  opts: { key?: string; body?: string; type?: string } = {},
): Promise<Answer> {
  const res = await fetch(api.url + path, {
    method,
    headers: {
      ...(opts.key ? { authorization: `Bearer ${opts.key}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': opts.type ?? 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('startApi', () => {
  it('listens on 127.0.0.1 on a random port', () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect(api.port).toBeGreaterThan(0);
  });
});

describe('health', () => {
  it('/healthz answers while dependencies are down', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('/readyz names the failing dependency', async () => {
    expect(await call('GET', '/readyz')).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'ok', temporal: 'failed' } },
    });
  });
});

describe('authentication', () => {
  it.each([
    ['GET', '/v1/balance'],
    ['GET', '/v1/messages'],
    ['POST', '/v1/messages'],
    ['GET', '/v1/messages/msg_0123456789abcdefghjkmnpqrs'],
    ['POST', '/v1/messages/msg_0123456789abcdefghjkmnpqrs/cancel'],
  ])('%s %s without a key → 401 unauthorized', async (method, path) => {
    const res = await call(method, path);
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('unauthorized');
  });

  it('an unknown key → 401, checked before the body is parsed', async () => {
    const res = await call('POST', '/v1/messages', { key: 'hk_unknown', body: '{not json' });
    expect(res.status).toBe(401);
  });

  it('admin routes: no key or an unknown key → 401', async () => {
    expect((await call('POST', '/v1/accounts', { body: '{"name":"a"}' })).status).toBe(401);
    expect((await call('POST', '/v1/accounts', { key: `${ADMIN_KEY}x`, body: '{"name":"a"}' })).status).toBe(
      401,
    );
    expect((await call('POST', '/v1/accounts', { key: 'Basic', body: '{"name":"a"}' })).status).toBe(401);
  });
});

describe('admin input', () => {
  const admin = { key: ADMIN_KEY };

  it('rejects malformed JSON and unknown fields with 400', async () => {
    const malformed = await call('POST', '/v1/accounts', { ...admin, body: '{"name":' });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const unknown = await call('POST', '/v1/accounts', { ...admin, body: '{"name":"a","plan":"gold"}' });
    expect(unknown).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(unknown.body.error?.message).toContain('plan');
  });

  it('credits: a bad amount → 400 naming the field; an unknown account → 404', async () => {
    const bad = await call('POST', '/v1/accounts/acc_0123456789abcdefghjkmnpqrs/credits', {
      ...admin,
      body: '{"amount":"1.0000001"}',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain('amount');
    for (const id of ['acc_missing', 'acc_0123456789abcdefghjkmnpqrs']) {
      const missing = await call('POST', `/v1/accounts/${id}/credits`, {
        ...admin,
        body: '{"amount":"1.00"}',
      });
      expect(missing, id).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
  });
});

describe('webhooks and unknown routes', () => {
  it('a receipt for an unknown carrier → 404', async () => {
    const res = await call('POST', '/webhooks/carriers/nobody', {
      body: 'MessageSid=SM1&MessageStatus=delivered',
      type: 'application/x-www-form-urlencoded',
    });
    expect(res).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: 'carrier not found' } },
    });
  });

  it('a documented path asked with a method it lacks → 405 with Allow, from the route table', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/v1/messages', 'GET, HEAD, POST'],
      ['PUT', '/v1/messages/msg_whatever', 'GET, HEAD'],
      ['GET', '/v1/webhook-secret/rotate', 'POST'],
      ['PATCH', '/healthz', 'GET, HEAD'],
    ] as const) {
      const res = await fetch(api.url + path, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(await res.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    }
  });

  it('an unknown route → 404 not_found', async () => {
    expect(await call('GET', '/v2/things')).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
  });
});
