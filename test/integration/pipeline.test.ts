/**
 * The send pipeline end to end on real parts: API → Temporal workflow → carrier simulator over
 * HTTP → signed receipt webhook → settlement in PostgreSQL.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HeraldPriority } from '../../workflows/definitions.ts';
import { listEntriesForMessage } from '../support/ledger.ts';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const US = '+14155552671';
const DE = '+4915123456789';

const HEALTHY = {
  mix: { accept: 1, serverError: 0, timeout: 0, permanent: 0, throttle: 0, authFail: 0 },
  down: false,
  latencyMs: 0,
  receipts: { delivered: 1, undelivered: 0, failed: 0, expired: 0, none: 0 },
  receiptDelayMs: 20,
  receiptBeforeReply: false,
  duplicateReceipts: false,
};

let stack: Stack;
let account: { id: string; apiKey: string };
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startStack();
  account = await createFundedAccount(stack.apiUrl, '5.00');
  api = apiClient(stack.apiUrl, account.apiKey);
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  stack.twilio.setConfig(HEALTHY);
  stack.vonage.setConfig(HEALTHY);
  // Each case expects the cheapest route first, whatever the previous cases did to the score.
  await stack.resetRouting();
});

async function balance(): Promise<{ available: string; reserved: string }> {
  const res = await api('GET', '/v1/balance');
  expect(res.status).toBe(200);
  return res.body;
}

async function sendAndSettle(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await api('POST', '/v1/messages', body, headers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitForMessage(stack.apiUrl, account.apiKey, res.body.id, terminal);
}

describe('send pipeline', () => {
  it('delivers a message and charges the carrier price exactly once', async () => {
    const before = await balance();
    const msg = await sendAndSettle({ to: US, body: 'Your code is 123456' });
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('twilio-sim');
    expect(msg.carrierMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(msg.price).toBe('0.007900');
    expect(msg.events.map((e: { status: string }) => e.status)).toEqual([
      'accepted',
      'queued',
      'sending',
      'sent',
      'delivered',
    ]);
    const after = await balance();
    expect(Number(before.available) - Number(after.available)).toBeCloseTo(0.0079, 6);
    expect(after.reserved).toBe('0.000000');
    const entries = await listEntriesForMessage(stack.db, msg.id);
    expect(entries.filter((e) => e.kind === 'capture')).toHaveLength(1);
    expect(entries.find((e) => e.kind === 'capture')?.amount).toBe('0.007900');
  });

  it('a multipart message is delivered once every part has its receipt, and charged per segment', async () => {
    // 400 GSM-7 characters → 3 segments; Vonage (cheapest for DE) posts one receipt per part.
    const msg = await sendAndSettle({ to: DE, body: 'a'.repeat(400) });
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('vonage-sim');
    expect(msg.segments).toBe(3);
    expect(msg.price).toBe('0.204000');
    const receipts = await stack.db
      .selectFrom('receipts')
      .select('carrier_message_id')
      .where('message_id', '=', msg.id)
      .execute();
    expect(receipts).toHaveLength(3);
  });

  it('fails over to the next carrier when the first answers 5xx', async () => {
    stack.twilio.setConfig({ mix: { ...HEALTHY.mix, accept: 0, serverError: 1 } });
    const msg = await sendAndSettle({ to: US, body: 'failover on 5xx' });
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('vonage-sim');
    expect(msg.price).toBe('0.008500');
    const outcomes = msg.attempts.map(
      (a: { carrier: string; outcome: string }) => `${a.carrier}:${a.outcome}`,
    );
    expect(outcomes).toEqual([
      'twilio-sim:retry',
      'twilio-sim:retry',
      'twilio-sim:retry',
      'vonage-sim:accepted',
    ]);
  });

  it('fails over at once when the first carrier is down', async () => {
    stack.twilio.setConfig({ down: true });
    const msg = await sendAndSettle({ to: US, body: 'failover when down' });
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('vonage-sim');
    expect(msg.attempts.map((a: { outcome: string }) => a.outcome)).toEqual(['failover', 'accepted']);
  });

  it('stops on a permanent error: failed, nothing charged, no failover', async () => {
    stack.twilio.setConfig({ mix: { ...HEALTHY.mix, accept: 0, permanent: 1 } });
    const vonageBefore = stack.vonage.stats().submissions;
    const before = await balance();
    const msg = await sendAndSettle({ to: US, body: 'permanent' });
    expect(msg.status).toBe('failed');
    expect(msg.error.carrierCode).toBeTruthy();
    expect(msg.price).toBe('0.000000');
    expect(stack.vonage.stats().submissions).toBe(vonageBefore);
    expect(await balance()).toEqual(before);
    const entries = await listEntriesForMessage(stack.db, msg.id);
    expect(entries.map((e) => e.kind).sort()).toEqual(['release', 'reserve']);
  });

  it('keeps a receipt that arrives before the submit call returns', async () => {
    stack.twilio.setConfig({ receiptBeforeReply: true, latencyMs: 300 });
    const msg = await sendAndSettle({ to: US, body: 'early receipt' });
    expect(msg.status).toBe('delivered');
    expect(msg.price).toBe('0.007900');
  });

  it('ignores a duplicate receipt', async () => {
    stack.twilio.setConfig({ duplicateReceipts: true });
    const msg = await sendAndSettle({ to: US, body: 'duplicate receipt' });
    expect(msg.status).toBe('delivered');
    // Let the second copy land before counting.
    await new Promise((r) => setTimeout(r, 500));
    const again = await api('GET', `/v1/messages/${msg.id}`);
    expect(again.body.events.filter((e: { status: string }) => e.status === 'delivered')).toHaveLength(1);
    const receipts = await stack.db
      .selectFrom('receipts')
      .select('status')
      .where('message_id', '=', msg.id)
      .execute();
    expect(receipts.filter((r) => r.status === 'delivered')).toHaveLength(1);
    const entries = await listEntriesForMessage(stack.db, msg.id);
    expect(entries.filter((e) => e.kind === 'capture')).toHaveLength(1);
  });

  it('expires a message whose receipt never comes within the validity period', async () => {
    stack.vonage.setConfig({ receipts: { ...HEALTHY.receipts, delivered: 0, none: 1 } });
    const msg = await sendAndSettle({ to: DE, body: 'no receipt', validitySeconds: 2 });
    expect(msg.status).toBe('expired');
    expect(msg.error.code).toBe('no_receipt');
    // The carrier billed on submission.
    expect(msg.price).toBe('0.068000');
    expect((await balance()).reserved).toBe('0.000000');
  });

  it('records an undelivered receipt with the carrier error code', async () => {
    stack.twilio.setConfig({ receipts: { ...HEALTHY.receipts, delivered: 0, undelivered: 1 } });
    const msg = await sendAndSettle({ to: US, body: 'undelivered' });
    expect(msg.status).toBe('undelivered');
    expect(msg.error.code).toBe('undelivered');
    expect(msg.price).toBe('0.007900');
  });

  it('rejects a forged receipt and changes nothing', async () => {
    stack.twilio.setConfig({ receipts: { ...HEALTHY.receipts, delivered: 0, none: 1 } });
    const res = await api('POST', '/v1/messages', { to: US, body: 'forged', validitySeconds: 3 });
    const sent = await waitForMessage(stack.apiUrl, account.apiKey, res.body.id, (m) => m.status === 'sent');
    const forged = await fetch(`${stack.apiUrl}/webhooks/carriers/twilio-sim?mid=${sent.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': 'bm90LWEtc2lnbmF0dXJl',
      },
      body: new URLSearchParams({ MessageSid: sent.carrierMessageId, MessageStatus: 'delivered' }).toString(),
    });
    expect(forged.status).toBe(403);
    const msg = await waitForMessage(stack.apiUrl, account.apiKey, sent.id, terminal);
    expect(msg.status).toBe('expired');
  });

  it('one Idempotency-Key: one message and one charge; a different body is a 409', async () => {
    const key = `idem-${Date.now()}`;
    const [a, b] = await Promise.all([
      api('POST', '/v1/messages', { to: US, body: 'idempotent' }, { 'idempotency-key': key }),
      api('POST', '/v1/messages', { to: US, body: 'idempotent' }, { 'idempotency-key': key }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(a.body.id).toBe(b.body.id);
    const conflict = await api(
      'POST',
      '/v1/messages',
      { to: US, body: 'other body' },
      { 'idempotency-key': key },
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('idempotency_conflict');
    const msg = await waitForMessage(stack.apiUrl, account.apiKey, a.body.id, terminal);
    expect(msg.status).toBe('delivered');
    const replay = await api(
      'POST',
      '/v1/messages',
      { to: US, body: 'idempotent' },
      { 'idempotency-key': key },
    );
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(a.body.id);
    const entries = await listEntriesForMessage(stack.db, a.body.id);
    expect(entries.filter((e) => e.kind === 'reserve')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'capture')).toHaveLength(1);
    const rows = await stack.db
      .selectFrom('messages')
      .select('id')
      .where('idempotency_key', '=', key)
      .execute();
    expect(rows).toHaveLength(1);
  });
});

describe('priority lanes', () => {
  it('stores the lane, returns it, filters by it, and gives the run its Temporal priority', async () => {
    const high = await sendAndSettle({ to: US, body: 'Your code is 654321', priority: 'high' });
    const plain = await sendAndSettle({ to: US, body: 'Hello' });
    expect(high.priority).toBe('high');
    expect(plain.priority).toBe('normal');

    const highs = await api('GET', '/v1/messages?priority=high&limit=100');
    expect(highs.status).toBe(200);
    const ids = highs.body.data.map((m: { id: string }) => m.id);
    expect(ids).toContain(high.id);
    expect(ids).not.toContain(plain.id);
    expect(highs.body.data.every((m: { priority: string }) => m.priority === 'high')).toBe(true);

    const described = await stack.client.workflow.getHandle(high.id).describe();
    // priorityKey 1 for `high`; the account is the fairness key (DESIGN §9).
    expect(described.priority).toMatchObject({ priorityKey: 1, fairnessKey: account.id });
    expect(described.typedSearchAttributes.get(HeraldPriority)).toBe('high');
    const normal = await stack.client.workflow.getHandle(plain.id).describe();
    expect(normal.priority).toMatchObject({ priorityKey: 3 });
    expect(normal.typedSearchAttributes.get(HeraldPriority)).toBe('normal');
  });

  it('GET /v1/messages?priority=urgent → 400 invalid_request', async () => {
    const res = await api('GET', '/v1/messages?priority=urgent');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
  });
});

describe('bad input changes nothing', () => {
  async function expectNoChange(fn: () => Promise<void>): Promise<void> {
    const before = await balance();
    const count = async () =>
      Number(
        (
          await stack.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const n = await count();
    await fn();
    expect(await balance()).toEqual(before);
    expect(await count()).toBe(n);
  }

  it.each([
    [{ to: '+1415', body: 'hi' }, 400, 'invalid_phone_number'],
    [{ to: 'not a number', body: 'hi' }, 400, 'invalid_phone_number'],
    [{ to: US, body: '' }, 400, 'invalid_request'],
    [{ to: US, body: 'x'.repeat(1601) }, 400, 'body_too_long'],
    [{ to: US }, 400, 'invalid_request'],
    [{ to: US, body: 'hi', validitySeconds: -5 }, 400, 'invalid_request'],
    [{ to: US, body: 'hi', unknownField: 1 }, 400, 'invalid_request'],
    [{ to: US, body: 'hi', priority: 'urgent' }, 400, 'invalid_request'],
    [{ to: US, body: 'hi', priority: 1 }, 400, 'invalid_request'],
  ])('POST /v1/messages %j → %i %s', async (body, status, code) => {
    await expectNoChange(async () => {
      const res = await api('POST', '/v1/messages', body);
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(typeof res.body.error.message).toBe('string');
    });
  });

  it('malformed JSON → 400 invalid_request', async () => {
    await expectNoChange(async () => {
      const res = await api('POST', '/v1/messages', '{"to": "+1415', {});
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    });
  });

  it('missing or wrong key → 401; an account key on an admin route → 403', async () => {
    await expectNoChange(async () => {
      const anon = await apiClient(stack.apiUrl)('POST', '/v1/messages', { to: US, body: 'hi' });
      expect(anon.status).toBe(401);
      expect(anon.body.error.code).toBe('unauthorized');
      const wrong = await apiClient(stack.apiUrl, 'hk_wrong')('POST', '/v1/messages', { to: US, body: 'hi' });
      expect(wrong.status).toBe(401);
      const admin = await api('POST', '/v1/accounts', { name: 'nope' });
      expect(admin.status).toBe(403);
      expect(admin.body.error.code).toBe('forbidden');
    });
  });

  it('insufficient funds → 402 and nothing changes', async () => {
    const poor = await createFundedAccount(stack.apiUrl, '0.000001');
    const poorApi = apiClient(stack.apiUrl, poor.apiKey);
    const res = await poorApi('POST', '/v1/messages', { to: US, body: 'no money' });
    expect(res.status).toBe(402);
    expect(res.body.error.code).toBe('insufficient_funds');
    expect((await poorApi('GET', '/v1/balance')).body).toMatchObject({
      available: '0.000001',
      reserved: '0.000000',
    });
    expect((await poorApi('GET', '/v1/messages')).body.data).toHaveLength(0);
  });

  it("another account's message answers 404", async () => {
    const msg = await sendAndSettle({ to: US, body: 'mine' });
    const other = await createFundedAccount(stack.apiUrl, '1.00');
    const res = await apiClient(stack.apiUrl, other.apiKey)('GET', `/v1/messages/${msg.id}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    const cancel = await apiClient(stack.apiUrl, other.apiKey)('POST', `/v1/messages/${msg.id}/cancel`);
    expect(cancel.status).toBe(404);
  });

  it('admin credit with a bad amount → 400, unknown account → 404', async () => {
    const admin = apiClient(stack.apiUrl, ADMIN_KEY);
    for (const amount of ['-1', '0', '1.0000001', 'ten', 5]) {
      const res = await admin('POST', `/v1/accounts/${account.id}/credits`, { amount });
      expect(res.status, String(amount)).toBe(400);
    }
    const missing = await admin('POST', '/v1/accounts/acc_missing/credits', { amount: '1.00' });
    expect(missing.status).toBe(404);
  });
});
