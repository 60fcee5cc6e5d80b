/**
 * Databases a development stack runs on: a throw-away PostgreSQL database on a local server
 * (dropped at the end), embedded PGlite behind our wire server (in a temp dir, or a kept data dir),
 * or an existing URL. Used by the composition root (scripts/stack/compose.ts) and test/support/db.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_DEV_PG_ADMIN_URL } from '../../config/defaults.ts';
import { startEmbeddedPostgres } from '../../db/embedded.ts';
import { randomBase32 } from '../../db/ids.ts';

/** A database the stack provisioned. */
export interface ProvisionedDatabase {
  readonly url: string;
  /** PostgreSQL database name of a fresh database (undefined for PGlite or a given URL). */
  readonly name: string | undefined;
  /** One line for progress output. */
  readonly label: string;
  /** Drops what was provisioned (a fresh database WITH (FORCE), a temp PGlite dir); idempotent. */
  drop(): Promise<void>;
}

/** Options of {@link createFreshPostgres}. */
export interface FreshPostgresOptions {
  /** Server to create it on (any database of it). Default {@link DEFAULT_DEV_PG_ADMIN_URL}. */
  readonly adminUrl?: string;
  /** Name prefix, e.g. `herald_test`. */
  readonly prefix: string;
}

/** `<prefix>_<random>` on the admin server; `drop` terminates its connections and drops it. */
export async function createFreshPostgres(opts: FreshPostgresOptions): Promise<ProvisionedDatabase> {
  const adminUrl = new URL(opts.adminUrl ?? DEFAULT_DEV_PG_ADMIN_URL);
  adminUrl.pathname = '/postgres';
  const name = `${opts.prefix}_${randomBase32(12)}`;
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    label: `postgres ${url.host}/${name}`,
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Options of {@link startPglite}. */
export interface PgliteOptions {
  /** Where PGlite keeps its files (kept at the end). Default: a fresh temp dir, removed at the end. */
  readonly dataDir?: string;
  /** Connections the wire server accepts at once. Default: the wire server's (db/embedded.ts). */
  readonly maxConnections?: number;
}

/** Embedded PGlite (`npm start`'s default database) behind our wire server on 127.0.0.1. */
export async function startPglite(opts: PgliteOptions = {}): Promise<ProvisionedDatabase> {
  const temp = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'herald-pglite-')));
  const embedded = await startEmbeddedPostgres({
    dataDir,
    ...(opts.maxConnections === undefined ? {} : { maxConnections: opts.maxConnections }),
  });
  let dropped = false;
  return {
    url: embedded.url,
    name: undefined,
    label: `embedded PGlite at ${embedded.url} (${dataDir})`,
    async drop() {
      if (dropped) return;
      dropped = true;
      await embedded.close();
      if (temp) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
