/**
 * Named (server-side prepared) statements, db/connection.ts, on PostgreSQL and on embedded PGlite:
 * a parameterized statement outside a transaction is prepared once per connection and reused; one
 * inside a transaction, or with no parameters, is not; a migration that changes a table under a
 * prepared `SELECT *` does not fail the next call; `preparedStatements: false` prepares nothing.
 */
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, createStatementNames, destroyDb } from '../../db/connection.ts';
import type { Database } from '../../db/schema.ts';
import { createEmbeddedTestDatabase, createTestDatabase, type TestDatabase } from '../support/db.ts';

/**
 * Names of the statements our pools prepared that `run` added. On PGlite every connection shares
 * one session (its wire server prefixes each connection's names), so compare before and after.
 */
async function preparedBy(db: Kysely<Database>, run: () => Promise<unknown>): Promise<string[]> {
  const names = async () =>
    (await sql<{ name: string }>`select name from pg_prepared_statements`.execute(db)).rows
      .map((r) => r.name)
      .filter((n) => n.includes('herald_'));
  const before = new Set(await names());
  await run();
  return (await names()).filter((n) => !before.has(n));
}

describe.each([
  ['postgres', createTestDatabase],
  ['pglite', createEmbeddedTestDatabase],
] as const)('prepared statements on %s', (_name, create) => {
  let t: TestDatabase;
  let db: Kysely<Database>;
  let plain: Kysely<Database>;

  beforeAll(async () => {
    t = await create();
    // One connection each, so the statements they prepare are visible to the next query.
    db = createDb(t.url, { max: 1 });
    plain = createDb(t.url, { max: 1, preparedStatements: false });
  });
  afterAll(async () => {
    await destroyDb(db);
    await destroyDb(plain);
    await t?.drop();
  });

  it('prepares a parameterized statement once and reuses it; none in a transaction or without parameters', async () => {
    const once = await preparedBy(db, async () => {
      for (let i = 0; i < 3; i++) {
        const { rows } = await sql<{ n: number }>`select ${i}::int + 1 as n`.execute(db);
        expect(rows[0]?.n).toBe(i + 1);
      }
    });
    expect(once).toHaveLength(1);
    const none = await preparedBy(db, async () => {
      await db.transaction().execute(async (trx) => {
        await sql`select ${'in a transaction'}::text as t`.execute(trx);
      });
      await sql`select 'no parameters' as t`.execute(db);
      await sql`select ${2}::int + 1 as n`.execute(db); // prepared already
    });
    expect(none).toEqual([]);
  });

  it('runs a statement again, unnamed, when a migration changed its table under it', async () => {
    await sql`create table prep_probe (a int)`.execute(db);
    await sql`insert into prep_probe values (1)`.execute(db);
    const read = () => sql<Record<string, unknown>>`select * from prep_probe where a = ${1}`.execute(db);
    expect((await read()).rows).toEqual([{ a: 1 }]);
    await sql`alter table prep_probe add column b int default 7`.execute(db);
    // Prepared with one column: PostgreSQL refuses the cached plan (0A000); the retry answers.
    expect((await read()).rows).toEqual([{ a: 1, b: 7 }]);
    expect((await read()).rows).toEqual([{ a: 1, b: 7 }]);
  });

  it('prepares nothing when turned off', async () => {
    expect(await preparedBy(plain, () => sql`select ${1}::int * 5 as n`.execute(plain))).toEqual([]);
    // The same statement on the other pool is prepared: the probe sees it.
    expect(await preparedBy(db, () => sql`select ${1}::int * 5 as n`.execute(db))).toHaveLength(1);
  });
});

describe('statement names', () => {
  it('names a text by its hash, the same for every pool, and stops naming past the bound', () => {
    const a = createStatementNames(2);
    const b = createStatementNames(2);
    expect(a.nameFor('select $1')).toMatch(/^herald_[0-9a-f]{24}$/);
    expect(a.nameFor('select $1')).toBe(b.nameFor('select $1'));
    expect(a.nameFor('select $2')).toBeDefined();
    expect(a.nameFor('select $3')).toBeUndefined();
    a.forget('select $1');
    expect(a.nameFor('select $1')).toBeUndefined();
  });
});
