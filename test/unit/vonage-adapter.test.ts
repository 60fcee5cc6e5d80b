import { afterEach, describe, expect, it, vi } from 'vitest';
import { type InboundHttp, ReceiptParseError, type SubmitRequest } from '../../adapters/types.ts';
import {
  classifyVonageStatus,
  createVonageAdapter,
  interpretVonageReply,
  parseVonageReceipts,
  verifyVonageRequest,
  vonageSignature,
  vonageTtl,
} from '../../adapters/vonage.ts';

const reply = (status: number, body: unknown) => ({
  status,
  headers: new Headers(),
  text: typeof body === 'string' ? body : JSON.stringify(body),
  incomplete: false,
});

describe('vonageSignature (md5hash)', () => {
  it("matches the vector in Vonage's SDK tests", () => {
    expect(vonageSignature({ a: '1', b: '2', timestamp: '1461605396' }, 'secret')).toBe(
      '6af838ef94998832dbfc29020b564830',
    );
  });

  it('ignores sig itself and the order of parameters', () => {
    const a = vonageSignature(
      [
        ['b', '2'],
        ['a', '1'],
        ['sig', 'x'],
      ],
      's',
    );
    expect(a).toBe(vonageSignature({ a: '1', b: '2' }, 's'));
  });

  it('replaces & and = inside values before hashing', () => {
    expect(vonageSignature({ a: 'x&y=z' }, 's')).toBe(vonageSignature({ a: 'x_y_z' }, 's'));
  });
});

describe('verifyVonageRequest', () => {
  const fields = { messageId: 'ID1', status: 'delivered', 'client-ref': 'msg_1', timestamp: '1700000000' };
  const form = (extra: Record<string, string>, url = 'https://h.example/hook?mid=msg_1'): InboundHttp => ({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: new URLSearchParams({ ...fields, ...extra }).toString(),
  });
  const sig = vonageSignature(fields, 'sek');

  it('accepts a valid sig (upper or lower case hex) and refuses others', () => {
    expect(verifyVonageRequest(form({ sig }), 'sek')).toBe(true);
    expect(verifyVonageRequest(form({ sig: sig.toUpperCase() }), 'sek')).toBe(true);
    expect(verifyVonageRequest(form({ sig }), 'other')).toBe(false);
    expect(verifyVonageRequest(form({}), 'sek')).toBe(false);
    expect(verifyVonageRequest(form({ sig, status: 'failed' }), 'sek')).toBe(false);
  });

  it('refuses a signed receipt re-addressed to another message id', () => {
    expect(verifyVonageRequest(form({ sig }, 'https://h.example/hook?mid=msg_2'), 'sek')).toBe(false);
  });

  it('verifies JSON and GET receipts too', () => {
    const json: InboundHttp = {
      method: 'POST',
      url: 'https://h.example/hook',
      headers: { 'content-type': 'application/json' },
      rawBody: JSON.stringify({ ...fields, sig }),
    };
    expect(verifyVonageRequest(json, 'sek')).toBe(true);
    const query = new URLSearchParams({ ...fields, sig }).toString();
    expect(
      verifyVonageRequest(
        { method: 'GET', url: `https://h.example/hook?${query}`, headers: {}, rawBody: '' },
        'sek',
      ),
    ).toBe(true);
  });

  it('an adapter without a signature secret accepts unsigned receipts', () => {
    const adapter = createVonageAdapter({ apiKey: 'k', apiSecret: 's' });
    expect(adapter.verify(form({}))).toBe(true);
    const signed = createVonageAdapter({ apiKey: 'k', apiSecret: 's', signatureSecret: 'sek' });
    expect(signed.verify(form({}))).toBe(false);
    expect(signed.verify(form({ sig }))).toBe(true);
  });
});

describe('submit', () => {
  afterEach(() => vi.unstubAllGlobals());
  const req: SubmitRequest = {
    messageId: 'msg_1',
    to: '+447700900000',
    from: '+14155552345',
    body: 'Привет',
    encoding: 'UCS-2',
    segments: 1,
    validitySeconds: 5,
    statusCallbackUrl: 'https://herald.example/webhooks/carriers/vonage?mid=msg_1',
  };

  it('posts the documented form fields', async () => {
    const fetchMock = vi.fn(
      async (_url: string | URL | Request, _init?: RequestInit) =>
        new Response(
          JSON.stringify({
            'message-count': '1',
            messages: [
              { to: '447700900000', 'message-id': 'ID1', status: '0', 'message-price': '0.03330000' },
            ],
          }),
          { status: 200 },
        ),
    );
    vi.stubGlobal('fetch', fetchMock);
    const r = await createVonageAdapter({
      apiKey: 'key',
      apiSecret: 'secret',
      baseUrl: 'https://api.test',
    }).submit(req);
    expect(r).toEqual({
      ok: true,
      carrierMessageId: 'ID1',
      segments: 1,
      receiptParts: 1,
      priceMicros: 33_300n,
    });
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe('https://api.test/sms/json');
    expect(Object.fromEntries(new URLSearchParams(String(init?.body)))).toEqual({
      api_key: 'key',
      api_secret: 'secret',
      from: '14155552345',
      to: '447700900000',
      text: 'Привет',
      type: 'unicode',
      ttl: '20000',
      'status-report-req': '1',
      callback: req.statusCallbackUrl,
      'client-ref': 'msg_1',
    });
  });

  it('keeps an alphanumeric sender and sends GSM-7 as type text', async () => {
    const fetchMock = vi.fn(
      async (_u: string | URL | Request, _i?: RequestInit) => new Response('', { status: 200 }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const r = await createVonageAdapter({ apiKey: 'k', apiSecret: 's' }).submit({
      ...req,
      from: 'Herald',
      encoding: 'GSM-7',
    });
    expect(r).toMatchObject({ ok: false, error: { class: 'ambiguous' } });
    const body = new URLSearchParams(String(fetchMock.mock.calls[0]?.[1]?.body));
    expect(body.get('from')).toBe('Herald');
    expect(body.get('type')).toBe('text');
  });
});

describe('vonageTtl', () => {
  it('converts seconds to ms within 20 000..604 800 000', () => {
    expect(vonageTtl(1)).toBe(20_000);
    expect(vonageTtl(3_600)).toBe(3_600_000);
    expect(vonageTtl(1e9)).toBe(604_800_000);
  });
});

describe('classifyVonageStatus', () => {
  const table: Array<[string, string]> = [
    ['1', 'retry'],
    ['5', 'retry'],
    ['4', 'failover'],
    ['8', 'failover'],
    ['9', 'failover'],
    ['10', 'failover'],
    ['11', 'failover'],
    ['22', 'failover'],
    ['29', 'failover'],
    ['2', 'permanent'],
    ['3', 'permanent'],
    ['6', 'permanent'],
    ['7', 'permanent'],
    ['12', 'permanent'],
    ['15', 'permanent'],
    ['33', 'permanent'],
    ['999', 'failover'],
  ];
  for (const [status, cls] of table) {
    it(`status ${status} → ${cls}`, () => {
      const e = classifyVonageStatus(status, 'text');
      expect(e).toMatchObject({ class: cls, carrierCode: status, message: 'text' });
    });
  }

  it('reads the wait out of a throttled reply, with a default', () => {
    expect(
      classifyVonageStatus('1', 'Throughput Rate Exceeded - please wait [ 400 ] and retry').retryAfterMs,
    ).toBe(400);
    expect(classifyVonageStatus('1', '').retryAfterMs).toBe(1_000);
  });
});

describe('interpretVonageReply', () => {
  it('multi-part: first id, one segment per entry, prices summed', () => {
    const r = interpretVonageReply(
      reply(200, {
        'message-count': '3',
        messages: ['A', 'B', 'C'].map((id) => ({
          'message-id': id,
          status: '0',
          'message-price': '0.00650000',
        })),
      }),
    );
    expect(r).toEqual({
      ok: true,
      carrierMessageId: 'A',
      segments: 3,
      receiptParts: 3,
      priceMicros: 19_500n,
    });
  });

  it('a failing part decides the result', () => {
    const r = interpretVonageReply(
      reply(200, {
        messages: [
          { 'message-id': 'A', status: '0' },
          { status: '7', 'error-text': 'Number barred.' },
        ],
      }),
    );
    expect(r).toMatchObject({
      ok: false,
      error: { class: 'permanent', carrierCode: '7', message: 'Number barred.' },
    });
  });

  it('accepts numeric statuses, omits an unknown price', () => {
    expect(interpretVonageReply(reply(200, { messages: [{ 'message-id': 'A', status: 0 }] }))).toEqual({
      ok: true,
      carrierMessageId: 'A',
      segments: 1,
      receiptParts: 1,
    });
  });

  it('garbage → ambiguous; HTTP errors by status', () => {
    for (const body of ['', 'OK', '{"messages":[]}', '{"messages":[{"status":"0"}]}', '[1,2']) {
      expect(interpretVonageReply(reply(200, body)), body).toMatchObject({
        ok: false,
        error: { class: 'ambiguous' },
      });
    }
    expect(interpretVonageReply(reply(503, 'down'))).toMatchObject({ ok: false, error: { class: 'retry' } });
    expect(interpretVonageReply(reply(401, ''))).toMatchObject({ ok: false, error: { class: 'failover' } });
  });
});

describe('parseVonageReceipts', () => {
  const dlr = (fields: Record<string, string>, url = 'https://h.example/hook'): InboundHttp => ({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: new URLSearchParams(fields).toString(),
  });

  const statuses: Array<[string, string]> = [
    ['delivered', 'delivered'],
    ['expired', 'expired'],
    ['failed', 'undelivered'],
    ['rejected', 'failed'],
    ['accepted', 'enroute'],
    ['buffered', 'enroute'],
    ['unknown', 'enroute'],
  ];
  for (const [word, ours] of statuses) {
    it(`${word} → ${ours}`, () => {
      const [r] = parseVonageReceipts(
        dlr({ messageId: 'ID1', status: word, 'err-code': '0', 'client-ref': 'msg_5' }),
      );
      expect(r).toMatchObject({
        carrierMessageId: 'ID1',
        messageId: 'msg_5',
        status: ours,
        carrierStatus: word,
      });
      expect(r?.errorCode).toBeUndefined();
    });
  }

  it('keeps err-code with its text and prefers the callback URL mid', () => {
    const [r] = parseVonageReceipts(
      dlr(
        { messageId: 'ID1', status: 'failed', 'err-code': '3', 'client-ref': 'msg_5' },
        'https://h/x?mid=msg_full',
      ),
    );
    expect(r).toMatchObject({
      messageId: 'msg_full',
      errorCode: '3',
      errorMessage: 'Absent subscriber - permanent',
    });
  });

  it('reads JSON (numbers too) and GET query receipts', () => {
    const [j] = parseVonageReceipts({
      method: 'POST',
      url: 'https://h/x',
      headers: { 'content-type': 'application/json' },
      rawBody: JSON.stringify({ messageId: 'ID2', status: 'delivered', 'err-code': 0, scts: '2401021530' }),
    });
    expect(j).toEqual({
      carrierMessageId: 'ID2',
      status: 'delivered',
      carrierStatus: 'delivered',
      at: '2024-01-02T15:30:00.000Z',
    });
    const [g] = parseVonageReceipts({
      method: 'GET',
      url: 'https://h/x?mid=msg_7&messageId=ID3&status=expired&err-code=1',
      headers: {},
      rawBody: '',
    });
    expect(g).toMatchObject({
      carrierMessageId: 'ID3',
      messageId: 'msg_7',
      status: 'expired',
      errorCode: '1',
    });
  });

  it('refuses what is not a DLR', () => {
    const bad: InboundHttp[] = [
      dlr({}),
      { ...dlr({}), rawBody: '' },
      dlr({ messageId: 'ID1' }),
      dlr({ status: 'delivered' }),
      { ...dlr({}), headers: { 'content-type': 'application/json' }, rawBody: '[1]' },
      { ...dlr({}), headers: { 'content-type': 'application/json' }, rawBody: '{"messageId":' },
      { ...dlr({}), headers: { 'content-type': 'text/xml' }, rawBody: '<x/>' },
    ];
    for (const req of bad) expect(() => parseVonageReceipts(req), req.rawBody).toThrow(ReceiptParseError);
  });
});
