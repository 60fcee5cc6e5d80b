import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCredit, createAccount, findAccountByApiKey } from '../../db/accounts.ts';
import { createDb, destroyDb } from '../../db/connection.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../db/embedded.ts';
import { checkInvariant, getBalance, reserve, settle } from '../../db/ledger.ts';
import { migrateToLatest } from '../../db/migrate.ts';

const UNIT = 1_000_000n;

let dataDir: string;
let running: EmbeddedPostgres | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-pglite-'));
});

afterAll(async () => {
  await running?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded PostgreSQL (PGlite behind a socket server)', () => {
  it('serves pg pools on a random port, keeps money moves correct and persists across restarts', async () => {
    running = await startEmbeddedPostgres({ dataDir });
    expect(running.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(running.url).not.toMatch(/:5432\//);
    let db = createDb(running.url, { max: 10 });
    await migrateToLatest(db);

    const { account, apiKey } = await createAccount(db, { name: 'embedded' });
    await addCredit(db, { accountId: account.id, amountMicros: 30n * UNIT, reference: 'seed' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        reserve(db, { accountId: account.id, messageId: `msg_e${i}`, amountMicros: UNIT }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(30);
    const dup = await Promise.all(
      Array.from({ length: 10 }, () =>
        reserve(db, { accountId: account.id, messageId: 'msg_e0', amountMicros: UNIT }),
      ),
    );
    expect(dup.every((r) => r.ok && r.alreadyDone)).toBe(true);
    const settled = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        settle(db, { accountId: account.id, messageId: `msg_e${i}`, captureMicros: 600_000n }),
      ),
    );
    expect(settled.every((s) => s.capturedMicros === 600_000n && !s.alreadyDone)).toBe(true);
    expect(await getBalance(db, account.id)).toEqual({ availableMicros: 12n * UNIT, reservedMicros: 0n });
    expect(await checkInvariant(db, account.id)).toBe(true);
    await destroyDb(db);
    await running.close();
    running = undefined;

    // Same directory again: the data is still there and migrations have nothing left to do.
    running = await startEmbeddedPostgres({ dataDir });
    db = createDb(running.url, { max: 10 });
    try {
      await migrateToLatest(db);
      expect((await findAccountByApiKey(db, apiKey))?.id).toBe(account.id);
      expect(await getBalance(db, account.id)).toEqual({ availableMicros: 12n * UNIT, reservedMicros: 0n });
      expect(await checkInvariant(db, account.id)).toBe(true);
      // The credit reference survived too: replaying it moves nothing.
      const again = await addCredit(db, {
        accountId: account.id,
        amountMicros: 30n * UNIT,
        reference: 'seed',
      });
      expect(again?.available_micros).toBe(12n * UNIT);
    } finally {
      await destroyDb(db);
    }
  });
});
