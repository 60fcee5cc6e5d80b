/** The adapter contract for Infobip against its simulator, plus bulk delivery reports over a socket. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInfobipAdapter } from '../../adapters/infobip.ts';
import type { InboundHttp } from '../../adapters/types.ts';
import { startInfobipSimulator } from '../../simulators/infobip-sim.ts';
import type { RunningSimulator } from '../../simulators/sim-core.ts';
import { describeAdapterContract } from '../support/adapter-contract.ts';

const fixtures = join(import.meta.dirname, '../fixtures/infobip');
const INFOBIP = { apiKey: 'contract-infobip-key', webhookSecret: 'contract-infobip-webhook-secret' };
const FIXTURE_MID = 'msg_0123456789abcdefghjkmnpqrs';

describeAdapterContract('infobip', async () => {
  const sim = await startInfobipSimulator({ credentials: INFOBIP, seed: 3 });
  return {
    sim,
    adapter: (o = {}) =>
      createInfobipAdapter({
        baseUrl: o.baseUrl ?? sim.url,
        apiKey: o.wrongCredentials ? 'not-the-key' : INFOBIP.apiKey,
        webhookSecret: INFOBIP.webhookSecret,
        timeoutMs: o.timeoutMs ?? 2_000,
      }),
    fixtureAdapter: () =>
      createInfobipAdapter({
        baseUrl: 'https://xyz.api.infobip.com',
        apiKey: 'k',
        webhookSecret: 'fixture-webhook-secret-0001',
      }),
    // We hand Infobip our own message id, and it keeps it.
    carrierMessageId: /^msg_infobip_/,
    priceMicros: 7_000n,
    pricedReplies: false,
    receiptFormats: ['json'],
    receiptAuthHeaders: ['x-herald-webhook-secret'],
    signsBody: false,
    fixturesDir: fixtures,
    replies: [
      {
        file: 'send-200-pending.json',
        status: 200,
        expect: { ok: true, carrierMessageId: FIXTURE_MID, segments: 1 },
      },
      {
        file: 'send-200-pending-multipart.json',
        status: 200,
        expect: { ok: true, carrierMessageId: FIXTURE_MID, segments: 3 },
      },
      {
        file: 'send-200-rejected-duplicate-message-id.json',
        status: 200,
        expect: { ok: true, carrierMessageId: FIXTURE_MID },
      },
      {
        file: 'send-200-rejected-destination.json',
        status: 200,
        expect: {
          ok: false,
          class: 'permanent',
          code: 'invalid_number',
          carrierCode: 'REJECTED_DESTINATION',
        },
      },
      {
        file: 'send-200-rejected-dnd.json',
        status: 200,
        expect: { ok: false, class: 'permanent', code: 'opted_out', carrierCode: 'REJECTED_DND' },
      },
      {
        file: 'send-200-rejected-not-enough-credits.json',
        status: 200,
        expect: {
          ok: false,
          class: 'failover',
          code: 'insufficient_credit',
          carrierCode: 'REJECTED_NOT_ENOUGH_CREDITS',
        },
      },
      {
        file: 'send-200-rejected-system-error.json',
        status: 200,
        expect: { ok: false, class: 'retry', carrierCode: 'REJECTED_SYSTEM_ERROR' },
      },
      {
        file: 'error-400-invalid-destination.json',
        status: 400,
        expect: { ok: false, class: 'permanent', code: 'invalid_number', carrierCode: 'E400' },
      },
      {
        file: 'error-400-bad-request.json',
        status: 400,
        expect: { ok: false, class: 'failover', code: 'invalid_request', carrierCode: 'E400' },
      },
      {
        file: 'error-401-unauthorized.json',
        status: 401,
        expect: { ok: false, class: 'failover', code: 'auth_failed', carrierCode: 'E401' },
      },
      {
        file: 'error-429-too-many-requests.json',
        status: 429,
        headers: { 'retry-after': '3' },
        expect: { ok: false, class: 'retry', code: 'throttled', carrierCode: 'E429', retryAfterMs: 3_000 },
      },
      {
        file: 'error-500-internal.json',
        status: 500,
        expect: { ok: false, class: 'retry', carrierCode: 'E500' },
      },
    ],
    receipts: [
      {
        file: 'report-delivered.json',
        contentType: 'application/json',
        expect: {
          carrierMessageId: FIXTURE_MID,
          messageId: FIXTURE_MID,
          status: 'delivered',
          carrierStatus: 'DELIVERED_TO_HANDSET',
          at: '2019-11-09T16:00:00.000Z',
        },
      },
      {
        file: 'report-undeliverable.json',
        contentType: 'application/json',
        expect: { status: 'undelivered', errorCode: 'EC_ABSENT_SUBSCRIBER' },
      },
      {
        file: 'report-expired.json',
        contentType: 'application/json',
        expect: { status: 'expired', carrierStatus: 'EXPIRED_EXPIRED', errorCode: 'EC_ABSENT_SUBSCRIBER_SM' },
      },
      {
        file: 'report-rejected.json',
        contentType: 'application/json',
        expect: {
          status: 'failed',
          errorCode: 'EC_UNKNOWN_SUBSCRIBER',
          errorMessage: 'Unknown Subscriber (permanent)',
        },
      },
      {
        file: 'report-pending.json',
        contentType: 'application/json; charset=utf-8',
        expect: { status: 'enroute', carrierStatus: 'PENDING_ENROUTE' },
      },
    ],
  };
});

describe('Infobip bulk delivery reports', () => {
  let sim: RunningSimulator;
  let server: http.Server;
  let base = '';
  const posts: InboundHttp[] = [];

  beforeAll(async () => {
    sim = await startInfobipSimulator({
      credentials: INFOBIP,
      batchReceipts: true,
      config: { receiptDelayMs: 150 },
    });
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      posts.push({
        method: 'POST',
        url: `${base}${req.url}`,
        headers,
        rawBody: Buffer.concat(chunks).toString(),
      });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sim?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('several reports in one POST → one receipt each, every one matched to its own message', async () => {
    const adapter = createInfobipAdapter({ baseUrl: sim.url, ...INFOBIP });
    const mids = ['msg_bulk_a', 'msg_bulk_b', 'msg_bulk_c'];
    for (const mid of mids) {
      const r = await adapter.submit({
        messageId: mid,
        to: '+41793026727',
        from: 'Herald',
        body: 'bulk',
        encoding: 'GSM-7',
        segments: 1,
        validitySeconds: 600,
        statusCallbackUrl: `${base}/webhooks/carriers/infobip?mid=${mid}`,
      });
      expect(r).toMatchObject({ ok: true, carrierMessageId: mid });
    }
    const deadline = Date.now() + 3_000;
    while (sim.stats().receiptsSent < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(posts).toHaveLength(1);
    const [post] = posts;
    if (!post) throw new Error('unreachable');
    expect(adapter.verify(post)).toBe(true);
    const receipts = adapter.parseReceipts(post);
    expect(receipts.map((r) => [r.messageId, r.carrierMessageId, r.status])).toEqual(
      mids.map((m) => [m, m, 'delivered']),
    );
  });
});
