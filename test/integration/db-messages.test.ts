import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../db/accounts.ts';
import {
  getCarrier,
  listCarriers,
  listPrices,
  listRouteCandidates,
  recordRouteOutcome,
  upsertCarrier,
  upsertPrice,
} from '../../db/carriers.ts';
import {
  beginAttempt,
  findMessageIdByCarrierMessageId,
  finishAttempt,
  getMessage,
  getMessageForAccount,
  InvalidCursorError,
  insertMessage,
  listAttempts,
  listEvents,
  listMessages,
  transitionMessage,
} from '../../db/messages.ts';
import { insertReceipt, listReceipts } from '../../db/receipts.ts';
import type { NewMessage } from '../../db/schema.ts';
import { createTestDatabase, messageRow, type TestDatabase } from '../support/db.ts';

let t: TestDatabase;
let accountId: string;
let otherAccountId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  accountId = (await createAccount(t.db, { name: 'messages' })).account.id;
  otherAccountId = (await createAccount(t.db, { name: 'other' })).account.id;
});

afterAll(async () => {
  await t?.drop();
});

function newMessage(overrides: Partial<NewMessage> = {}): NewMessage {
  return messageRow(accountId, overrides);
}

describe('insertMessage', () => {
  it('inserts once by id, and once per idempotency key', async () => {
    const m = newMessage({ idempotency_key: 'key-1' });
    const first = await insertMessage(t.db, m);
    expect(first.inserted).toBe(true);
    expect(first.message.quote_micros).toBe(9_000n);
    expect(first.message.created_at).toBeInstanceOf(Date);
    const again = await insertMessage(t.db, { ...m, body: 'changed' });
    expect(again).toMatchObject({ inserted: false, message: { id: m.id, body: 'hello' } });
    const sameKey = await insertMessage(t.db, { ...m, id: 'msg_other_id' });
    expect(sameKey).toMatchObject({ inserted: false, message: { id: m.id } });
    expect(await getMessage(t.db, 'msg_other_id')).toBeUndefined();
    expect((await listEvents(t.db, m.id)).map((e) => e.status)).toEqual(['accepted']);
  });

  it('is safe under concurrent inserts of the same message', async () => {
    const m = newMessage();
    const results = await Promise.all(Array.from({ length: 10 }, () => insertMessage(t.db, m)));
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    expect(await listEvents(t.db, m.id)).toHaveLength(1);
  });

  it('scopes reads to the account', async () => {
    const m = newMessage();
    await insertMessage(t.db, m);
    expect((await getMessageForAccount(t.db, accountId, m.id))?.id).toBe(m.id);
    expect(await getMessageForAccount(t.db, otherAccountId, m.id)).toBeUndefined();
  });
});

describe('listMessages', () => {
  it('walks every row exactly once, newest first, including rows with equal timestamps', async () => {
    const { account } = await createAccount(t.db, { name: 'pager' });
    const same = new Date('2026-01-01T00:00:00.000Z');
    const ids: string[] = [];
    for (let i = 0; i < 23; i++) {
      // Five share one timestamp, so the id tie-break is exercised across page boundaries.
      const createdAt = i < 5 ? same : new Date(same.getTime() + i * 1000);
      const m = newMessage({
        account_id: account.id,
        created_at: createdAt,
        status: i % 2 ? 'queued' : 'accepted',
      });
      await insertMessage(t.db, m);
      ids.push(m.id);
    }
    // Two more with default now(): microsecond timestamps must survive the cursor.
    for (let i = 0; i < 2; i++) {
      const m = newMessage({ account_id: account.id });
      await insertMessage(t.db, m);
      ids.push(m.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof listMessages>> = await listMessages(t.db, account.id, {
        limit: 4,
        cursor,
      });
      expect(page.data.length).toBeLessThanOrEqual(4);
      seen.push(...page.data.map((m) => m.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(7);
    expect(new Set(seen).size).toBe(25);
    expect([...seen].sort()).toEqual([...ids].sort());
    const all = await t.db
      .selectFrom('messages')
      .select('id')
      .where('account_id', '=', account.id)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    expect(seen).toEqual(all.map((r) => r.id));

    const queued = await listMessages(t.db, account.id, { limit: 100, status: 'queued' });
    expect(queued.data).toHaveLength(11);
    expect(queued.nextCursor).toBeNull();
    expect(queued.data.every((m) => m.status === 'queued')).toBe(true);
    const byTo = await listMessages(t.db, account.id, { limit: 100, to: '+447700900000' });
    expect(byTo.data).toHaveLength(0);
  });

  it('rejects cursors it did not make, or made for another account', async () => {
    await expect(listMessages(t.db, accountId, { limit: 10, cursor: 'not a cursor' })).rejects.toThrow(
      InvalidCursorError,
    );
    const bogus = Buffer.from(JSON.stringify({ nope: 1 })).toString('base64url');
    await expect(listMessages(t.db, accountId, { limit: 10, cursor: bogus })).rejects.toThrow(
      InvalidCursorError,
    );
    const m = newMessage({ account_id: otherAccountId });
    await insertMessage(t.db, m);
    const foreign = Buffer.from(JSON.stringify({ id: m.id })).toString('base64url');
    await expect(listMessages(t.db, accountId, { limit: 10, cursor: foreign })).rejects.toThrow(
      InvalidCursorError,
    );
  });
});

describe('transitionMessage', () => {
  it('applies legal moves with their patch and an event, refuses illegal and repeated ones', async () => {
    const m = newMessage();
    await insertMessage(t.db, m);
    expect((await transitionMessage(t.db, m.id, 'queued')).changed).toBe(true);
    expect((await transitionMessage(t.db, m.id, 'sending')).changed).toBe(true);
    const sent = await transitionMessage(
      t.db,
      m.id,
      'sent',
      { carrier_id: 'twilio-sim', carrier_message_id: 'SM123', price_micros: 7_900n },
      { attempt: 1 },
    );
    expect(sent.changed).toBe(true);
    expect(sent.message).toMatchObject({ status: 'sent', carrier_message_id: 'SM123', price_micros: 7_900n });

    const repeated = await transitionMessage(t.db, m.id, 'sent', { carrier_message_id: 'SM999' });
    expect(repeated.changed).toBe(false);
    expect(repeated.message?.carrier_message_id).toBe('SM123');
    const illegal = await transitionMessage(t.db, m.id, 'queued', { error_code: 'x' });
    expect(illegal).toMatchObject({ changed: false, message: { status: 'sent', error_code: null } });

    expect((await transitionMessage(t.db, m.id, 'delivered')).changed).toBe(true);
    expect((await transitionMessage(t.db, m.id, 'failed')).changed).toBe(false);
    expect(await transitionMessage(t.db, 'msg_missing', 'queued')).toEqual({ changed: false });

    const events = await listEvents(t.db, m.id);
    expect(events.map((e) => e.status)).toEqual(['accepted', 'queued', 'sending', 'sent', 'delivered']);
    expect(events[3]?.detail).toEqual({ attempt: 1 });
    expect((await getMessage(t.db, m.id))?.status).toBe('delivered');
    expect(await findMessageIdByCarrierMessageId(t.db, 'twilio-sim', 'SM123')).toBe(m.id);
    expect(await findMessageIdByCarrierMessageId(t.db, 'other', 'SM123')).toBeUndefined();
  });

  it('with onlyFrom, refuses a move the status machine allows from any other status', async () => {
    const m = newMessage();
    await insertMessage(t.db, m);
    const forward = { onlyFrom: ['accepted', 'scheduled'] } as const;
    expect((await transitionMessage(t.db, m.id, 'queued', {}, undefined, forward)).changed).toBe(true);
    expect((await transitionMessage(t.db, m.id, 'sending')).changed).toBe(true);
    // sending → queued is a legal requeue, but not for an admission re-run after a crash.
    const back = await transitionMessage(t.db, m.id, 'queued', {}, undefined, forward);
    expect(back).toMatchObject({ changed: false, message: { status: 'sending' } });
    expect((await listEvents(t.db, m.id)).map((e) => e.status)).toEqual(['accepted', 'queued', 'sending']);
  });

  it('lets exactly one of many concurrent identical transitions win', async () => {
    const m = newMessage();
    await insertMessage(t.db, m);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => transitionMessage(t.db, m.id, 'queued')),
    );
    expect(results.filter((r) => r.changed)).toHaveLength(1);
    expect(await listEvents(t.db, m.id)).toHaveLength(2);
  });
});

describe('attempts', () => {
  it('begins once, finishes once, lists in order', async () => {
    const m = newMessage();
    await insertMessage(t.db, m);
    const first = await beginAttempt(t.db, { messageId: m.id, carrierId: 'c1', attempt: 1 });
    expect(first.fresh).toBe(true);
    expect(first.row.outcome).toBeNull();
    const retry = await beginAttempt(t.db, { messageId: m.id, carrierId: 'c1', attempt: 1 });
    expect(retry).toMatchObject({ fresh: false, row: { id: first.row.id, outcome: null } });
    const done = await finishAttempt(t.db, {
      messageId: m.id,
      attempt: 1,
      outcome: 'retry',
      errorCode: 'carrier_unavailable',
      carrierErrorCode: '503',
    });
    expect(done).toMatchObject({ outcome: 'retry', carrier_error_code: '503' });
    expect(done?.finished_at).toBeInstanceOf(Date);
    const late = await finishAttempt(t.db, { messageId: m.id, attempt: 1, outcome: 'accepted' });
    expect(late?.outcome).toBe('retry');
    await beginAttempt(t.db, { messageId: m.id, carrierId: 'c2', attempt: 2 });
    await finishAttempt(t.db, { messageId: m.id, attempt: 2, outcome: 'accepted', carrierMessageId: 'X1' });
    const attempts = await listAttempts(t.db, m.id);
    expect(attempts.map((a) => [a.attempt, a.carrier_id, a.outcome])).toEqual([
      [1, 'c1', 'retry'],
      [2, 'c2', 'accepted'],
    ]);
    expect(await finishAttempt(t.db, { messageId: m.id, attempt: 9, outcome: 'accepted' })).toBeUndefined();
  });
});

describe('carriers and routes', () => {
  it('upserts carriers and prices and lists route candidates with stats defaults', async () => {
    await upsertCarrier(t.db, {
      id: 'cheap',
      kind: 'twilio',
      config: { baseUrl: 'http://x' },
      tps: 10,
      enabled: true,
    });
    await upsertCarrier(t.db, { id: 'dear', kind: 'vonage', config: {}, tps: 5, enabled: true });
    await upsertCarrier(t.db, { id: 'off', kind: 'vonage', config: {}, tps: 5, enabled: false });
    const updated = await upsertCarrier(t.db, {
      id: 'cheap',
      kind: 'twilio',
      config: { baseUrl: 'http://y' },
      tps: 20,
      enabled: true,
    });
    expect(updated).toMatchObject({ tps: 20, config: { baseUrl: 'http://y' } });
    expect((await getCarrier(t.db, 'cheap'))?.config).toEqual({ baseUrl: 'http://y' });
    expect((await listCarriers(t.db)).map((c) => c.id)).toEqual(['cheap', 'dear', 'off']);
    expect((await listCarriers(t.db, { enabledOnly: true })).map((c) => c.id)).toEqual(['cheap', 'dear']);

    await upsertPrice(t.db, { carrierId: 'cheap', country: 'US', priceMicros: 7_900n });
    await upsertPrice(t.db, { carrierId: 'dear', country: 'US', priceMicros: 9_000n });
    await upsertPrice(t.db, { carrierId: 'off', country: 'US', priceMicros: 1_000n });
    await upsertPrice(t.db, { carrierId: 'dear', country: 'GB', priceMicros: 5_000n, enabled: false });
    expect(await listPrices(t.db)).toHaveLength(4);

    const us = await listRouteCandidates(t.db, 'US');
    expect(us).toEqual([
      {
        carrierId: 'cheap',
        kind: 'twilio',
        priceMicros: 7_900n,
        successEwma: 1,
        attempts: 0,
        consecutiveFailures: 0,
        updatedAt: null,
      },
      {
        carrierId: 'dear',
        kind: 'vonage',
        priceMicros: 9_000n,
        successEwma: 1,
        attempts: 0,
        consecutiveFailures: 0,
        updatedAt: null,
      },
    ]);
    expect(await listRouteCandidates(t.db, 'GB')).toEqual([]);
  });

  it('records outcomes as an EWMA without losing concurrent updates', async () => {
    await upsertCarrier(t.db, { id: 'stats', kind: 'twilio', config: {}, tps: 10, enabled: true });
    await upsertPrice(t.db, { carrierId: 'stats', country: 'FR', priceMicros: 1n });
    await recordRouteOutcome(t.db, { carrierId: 'stats', country: 'FR', success: false, alpha: 0.5 });
    let [c] = await listRouteCandidates(t.db, 'FR');
    expect(c).toMatchObject({ successEwma: 0.5, attempts: 1, consecutiveFailures: 1 });
    await recordRouteOutcome(t.db, { carrierId: 'stats', country: 'FR', success: false, alpha: 0.5 });
    [c] = await listRouteCandidates(t.db, 'FR');
    expect(c).toMatchObject({ successEwma: 0.25, attempts: 2, consecutiveFailures: 2 });
    expect(c?.updatedAt).toBeInstanceOf(Date);
    await recordRouteOutcome(t.db, { carrierId: 'stats', country: 'FR', success: true, alpha: 0.5 });
    [c] = await listRouteCandidates(t.db, 'FR');
    expect(c).toMatchObject({ successEwma: 0.625, attempts: 3, consecutiveFailures: 0 });

    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        recordRouteOutcome(t.db, { carrierId: 'stats', country: 'FR', success: i % 2 === 0 }),
      ),
    );
    [c] = await listRouteCandidates(t.db, 'FR');
    expect(c?.attempts).toBe(53);
    expect(c?.successEwma).toBeGreaterThan(0);
    expect(c?.successEwma).toBeLessThan(1);
    await expect(
      recordRouteOutcome(t.db, { carrierId: 'stats', country: 'FR', success: true, alpha: 0 }),
    ).rejects.toThrow(RangeError);
  });
});

describe('receipts', () => {
  it('stores a receipt once per (carrier, carrier message id, status)', async () => {
    await upsertCarrier(t.db, { id: 'rcpt', kind: 'twilio', config: {}, tps: 10, enabled: true });
    const m = newMessage();
    await insertMessage(t.db, m);
    const receipt = {
      carrierId: 'rcpt',
      carrierMessageId: 'SM1',
      messageId: m.id,
      status: 'delivered',
      carrierStatus: 'delivered',
      errorCode: null,
      raw: 'MessageStatus=delivered',
    };
    expect(await insertReceipt(t.db, receipt)).toEqual({ inserted: true });
    expect(await insertReceipt(t.db, receipt)).toEqual({ inserted: false });
    expect(await insertReceipt(t.db, { ...receipt, status: 'undelivered' })).toEqual({ inserted: true });
    expect(await insertReceipt(t.db, { ...receipt, carrierMessageId: 'SM2', messageId: null })).toEqual({
      inserted: true,
    });
    expect((await listReceipts(t.db, m.id)).map((r) => r.status)).toEqual(['delivered', 'undelivered']);
  });
});
