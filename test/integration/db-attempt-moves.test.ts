/**
 * The submit's two combined writes (db/messages.ts), on PostgreSQL and on embedded PGlite: the
 * attempt row with the move to `sending`, and the attempt's outcome with the move to `sent`, each
 * one statement — both or neither, a retry writes nothing twice, concurrent twins begin once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../db/accounts.ts';
import {
  beginSendingAttempt,
  finishAttemptAndMove,
  getMessage,
  insertMessage,
  listAttempts,
  listEvents,
  transitionMessage,
} from '../../db/messages.ts';
import {
  createEmbeddedTestDatabase,
  createTestDatabase,
  messageRow,
  type TestDatabase,
} from '../support/db.ts';

describe.each([
  ['postgres', createTestDatabase],
  ['pglite', createEmbeddedTestDatabase],
] as const)('attempt rows and status moves together on %s', (_name, create) => {
  let t: TestDatabase;
  let accountId: string;

  beforeAll(async () => {
    t = await create();
    accountId = (await createAccount(t.db, { name: 'attempt-moves' })).account.id;
  });
  afterAll(async () => {
    await t?.drop();
  });

  /** A stored message moved to `queued`, as admission leaves it. */
  async function queuedMessage(): Promise<string> {
    const m = messageRow(accountId);
    await insertMessage(t.db, m);
    await transitionMessage(t.db, m.id, 'queued');
    return m.id;
  }

  it('begins the attempt and moves to sending in one go; a retry writes nothing and answers from the row', async () => {
    const id = await queuedMessage();
    const begun = await beginSendingAttempt(t.db, { messageId: id, carrierId: 'c1', attempt: 1 });
    expect(begun).toMatchObject({
      fresh: true,
      changed: true,
      message: { id, status: 'sending', carrier_id: 'c1' },
    });
    expect((await listAttempts(t.db, id)).map((a) => [a.attempt, a.carrier_id, a.outcome])).toEqual([
      [1, 'c1', null],
    ]);

    const retry = await beginSendingAttempt(t.db, { messageId: id, carrierId: 'c1', attempt: 1 });
    expect(retry).toMatchObject({ fresh: false, row: { attempt: 1, carrier_id: 'c1', outcome: null } });
    expect((await listEvents(t.db, id)).map((e) => e.status)).toEqual(['accepted', 'queued', 'sending']);
  });

  it('begins a second attempt without moving a message already sending (the carrier stays the first)', async () => {
    const id = await queuedMessage();
    await beginSendingAttempt(t.db, { messageId: id, carrierId: 'c1', attempt: 1 });
    const second = await beginSendingAttempt(t.db, { messageId: id, carrierId: 'c2', attempt: 2 });
    expect(second).toMatchObject({
      fresh: true,
      changed: false,
      message: { status: 'sending', carrier_id: 'c1' },
    });
    expect((await listAttempts(t.db, id)).map((a) => a.carrier_id)).toEqual(['c1', 'c2']);
    expect((await listEvents(t.db, id)).map((e) => e.status)).toEqual(['accepted', 'queued', 'sending']);
  });

  it('lets one of ten concurrent twins begin the attempt, and moves the message once', async () => {
    const id = await queuedMessage();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        beginSendingAttempt(t.db, { messageId: id, carrierId: 'c1', attempt: 1 }),
      ),
    );
    expect(results.filter((r) => r.fresh)).toHaveLength(1);
    expect(results.filter((r) => r.fresh && r.changed)).toHaveLength(1);
    expect(await listAttempts(t.db, id)).toHaveLength(1);
    expect((await listEvents(t.db, id)).filter((e) => e.status === 'sending')).toHaveLength(1);
  });

  it('records the outcome and moves to sent in one go; the first outcome wins and a repeat moves nothing', async () => {
    const id = await queuedMessage();
    await beginSendingAttempt(t.db, { messageId: id, carrierId: 'c1', attempt: 1 });
    const sent = await finishAttemptAndMove(
      t.db,
      { messageId: id, attempt: 1, outcome: 'accepted', carrierMessageId: 'SM1', carrierCostMicros: 7_900n },
      'sent',
      { carrier_id: 'c1', carrier_message_id: 'SM1' },
    );
    expect(sent).toMatchObject({ changed: true, message: { status: 'sent', carrier_message_id: 'SM1' } });
    const [attempt] = await listAttempts(t.db, id);
    expect(attempt).toMatchObject({
      outcome: 'accepted',
      carrier_message_id: 'SM1',
      carrier_cost_micros: 7_900n,
    });
    expect(attempt?.finished_at).toBeInstanceOf(Date);

    const again = await finishAttemptAndMove(
      t.db,
      { messageId: id, attempt: 1, outcome: 'failover', errorCode: 'late' },
      'sent',
      { carrier_id: 'c1', carrier_message_id: 'SM2' },
    );
    expect(again).toMatchObject({ changed: false, message: { status: 'sent', carrier_message_id: 'SM1' } });
    expect((await listAttempts(t.db, id))[0]).toMatchObject({ outcome: 'accepted', error_code: null });
    expect((await listEvents(t.db, id)).map((e) => e.status)).toEqual([
      'accepted',
      'queued',
      'sending',
      'sent',
    ]);
  });

  it('answers a message that does not exist with no message, writing nothing', async () => {
    const missing = await finishAttemptAndMove(
      t.db,
      { messageId: 'msg_none', attempt: 1, outcome: 'accepted' },
      'sent',
      {},
    );
    expect(missing).toEqual({ changed: false });
    expect(await getMessage(t.db, 'msg_none')).toBeUndefined();
  });
});
