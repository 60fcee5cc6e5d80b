/** The adapter contract, run against each HTTP adapter and its simulator over real sockets. */
import { join } from 'node:path';
import { createTwilioAdapter } from '../../adapters/twilio.ts';
import { createVonageAdapter } from '../../adapters/vonage.ts';
import { startTwilioSimulator } from '../../simulators/twilio-sim.ts';
import { startVonageSimulator } from '../../simulators/vonage-sim.ts';
import { describeAdapterContract } from '../support/adapter-contract.ts';

const fixtures = join(import.meta.dirname, '../fixtures');

const TWILIO = { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'contract-twilio-token' };
const TWILIO_SID = 'SM3c9f1e2d4b6a8c0e1f3a5b7d9e1c3a5b';

describeAdapterContract('twilio', async () => {
  const sim = await startTwilioSimulator({ credentials: TWILIO, seed: 1 });
  return {
    sim,
    adapter: (o = {}) =>
      createTwilioAdapter({
        baseUrl: o.baseUrl ?? sim.url,
        accountSid: TWILIO.accountSid,
        authToken: o.wrongCredentials ? 'not-the-token' : TWILIO.authToken,
        timeoutMs: o.timeoutMs ?? 2_000,
      }),
    fixtureAdapter: () => createTwilioAdapter({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken }),
    carrierMessageId: /^SM[0-9a-f]{32}$/,
    priceMicros: 7_900n,
    fixturesDir: join(fixtures, 'twilio'),
    replies: [
      {
        file: 'submit-201.json',
        status: 201,
        expect: { ok: true, carrierMessageId: TWILIO_SID, segments: 1 },
      },
      {
        file: 'submit-201-priced-multipart.json',
        status: 201,
        expect: {
          ok: true,
          carrierMessageId: 'SM0a1b2c3d4e5f60718293a4b5c6d7e8f9',
          segments: 3,
          priceMicros: 23_700n,
        },
      },
      {
        file: 'error-21211-invalid-to.json',
        status: 400,
        expect: { ok: false, class: 'permanent', code: 'invalid_number', carrierCode: '21211' },
      },
      {
        file: 'error-21610-unsubscribed.json',
        status: 400,
        expect: { ok: false, class: 'permanent', code: 'opted_out', carrierCode: '21610' },
      },
      {
        file: 'error-21614-not-mobile.json',
        status: 400,
        expect: { ok: false, class: 'permanent', carrierCode: '21614' },
      },
      {
        file: 'error-21612-unreachable.json',
        status: 400,
        expect: { ok: false, class: 'permanent', carrierCode: '21612' },
      },
      {
        file: 'error-21408-region.json',
        status: 400,
        expect: { ok: false, class: 'failover', code: 'route_unsupported', carrierCode: '21408' },
      },
      {
        file: 'error-20003-auth.json',
        status: 401,
        expect: { ok: false, class: 'failover', code: 'auth_failed', carrierCode: '20003' },
      },
      {
        file: 'error-20429-rate-limit.json',
        status: 429,
        headers: { 'retry-after': '2' },
        expect: { ok: false, class: 'retry', code: 'throttled', carrierCode: '20429', retryAfterMs: 2_000 },
      },
      {
        file: 'error-20500-internal.json',
        status: 500,
        expect: { ok: false, class: 'retry', carrierCode: '20500' },
      },
    ],
    receipts: [
      {
        file: 'callback-delivered.txt',
        path: '/webhooks/carriers/twilio?mid=msg_fixture',
        expect: {
          carrierMessageId: TWILIO_SID,
          messageId: 'msg_fixture',
          status: 'delivered',
          carrierStatus: 'delivered',
          at: '2024-02-29T14:15:00.000Z',
        },
      },
      {
        file: 'callback-undelivered-30003.txt',
        expect: { carrierMessageId: TWILIO_SID, status: 'undelivered', errorCode: '30003' },
      },
      { file: 'callback-failed-30008.txt', expect: { status: 'failed', errorCode: '30008' } },
      {
        file: 'callback-expired-30036.txt',
        expect: { status: 'expired', carrierStatus: 'failed', errorCode: '30036' },
      },
      { file: 'callback-sent.txt', expect: { status: 'enroute', carrierStatus: 'sent' } },
    ],
  };
});

const VONAGE = {
  apiKey: 'abcd1234',
  apiSecret: 'contract-vonage-secret',
  signatureSecret: 'contract-sig-secret',
};

describeAdapterContract('vonage', async () => {
  const sim = await startVonageSimulator({ credentials: VONAGE, seed: 2 });
  return {
    sim,
    adapter: (o = {}) =>
      createVonageAdapter({
        baseUrl: o.baseUrl ?? sim.url,
        apiKey: VONAGE.apiKey,
        apiSecret: o.wrongCredentials ? 'not-the-secret' : VONAGE.apiSecret,
        signatureSecret: VONAGE.signatureSecret,
        timeoutMs: o.timeoutMs ?? 2_000,
      }),
    fixtureAdapter: () =>
      createVonageAdapter({
        apiKey: 'abcd1234',
        apiSecret: 'x',
        signatureSecret: 'fixture-signature-secret',
      }),
    carrierMessageId: /^[0-9A-F]{16}$/,
    priceMicros: 6_500n,
    receiptFormats: ['form', 'json', 'get'],
    receiptPerPart: true,
    fixturesDir: join(fixtures, 'vonage'),
    replies: [
      {
        file: 'submit-ok.json',
        status: 200,
        expect: { ok: true, carrierMessageId: '0A0000000123ABCD1', segments: 1, priceMicros: 33_300n },
      },
      {
        file: 'submit-multipart.json',
        status: 200,
        expect: { ok: true, carrierMessageId: '0A0000000123ABCD1', segments: 2, priceMicros: 66_600n },
      },
      {
        file: 'submit-multipart-second-part-throttled.json',
        status: 200,
        expect: { ok: false, class: 'retry', code: 'throttled', carrierCode: '1', retryAfterMs: 250 },
      },
      {
        file: 'status-1-throttled.json',
        status: 200,
        expect: { ok: false, class: 'retry', code: 'throttled', carrierCode: '1', retryAfterMs: 1_000 },
      },
      {
        file: 'status-2-missing-param.json',
        status: 200,
        expect: { ok: false, class: 'permanent', carrierCode: '2' },
      },
      {
        file: 'status-4-bad-credentials.json',
        status: 200,
        expect: { ok: false, class: 'failover', code: 'auth_failed', carrierCode: '4' },
      },
      {
        file: 'status-5-internal-error.json',
        status: 200,
        expect: { ok: false, class: 'retry', carrierCode: '5' },
      },
      {
        file: 'status-7-number-barred.json',
        status: 200,
        expect: { ok: false, class: 'permanent', carrierCode: '7' },
      },
      {
        file: 'status-9-insufficient-credit.json',
        status: 200,
        expect: { ok: false, class: 'failover', code: 'insufficient_credit', carrierCode: '9' },
      },
      {
        file: 'status-15-invalid-sender.json',
        status: 200,
        expect: { ok: false, class: 'permanent', carrierCode: '15' },
      },
      {
        file: 'status-29-non-whitelisted.json',
        status: 200,
        expect: { ok: false, class: 'failover', carrierCode: '29' },
      },
    ],
    receipts: [
      {
        file: 'dlr-delivered.form.txt',
        expect: {
          carrierMessageId: '0A0000000123ABCD1',
          messageId: 'msg_01HZX3K9Q2',
          status: 'delivered',
          at: '2020-01-01T14:00:00.000Z',
        },
      },
      {
        file: 'dlr-delivered-signed.form.txt',
        path: '/webhooks/carriers/vonage?mid=msg_01HZX3K9Q2',
        signed: true,
        expect: { messageId: 'msg_01HZX3K9Q2', status: 'delivered' },
      },
      {
        file: 'dlr-failed.json',
        contentType: 'application/json',
        expect: { status: 'undelivered', carrierStatus: 'failed', errorCode: '2' },
      },
      {
        file: 'dlr-rejected.form.txt',
        expect: { status: 'failed', carrierStatus: 'rejected', errorCode: '6' },
      },
      { file: 'dlr-expired.query.txt', method: 'GET', expect: { status: 'expired', errorCode: '1' } },
      {
        file: 'dlr-buffered.json',
        contentType: 'application/json; charset=utf-8',
        expect: { status: 'enroute' },
      },
    ],
  };
});
