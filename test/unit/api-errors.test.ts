import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonBody } from '../../api/body-parsers.ts';
import { ApiError, errorHandler, notFoundHandler, serviceUnavailable } from '../../api/errors.ts';
import type { Logger } from '../../api/log.ts';

const logged: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
const log: Logger = (level, msg, fields) => {
  logged.push({ level, msg, ...(fields ? { fields } : {}) });
};

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.get('/api-error', () => {
    throw new ApiError(409, 'idempotency_conflict', 'key reused', { field: 'x' });
  });
  app.get('/async-api-error', async () => {
    await Promise.resolve();
    throw new ApiError(402, 'insufficient_funds', 'no money');
  });
  app.get('/boom', async () => {
    throw new Error('secret internals at /srv/app.ts:12');
  });
  app.get('/unavailable', () => {
    throw serviceUnavailable('temporal is down', new Error('14 UNAVAILABLE'));
  });
  app.get('/db-terminated', async () => {
    // What pg raises on a checked-out client when its backend is terminated.
    throw new Error('Connection terminated unexpectedly');
  });
  app.get('/db-refused', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  });
  app.post('/echo', jsonBody, (req, res) => {
    res.json({ got: req.body });
  });
  app.use(notFoundHandler);
  app.use(errorHandler(log));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
});

async function call(
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown; type: string | null }> {
  const res = await fetch(base + path, init);
  return { status: res.status, body: await res.json(), type: res.headers.get('content-type') };
}

describe('error middleware', () => {
  it('answers an ApiError with its status and the documented shape', async () => {
    expect(await call('/api-error')).toEqual({
      status: 409,
      type: expect.stringMatching(/^application\/json/),
      body: { error: { code: 'idempotency_conflict', message: 'key reused', details: { field: 'x' } } },
    });
  });

  it('handles errors thrown by async handlers, leaving out empty details', async () => {
    const res = await call('/async-api-error');
    expect(res.status).toBe(402);
    expect(res.body).toStrictEqual({ error: { code: 'insufficient_funds', message: 'no money' } });
  });

  it('hides unexpected errors behind an opaque 500 and logs them', async () => {
    logged.length = 0;
    const res = await call('/boom');
    expect(res).toMatchObject({
      status: 500,
      body: { error: { code: 'internal_error', message: 'internal error' } },
    });
    expect(JSON.stringify(res.body)).not.toContain('secret');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'error', fields: { path: '/boom', status: 500 } });
    expect(String(logged[0]?.fields?.error)).toContain('secret internals');
  });

  it('answers 503 for an unavailable dependency and logs its cause', async () => {
    logged.length = 0;
    const res = await call('/unavailable');
    expect(res).toMatchObject({ status: 503, body: { error: { code: 'service_unavailable' } } });
    expect(String(logged[0]?.fields?.cause)).toContain('14 UNAVAILABLE');
    expect((await fetch(`${base}/unavailable`)).headers.get('retry-after')).toBe('1');
  });

  it('answers a database outage 503 with Retry-After, not 500', async () => {
    for (const path of ['/db-terminated', '/db-refused']) {
      const res = await fetch(base + path);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ error: { code: 'service_unavailable' } });
    }
    // A plain bug stays an opaque 500 without Retry-After.
    const bug = await fetch(`${base}/boom`);
    expect(bug.status).toBe(500);
    expect(bug.headers.get('retry-after')).toBeNull();
  });

  it('maps malformed JSON to 400 invalid_request', async () => {
    const res = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"to": "+1415',
    });
    expect(res).toEqual({
      status: 400,
      type: expect.stringMatching(/^application\/json/),
      body: { error: { code: 'invalid_request', message: 'request body is not valid JSON' } },
    });
  });

  it('rejects a JSON scalar (strict) and a body over 64 kB, without a 500', async () => {
    const scalar = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '"x"',
    });
    expect(scalar).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    const huge = await call('/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'x'.repeat(70_000) }),
    });
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('answers an unknown route with 404 not_found', async () => {
    const res = await call('/nowhere?x=1', { method: 'DELETE' });
    expect(res).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found', message: 'no route for DELETE /nowhere' } },
    });
  });
});
