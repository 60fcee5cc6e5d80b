import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { createDb, destroyDb } from '../../db/connection.ts';
import { startEmbeddedPostgres } from '../../db/embedded.ts';
import { randomBase32 } from '../../db/ids.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Database, NewMessage } from '../../db/schema.ts';

/** Where test databases are created: `TEST_PG_ADMIN_URL`, default the local trust-auth server. */
export const TEST_PG_ADMIN_URL =
  process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** URL of the fresh database. */
  url: string;
  /** A migrated pool on it. */
  db: Kysely<Database>;
  /** Closes `db` and drops the database (other connections to it are terminated). */
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Creates `herald_test_<random>` on the admin server, migrates it and opens a pool on it. */
export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const name = `herald_test_${randomBase32(12)}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), { max: opts.max ?? 10 });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await destroyDb(db);
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    throw error;
  }
  let dropped = false;
  return {
    url: url.toString(),
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await destroyDb(db);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A fresh embedded PGlite (`npm start`'s default database) in a temp dir behind our wire server,
 * migrated, with a pool on it; `drop` closes both and deletes the files.
 */
export async function createEmbeddedTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-test-pglite-'));
  const embedded = await startEmbeddedPostgres({ dataDir, maxConnections: 200 });
  const db = createDb(embedded.url, { max: opts.max ?? 10 });
  const close = async (): Promise<void> => {
    await destroyDb(db);
    await embedded.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await migrateToLatest(db);
  } catch (error) {
    await close();
    throw error;
  }
  let dropped = false;
  return {
    url: embedded.url,
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await close();
    },
  };
}

let messageSeq = 0;

/** A message row for `accountId` with fixed, plausible values and a fresh id; `overrides` win. */
export function messageRow(accountId: string, overrides: Partial<NewMessage> = {}): NewMessage {
  messageSeq += 1;
  return {
    id: `msg_test${messageSeq}`,
    account_id: accountId,
    idempotency_key: null,
    request_hash: 'h',
    to_number: '+14155550100',
    from_sender: 'Herald',
    body: 'hello',
    country: 'US',
    encoding: 'GSM-7',
    segments: 1,
    quote_micros: 9_000n,
    status: 'accepted',
    validity_seconds: 3600,
    callback_url: null,
    ...overrides,
  };
}
