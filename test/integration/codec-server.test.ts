/**
 * The codec server over HTTP: the Temporal codec-server JSON format, the token (header or path),
 * CORS for the UI's origin only, and clear errors.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec } from '../../codec/aes-gcm-codec.ts';
import { generateKey } from '../../codec/keys.ts';
import { type RunningCodecServer, startCodecServer } from '../../codec/server.ts';

const TOKEN = 'codec-test-token-0123456789';
const UI_ORIGIN = 'http://127.0.0.1:8233';
const codec = new AesGcmPayloadCodec({ keys: new Map([['k1', generateKey()]]), currentKeyId: 'k1' });
let server: RunningCodecServer;

beforeAll(async () => {
  server = await startCodecServer({ codec, token: TOKEN, port: 0, allowedOrigins: [UI_ORIGIN] });
});
afterAll(() => server.close());

const wire = (value: unknown) => {
  const p = defaultPayloadConverter.toPayload(value);
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p.data!).toString('base64'),
  };
};

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('codec server', () => {
  it('encodes then decodes in the codec-server JSON format, with the bearer token', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const encoded = await post('/encode', { payloads: [wire({ body: 'Your code is 123456' })] }, auth);
    expect(encoded.status).toBe(200);
    const sealed = (await encoded.json()) as {
      payloads: Array<{ metadata: Record<string, string>; data: string }>;
    };
    expect(Buffer.from(sealed.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.payloads[0]!.data, 'base64').toString('latin1')).not.toContain('123456');

    const decoded = await post('/decode', sealed, auth);
    expect(decoded.status).toBe(200);
    const opened = (await decoded.json()) as {
      payloads: Array<{ metadata: Record<string, string>; data: string }>;
    };
    expect(JSON.parse(Buffer.from(opened.payloads[0]!.data, 'base64').toString())).toEqual({
      body: 'Your code is 123456',
    });
  });

  it('takes the token as a path prefix, as the UI calls `<endpoint>/decode?…`', async () => {
    const [sealed] = await codec.encode([defaultPayloadConverter.toPayload('via path')]);
    const body = {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
          ),
          data: Buffer.from(sealed!.data!).toString('base64'),
        },
      ],
    };
    const res = await post(`/t/${TOKEN}/decode?preserveStorageRefs=true`, body, { origin: UI_ORIGIN });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    const out = (await res.json()) as { payloads: Array<{ data: string }> };
    expect(JSON.parse(Buffer.from(out.payloads[0]!.data, 'base64').toString())).toBe('via path');
    expect(server.endpointWithToken).toBe(`${server.url}/t/${TOKEN}`);
  });

  it('answers 401 in plain text without the right token (so the UI keeps ciphertext)', async () => {
    const payloads = { payloads: [wire('x')] };
    for (const res of [
      await post('/decode', payloads),
      await post('/decode', payloads, { authorization: 'Bearer wrong-token-0123456789' }),
      await post('/decode', payloads, { authorization: `Bearer ${TOKEN}x` }),
      await post('/t/not-the-token/decode', payloads),
      await post('/encode', payloads, { authorization: TOKEN }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('text/plain');
      await expect(res.clone().json()).rejects.toThrow();
    }
  });

  it('answers the CORS preflight for the UI origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/t/${TOKEN}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
        },
      });
    const ok = await preflight(UI_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Namespace');
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('rejects bad bodies, methods and paths clearly', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await post('/decode', 'not json', auth)).status).toBe(400);
    expect((await post('/decode', { payloads: [{ data: '***' }] }, auth)).status).toBe(400);
    expect((await post('/other', { payloads: [] }, auth)).status).toBe(404);
    expect((await fetch(`${server.url}/decode`, { headers: auth })).status).toBe(405);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // Encrypted under a key this server does not hold: 422, not a crash.
    const stranger = new AesGcmPayloadCodec({ keys: new Map([['k9', generateKey()]]), currentKeyId: 'k9' });
    const [sealed] = await stranger.encode([defaultPayloadConverter.toPayload('x')]);
    const res = await post(
      '/decode',
      {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(sealed!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
            ),
            data: Buffer.from(sealed!.data!).toString('base64'),
          },
        ],
      },
      auth,
    );
    expect(res.status).toBe(422);
    expect(await res.text()).toMatch(/no key with id "k9"/);
  });

  it('refuses a short token at start', async () => {
    await expect(startCodecServer({ codec, token: 'short', port: 0 })).rejects.toThrow(/at least 16/);
  });
});
