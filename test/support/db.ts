import type { Kysely } from 'kysely';
import { DEFAULT_DEV_PG_ADMIN_URL } from '../../config/defaults.ts';
import { createDb, destroyDb } from '../../db/connection.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import type { Database, NewMessage } from '../../db/schema.ts';
import { createFreshPostgres, type ProvisionedDatabase, startPglite } from '../../scripts/stack/databases.ts';

/** Where test databases are created: `TEST_PG_ADMIN_URL`, default the local trust-auth server. */
export const TEST_PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? DEFAULT_DEV_PG_ADMIN_URL;

export interface TestDatabase {
  /** URL of the fresh database. */
  url: string;
  /** A migrated pool on it. */
  db: Kysely<Database>;
  /** Closes `db` and drops the database (other connections to it are terminated). */
  drop(): Promise<void>;
}

/** A migrated pool on a provisioned database; `drop` closes the pool, then drops the database. */
async function migrated(provisioned: ProvisionedDatabase, max: number): Promise<TestDatabase> {
  const db = createDb(provisioned.url, { max });
  const drop = async (): Promise<void> => {
    await destroyDb(db);
    await provisioned.drop();
  };
  try {
    await migrateToLatest(db);
  } catch (error) {
    await drop();
    throw error;
  }
  let dropped = false;
  return {
    url: provisioned.url,
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await drop();
    },
  };
}

/** Creates `herald_test_<random>` on the admin server, migrates it and opens a pool on it. */
export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  return migrated(
    await createFreshPostgres({ adminUrl: TEST_PG_ADMIN_URL, prefix: 'herald_test' }),
    opts.max ?? 10,
  );
}

/**
 * A fresh embedded PGlite (`npm start`'s default database) in a temp dir behind our wire server,
 * migrated, with a pool on it; `drop` closes both and deletes the files.
 */
export async function createEmbeddedTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  return migrated(await startPglite({ maxConnections: 200 }), opts.max ?? 10);
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
