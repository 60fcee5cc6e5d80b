import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfiguredCarrier, createConfiguredHttpAdapter } from '../../adapters/configured-http.ts';
import { itemsAt, parseXmlSafe, scalarAt, valueAt } from '../../adapters/payload.ts';
import { createAdapter } from '../../adapters/registry.ts';
import { escapeXml, renderJson } from '../../adapters/template.ts';
import { type InboundHttp, ReceiptParseError, type SubmitRequest } from '../../adapters/types.ts';
import { hmacSha256 } from '../../adapters/webhook-auth.ts';

const root = join(import.meta.dirname, '../..');
const xmlCarrier = JSON.parse(readFileSync(join(root, 'carriers/xml-aggregator.json'), 'utf8')) as {
  id: string;
  kind: string;
  config: ConfiguredCarrier;
};
const MID = 'msg_0123456789abcdefghjkmnpqrs';

/** A JSON-speaking carrier, to show the same module serves a different dialect. */
const jsonCarrier = (baseUrl: string, auth: ConfiguredCarrier['auth'] = { type: 'bearer', token: 'tok-1' }) =>
  ({
    name: 'JSON Carrier',
    baseUrl,
    variables: { account: 'acct 7' },
    auth,
    request: {
      path: '/v1/send',
      format: 'json',
      template: {
        account: '{{var.account}}',
        to: '{{toDigits}}',
        text: '{{body}}',
        ttl: '{{validitySeconds}}',
        ref: '{{messageId}}',
        hook: '{{callbackUrl}}',
      },
      headers: { 'X-Api-Version': '2' },
    },
    reply: {
      format: 'json',
      messageIdPath: 'result.id',
      statusPath: 'code',
      errorTextPath: 'error',
      segmentsPath: 'result.parts',
      pricePath: 'result.cost',
      codes: { accepted: ['OK'], retry: ['BUSY'], permanent: ['BAD_NUMBER'] },
      codeNames: { BAD_NUMBER: 'invalid_number' },
    },
    receipts: {
      format: 'json',
      itemsPath: 'reports',
      carrierMessageIdPath: 'id',
      messageIdPath: 'ref',
      statusPath: 'state',
      errorCodePath: 'reason',
      statuses: { DELIVRD: 'delivered', UNDELIV: 'undelivered' },
      auth: { type: 'shared-secret', header: 'X-Hook-Token', secret: 'hook-secret-0123456789' },
    },
  }) satisfies ConfiguredCarrier;

const request = (over: Partial<SubmitRequest> = {}): SubmitRequest => ({
  messageId: MID,
  to: '+447700900123',
  from: 'Herald',
  body: 'Tom & Jerry <3 "quotes"',
  encoding: 'GSM-7',
  segments: 1,
  validitySeconds: 600,
  statusCallbackUrl: `https://herald.example/webhooks/carriers/c?mid=${MID}&x=1`,
  ...over,
});

describe('payload paths', () => {
  const doc = parseXmlSafe(
    `<r><messages count='2'><message><id>007</id></message><message><id>008</id></message></messages><t a="1">txt</t></r>`,
  );

  it('walk arrays as their first element unless indexed, read attributes and text', () => {
    expect(scalarAt(doc, 'r.messages.message.id')).toBe('007');
    expect(scalarAt(doc, 'r.messages.message[1].id')).toBe('008');
    expect(scalarAt(doc, 'r.messages.@_count')).toBe('2');
    expect(scalarAt(doc, 'r.t')).toBe('txt');
    expect(scalarAt(doc, 'r.nothing.here')).toBeUndefined();
    expect(itemsAt(doc, 'r.messages.message')).toHaveLength(2);
    expect(valueAt({ a: [{ b: 1 }] }, 'a.b')).toBe(1);
    expect(scalarAt({ a: { b: 12 } }, 'a.b')).toBe('12');
  });

  it('refuse truncated XML, garbage and DOCTYPEs', () => {
    expect(parseXmlSafe('<a><b>1</b>')).toBeUndefined();
    expect(parseXmlSafe('hello')).toBeUndefined();
    expect(parseXmlSafe('')).toBeUndefined();
    expect(parseXmlSafe('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toBeUndefined();
  });
});

describe('templates', () => {
  it('XML values are escaped and read back as sent', () => {
    const text = `a<b>&"c"'d'\u0001`;
    const doc = parseXmlSafe(`<x y="${escapeXml(text)}">${escapeXml(text)}</x>`);
    expect(scalarAt(doc, 'x.#text')).toBe(`a<b>&"c"'d'`);
    expect(scalarAt(doc, 'x.@_y')).toBe(`a<b>&"c"'d'`);
  });

  it('a JSON leaf that is one numeric placeholder becomes a number', () => {
    expect(
      renderJson({ n: '{{ validitySeconds }}', s: 'v={{validitySeconds}}' }, { validitySeconds: '60' }),
    ).toEqual({
      n: 60,
      s: 'v=60',
    });
  });
});

describe('definition validation', () => {
  /** The definition as loose JSON, to break one field at a time. */
  type Loose = Record<string, unknown> & {
    auth: unknown;
    request: Record<string, unknown>;
    reply: Record<string, unknown> & { codes: { retry: string[] } };
    receipts: Record<string, unknown>;
  };
  const bad = (mutate: (c: Loose) => void) => {
    const config = structuredClone(xmlCarrier.config) as unknown as Loose;
    mutate(config);
    return () => createAdapter({ id: 'xml-agg', kind: 'http-config', config });
  };

  it('the shipped definition is valid', () => {
    expect(createAdapter(xmlCarrier).kind).toBe('http-config');
  });

  it('names the bad field path', () => {
    expect(
      bad((c) => {
        delete c.reply.messageIdPath;
      }),
    ).toThrow(/^carrier "xml-agg" \(http-config\): invalid config: reply\.messageIdPath: /);
    expect(bad((c) => (c.reply.messageIdPth = 'x'))).toThrow(/reply: Unrecognized key: "messageIdPth"/);
    expect(bad((c) => (c.auth = { type: 'basic', username: 'u' }))).toThrow(/auth\.password/);
    expect(bad((c) => (c.receipts.statuses = { ok: 'fine' }))).toThrow(/receipts\.statuses\.ok/);
    expect(bad((c) => (c.reply.statusPath = 'a..b'))).toThrow(/reply\.statusPath: not a path/);
    expect(bad((c) => (c.baseUrl = 'ftp://x'))).toThrow(/baseUrl/);
  });

  it('refuses unknown placeholders, broken XML templates and a code listed twice', () => {
    expect(bad((c) => (c.request.template = '<a>{{recipient}}</a>'))).toThrow(
      /request\.template: unknown placeholder \{\{recipient\}\}/,
    );
    expect(bad((c) => (c.request.template = '<a>{{var.nope}}</a>'))).toThrow(/unknown variable "nope"/);
    expect(bad((c) => (c.request.template = '<a>{{to}}</b>'))).toThrow(/not well-formed XML/);
    expect(bad((c) => c.reply.codes.retry.push('7'))).toThrow(/code "7" is already listed under/);
  });
});

describe('the XML aggregator definition parses its fixtures', () => {
  const adapter = createAdapter(xmlCarrier);
  const dir = join(root, 'test/fixtures/xml-aggregator');
  const expected: Record<string, string> = {
    'dlr-delivered.xml': 'delivered',
    'dlr-failed.xml': 'undelivered',
    'dlr-rejected.xml': 'failed',
    'dlr-expired.xml': 'expired',
    'dlr-buffered.xml': 'enroute',
  };
  for (const file of readdirSync(dir).filter((f) => f.startsWith('dlr-'))) {
    it(`${file} → ${expected[file]}, signature checked`, () => {
      const rawBody = readFileSync(join(dir, file), 'utf8');
      const inbound: InboundHttp = {
        method: 'POST',
        url: `https://herald.example/webhooks/carriers/xml-aggregator?mid=${MID}`,
        headers: {
          'content-type': 'application/xml',
          'x-signature': `sha256=${hmacSha256('xml-agg-demo-webhook-secret', rawBody)}`,
        },
        rawBody,
      };
      expect(adapter.verify(inbound)).toBe(true);
      expect(adapter.parseReceipts(inbound)).toEqual([
        expect.objectContaining({
          carrierMessageId: '0A0000000123ABCD1',
          messageId: MID,
          status: expected[file],
        }),
      ]);
      expect(adapter.verify({ ...inbound, rawBody: rawBody.replace('</dlr>', '<x/></dlr>') })).toBe(false);
      expect(adapter.verify({ ...inbound, headers: { 'content-type': 'application/xml' } })).toBe(false);
    });
  }

  it('garbage, empty, truncated and wrongly typed receipts → ReceiptParseError', () => {
    const base: InboundHttp = {
      method: 'POST',
      url: 'https://h/x',
      headers: { 'content-type': 'text/xml' },
      rawBody: '',
    };
    for (const rawBody of [
      '',
      'garbage',
      '<dlr><messageId>1</messageId>',
      '<dlr><status>delivered</status></dlr>',
    ]) {
      expect(() => adapter.parseReceipts({ ...base, rawBody }), rawBody).toThrow(ReceiptParseError);
    }
    const json = { ...base, headers: { 'content-type': 'application/json' }, rawBody: '{}' };
    expect(() => adapter.parseReceipts(json)).toThrow(ReceiptParseError);
  });
});

describe('a JSON carrier from the same module, over a socket', () => {
  let server: http.Server;
  let base = '';
  let last: { url: string; headers: http.IncomingHttpHeaders; body: string } | undefined;
  let answer: { status: number; body: string } = { status: 200, body: '' };

  beforeAll(async () => {
    server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      last = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('sends the rendered JSON template with bearer auth and reads id, parts and price', async () => {
    answer = { status: 200, body: '{"code":"OK","result":{"id":"J-1","parts":2,"cost":"0.0200"}}' };
    const r = await createConfiguredHttpAdapter(jsonCarrier(base)).submit(request());
    expect(r).toEqual({ ok: true, carrierMessageId: 'J-1', segments: 2, priceMicros: 20_000n });
    expect(last?.url).toBe('/v1/send');
    expect(last?.headers.authorization).toBe('Bearer tok-1');
    expect(last?.headers['x-api-version']).toBe('2');
    expect(last?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(last?.body ?? '')).toEqual({
      account: 'acct 7',
      to: '447700900123',
      text: 'Tom & Jerry <3 "quotes"',
      ttl: 600,
      ref: MID,
      hook: `https://herald.example/webhooks/carriers/c?mid=${MID}&x=1`,
    });
  });

  it('classifies listed codes (even on a non-2xx), unknown codes and bare HTTP statuses', async () => {
    const adapter = createConfiguredHttpAdapter(jsonCarrier(base));
    const cases: Array<[number, string, object]> = [
      [
        200,
        '{"code":"BAD_NUMBER","error":"no such number"}',
        { class: 'permanent', code: 'invalid_number', carrierCode: 'BAD_NUMBER', message: 'no such number' },
      ],
      [503, '{"code":"BUSY"}', { class: 'retry', carrierCode: 'BUSY' }],
      [200, '{"code":"WHAT"}', { class: 'failover', carrierCode: 'WHAT' }],
      [400, 'nope', { class: 'permanent', carrierCode: 'HTTP 400' }],
      [403, '', { class: 'failover', code: 'auth_failed' }],
      [500, '', { class: 'retry' }],
      [200, '{"code":"OK"}', { class: 'ambiguous', code: 'unparseable_reply' }],
    ];
    for (const [status, body, error] of cases) {
      answer = { status, body };
      expect(await adapter.submit(request()), `${status} ${body}`).toMatchObject({ ok: false, error });
    }
  });

  it('puts credentials where the definition says: basic, header, query', async () => {
    answer = { status: 200, body: '{"code":"OK","result":{"id":"J-2"}}' };
    await createConfiguredHttpAdapter(
      jsonCarrier(base, { type: 'basic', username: 'u', password: 'p' }),
    ).submit(request());
    expect(last?.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    await createConfiguredHttpAdapter(
      jsonCarrier(base, { type: 'header', name: 'X-Key', value: 'k1' }),
    ).submit(request());
    expect(last?.headers['x-key']).toBe('k1');
    await createConfiguredHttpAdapter(
      jsonCarrier(base, { type: 'query', name: 'api_key', value: 'k 2' }),
    ).submit(request());
    expect(last?.url).toBe('/v1/send?api_key=k+2');
  });

  it('sends a form template', async () => {
    answer = { status: 200, body: '{"code":"OK","result":{"id":"J-3"}}' };
    const def = jsonCarrier(base);
    const form = {
      ...def,
      request: { ...def.request, format: 'form' as const, template: { to: '{{to}}', msg: '{{body}}' } },
    };
    await createConfiguredHttpAdapter(form).submit(request());
    expect(last?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(last?.body))).toEqual({
      to: '+447700900123',
      msg: 'Tom & Jerry <3 "quotes"',
    });
  });

  it('reads a list of receipts and checks the shared secret', () => {
    const adapter = createConfiguredHttpAdapter(jsonCarrier(base));
    const inbound: InboundHttp = {
      method: 'POST',
      url: `https://herald.example/hook?mid=${MID}`,
      headers: { 'content-type': 'application/json', 'x-hook-token': 'hook-secret-0123456789' },
      rawBody: JSON.stringify({
        reports: [
          { id: 'J-1', ref: MID, state: 'DELIVRD', reason: '0' },
          { id: 'J-2', ref: 'msg_other', state: 'undeliv', reason: '27' },
        ],
      }),
    };
    expect(adapter.verify(inbound)).toBe(true);
    expect(adapter.verify({ ...inbound, headers: { ...inbound.headers, 'x-hook-token': 'nope' } })).toBe(
      false,
    );
    expect(adapter.verify({ ...inbound, url: 'https://herald.example/hook?mid=msg_third' })).toBe(false);
    expect(adapter.parseReceipts(inbound)).toEqual([
      { carrierMessageId: 'J-1', messageId: MID, status: 'delivered', carrierStatus: 'DELIVRD' },
      {
        carrierMessageId: 'J-2',
        messageId: 'msg_other',
        status: 'undelivered',
        carrierStatus: 'undeliv',
        errorCode: '27',
      },
    ]);
  });

  it('HMAC receipts in base64 with a prefix', () => {
    const def = jsonCarrier(base);
    const hmac = {
      ...def,
      receipts: {
        ...def.receipts,
        auth: {
          type: 'hmac-sha256' as const,
          header: 'X-Sig',
          secret: 'hmac-secret-0123456789',
          encoding: 'base64' as const,
          prefix: 'v1=',
        },
      },
    };
    const adapter = createConfiguredHttpAdapter(hmac);
    const rawBody = '{"reports":[{"id":"J-1","state":"DELIVRD"}]}';
    const sig = hmacSha256('hmac-secret-0123456789', rawBody, 'base64');
    const inbound: InboundHttp = {
      method: 'POST',
      url: 'https://h/hook',
      headers: { 'x-sig': `v1=${sig}` },
      rawBody,
    };
    expect(adapter.verify(inbound)).toBe(true);
    expect(adapter.verify({ ...inbound, headers: { 'x-sig': sig } })).toBe(false);
    expect(adapter.verify({ ...inbound, rawBody: rawBody.replace('DELIVRD', 'UNDELIV') })).toBe(false);
  });
});
