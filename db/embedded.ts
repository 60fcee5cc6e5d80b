import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { type PgliteWireServer, startPgliteWireServer } from './pglite-wire-server.ts';

/** Options for {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Directory holding the database files; created when missing, reused when present. */
  dataDir: string;
  /** TCP port. Default 0: the OS picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /**
   * Client connections accepted at once. Default 50 (API pool + worker pool + tools). PGlite runs
   * one batch of one connection at a time whatever this is; the wire server takes turns.
   */
  maxConnections?: number;
}

/** A running embedded PostgreSQL. */
export interface EmbeddedPostgres {
  /** Connection URL for `pg` / {@link createDb}: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  /** Stops accepting connections, drops open ones and closes PGlite (flushing it to `dataDir`). */
  close(): Promise<void>;
}

/**
 * Starts PGlite (PostgreSQL compiled to WASM, persisted in `dataDir`) behind a TCP server
 * speaking the PostgreSQL wire protocol (db/pglite-wire-server.ts), so ordinary `pg` pools
 * connect to it by URL.
 *
 * PGlite is a single session; the wire server shares it out so that concurrent connections get
 * their own answers: each connection's extended query (Parse … Sync) or simple query runs whole,
 * never interleaved with another's, and while a connection has a transaction open only its
 * statements run; the others wait their turn. A client that disconnects mid-transaction is
 * rolled back. Named prepared statements are per connection, as on real PostgreSQL; session
 * settings (`SET` outside a transaction) and temporary tables are shared. A transaction that
 * awaits a query on another connection deadlocks here (it would merely block on real
 * PostgreSQL), so keep transactions short and self-contained.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  await mkdir(opts.dataDir, { recursive: true });
  const pglite = await PGlite.create(opts.dataDir);
  let server: PgliteWireServer;
  try {
    server = await startPgliteWireServer({
      pglite,
      port: opts.port ?? 0,
      host: opts.host ?? '127.0.0.1',
      maxConnections: opts.maxConnections ?? 50,
    });
  } catch (error) {
    await pglite.close();
    throw error;
  }
  const hostInUrl = server.host.includes(':') ? `[${server.host}]` : server.host;
  const url = `postgres://postgres@${hostInUrl}:${server.port}/postgres`;
  let closed = false;
  return {
    url,
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await pglite.close();
    },
  };
}
