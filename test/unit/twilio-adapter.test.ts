import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  classifyTwilioError,
  createTwilioAdapter,
  interpretTwilioReply,
  parseTwilioReceipts,
  twilioSignature,
  twilioValidity,
  verifyTwilioRequest,
} from '../../adapters/twilio.ts';
import { type InboundHttp, ReceiptParseError, type SubmitRequest } from '../../adapters/types.ts';

const reply = (status: number, body: string, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  text: body,
  incomplete: false,
});

describe('twilioSignature', () => {
  it("matches Twilio's published test vector", () => {
    const params = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+12349013030',
      Digits: '1234',
      From: '+12349013030',
      To: '+18005551212',
    };
    expect(twilioSignature('https://mycompany.com/myapp.php?foo=1&bar=2', params, '12345')).toBe(
      '0/KCTR6DLpKmkAf8muzZqo1nDgQ=',
    );
  });

  it('sorts parameters, so their order on the wire does not matter', () => {
    const a = twilioSignature(
      'https://x.test/h',
      [
        ['b', '2'],
        ['a', '1'],
      ],
      't',
    );
    const b = twilioSignature(
      'https://x.test/h',
      [
        ['a', '1'],
        ['b', '2'],
      ],
      't',
    );
    expect(a).toBe(b);
  });
});

describe('verifyTwilioRequest', () => {
  const url = 'https://herald.example/webhooks/carriers/twilio?mid=msg_1';
  const body = 'MessageSid=SM1&MessageStatus=delivered&To=%2B14155550100';
  const signed = (u: string): InboundHttp => ({
    method: 'POST',
    url,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(u, new URLSearchParams(body), 'tok'),
    },
    rawBody: body,
  });

  it('accepts a correctly signed callback and refuses a changed one', () => {
    expect(verifyTwilioRequest(signed(url), 'tok')).toBe(true);
    expect(verifyTwilioRequest(signed(url), 'other-token')).toBe(false);
    expect(verifyTwilioRequest({ ...signed(url), rawBody: `${body}&Extra=1` }, 'tok')).toBe(false);
    expect(verifyTwilioRequest({ ...signed(url), headers: {} }, 'tok')).toBe(false);
    expect(verifyTwilioRequest({ ...signed(url), headers: { 'x-twilio-signature': 'short' } }, 'tok')).toBe(
      false,
    );
  });

  it('accepts a signature computed with the default port spelled out', () => {
    expect(
      verifyTwilioRequest(signed('https://herald.example:443/webhooks/carriers/twilio?mid=msg_1'), 'tok'),
    ).toBe(true);
  });

  it('checks bodySHA256 for JSON callbacks', () => {
    const json = '{"MessageSid":"SM1"}';
    const sha = createHash('sha256').update(json).digest('hex');
    const u = `https://herald.example/hook?bodySHA256=${sha}`;
    const req: InboundHttp = {
      method: 'POST',
      url: u,
      headers: { 'content-type': 'application/json', 'x-twilio-signature': twilioSignature(u, [], 'tok') },
      rawBody: json,
    };
    expect(verifyTwilioRequest(req, 'tok')).toBe(true);
    expect(verifyTwilioRequest({ ...req, rawBody: '{"MessageSid":"SM2"}' }, 'tok')).toBe(false);
  });
});

describe('submit', () => {
  afterEach(() => vi.unstubAllGlobals());

  const req: SubmitRequest = {
    messageId: 'msg_1',
    to: '+14155550100',
    from: '+14155552345',
    body: 'héllo',
    encoding: 'GSM-7',
    segments: 1,
    validitySeconds: 86_400,
    statusCallbackUrl: 'https://herald.example/webhooks/carriers/twilio?mid=msg_1',
  };

  it('posts the documented form fields with Basic auth, clamping ValidityPeriod', async () => {
    const fetchMock = vi.fn(
      async (_url: string | URL | Request, _init?: RequestInit) =>
        new Response(JSON.stringify({ sid: 'SM0123', status: 'queued', num_segments: '1', price: null }), {
          status: 201,
        }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const adapter = createTwilioAdapter({
      accountSid: 'AC1',
      authToken: 'tok',
      baseUrl: 'https://api.test/',
    });
    const r = await adapter.submit(req);
    expect(r).toEqual({ ok: true, carrierMessageId: 'SM0123', segments: 1 });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('https://api.test/2010-04-01/Accounts/AC1/Messages.json');
    expect(init?.method).toBe('POST');
    const headers = new Headers(init?.headers);
    expect(headers.get('authorization')).toBe(`Basic ${Buffer.from('AC1:tok').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(String(init?.body)))).toEqual({
      To: req.to,
      From: req.from,
      Body: req.body,
      StatusCallback: req.statusCallbackUrl,
      ValidityPeriod: '36000',
    });
  });

  it('turns a refused connection into failover and never throws', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    });
    const r = await createTwilioAdapter({ accountSid: 'AC1', authToken: 'tok' }).submit(req);
    expect(r).toMatchObject({ ok: false, error: { class: 'failover', carrierCode: 'ECONNREFUSED' } });
  });
});

describe('twilioValidity', () => {
  it("clamps to Twilio's 1..36000 seconds", () => {
    expect(twilioValidity(0)).toBe(1);
    expect(twilioValidity(59.9)).toBe(59);
    expect(twilioValidity(1e9)).toBe(36_000);
    expect(twilioValidity(Number.NaN)).toBe(36_000);
  });
});

describe('classifyTwilioError', () => {
  const cases: Array<[number, number, string, string]> = [
    [400, 21211, 'permanent', 'invalid_number'],
    [400, 21614, 'permanent', 'invalid_number'],
    [400, 21612, 'permanent', 'unreachable_number'],
    [400, 21610, 'permanent', 'opted_out'],
    [400, 21408, 'failover', 'route_unsupported'],
    [401, 20003, 'failover', 'auth_failed'],
    [429, 20429, 'retry', 'throttled'],
    [500, 20500, 'retry', 'carrier_error'],
    [400, 99999, 'failover', 'carrier_rejected'],
    [503, 99999, 'retry', 'carrier_error'],
  ];
  for (const [status, code, cls, ours] of cases) {
    it(`${status} / ${code} → ${cls}`, () => {
      const e = classifyTwilioError(status, { code, message: 'text from Twilio' }, 1_000);
      expect(e).toMatchObject({
        class: cls,
        code: ours,
        carrierCode: String(code),
        message: 'text from Twilio',
      });
      if (cls === 'retry') expect(e.retryAfterMs).toBe(1_000);
    });
  }

  it('falls back on the HTTP status when the body is unreadable', () => {
    expect(classifyTwilioError(502, undefined).class).toBe('retry');
    expect(classifyTwilioError(403, undefined).class).toBe('failover');
  });
});

describe('interpretTwilioReply', () => {
  it('reads num_segments (a string) and a negative price as a positive total', () => {
    const r = interpretTwilioReply(
      reply(201, JSON.stringify({ sid: 'SMabc', status: 'queued', num_segments: '2', price: '-0.01580' })),
    );
    expect(r).toEqual({ ok: true, carrierMessageId: 'SMabc', segments: 2, priceMicros: 15_800n });
  });

  it('a 2xx without a sid is ambiguous; a 429 honours Retry-After', () => {
    expect(interpretTwilioReply(reply(201, '{"status":"queued"}'))).toMatchObject({
      ok: false,
      error: { class: 'ambiguous' },
    });
    const throttled = interpretTwilioReply(
      reply(429, JSON.stringify({ code: 20429, message: 'Too Many Requests', status: 429 }), {
        'retry-after': '3',
      }),
    );
    expect(throttled).toMatchObject({
      ok: false,
      error: { class: 'retry', retryAfterMs: 3_000, carrierCode: '20429' },
    });
  });
});

describe('parseTwilioReceipts', () => {
  const callback = (
    fields: Record<string, string>,
    url = 'https://h.example/hook?mid=msg_9',
  ): InboundHttp => ({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    rawBody: new URLSearchParams(fields).toString(),
  });

  const statuses: Array<[string, string | undefined, string]> = [
    ['delivered', undefined, 'delivered'],
    ['undelivered', '30003', 'undelivered'],
    ['failed', '30008', 'failed'],
    ['failed', '30036', 'expired'],
    ['sent', undefined, 'enroute'],
    ['queued', undefined, 'enroute'],
    ['sending', undefined, 'enroute'],
    ['accepted', undefined, 'enroute'],
    ['something-new', undefined, 'enroute'],
  ];
  for (const [word, code, ours] of statuses) {
    it(`${word}${code ? ` (${code})` : ''} → ${ours}`, () => {
      const [r] = parseTwilioReceipts(
        callback({ MessageSid: 'SM1', MessageStatus: word, ...(code ? { ErrorCode: code } : {}) }),
      );
      expect(r).toMatchObject({
        carrierMessageId: 'SM1',
        messageId: 'msg_9',
        status: ours,
        carrierStatus: word,
      });
      if (code) expect(r?.errorCode).toBe(code);
    });
  }

  it('falls back on the legacy SmsSid / SmsStatus fields', () => {
    const [r] = parseTwilioReceipts(
      callback({ SmsSid: 'SM2', SmsStatus: 'delivered' }, 'https://h.example/hook'),
    );
    expect(r).toEqual({ carrierMessageId: 'SM2', status: 'delivered', carrierStatus: 'delivered' });
  });

  it('refuses JSON, empty bodies and callbacks without ids', () => {
    expect(() => parseTwilioReceipts({ ...callback({}), rawBody: '' })).toThrow(ReceiptParseError);
    expect(() => parseTwilioReceipts(callback({ MessageStatus: 'delivered' }))).toThrow(ReceiptParseError);
    expect(() => parseTwilioReceipts(callback({ MessageSid: 'SM1' }))).toThrow(ReceiptParseError);
    expect(() =>
      parseTwilioReceipts({
        ...callback({}),
        headers: { 'content-type': 'application/json' },
        rawBody: '{}',
      }),
    ).toThrow(ReceiptParseError);
  });
});
