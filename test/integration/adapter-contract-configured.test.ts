/**
 * The adapter contract for a carrier added only by configuration: the XML aggregator's adapter is
 * built from `carriers/xml-aggregator.json` through the registry (only its base URL and timeout
 * point at the simulator), and its simulator speaks the aggregator's XML.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAdapter } from '../../adapters/registry.ts';
import { startXmlAggSimulator } from '../../simulators/xml-agg-sim.ts';
import { describeAdapterContract } from '../support/adapter-contract.ts';

const root = join(import.meta.dirname, '../..');
const carrierFile = JSON.parse(readFileSync(join(root, 'carriers/xml-aggregator.json'), 'utf8')) as {
  id: string;
  kind: string;
  config: {
    auth: { username: string; password: string };
    receipts: { auth: { secret: string } };
  } & Record<string, unknown>;
};
const { config } = carrierFile;
const CREDS = {
  username: config.auth.username,
  password: config.auth.password,
  webhookSecret: config.receipts.auth.secret,
};
/** HMAC-SHA256 (hex) of dlr-delivered.xml under the definition's receipt secret. */
const DELIVERED_SIGNATURE = 'sha256=cac9221b75c73feeeb0b509369b6484e207064eb912bc2e6936a6793e18c3148';
const FIXTURE_MID = 'msg_0123456789abcdefghjkmnpqrs';
const XML = { 'content-type': 'text/xml; charset=utf-8' };

describeAdapterContract('xml-aggregator', async () => {
  const sim = await startXmlAggSimulator({ credentials: CREDS, seed: 4 });
  const fromFile = (overrides: Record<string, unknown>) =>
    createAdapter({ id: carrierFile.id, kind: carrierFile.kind, config: { ...config, ...overrides } });
  return {
    sim,
    adapter: (o = {}) =>
      fromFile({
        baseUrl: o.baseUrl ?? sim.url,
        timeoutMs: o.timeoutMs ?? 2_000,
        ...(o.wrongCredentials ? { auth: { ...config.auth, password: 'not-the-password' } } : {}),
      }),
    fixtureAdapter: () => fromFile({}),
    carrierMessageId: /^[0-9A-F]{16}$/,
    priceMicros: 6_000n,
    receiptAuthHeaders: ['x-signature'],
    fixturesDir: join(root, 'test/fixtures/xml-aggregator'),
    replies: [
      {
        file: 'reply-ok.xml',
        status: 200,
        headers: XML,
        expect: { ok: true, carrierMessageId: '0A0000000123ABCD1', segments: 1, priceMicros: 6_000n },
      },
      {
        file: 'reply-multipart.xml',
        status: 200,
        headers: XML,
        expect: { ok: true, carrierMessageId: '0A0000000123ABCD1', segments: 2, priceMicros: 12_000n },
      },
      {
        file: 'reply-status-1-throttled.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'retry', code: 'throttled', carrierCode: '1', retryAfterMs: 1_000 },
      },
      {
        file: 'reply-status-3-invalid-to.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'permanent', code: 'invalid_request', carrierCode: '3' },
      },
      {
        file: 'reply-status-4-bad-credentials.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'failover', code: 'auth_failed', carrierCode: '4' },
      },
      {
        file: 'reply-status-5-internal-error.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'retry', carrierCode: '5' },
      },
      {
        file: 'reply-status-7-number-barred.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'permanent', code: 'number_barred', carrierCode: '7' },
      },
      {
        file: 'reply-status-9-insufficient-credit.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'failover', code: 'insufficient_credit', carrierCode: '9' },
      },
      {
        file: 'reply-status-99-unknown.xml',
        status: 200,
        headers: XML,
        expect: { ok: false, class: 'failover', carrierCode: '99' },
      },
      {
        file: 'reply-status-5-internal-error.xml',
        status: 503,
        headers: { ...XML, 'retry-after': '4' },
        expect: { ok: false, class: 'retry', carrierCode: '5', retryAfterMs: 4_000 },
      },
    ],
    receipts: [
      {
        file: 'dlr-delivered.xml',
        contentType: 'application/xml',
        path: `/webhooks/carriers/xml-aggregator?mid=${FIXTURE_MID}`,
        headers: { 'x-signature': DELIVERED_SIGNATURE },
        signed: true,
        expect: {
          carrierMessageId: '0A0000000123ABCD1',
          messageId: FIXTURE_MID,
          status: 'delivered',
          carrierStatus: 'delivered',
        },
      },
      {
        file: 'dlr-failed.xml',
        contentType: 'text/xml',
        expect: {
          status: 'undelivered',
          carrierStatus: 'failed',
          errorCode: '2',
          errorMessage: 'Absent subscriber - temporary',
        },
      },
      {
        file: 'dlr-rejected.xml',
        contentType: 'application/xml',
        expect: { status: 'failed', carrierStatus: 'rejected', errorCode: '6' },
      },
      {
        file: 'dlr-expired.xml',
        contentType: 'application/xml',
        expect: { status: 'expired', errorCode: '1' },
      },
      { file: 'dlr-buffered.xml', contentType: 'application/xml', expect: { status: 'enroute' } },
    ],
  };
});
