/**
 * Two-way SMS (issue 13, DESIGN §11) on the real stack: a mobile-originated message through every
 * carrier kind's simulator (Twilio, Vonage, Infobip, the configured XML aggregator, the SMSC over
 * SMPP) is stored once although the carrier delivers it twice, reassembled from its parts, and
 * forwarded once, signed, to the account's inboundUrl; STOP opts the sender out (a send to it is
 * 422 and charges nothing), START opts back in, HELP answers with the account's text, and the
 * replies go out as charged messages from the number that was texted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBalance } from '../../db/ledger.ts';
import { DEFAULT_KEYWORD_REPLIES } from '../../domain/inbound-keywords.ts';
import { verifyHeraldSignature } from '../../services/callback-signature.ts';
import { startReceiver, until } from '../support/http-receiver.ts';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

interface InboundJson {
  id: string;
  from: string;
  to: string;
  body: string;
  parts: number;
  keyword: string | null;
  carrier: string;
  replyMessageId: string | null;
  forward: { outcome: string | null; attempts: number };
}

/** What the receiver gets: forwarded inbound messages and status callbacks. */
interface Posted {
  readonly id?: string;
  readonly type?: string;
  readonly body?: string;
  readonly from?: string;
  readonly messageId?: string;
  readonly status?: string;
}
const receiver = startReceiver<Posted>((path) => (path === '/down' ? 500 : 200));
let receiverUrl: string;
let stack: Stack;
let account: { id: string; apiKey: string };
let call: ReturnType<typeof apiClient>;
const admin = () => apiClient(stack.apiUrl, ADMIN_KEY);

/** Our numbers, one per carrier, all the account's. */
const OURS = {
  'twilio-sim': '+14155550100',
  'vonage-sim': '+14155550101',
  'infobip-sim': '+14155550102',
  'xml-aggregator': '+447700900100',
  'smpp-sim': '+33612345600',
} as const;
type CarrierId = keyof typeof OURS;

/** Asks a simulator to deliver an MO to Herald (twice: the carrier's redelivery). */
async function originate(carrier: CarrierId, from: string, text: string, duplicate = true): Promise<void> {
  const to = OURS[carrier];
  const target =
    carrier === 'smpp-sim' ? `${stack.smsc?.controlUrl}/_sim/inbound` : `${simUrl(carrier)}/_sim/inbound`;
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      from,
      to,
      text,
      duplicate,
      ...(carrier === 'smpp-sim' ? {} : { url: `${stack.apiUrl}/webhooks/carriers/${carrier}/inbound` }),
    }),
  });
  const answer = (await res.json()) as { delivered: boolean };
  expect(res.status, JSON.stringify(answer)).toBe(200);
  expect(answer.delivered, `${carrier} got no 2xx for its inbound message`).toBe(true);
}

function simUrl(carrier: Exclude<CarrierId, 'smpp-sim'>): string {
  const sim = {
    'twilio-sim': stack.twilio,
    'vonage-sim': stack.vonage,
    'infobip-sim': stack.infobip,
    'xml-aggregator': stack.xmlAggregator,
  }[carrier];
  if (!sim) throw new Error(`no ${carrier} simulator`);
  return sim.url;
}

async function inboundFrom(from: string): Promise<InboundJson[]> {
  const res = await call('GET', `/v1/inbound?from=${encodeURIComponent(from)}&limit=100`);
  expect(res.status).toBe(200);
  return res.body.data;
}

/** Waits for the message from `from` whose forwarding (or its absence) is settled. */
async function settledInbound(from: string): Promise<InboundJson> {
  return until(
    `the inbound message from ${from}`,
    async () => (await inboundFrom(from)).find((m) => m.forward.outcome !== null),
    30_000,
  );
}

beforeAll(async () => {
  receiverUrl = await receiver.listen();
});
afterAll(async () => {
  await receiver.close();
});

describe.each(['postgres', 'pglite'] as const)('two-way SMS on %s', (database) => {
  beforeAll(async () => {
    receiver.received.length = 0;
    stack = await startStack({
      db: database,
      smsc: {},
      xmlAggregator: {},
      infobip: {},
      callbacks: { allowedHosts: ['127.0.0.1'], retryInitialMs: 1_000 },
    });
    account = await createFundedAccount(stack.apiUrl, '5.00');
    call = apiClient(stack.apiUrl, account.apiKey);
    for (const sender of Object.values(OURS)) {
      const res = await admin()('POST', '/v1/numbers', { sender, accountId: account.id });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const settings = await call('PUT', '/v1/settings', { inboundUrl: `${receiverUrl}/inbound` });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  describe('inbound through every carrier kind', () => {
    const long = (tag: string) =>
      `${tag}: ${'a long reply that a handset splits into several parts, '.repeat(4)}the end.`;
    const cases: Array<{ carrier: CarrierId; from: string; text: string; parts: number }> = [
      { carrier: 'twilio-sim', from: '+14155552001', text: 'Hello from Twilio', parts: 1 },
      { carrier: 'vonage-sim', from: '+14155552002', text: long('vonage'), parts: 2 },
      { carrier: 'infobip-sim', from: '+14155552003', text: 'Grüße aus Wien', parts: 1 },
      { carrier: 'xml-aggregator', from: '+447700900201', text: long('xml'), parts: 2 },
      { carrier: 'smpp-sim', from: '+33612345601', text: long('smpp'), parts: 2 },
      // UCS-2 over SMPP: data_coding 8, decoded; 3 parts of 67 characters.
      {
        carrier: 'smpp-sim',
        from: '+33612345602',
        text: `안녕하세요 ${'🙂 감사합니다 '.repeat(18)}`,
        parts: 3,
      },
    ];

    it.each(cases)('$carrier: stored once, whole, forwarded once and signed ($parts parts)', async (c) => {
      await originate(c.carrier, c.from, c.text);
      const message = await settledInbound(c.from);
      expect(message).toMatchObject({
        from: c.from,
        to: OURS[c.carrier],
        body: c.text,
        carrier: c.carrier,
        keyword: null,
        replyMessageId: null,
        forward: { outcome: 'delivered', attempts: 0 },
      });
      // Herald counts the parts the carrier handed over; Twilio and Infobip reassemble themselves.
      const handedOver = c.carrier === 'twilio-sim' || c.carrier === 'infobip-sim' ? 1 : c.parts;
      expect(message.parts).toBe(handedOver);
      // The carrier delivered it twice (every part): one row, one forward.
      expect(await inboundFrom(c.from)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500));
      const forwarded = receiver.received.filter((r) => r.body.id === message.id);
      expect(forwarded).toHaveLength(1);
      const [post] = forwarded;
      expect(post?.body).toMatchObject({ type: 'message.inbound', body: c.text, from: c.from });
      const secret = (await call('GET', '/v1/webhook-secret')).body.secret as string;
      expect(
        verifyHeraldSignature(post?.headers['herald-signature'] as string, post?.raw ?? '', secret),
      ).toBe(true);
      expect(post?.headers['herald-event-id']).toBe(message.id);
      expect((await call('GET', `/v1/inbound/${message.id}`)).body).toEqual(message);
    });

    it('a concatenation reference reused by the sender starts a new message; a late redelivered part changes nothing', async () => {
      const from = '+14155552010';
      const post = (id: string, part: number, text: string) =>
        fetch(`${stack.apiUrl}/webhooks/carriers/vonage-sim/inbound`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            msisdn: from.slice(1),
            to: OURS['vonage-sim'].slice(1),
            messageId: id,
            text,
            type: 'text',
            concat: 'true',
            'concat-ref': '7',
            'concat-total': '2',
            'concat-part': String(part),
          }).toString(),
        });
      // Parts out of order, then a second message under the same reference.
      for (const [id, n, text] of [
        ['A2', 2, 'world'],
        ['A1', 1, 'hello '],
        ['B1', 1, 'second '],
        ['B2', 2, 'message'],
        ['A2', 2, 'world'],
      ] as const) {
        expect((await post(`${database}-${id}`, n, text)).status).toBe(200);
      }
      const bodies = await until('both messages settled', async () => {
        const list = await inboundFrom(from);
        return list.length === 2 && list.every((m) => m.forward.outcome !== null) ? list : undefined;
      });
      expect(bodies.map((m) => m.body).sort()).toEqual(['hello world', 'second message']);
    });

    it('refuses an inbound post with a bad signature, and one for a carrier with no inbound', async () => {
      const forged = await fetch(`${stack.apiUrl}/webhooks/carriers/twilio-sim/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bm9wZQ==' },
        body: 'MessageSid=SMx&From=%2B14155552999&To=%2B14155550100&Body=STOP',
      });
      expect(forged.status).toBe(403);
      expect(await inboundFrom('+14155552999')).toHaveLength(0);
      expect(
        (await fetch(`${stack.apiUrl}/webhooks/carriers/smpp-sim/inbound`, { method: 'POST' })).status,
      ).toBe(404);
      expect((await call('GET', '/v1/inbound/inb_nope')).status).toBe(404);
    });
  });

  describe('keywords', () => {
    const mobile = '+14155553001';

    /** The carrier's copy of the replies sent to `to` (what the handset gets). */
    const repliesTo = (to: string) =>
      stack.twilio
        .acceptedSubmissions()
        .filter((s) => s.to === to)
        .map((s) => s.text);

    it('STOP opts the sender out (a send is 422 and free), START opts back in, each confirmed by a charged reply', async () => {
      await originate('twilio-sim', mobile, '  stop ');
      const stop = await settledInbound(mobile);
      expect(stop.keyword).toBe('stop');
      const optOuts = await call('GET', '/v1/opt-outs');
      expect(optOuts.body.data).toContainEqual(
        expect.objectContaining({ number: mobile, source: 'keyword' }),
      );

      // The confirmation: a message from the number that was texted, charged as any message.
      expect(stop.replyMessageId).toMatch(/^msg_/);
      const reply = await waitForMessage(stack.apiUrl, account.apiKey, stop.replyMessageId ?? '', terminal);
      expect(reply).toMatchObject({
        to: mobile,
        from: OURS['twilio-sim'],
        status: 'delivered',
        priority: 'high',
      });
      expect(Number(reply.price)).toBeGreaterThan(0);
      expect(repliesTo(mobile)).toEqual([DEFAULT_KEYWORD_REPLIES.stop]);

      const before = await getBalance(stack.db, account.id);
      const refused = await call('POST', '/v1/messages', { to: mobile, body: 'a promotion' });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe('recipient_opted_out');
      expect(await getBalance(stack.db, account.id)).toEqual(before);

      await originate('twilio-sim', mobile, 'Start');
      await until('the opt-out to be lifted', async () =>
        (await call('GET', '/v1/opt-outs')).body.data.some((o: { number: string }) => o.number === mobile)
          ? undefined
          : true,
      );
      const sent = await call('POST', '/v1/messages', { to: mobile, body: 'welcome back' });
      expect(sent.status).toBe(202);
      expect((await waitForMessage(stack.apiUrl, account.apiKey, sent.body.id, terminal)).status).toBe(
        'delivered',
      );
      await until('the START confirmation', () =>
        repliesTo(mobile).includes(DEFAULT_KEYWORD_REPLIES.start) ? true : undefined,
      );
      // Each keyword message was forwarded to the account too, as received.
      const forwarded = () => receiver.received.filter((r) => r.body.from === mobile).map((r) => r.body.body);
      await until('both keywords forwarded', () => (forwarded().length >= 2 ? true : undefined));
      expect(forwarded()).toEqual(['  stop ', 'Start']);
    });

    it('HELP answers with the account’s own text; an empty reply text sends none', async () => {
      const help = 'Acme alerts: reply STOP to opt out. help@acme.example';
      expect((await call('PUT', '/v1/settings', { helpReply: help, stopReply: '' })).status).toBe(200);
      const asker = '+14155553002';
      await originate('twilio-sim', asker, 'HELP');
      const message = await settledInbound(asker);
      expect(message.keyword).toBe('help');
      await waitForMessage(stack.apiUrl, account.apiKey, message.replyMessageId ?? '', terminal);
      expect(repliesTo(asker)).toEqual([help]);

      const quitter = '+14155553003';
      await originate('twilio-sim', quitter, 'UNSUBSCRIBE');
      const quit = await settledInbound(quitter);
      expect(quit).toMatchObject({ keyword: 'stop', replyMessageId: null });
      expect(repliesTo(quitter)).toEqual([]);
      expect((await call('POST', '/v1/messages', { to: quitter, body: 'hi' })).status).toBe(422);
      expect((await call('PUT', '/v1/settings', { helpReply: null, stopReply: null })).body).toMatchObject({
        helpReply: null,
        stopReply: null,
      });
    });

    it('operators see inbound traffic, keywords, forwarding and opt-outs in the metrics', async () => {
      const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
      expect(metrics).toMatch(/herald_inbound_messages_total\{carrier="twilio-sim",keyword="stop"\} [1-9]/);
      expect(metrics).toMatch(/herald_inbound_messages_total\{carrier="smpp-sim",keyword="none"\} 2/);
      expect(metrics).toMatch(/herald_inbound_forwards\{outcome="delivered"\} [1-9]/);
      expect(metrics).toMatch(/herald_opt_outs\{source="keyword"\} [1-9]/);
    });

    it('an operator cancel of a forwarding that keeps failing records it abandoned', async () => {
      expect((await call('PUT', '/v1/settings', { inboundUrl: `${receiverUrl}/down` })).status).toBe(200);
      // Restored even when an assertion fails, so the cases after this one see the working URL.
      try {
        const from = '+14155553020';
        await originate('twilio-sim', from, 'anyone there?', false);
        const [message] = await until('a failed forwarding attempt', async () => {
          const list = await inboundFrom(from);
          return list[0] && list[0].forward.attempts >= 1 ? list : undefined;
        });
        if (!message) throw new Error('unreachable');
        expect(message.forward.outcome).toBeNull();
        const handle = stack.client.workflow.getHandle(`inbound-${message.id}`);
        await handle.cancel();
        const settled = await until('the forwarding abandoned', async () => {
          const m = (await inboundFrom(from))[0];
          return m?.forward.outcome === null ? undefined : m;
        });
        expect(settled.forward.outcome).toBe('abandoned');
        // The outcome is written by an activity before the run closes: wait for the close itself.
        const closed = await until('the run to close', async () => {
          const { status } = await handle.describe();
          return status.name === 'RUNNING' ? undefined : status.name;
        });
        expect(closed).toBe('CANCELLED');
      } finally {
        expect((await call('PUT', '/v1/settings', { inboundUrl: `${receiverUrl}/inbound` })).status).toBe(
          200,
        );
      }
    });

    it('STOP to a number no account owns is stored and changes nothing', async () => {
      const stranger = '+14155553004';
      const res = await fetch(`${stack.twilio.url}/_sim/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          from: stranger,
          to: '+14155559999',
          text: 'STOP',
          url: `${stack.apiUrl}/webhooks/carriers/twilio-sim/inbound`,
        }),
      });
      expect(((await res.json()) as { delivered: boolean }).delivered).toBe(true);
      const rows = await stack.db
        .selectFrom('inbound_messages')
        .selectAll()
        .where('from_number', '=', stranger)
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ account_id: null, keyword: 'stop', reply_message_id: null });
      expect(
        await stack.db.selectFrom('opt_outs').selectAll().where('number', '=', stranger).execute(),
      ).toEqual([]);
      expect(await inboundFrom(stranger)).toEqual([]);
    });
  });

  describe('settings', () => {
    it('reads and changes them; refuses private URLs and bad fields, changing nothing', async () => {
      const current = await call('GET', '/v1/settings');
      expect(current.status).toBe(200);
      expect(current.body).toMatchObject({ inboundUrl: `${receiverUrl}/inbound`, inboundFormat: 'herald' });
      const privateUrl = await call('PUT', '/v1/settings', { inboundUrl: 'http://10.0.0.7/hook' });
      expect(privateUrl.status).toBe(400);
      expect(privateUrl.body.error.code).toBe('invalid_callback_url');
      expect((await call('PUT', '/v1/settings', { inboundFormat: 'xml' })).status).toBe(400);
      expect((await call('PUT', '/v1/settings', { nope: 1 })).status).toBe(400);
      expect((await call('GET', '/v1/settings')).body).toEqual(current.body);
    });

    it('a default callbackUrl gets the status callbacks of sends that name none', async () => {
      expect((await call('PUT', '/v1/settings', { callbackUrl: `${receiverUrl}/status` })).status).toBe(200);
      const sent = await call('POST', '/v1/messages', {
        to: '+14155553010',
        body: 'with the default callback',
      });
      expect(sent.status).toBe(202);
      await until('the delivered callback', () =>
        receiver.received.find(
          (r) => r.path === '/status' && r.body.messageId === sent.body.id && r.body.status === 'delivered',
        ),
      );
      expect((await call('PUT', '/v1/settings', { callbackUrl: null })).body.callbackUrl).toBeNull();
    });
  });
});
