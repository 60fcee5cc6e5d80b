/**
 * Hundreds of messages with mixed carrier outcomes across several accounts: afterwards, for every
 * account, available + reserved = credits − captured, and no reservation is left open.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const MESSAGES = 210;
const NUMBERS = ['+14155552671', '+4915123456789', '+447400123456'];

let stack: Stack;
beforeAll(async () => {
  const mixed = {
    mix: { accept: 0.75, serverError: 0.1, timeout: 0, permanent: 0.1, throttle: 0.05, authFail: 0 },
    receipts: { delivered: 0.7, undelivered: 0.1, failed: 0.1, expired: 0.05, none: 0.05 },
    receiptDelayMs: 20,
  };
  stack = await startStack({ twilio: mixed, vonage: mixed });
});
afterAll(async () => {
  await stack?.stop();
});

it(`keeps every account's books balanced over ${MESSAGES} mixed-outcome messages`, async () => {
  const accounts = await Promise.all(
    ['20.00', '10.00', '5.00'].map((c) => createFundedAccount(stack.apiUrl, c)),
  );
  const sent: Array<{ id: string; key: string }> = [];
  for (let i = 0; i < MESSAGES; i += 30) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(30, MESSAGES - i) }, async (_, j) => {
        const account = accounts[(i + j) % accounts.length]!;
        const res = await apiClient(stack.apiUrl, account.apiKey)('POST', '/v1/messages', {
          to: NUMBERS[(i + j) % NUMBERS.length],
          body: `invariant ${i + j}`,
          // Short, so unanswered messages expire within the test, but not so short that the
          // 210 pollers below (which load the shared database) let messages expire unsent.
          validitySeconds: 20,
        });
        return { res, key: account.apiKey };
      }),
    );
    for (const { res, key } of batch) {
      // 402 is a legitimate answer once an account runs dry.
      expect([202, 402]).toContain(res.status);
      if (res.status === 202) sent.push({ id: res.body.id, key });
    }
  }
  expect(sent.length).toBeGreaterThanOrEqual(200);
  const finals = await Promise.all(
    sent.map((s) => waitForMessage(stack.apiUrl, s.key, s.id, terminal, 90_000)),
  );
  const statuses = new Set(finals.map((m) => m.status));
  expect(statuses.size).toBeGreaterThanOrEqual(3);

  for (const account of accounts) {
    const row = await stack.db
      .selectFrom('accounts')
      .select(['available_micros', 'reserved_micros'])
      .where('id', '=', account.id)
      .executeTakeFirstOrThrow();
    const sums = await stack.db
      .selectFrom('ledger_entries')
      .select([
        sql<string>`coalesce(sum(amount_micros) filter (where kind = 'credit'), 0)`.as('credits'),
        sql<string>`coalesce(sum(amount_micros) filter (where kind = 'capture'), 0)`.as('captured'),
      ])
      .where('account_id', '=', account.id)
      .executeTakeFirstOrThrow();
    const available = BigInt(row.available_micros);
    const reserved = BigInt(row.reserved_micros);
    expect(available >= 0n && reserved >= 0n).toBe(true);
    expect(available + reserved).toBe(BigInt(sums.credits) - BigInt(sums.captured));
    expect(reserved).toBe(0n);
  }
  // Every reservation of a terminal message was settled (captured and/or released).
  const open = await sql<{ message_id: string }>`
    select r.message_id from ledger_entries r
    where r.kind = 'reserve' and not exists (
      select 1 from ledger_entries s where s.message_id = r.message_id and s.kind in ('capture', 'release'))
  `.execute(stack.db);
  expect(open.rows).toEqual([]);
});
