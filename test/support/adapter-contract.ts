/**
 * The carrier adapter contract (DESIGN §5, §8): one suite, run against every HTTP adapter and its
 * simulator over real sockets, plus the carrier's recorded payload fixtures.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CarrierAdapter,
  type InboundHttp,
  type Receipt,
  ReceiptParseError,
  type ReceiptStatus,
  type SubmitRequest,
  type SubmitResult,
} from '../../adapters/types.ts';
import type { CarrierErrorClass } from '../../domain/carrier-error.ts';
import type {
  ReceiptFormat,
  ReceiptOutcome,
  RunningSimulator,
  SimConfigPatch,
} from '../../simulators/sim-core.ts';

/** A recorded carrier reply, served over a socket, and what the adapter must make of it. */
export interface ReplyFixture {
  readonly file: string;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly expect:
    | {
        readonly ok: true;
        readonly carrierMessageId: string;
        readonly segments?: number;
        readonly priceMicros?: bigint;
      }
    | {
        readonly ok: false;
        readonly class: CarrierErrorClass;
        readonly code?: string;
        readonly carrierCode?: string;
        readonly retryAfterMs?: number;
      };
}

/** A recorded receipt and the receipt it must parse to. */
export interface ReceiptFixture {
  readonly file: string;
  /** POST (body = file) or GET (query string = file). Default POST. */
  readonly method?: 'GET' | 'POST';
  readonly contentType?: string;
  /** Path and query of the callback URL the receipt was posted to. Default `/hook`. */
  readonly path?: string;
  readonly expect: Partial<Receipt> & { readonly status: ReceiptStatus };
  /** The fixture is signed: verify must pass as given and fail once altered. */
  readonly signed?: boolean;
  /** Headers the receipt came with (a signature header, for instance). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ContractHarness {
  readonly sim: RunningSimulator;
  /** An adapter for the simulator (or another `baseUrl`), with its credentials. */
  adapter(opts?: { baseUrl?: string; timeoutMs?: number; wrongCredentials?: boolean }): CarrierAdapter;
  /** An adapter configured to verify the fixtures' signatures. */
  fixtureAdapter(): CarrierAdapter;
  readonly carrierMessageId: RegExp;
  readonly fixturesDir: string;
  readonly replies: readonly ReplyFixture[];
  readonly receipts: readonly ReceiptFixture[];
  /** Receipt transports the simulator offers (Vonage: form, json, get). Default ['form']. */
  readonly receiptFormats?: readonly ReceiptFormat[];
  /** Price per segment the simulator is configured with. */
  readonly priceMicros: bigint;
  /** The carrier sends one receipt per part of a multi-part message (Vonage). */
  readonly receiptPerPart?: boolean;
  /** The submit reply carries a price (Infobip's does not). Default true. */
  readonly pricedReplies?: boolean;
  /** Headers that authenticate a receipt, removed to make it unsigned. Default ['x-twilio-signature']. */
  readonly receiptAuthHeaders?: readonly string[];
  /** Receipt authentication covers the body (a signature, not a shared secret). Default true. */
  readonly signsBody?: boolean;
}

/** The simulator's happy path, restored before every test. */
const HEALTHY: SimConfigPatch = {
  mix: { accept: 1 },
  down: false,
  latencyMs: 0,
  receipts: { delivered: 1 },
  receiptDelayMs: 10,
  receiptBeforeReply: false,
  duplicateReceipts: false,
  receiptFormat: 'form',
};

const EXPECTED_STATUS: Readonly<Record<ReceiptOutcome, ReceiptStatus>> = {
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  expired: 'expired',
};

/** Collects webhook posts on 127.0.0.1 as `InboundHttp`, answering with the adapter's ack. */
class ReceiptReceiver {
  readonly received: InboundHttp[] = [];
  private server?: http.Server;
  url = '';
  ack: CarrierAdapter['receiptAck'];

  async start(): Promise<void> {
    this.server = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = String(v);
      this.received.push({
        method: req.method ?? 'POST',
        url: `${this.url}${req.url ?? '/'}`,
        headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
      });
      const ack = this.ack ?? { status: 200, contentType: 'text/plain', body: '' };
      res.writeHead(ack.status, { 'content-type': ack.contentType });
      res.end(ack.body);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Waits for the receipts whose callback URL carries `mid`. */
  async waitFor(mid: string, count = 1, timeoutMs = 3_000): Promise<InboundHttp[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter((r) => new URL(r.url).searchParams.get('mid') === mid);
      if (hits.length >= count) return hits;
      if (Date.now() > deadline) throw new Error(`no receipt for ${mid} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits for `count` posts to `path` (inbound messages carry no `mid`). */
  async waitForPath(path: string, count: number, timeoutMs = 3_000): Promise<InboundHttp[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.received.filter((r) => new URL(r.url).pathname === path);
      if (hits.length >= count) return hits;
      if (Date.now() > deadline) throw new Error(`no post to ${path} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/** Serves scripted replies (or drops the connection) over a real socket. */
class ReplayServer {
  private server?: http.Server;
  url = '';
  next: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;

  async start(): Promise<void> {
    this.server = http.createServer(async (req, res) => {
      for await (const _ of req) {
        // drain the request body before answering
      }
      this.next?.(req, res);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reply(status: number, body: string, headers: Record<string, string> = {}): void {
    this.next = (_req, res) => {
      res.writeHead(status, headers);
      res.end(body);
    };
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

let counter = 0;

/** Polls `cond` every 10 ms; throws after `timeoutMs`. */
async function until(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Registers the contract suite for one adapter; `setup` runs once in `beforeAll`. */
export function describeAdapterContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`adapter contract: ${name}`, () => {
    let h: ContractHarness;
    let adapter: CarrierAdapter;
    const receiver = new ReceiptReceiver();
    const replay = new ReplayServer();

    beforeAll(async () => {
      h = await setup();
      adapter = h.adapter();
      receiver.ack = adapter.receiptAck;
      await receiver.start();
      await replay.start();
    });
    afterAll(async () => {
      await h?.sim.close();
      await receiver.stop();
      await replay.stop();
    });
    beforeEach(async () => {
      h.sim.setConfig(HEALTHY);
      // Let the last test's receipts finish so they do not count in this one.
      await until(() => h.sim.stats().receiptsPending === 0);
      h.sim.resetStats();
    });

    const request = (overrides: Partial<SubmitRequest> = {}): SubmitRequest & { mid: string } => {
      const mid = `msg_${name}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
      return {
        mid,
        messageId: mid,
        to: '+14155550100',
        from: '+14155552345',
        body: 'Your code is 123456',
        encoding: 'GSM-7',
        segments: 1,
        validitySeconds: 3_600,
        statusCallbackUrl: `${receiver.url}/webhooks/carriers/${name}?mid=${mid}`,
        ...overrides,
      };
    };

    const expectError = (r: SubmitResult, cls: CarrierErrorClass) => {
      expect(
        r.ok,
        JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      ).toBe(false);
      if (r.ok) throw new Error('unreachable');
      expect(r.error.class).toBe(cls);
      expect(r.error.message.length).toBeGreaterThan(0);
      return r.error;
    };

    describe('submit', () => {
      it('accepts a message: carrier id, segments and price', async () => {
        const req = request();
        const r = await adapter.submit(req);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.carrierMessageId).toMatch(h.carrierMessageId);
        expect(r.segments).toBe(1);
        expect(r.priceMicros).toBe(h.pricedReplies === false ? undefined : h.priceMicros);
        expect(h.sim.stats()).toMatchObject({ submissions: 1, accepted: 1, rejected: 0, duplicates: 0 });
      });

      it('bills a long message per segment', async () => {
        const r = await adapter.submit(request({ body: 'x'.repeat(200), segments: 2 }));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.segments).toBe(2);
        expect(r.priceMicros).toBe(h.pricedReplies === false ? undefined : h.priceMicros * 2n);
      });

      it('server error → retry, keeping the carrier code', async () => {
        h.sim.setConfig({ mix: { serverError: 1 } });
        const e = expectError(await adapter.submit(request()), 'retry');
        expect(e.carrierCode).toBeDefined();
        expect(h.sim.stats()).toMatchObject({ submissions: 1, accepted: 0, rejected: 1 });
      });

      it('throttled → retry with retryAfterMs', async () => {
        h.sim.setConfig({ mix: { throttle: 1 } });
        const e = expectError(await adapter.submit(request()), 'retry');
        expect(e.code).toBe('throttled');
        expect(e.retryAfterMs).toBeGreaterThan(0);
      });

      it('permanent error → permanent', async () => {
        h.sim.setConfig({ mix: { permanent: 1 } });
        const e = expectError(await adapter.submit(request()), 'permanent');
        expect(e.carrierCode).toBeDefined();
      });

      it('an invalid destination is refused by the carrier → permanent', async () => {
        const e = expectError(await adapter.submit(request({ to: '+1' })), 'permanent');
        expect(e.carrierCode).toBeDefined();
        expect(h.sim.stats()).toMatchObject({ accepted: 0, rejected: 1 });
      });

      it('auth failure → failover (scripted and with really wrong credentials)', async () => {
        h.sim.setConfig({ mix: { authFail: 1 } });
        expect(expectError(await adapter.submit(request()), 'failover').code).toBe('auth_failed');
        h.sim.setConfig({ mix: { accept: 1 } });
        const wrong = h.adapter({ wrongCredentials: true });
        expect(expectError(await wrong.submit(request()), 'failover').code).toBe('auth_failed');
      });

      it('carrier down (connection refused) → failover, and back up afterwards', async () => {
        h.sim.setConfig({ down: true });
        await new Promise((r) => setTimeout(r, 20));
        const e = expectError(await adapter.submit(request()), 'failover');
        expect(e.carrierCode).toBe('ECONNREFUSED');
        expect(h.sim.stats().submissions).toBe(0);
        h.sim.setConfig({ down: false });
        expect((await adapter.submit(request())).ok).toBe(true);
      });

      it('no reply in time → ambiguous; the carrier still took it and sends the receipt', async () => {
        h.sim.setConfig({ mix: { timeout: 1 }, timeoutMs: 2_000 });
        const quick = h.adapter({ timeoutMs: 300 });
        const req = request();
        const started = Date.now();
        const e = expectError(await quick.submit(req), 'ambiguous');
        expect(e.code).toBe('timeout');
        expect(Date.now() - started).toBeLessThan(1_500);
        expect(h.sim.stats()).toMatchObject({ submissions: 1, accepted: 1 });
        const [receipt] = await receiver.waitFor(req.mid);
        expect(receipt && quick.parseReceipts(receipt)[0]?.status).toBe('delivered');
      });

      it('a client that gives up mid-request: the carrier keeps the message and sends its receipt', async () => {
        h.sim.setConfig({ latencyMs: 500 });
        const req = request();
        expectError(await h.adapter({ timeoutMs: 100 }).submit(req), 'ambiguous');
        const [receipt] = await receiver.waitFor(req.mid);
        expect(receipt).toBeDefined();
        await until(() => h.sim.stats().receiptsSent === 1);
        expect(h.sim.stats().accepted).toBe(1);
      });

      it('a cut-off reply → ambiguous', async () => {
        h.sim.setConfig({ mix: { malformed: 1 } });
        expect(expectError(await adapter.submit(request()), 'ambiguous').code).toBe('unparseable_reply');
        expect(h.sim.stats().accepted).toBe(1);
      });

      it('counts a second submission of the same message as a duplicate', async () => {
        const req = request();
        expect((await adapter.submit(req)).ok).toBe(true);
        expect((await adapter.submit(req)).ok).toBe(true);
        expect(h.sim.stats()).toMatchObject({ accepted: 2, duplicates: 1 });
      });
    });

    describe('malformed replies over a socket', () => {
      const viaReplay = () => h.adapter({ baseUrl: replay.url, timeoutMs: 1_000 });
      const cases: Array<[string, number, string, Record<string, string>, CarrierErrorClass]> = [
        ['empty 2xx', 200, '', {}, 'ambiguous'],
        ['truncated JSON 2xx', 201, '{"sid": "SM', { 'content-type': 'application/json' }, 'ambiguous'],
        ['HTML 2xx', 200, '<html>OK</html>', { 'content-type': 'text/html' }, 'ambiguous'],
        [
          'JSON of the wrong shape',
          200,
          '{"hello":"world"}',
          { 'content-type': 'application/json' },
          'ambiguous',
        ],
        ['HTML 502 from a proxy', 502, '<html>Bad Gateway</html>', { 'content-type': 'text/html' }, 'retry'],
        ['plain 401', 401, 'Unauthorized', { 'content-type': 'text/plain' }, 'failover'],
      ];
      for (const [label, status, body, headers, cls] of cases) {
        it(`${label} → ${cls}`, async () => {
          replay.reply(status, body, headers);
          expectError(await viaReplay().submit(request()), cls);
        });
      }

      it('a bare 429 with Retry-After → retry honouring it', async () => {
        replay.reply(429, '', { 'retry-after': '7' });
        const e = expectError(await viaReplay().submit(request()), 'retry');
        expect(e.retryAfterMs).toBe(7_000);
      });

      it('connection dropped after the request was read → ambiguous', async () => {
        replay.next = (req) => req.socket.destroy();
        expect(expectError(await viaReplay().submit(request()), 'ambiguous').code).toBe('connection_lost');
      });
    });

    describe('inbound messages', () => {
      /** Asks the simulator for an MO to `path` of our receiver; answers what arrived. */
      const originate = async (text: string, path: string): Promise<InboundHttp[]> => {
        const res = await fetch(`${h.sim.url}/_sim/inbound`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            from: '+14155559001',
            to: '+14155550100',
            text,
            url: `${receiver.url}${path}`,
          }),
        });
        const answer = (await res.json()) as { requests: number; delivered: boolean };
        expect(res.status).toBe(200);
        expect(answer.delivered).toBe(true);
        return receiver.waitForPath(path, answer.requests);
      };
      const parse = (posts: readonly InboundHttp[]) => {
        if (!adapter.parseInbound) throw new Error(`${name} reads no inbound messages`);
        for (const post of posts) expect(adapter.verify(post)).toBe(true);
        return posts.flatMap((post) => adapter.parseInbound?.(post) ?? []);
      };

      it('a short message verifies and parses whole: sender, our number, text, the carrier id', async () => {
        const parts = parse(await originate('Hello STOP', `/in/${name}/short`));
        expect(parts).toHaveLength(1);
        expect(parts[0]).toMatchObject({ from: '+14155559001', to: '+14155550100', text: 'Hello STOP' });
        expect(parts[0]?.carrierMessageId.length).toBeGreaterThan(0);
        expect(parts[0]?.concat).toBeUndefined();
      });

      it('a long message arrives whole or in numbered parts that reassemble to its text', async () => {
        const text = `${'part of a long inbound message, '.repeat(8)}end`;
        const parts = parse(await originate(text, `/in/${name}/long`));
        if (parts.length === 1) {
          expect(parts[0]?.text).toBe(text);
          return;
        }
        const sorted = [...parts].sort((a, b) => (a.concat?.seq ?? 0) - (b.concat?.seq ?? 0));
        expect(sorted.map((p) => p.concat?.seq)).toEqual(sorted.map((_, i) => i + 1));
        expect(new Set(sorted.map((p) => p.concat?.ref)).size).toBe(1);
        expect(sorted.every((p) => p.concat?.total === parts.length)).toBe(true);
        expect(sorted.map((p) => p.text).join('')).toBe(text);
        expect(new Set(sorted.map((p) => p.carrierMessageId)).size).toBe(parts.length);
      });

      it('a tampered or unsigned one fails verify', async () => {
        const [good] = await originate('Meet at noon', `/in/${name}/tamper`);
        if (!good) throw new Error('unreachable');
        expect(adapter.verify(good)).toBe(true);
        if (h.signsBody !== false) {
          expect(adapter.verify({ ...good, rawBody: good.rawBody.replace('noon', 'nine') })).toBe(false);
        }
        const stripped = Object.fromEntries(
          (h.receiptAuthHeaders ?? ['x-twilio-signature']).map((header) => [header.toLowerCase(), undefined]),
        );
        expect(
          adapter.verify({
            ...good,
            headers: { ...good.headers, ...stripped },
            rawBody: good.rawBody.replace(/&sig=[0-9a-f]+/, ''),
          }),
        ).toBe(false);
      });
    });

    describe('receipts', () => {
      for (const outcome of ['delivered', 'undelivered', 'failed', 'expired'] as const) {
        it(`${outcome}: arrives signed, verifies and parses`, async () => {
          h.sim.setConfig({ receipts: { [outcome]: 1 } });
          const req = request();
          const r = await adapter.submit(req);
          if (!r.ok) throw new Error(`submit failed: ${r.error.message}`);
          const [inbound] = await receiver.waitFor(req.mid);
          if (!inbound) throw new Error('unreachable');
          expect(adapter.verify(inbound)).toBe(true);
          const receipts = adapter.parseReceipts(inbound);
          expect(receipts).toHaveLength(1);
          expect(receipts[0]).toMatchObject({
            carrierMessageId: r.carrierMessageId,
            messageId: req.messageId,
            status: EXPECTED_STATUS[outcome],
          });
          if (outcome !== 'delivered') expect(receipts[0]?.errorCode).toBeDefined();
          await until(() => h.sim.stats().receiptsSent === 1);
        });
      }

      it('every receipt transport the carrier offers verifies and parses', async () => {
        for (const format of h.receiptFormats ?? ['form']) {
          h.sim.setConfig({ receiptFormat: format });
          const req = request();
          const r = await adapter.submit(req);
          if (!r.ok) throw new Error(`submit failed: ${r.error.message}`);
          const [inbound] = await receiver.waitFor(req.mid);
          if (!inbound) throw new Error('unreachable');
          expect(adapter.verify(inbound), format).toBe(true);
          expect(adapter.parseReceipts(inbound)[0], format).toMatchObject({
            status: 'delivered',
            messageId: req.mid,
          });
        }
      });

      it('one receipt per part for a multi-part message, all matched to our id', async () => {
        const req = request({ body: 'y'.repeat(200), segments: 2 });
        const r = await adapter.submit(req);
        if (!r.ok) throw new Error(`submit failed: ${r.error.message}`);
        const got = await receiver.waitFor(req.mid, h.receiptPerPart ? 2 : 1);
        const parsed = got.flatMap((g) => adapter.parseReceipts(g));
        expect(parsed.every((p) => p.messageId === req.mid && p.status === 'delivered')).toBe(true);
        expect(parsed.map((p) => p.carrierMessageId)).toContain(r.carrierMessageId);
      });

      it('arrives before the submit returns when the carrier is quick', async () => {
        h.sim.setConfig({ receiptBeforeReply: true });
        const req = request();
        const r = await adapter.submit(req);
        expect(r.ok).toBe(true);
        expect(receiver.received.some((x) => new URL(x.url).searchParams.get('mid') === req.mid)).toBe(true);
      });

      it('duplicateReceipts posts each receipt twice', async () => {
        h.sim.setConfig({ duplicateReceipts: true });
        const req = request();
        expect((await adapter.submit(req)).ok).toBe(true);
        const twice = await receiver.waitFor(req.mid, 2);
        expect(twice[0]?.rawBody === twice[1]?.rawBody || twice[0]?.url === twice[1]?.url).toBe(true);
      });

      it('a tampered, re-addressed or unsigned receipt fails verify', async () => {
        const req = request();
        expect((await adapter.submit(req)).ok).toBe(true);
        const [good] = await receiver.waitFor(req.mid);
        if (!good) throw new Error('unreachable');
        expect(adapter.verify(good)).toBe(true);
        const tamper = (s: string) => s.replace(/delivered/g, 'undelivered');
        const body = {
          ...good,
          rawBody: tamper(good.rawBody),
          url: good.method === 'GET' ? tamper(good.url) : good.url,
        };
        if (h.signsBody !== false) expect(adapter.verify(body)).toBe(false);
        expect(adapter.verify({ ...good, url: good.url.replace(`mid=${req.mid}`, 'mid=msg_other') })).toBe(
          false,
        );
        const stripped = Object.fromEntries(
          (h.receiptAuthHeaders ?? ['x-twilio-signature']).map((name) => [name.toLowerCase(), undefined]),
        );
        const unsigned = {
          ...good,
          headers: { ...good.headers, ...stripped },
          rawBody: good.rawBody.replace(/&sig=[0-9a-f]+/, ''),
        };
        expect(adapter.verify(unsigned)).toBe(false);
      });

      it('retries a receipt the client did not take on its schedule, then counts it failed', async () => {
        const before = h.sim.config().receiptRetry;
        // Real carriers retry for hours (the default); the schedule is the simulator's config.
        expect(before.forMs).toBeGreaterThanOrEqual(3_600_000);
        h.sim.setConfig({ receiptRetry: { initialMs: 50, maxMs: 100, forMs: 400 } });
        try {
          const dead = `http://127.0.0.1:1/webhooks?mid=unreachable`;
          const req = request({ statusCallbackUrl: dead });
          const started = Date.now();
          expect((await adapter.submit(req)).ok).toBe(true);
          await until(() => h.sim.stats().receiptsFailed === 1);
          // 50 + 100 + 100 + 100 ms of waits fit in 400 ms; the next would not.
          expect(Date.now() - started).toBeGreaterThanOrEqual(350);
          expect(h.sim.stats().receiptsSent).toBe(0);
        } finally {
          h.sim.setConfig({ receiptRetry: before });
        }
      });

      const garbage: Array<[string, Partial<InboundHttp>]> = [
        ['an empty body', { rawBody: '' }],
        ['garbage', { rawBody: '\u0000\u0001 not a receipt' }],
        [
          'truncated JSON',
          { rawBody: '{"messageId": "abc', headers: { 'content-type': 'application/json' } },
        ],
        ['the wrong content type', { rawBody: '<xml/>', headers: { 'content-type': 'text/xml' } }],
        [
          'a form without ids',
          { rawBody: 'foo=bar', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        ],
      ];
      for (const [label, partial] of garbage) {
        it(`${label} → ReceiptParseError, and verify says no without throwing`, () => {
          const inbound: InboundHttp = {
            method: 'POST',
            url: `${receiver.url}/hook?mid=msg_x`,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            rawBody: '',
            ...partial,
          };
          expect(() => adapter.parseReceipts(inbound)).toThrow(ReceiptParseError);
          const bogus = Object.fromEntries(
            (h.receiptAuthHeaders ?? ['x-twilio-signature']).map((name) => [name.toLowerCase(), 'AAAA']),
          );
          expect(adapter.verify({ ...inbound, headers: { ...inbound.headers, ...bogus } })).toBe(false);
        });
      }
    });

    describe('fixtures', () => {
      it('recorded replies classify as expected over a socket', async () => {
        const viaReplay = h.adapter({ baseUrl: replay.url, timeoutMs: 1_000 });
        for (const f of h.replies) {
          const body = readFileSync(join(h.fixturesDir, f.file), 'utf8');
          replay.reply(f.status, body, { 'content-type': 'application/json', ...f.headers });
          const r = await viaReplay.submit(request());
          if (f.expect.ok) {
            expect(r, f.file).toMatchObject(f.expect);
            continue;
          }
          expect(r.ok, f.file).toBe(false);
          if (r.ok) continue;
          const { ok: _ok, class: cls, ...rest } = f.expect;
          expect(r.error.class, f.file).toBe(cls);
          expect(r.error, f.file).toMatchObject(rest);
        }
      });

      it('recorded receipts parse (and signed ones verify)', () => {
        const fa = h.fixtureAdapter();
        for (const f of h.receipts) {
          const text = readFileSync(join(h.fixturesDir, f.file), 'utf8');
          const path = f.path ?? '/hook';
          const get = f.method === 'GET';
          const url = `https://herald.example${path}${get ? `${path.includes('?') ? '&' : '?'}${text}` : ''}`;
          const inbound: InboundHttp = {
            method: get ? 'GET' : 'POST',
            url,
            headers: {
              ...(get ? {} : { 'content-type': f.contentType ?? 'application/x-www-form-urlencoded' }),
              ...f.headers,
            },
            rawBody: get ? '' : text,
          };
          const [receipt, ...rest] = fa.parseReceipts(inbound);
          expect(rest, f.file).toHaveLength(0);
          expect(receipt, f.file).toMatchObject(f.expect);
          if (f.signed) {
            expect(fa.verify(inbound), f.file).toBe(true);
            expect(
              fa.verify({ ...inbound, rawBody: inbound.rawBody.replace('delivered', 'failed') }),
              f.file,
            ).toBe(false);
          }
        }
      });
    });
  });
}
