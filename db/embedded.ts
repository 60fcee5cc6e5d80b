import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

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
   * one statement at a time whatever this is; the socket server multiplexes the connections.
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
 * Starts PGlite (PostgreSQL compiled to WASM, persisted in `dataDir`) behind a TCP socket server
 * speaking the PostgreSQL wire protocol, so ordinary `pg` pools connect to it by URL.
 *
 * PGlite is single-session: the socket server runs one statement at a time and, while a
 * transaction is open, only the statements of the connection that opened it. A transaction that
 * awaits a query on another connection therefore deadlocks here (it would merely block on real
 * PostgreSQL). Keep transactions short and self-contained.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  await mkdir(opts.dataDir, { recursive: true });
  const pglite = await PGlite.create(opts.dataDir);
  const server = new PGLiteSocketServer({
    db: pglite,
    port: opts.port ?? 0,
    host: opts.host ?? '127.0.0.1',
    maxConnections: opts.maxConnections ?? 50,
  });
  try {
    await server.start();
  } catch (error) {
    await pglite.close();
    throw error;
  }
  // getServerConn() is "host:port" with the port the OS assigned.
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  let closed = false;
  return {
    url,
    async close() {
      if (closed) return;
      closed = true;
      await server.stop();
      await pglite.close();
    },
  };
}
