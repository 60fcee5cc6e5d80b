import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createInfobipAdapter,
  infobipRequestBody,
  infobipValidity,
  parseInfobipReceipts,
} from '../../adapters/infobip.ts';
import { createAdapter } from '../../adapters/registry.ts';
import { type InboundHttp, ReceiptParseError } from '../../adapters/types.ts';

const dir = join(import.meta.dirname, '../fixtures/infobip');
const MID = 'msg_0123456789abcdefghjkmnpqrs';
const SECRET = 'unit-infobip-webhook-secret';

function report(file: string, extra: Partial<InboundHttp> = {}): InboundHttp {
  return {
    method: 'POST',
    url: `https://herald.example/webhooks/carriers/infobip?mid=${MID}`,
    headers: { 'content-type': 'application/json', 'x-herald-webhook-secret': SECRET },
    rawBody: extra.rawBody ?? readFileSync(join(dir, file), 'utf8'),
    ...extra,
  };
}

describe('Infobip request', () => {
  it('is the documented /sms/3/messages shape, carrying our id as messageId and callbackData', () => {
    const body = infobipRequestBody({
      messageId: MID,
      to: '+41793026727',
      from: '+14155550100',
      body: 'Hello',
      encoding: 'GSM-7',
      segments: 1,
      validitySeconds: 600,
      statusCallbackUrl: `https://herald.example/webhooks/carriers/infobip?mid=${MID}`,
    });
    expect(body).toEqual({
      messages: [
        {
          sender: '14155550100',
          destinations: [{ to: '41793026727', messageId: MID }],
          content: { text: 'Hello' },
          options: { validityPeriod: { amount: 600, timeUnit: 'SECONDS' } },
          webhooks: {
            delivery: {
              url: `https://herald.example/webhooks/carriers/infobip?mid=${MID}`,
              intermediateReport: false,
            },
            contentType: 'application/json',
            callbackData: MID,
          },
        },
      ],
      options: { includeSmsCountInResponse: true },
    });
  });

  it('clamps the validity period to 1 minute … 48 hours', () => {
    expect(infobipValidity(5)).toBe(60);
    expect(infobipValidity(3_600.7)).toBe(3_600);
    expect(infobipValidity(10 ** 9)).toBe(172_800);
    expect(infobipValidity(Number.NaN)).toBe(172_800);
  });
});

describe('Infobip delivery reports (fixtures)', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['report-delivered.json', 'delivered', undefined],
    ['report-undeliverable.json', 'undelivered', 'EC_ABSENT_SUBSCRIBER'],
    ['report-expired.json', 'expired', 'EC_ABSENT_SUBSCRIBER_SM'],
    ['report-rejected.json', 'failed', 'EC_UNKNOWN_SUBSCRIBER'],
    ['report-pending.json', 'enroute', undefined],
  ];
  for (const [file, status, errorCode] of cases) {
    it(`${file} → ${status}`, () => {
      const [r, ...rest] = parseInfobipReceipts(report(file));
      expect(rest).toHaveLength(0);
      expect(r).toMatchObject({ carrierMessageId: MID, messageId: MID, status });
      expect(r?.errorCode).toBe(errorCode);
    });
  }

  it('a bulk report → one receipt per result, each matched by its callbackData', () => {
    const receipts = parseInfobipReceipts(report('report-bulk.json'));
    expect(receipts.map((r) => [r.messageId, r.status])).toEqual([
      [MID, 'delivered'],
      ['msg_zyxwvtsrqpnmkjhgfedcba987', 'undelivered'],
    ]);
  });

  it('the URL mid stands in for a missing callbackData only in a single-result report', () => {
    const single = JSON.parse(readFileSync(join(dir, 'report-delivered.json'), 'utf8'));
    delete single.results[0].callbackData;
    expect(parseInfobipReceipts(report('x', { rawBody: JSON.stringify(single) }))[0]?.messageId).toBe(MID);
    const bulk = JSON.parse(readFileSync(join(dir, 'report-bulk.json'), 'utf8'));
    for (const r of bulk.results) delete r.callbackData;
    const parsed = parseInfobipReceipts(report('x', { rawBody: JSON.stringify(bulk) }));
    expect(parsed.map((r) => r.messageId)).toEqual([undefined, undefined]);
  });

  it('malformed reports → ReceiptParseError', () => {
    for (const rawBody of ['', '{', '{"results":[]}', '{"results":[{"messageId":"x"}]}', 'null']) {
      expect(() => parseInfobipReceipts(report('x', { rawBody })), rawBody).toThrow(ReceiptParseError);
    }
    expect(() =>
      parseInfobipReceipts(report('report-delivered.json', { headers: { 'content-type': 'text/xml' } })),
    ).toThrow(ReceiptParseError);
  });
});

describe('Infobip webhook secret', () => {
  const adapter = createInfobipAdapter({
    baseUrl: 'https://x.api.infobip.com',
    apiKey: 'k',
    webhookSecret: SECRET,
  });

  it('accepts the right secret; refuses a wrong, missing or re-addressed one', () => {
    expect(adapter.verify(report('report-delivered.json'))).toBe(true);
    const wrong = report('report-delivered.json');
    expect(
      adapter.verify({ ...wrong, headers: { ...wrong.headers, 'x-herald-webhook-secret': `${SECRET}x` } }),
    ).toBe(false);
    expect(adapter.verify({ ...wrong, headers: { 'content-type': 'application/json' } })).toBe(false);
    expect(
      adapter.verify({ ...wrong, url: 'https://herald.example/webhooks/carriers/infobip?mid=msg_other' }),
    ).toBe(false);
  });

  it('without a configured secret every report passes (as documented)', () => {
    const open = createInfobipAdapter({ baseUrl: 'https://x.api.infobip.com', apiKey: 'k' });
    expect(open.verify(report('report-delivered.json', { headers: {} }))).toBe(true);
  });

  it('the registry builds it and names bad fields', () => {
    expect(
      createAdapter({
        id: 'ib',
        kind: 'infobip',
        config: { baseUrl: 'https://x.api.infobip.com', apiKey: 'k' },
      }).kind,
    ).toBe('infobip');
    expect(() => createAdapter({ id: 'ib', kind: 'infobip', config: { apiKey: 'k' } })).toThrow(
      /carrier "ib" \(infobip\): invalid config: baseUrl/,
    );
    expect(() =>
      createAdapter({
        id: 'ib',
        kind: 'infobip',
        config: { baseUrl: 'https://x', apiKey: 'k', webhookSecret: 'short' },
      }),
    ).toThrow(/webhookSecret/);
  });
});
