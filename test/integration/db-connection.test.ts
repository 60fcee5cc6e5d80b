/**
 * A pooled connection terminated while it is checked out (`pg_terminate_backend`, a PostgreSQL
 * restart) fails the work on it and nothing else (issue 10, bug 2). Between two statements of a
 * transaction no query is active, so pg reports the termination as the client's 'error' event —
 * which, before the fix, had no listener on a checked-out client and took the whole process
 * (worker or API) down.
 */
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, destroyDb } from '../../db/connection.ts';
import type { Database } from '../../db/schema.ts';
import { createTestDatabase, TEST_PG_ADMIN_URL, type TestDatabase } from '../support/db.ts';

let t: TestDatabase;
let db: Kysely<Database>;
const seen: Error[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url, { max: 2, onIdleError: (e) => seen.push(e) });
});
afterAll(async () => {
  await destroyDb(db);
  await t?.drop();
});

/** Terminates the backend whose current or last query text contains `marker`; how many it ended. */
async function terminate(marker: string): Promise<number> {
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const res = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where query like $1 and pid <> pg_backend_pid()',
        [`%${marker}%`],
      );
      if ((res.rowCount ?? 0) > 0) return res.rowCount ?? 0;
      await new Promise((r) => setTimeout(r, 50));
    }
    return 0;
  } finally {
    await admin.end();
  }
}

const settle = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (error: unknown) => error,
  );

it('a connection terminated mid-query rejects that query; the pool carries on', async () => {
  const marker = `herald-mid-query-${Date.now()}`;
  // The marker goes into the query text (a bind parameter would not show in pg_stat_activity).
  const running = settle(sql.raw(`select pg_sleep(30) /* ${marker} */`).execute(db));
  expect(await terminate(marker)).toBe(1);
  const failure = await running;
  expect(failure).toBeInstanceOf(Error);
  expect((failure as Error).message).toMatch(/terminat/i);
  expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
});

it('a connection terminated between two statements of a transaction fails the transaction, not the process', async () => {
  const marker = `herald-in-transaction-${Date.now()}`;
  let terminated = 0;
  const transaction = settle(
    db.transaction().execute(async (trx) => {
      await sql.raw(`select 1 /* ${marker} */`).execute(trx);
      // Idle in transaction, checked out: no query is active when the backend goes.
      terminated = await terminate(marker);
      await new Promise((r) => setTimeout(r, 300));
      await sql`select 2`.execute(trx);
    }),
  );
  const failure = await transaction;
  expect(terminated).toBe(1);
  expect(failure).toBeInstanceOf(Error);
  expect(seen.some((e) => /terminat/i.test(e.message))).toBe(true);
  expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
});

it('the next query after a terminated one never lands on the dead connection', async () => {
  // One connection, so the query right after the termination reuses the client pg just failed:
  // pg rejects on the server's 57P01 message before the socket closes, and a client released in
  // that gap used to go back to the idle list and fail the next query too.
  const one = createDb(t.url, { max: 1, onIdleError: () => {} });
  try {
    for (let round = 0; round < 25; round++) {
      const marker = `herald-reuse-${round}-${Date.now()}`;
      const running = settle(sql.raw(`select pg_sleep(30) /* ${marker} */`).execute(one));
      expect(await terminate(marker)).toBe(1);
      expect(await running).toBeInstanceOf(Error);
      expect((await sql<{ round: number }>`select ${round}::int as round`.execute(one)).rows).toEqual([
        { round },
      ]);
    }
  } finally {
    await destroyDb(one);
  }
});
