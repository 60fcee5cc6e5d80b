import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCredit, createAccount, findAccountByApiKey, getAccount, hashApiKey } from '../../db/accounts.ts';
import {
  checkInvariant,
  getBalance,
  InvalidCursorError,
  ledgerTotals,
  listLedger,
  reserve,
  settle,
} from '../../db/ledger.ts';
import { MIGRATIONS, migrateDown, migrateToLatest } from '../../db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const UNIT = 1_000_000n;

let t: TestDatabase;

beforeAll(async () => {
  // Pool of 20 so concurrent calls really run in parallel transactions on the server.
  t = await createTestDatabase({ max: 20 });
});

afterAll(async () => {
  await t?.drop();
});

async function fundedAccount(amount: bigint) {
  const { account } = await createAccount(t.db, { name: 'ledger test' });
  if (amount > 0n) await addCredit(t.db, { accountId: account.id, amountMicros: amount });
  return account.id;
}

describe('migrations', () => {
  it('go down and up again', async () => {
    const tables = async () =>
      (
        await sql<{ n: number }>`select count(*)::int as n from information_schema.tables
          where table_schema = 'public' and table_name not like 'kysely%'`.execute(t.db)
      ).rows[0]?.n;
    const all = await tables();
    expect(all).toBeGreaterThanOrEqual(10);
    for (let i = 0; i < Object.keys(MIGRATIONS).length; i++) await migrateDown(t.db);
    expect(await tables()).toBe(0);
    await migrateToLatest(t.db);
    expect(await tables()).toBe(all);
    await migrateToLatest(t.db); // nothing pending: a no-op
    expect(await tables()).toBe(all);
  });

  it('applies migrations that sort before ones already applied', async () => {
    for (let i = 0; i < Object.keys(MIGRATIONS).length; i++) await migrateDown(t.db);
    // A database migrated before 0030/0031 existed: it has 0040 but not them.
    const older = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => !/_003\d_/.test(name)));
    expect(Object.keys(older).length).toBe(Object.keys(MIGRATIONS).length - 2);
    const early = await new Migrator({
      db: t.db,
      provider: { getMigrations: async () => older },
    }).migrateToLatest();
    expect(early.error).toBeUndefined();
    await migrateToLatest(t.db);
    const applied = await t.db
      .selectFrom('kysely_migration' as never)
      .select(sql<string>`name`.as('name'))
      .execute();
    expect(applied.map((r) => r.name).sort()).toEqual(Object.keys(MIGRATIONS).sort());
    // 0030's columns are there.
    await expect(sql`select circuit_state from route_stats limit 0`.execute(t.db)).resolves.toBeDefined();
  });

  it('0070 moves failover rows booked under `<id>:failover` to their message as leg 2, and back', async () => {
    const accountId = await fundedAccount(UNIT);
    const migrator = new Migrator({
      db: t.db,
      provider: { getMigrations: async () => MIGRATIONS },
      allowUnorderedMigrations: true,
    });
    const before0070 = async () =>
      expect((await migrator.migrateTo('2026_12_05_0060_message_priority')).error).toBeUndefined();
    await before0070();
    const row = (messageId: string, kind: string) => sql`insert into ledger_entries
      (account_id, message_id, kind, amount_micros, available_after_micros, reserved_after_micros)
      values (${accountId}, ${messageId}, ${kind}, 1000, 0, 0)`;
    await row('msg_legs', 'reserve').execute(t.db);
    await row('msg_legs:failover', 'reserve').execute(t.db);
    await migrateToLatest(t.db);
    const legs = await t.db
      .selectFrom('ledger_entries')
      .select(['message_id', 'leg'])
      .where('message_id', 'like', 'msg_legs%')
      .orderBy('id')
      .execute();
    expect(legs).toEqual([
      { message_id: 'msg_legs', leg: 1 },
      { message_id: 'msg_legs', leg: 2 },
    ]);
    await before0070();
    const back = await sql<{ message_id: string }>`select message_id from ledger_entries
      where message_id like 'msg_legs%' order by id`.execute(t.db);
    expect(back.rows.map((r) => r.message_id)).toEqual(['msg_legs', 'msg_legs:failover']);
    await migrateToLatest(t.db);
  });
});

describe('accounts', () => {
  it('creates an account with a hashed API key and finds it by key', async () => {
    const { account, apiKey } = await createAccount(t.db, { name: 'Acme' });
    expect(account.id).toMatch(/^acc_[a-z2-7]{20}$/);
    expect(apiKey).toMatch(/^hk_[a-z2-7]{32}$/);
    expect(account.available_micros).toBe(0n);
    const key = await t.db
      .selectFrom('api_keys')
      .selectAll()
      .where('account_id', '=', account.id)
      .executeTakeFirst();
    expect(key?.key_hash).toBe(hashApiKey(apiKey));
    expect(key?.prefix).toBe(apiKey.slice(0, 8));
    expect((await findAccountByApiKey(t.db, apiKey))?.id).toBe(account.id);
    expect(await findAccountByApiKey(t.db, `${apiKey}x`)).toBeUndefined();

    await t.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('account_id', '=', account.id)
      .execute();
    expect(await findAccountByApiKey(t.db, apiKey)).toBeUndefined();
  });

  it('uses a given API key', async () => {
    const { apiKey, account } = await createAccount(t.db, {
      name: 'Given',
      apiKey: 'hk_given_key_for_tests_000000001',
    });
    expect(apiKey).toBe('hk_given_key_for_tests_000000001');
    expect((await findAccountByApiKey(t.db, apiKey))?.id).toBe(account.id);
  });

  it('credits once per reference, rejects non-positive amounts and unknown accounts', async () => {
    const id = await fundedAccount(0n);
    const first = await addCredit(t.db, { accountId: id, amountMicros: 5n * UNIT, reference: 'pay_1' });
    expect(first?.available_micros).toBe(5n * UNIT);
    const again = await addCredit(t.db, { accountId: id, amountMicros: 5n * UNIT, reference: 'pay_1' });
    expect(again?.available_micros).toBe(5n * UNIT);
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () =>
        addCredit(t.db, { accountId: id, amountMicros: UNIT, reference: 'pay_2' }),
      ),
    );
    expect(concurrent.every((a) => a !== undefined)).toBe(true);
    expect((await getAccount(t.db, id))?.available_micros).toBe(6n * UNIT);
    await expect(addCredit(t.db, { accountId: id, amountMicros: 0n })).rejects.toThrow(RangeError);
    expect(await addCredit(t.db, { accountId: 'acc_missing', amountMicros: UNIT })).toBeUndefined();
    expect((await ledgerTotals(t.db, id)).credits).toBe(6n * UNIT);
    expect(await checkInvariant(t.db, id)).toBe(true);
  });
});

describe('CHECK constraints', () => {
  it('reject negative balances and non-positive ledger amounts', async () => {
    const id = await fundedAccount(UNIT);
    await expect(
      t.db.updateTable('accounts').set({ available_micros: -1n }).where('id', '=', id).execute(),
    ).rejects.toThrow(/accounts_available_non_negative/);
    await expect(
      t.db.updateTable('accounts').set({ reserved_micros: -1n }).where('id', '=', id).execute(),
    ).rejects.toThrow(/accounts_reserved_non_negative/);
    await expect(
      t.db
        .insertInto('ledger_entries')
        .values({
          account_id: id,
          message_id: null,
          kind: 'credit',
          amount_micros: 0n,
          available_after_micros: 0n,
          reserved_after_micros: 0n,
          reference: null,
        })
        .execute(),
    ).rejects.toThrow(/ledger_entries_amount_positive/);
  });
});

describe('reserve', () => {
  it('moves available to reserved, refuses overdrafts and unknown accounts', async () => {
    const id = await fundedAccount(10n * UNIT);
    expect(await reserve(t.db, { accountId: id, messageId: 'msg_r1', amountMicros: 4n * UNIT })).toEqual({
      ok: true,
      alreadyDone: false,
    });
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: 6n * UNIT, reservedMicros: 4n * UNIT });
    expect(await reserve(t.db, { accountId: id, messageId: 'msg_r2', amountMicros: 7n * UNIT })).toEqual({
      ok: false,
      reason: 'insufficient_funds',
    });
    expect(await reserve(t.db, { accountId: 'acc_nope', messageId: 'msg_r3', amountMicros: 1n })).toEqual({
      ok: false,
      reason: 'account_not_found',
    });
    // A repeat is idempotent even when the balance could not cover it again.
    expect(await reserve(t.db, { accountId: id, messageId: 'msg_r1', amountMicros: 4n * UNIT })).toEqual({
      ok: true,
      alreadyDone: true,
    });
    expect(await reserve(t.db, { accountId: id, messageId: 'msg_r0', amountMicros: 0n })).toEqual({
      ok: true,
      alreadyDone: false,
    });
    await expect(reserve(t.db, { accountId: id, messageId: 'msg_rn', amountMicros: -1n })).rejects.toThrow(
      RangeError,
    );
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: 6n * UNIT, reservedMicros: 4n * UNIT });
    expect(await checkInvariant(t.db, id)).toBe(true);
  });

  it('300 concurrent reserves of 1.00 on 100.00: exactly 100 succeed, never negative', async () => {
    const id = await fundedAccount(100n * UNIT);
    let minAvailable = 100n * UNIT;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const b = await getBalance(t.db, id);
        if (b && b.availableMicros < minAvailable) minAvailable = b.availableMicros;
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        reserve(t.db, { accountId: id, messageId: `msg_c${i}`, amountMicros: UNIT }),
      ),
    );
    sampling = false;
    await sampler;
    const ok = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    expect(ok).toHaveLength(100);
    expect(refused).toHaveLength(200);
    expect(refused.every((r) => !r.ok && r.reason === 'insufficient_funds')).toBe(true);
    expect(minAvailable).toBeGreaterThanOrEqual(0n);
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: 0n, reservedMicros: 100n * UNIT });
    const min = await t.db
      .selectFrom('ledger_entries')
      .select((eb) => eb.fn.min('available_after_micros').as('min'))
      .where('account_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(BigInt(min.min)).toBe(0n);
    expect((await ledgerTotals(t.db, id)).reserved).toBe(100n * UNIT);
    expect(await checkInvariant(t.db, id)).toBe(true);
  });

  it('the same message reserved 20 times concurrently moves money once', async () => {
    const id = await fundedAccount(10n * UNIT);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        reserve(t.db, { accountId: id, messageId: 'msg_dup', amountMicros: 3n * UNIT }),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.filter((r) => r.ok && !r.alreadyDone)).toHaveLength(1);
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: 7n * UNIT, reservedMicros: 3n * UNIT });
    const rows = await t.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('message_id', '=', 'msg_dup')
      .execute();
    expect(rows).toHaveLength(1);
    expect(await checkInvariant(t.db, id)).toBe(true);
  });
});

describe('settle', () => {
  it('captures the price, releases the rest, once', async () => {
    const id = await fundedAccount(10n * UNIT);
    await reserve(t.db, { accountId: id, messageId: 'msg_s1', amountMicros: 9_000n });
    const first = await settle(t.db, { accountId: id, messageId: 'msg_s1', captureMicros: 7_900n });
    expect(first).toEqual({ capturedMicros: 7_900n, releasedMicros: 1_100n, alreadyDone: false });
    const second = await settle(t.db, { accountId: id, messageId: 'msg_s1', captureMicros: 9_000n });
    expect(second).toEqual({ capturedMicros: 7_900n, releasedMicros: 1_100n, alreadyDone: true });
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: 10n * UNIT - 7_900n, reservedMicros: 0n });
    expect(await checkInvariant(t.db, id)).toBe(true);
  });

  it('caps the capture at the reservation, releases everything on zero, does nothing unreserved', async () => {
    const id = await fundedAccount(UNIT);
    await reserve(t.db, { accountId: id, messageId: 'msg_s2', amountMicros: 100n });
    await reserve(t.db, { accountId: id, messageId: 'msg_s3', amountMicros: 100n });
    expect(await settle(t.db, { accountId: id, messageId: 'msg_s2', captureMicros: 500n })).toEqual({
      capturedMicros: 100n,
      releasedMicros: 0n,
      alreadyDone: false,
    });
    expect(await settle(t.db, { accountId: id, messageId: 'msg_s3', captureMicros: 0n })).toEqual({
      capturedMicros: 0n,
      releasedMicros: 100n,
      alreadyDone: false,
    });
    expect(await settle(t.db, { accountId: id, messageId: 'msg_none', captureMicros: 10n })).toEqual({
      capturedMicros: 0n,
      releasedMicros: 0n,
      alreadyDone: false,
    });
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: UNIT - 100n, reservedMicros: 0n });
    expect(await checkInvariant(t.db, id)).toBe(true);
  });

  it('concurrent settles of one message capture once', async () => {
    const id = await fundedAccount(UNIT);
    await reserve(t.db, { accountId: id, messageId: 'msg_s4', amountMicros: 5_000n });
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        settle(t.db, { accountId: id, messageId: 'msg_s4', captureMicros: 4_000n }),
      ),
    );
    expect(results.filter((r) => !r.alreadyDone)).toHaveLength(1);
    expect(results.every((r) => r.capturedMicros === 4_000n && r.releasedMicros === 1_000n)).toBe(true);
    expect(await getBalance(t.db, id)).toEqual({ availableMicros: UNIT - 4_000n, reservedMicros: 0n });
    expect(await checkInvariant(t.db, id)).toBe(true);
  });

  it('keeps the ledger identity under a concurrent mix of credits, reserves and settles', async () => {
    const id = await fundedAccount(50n * UNIT);
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      const messageId = `msg_mix${i}`;
      ops.push(
        (async () => {
          const r = await reserve(t.db, { accountId: id, messageId, amountMicros: UNIT });
          if (r.ok) await settle(t.db, { accountId: id, messageId, captureMicros: BigInt(i % 3) * 400_000n });
        })(),
      );
      if (i % 20 === 0) ops.push(addCredit(t.db, { accountId: id, amountMicros: 2n * UNIT }));
    }
    await Promise.all(ops);
    const b = await getBalance(t.db, id);
    expect(b?.reservedMicros).toBe(0n);
    const totals = await ledgerTotals(t.db, id);
    expect(b?.availableMicros).toBe(totals.credits - totals.captured + totals.refunded);
    expect(await checkInvariant(t.db, id)).toBe(true);
  });

  it('checkInvariant notices a balance that disagrees with the ledger', async () => {
    const id = await fundedAccount(UNIT);
    expect(await checkInvariant(t.db, id)).toBe(true);
    await t.db
      .updateTable('accounts')
      .set({ available_micros: UNIT + 1n })
      .where('id', '=', id)
      .execute();
    expect(await checkInvariant(t.db, id)).toBe(false);
  });
});

describe('listLedger', () => {
  it('pages newest first with an opaque cursor', async () => {
    const id = await fundedAccount(0n);
    for (let i = 1; i <= 7; i++) await addCredit(t.db, { accountId: id, amountMicros: BigInt(i) });
    const seen: bigint[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listLedger>> = await listLedger(t.db, id, { limit: 3, cursor });
      seen.push(...page.data.map((e) => e.amount_micros));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([7n, 6n, 5n, 4n, 3n, 2n, 1n]);
    await expect(listLedger(t.db, id, { limit: 3, cursor: 'garbage!' })).rejects.toThrow(InvalidCursorError);
  });
});
