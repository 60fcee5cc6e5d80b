import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const NUMERIC_OID = 1700;

type TypeParser = (value: string) => unknown;

/**
 * Type parsers for one pool only: `int8` becomes `bigint` (money and bigserial ids never pass
 * through a float), `numeric` stays a string. pg's global parsers are left untouched so other
 * pools in the same process (tests, tools) see pg's defaults.
 */
const poolTypes = {
  getTypeParser(oid: number, format?: string): TypeParser {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary') as TypeParser;
    if (oid === INT8_OID) return (value: string) => BigInt(value);
    if (oid === NUMERIC_OID) return (value: string) => value;
    if (oid === INT8_ARRAY_OID) {
      const parseArray = pg.types.getTypeParser(oid as number, 'text') as (
        value: string,
      ) => Array<string | null>;
      return (value: string) => parseArray(value).map((item) => (item === null ? null : BigInt(item)));
    }
    return pg.types.getTypeParser(oid, 'text') as TypeParser;
  },
} as pg.CustomTypesConfig;

/** Options for {@link createDb}. */
export interface CreateDbOptions {
  /** Pool size. Default 10. */
  max?: number;
  /**
   * Called when a pooled connection fails, idle or checked out (server restart, backends
   * terminated, embedded server stopped). Without a listener pg would crash the process; a query
   * running on the connection still rejects with the error, and the pool drops the connection.
   * Default: a one-line warning on stderr.
   */
  onIdleError?: (error: Error) => void;
}

/**
 * Opens a kysely instance on a `pg.Pool` for `url` (`postgres://user@host:port/db`).
 * `int8` columns come back as `bigint`, `numeric` as string. Close it with {@link destroyDb}.
 */
export function createDb(url: string, opts: CreateDbOptions = {}): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, types: poolTypes });
  const onIdleError =
    opts.onIdleError ?? ((error: Error) => console.warn(`[db] idle connection error: ${error.message}`));
  pool.on('error', onIdleError);
  // pg-pool listens for errors only while a client is idle and removes that listener on checkout,
  // so a connection terminated mid-query (57P01, "Connection terminated unexpectedly") would emit
  // 'error' with no listener and crash the process. One listener for the client's whole life.
  pool.on('connect', (client) => {
    client.on('error', onIdleError);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingBrokenClients(pool) }) });
}

/**
 * True when `error` means the connection itself is gone, not just the statement: anything pg raises
 * without a server error (socket closed, "Connection terminated unexpectedly") and the server's
 * connection-exception (08) and operator-intervention (57P, e.g. 57P01 terminated) classes.
 */
export function isConnectionLost(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return true;
  return CONNECTION_GONE.test(error.code ?? '');
}

/** SQLSTATE classes of a connection that is gone: connection exception, operator intervention. */
const CONNECTION_GONE = /^(08|57P)/;

/**
 * True when `error` says the database cannot be reached or dropped the connection (a restart,
 * terminated backends, the pool failing to connect), as opposed to a query the server refused: the
 * API answers such a failure 503 with Retry-After, since the same request will work once the
 * database is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // The server's own word: its connection is gone, or it lacks resources (53) for a new one.
  if (error instanceof pg.DatabaseError) return isConnectionLost(error) || /^53/.test(error.code ?? '');
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT')
    return true;
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Connection ended/i.test(
    error.message,
  );
}

/**
 * The pool as kysely sees it, except that a client whose query failed because its connection was
 * lost is destroyed on release instead of going back to the idle list. pg rejects the query on the
 * server's 57P01 message before the socket closes, so pg-pool would otherwise hand the dead client
 * to the next query, which then fails too.
 */
function discardingBrokenClients(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let lost = false;
      const query = ((...args: Parameters<pg.PoolClient['query']>) => {
        const result = (client.query as (...a: unknown[]) => unknown)(...args);
        if (result instanceof Promise) {
          return result.catch((error: unknown) => {
            if (isConnectionLost(error)) lost = true;
            throw error;
          });
        }
        return result; // a cursor: its own reads report errors
      }) as PostgresPoolClient['query'];
      return { query, release: (destroy?: boolean) => client.release(Boolean(destroy) || lost) };
    },
    end: () => pool.end(),
  };
}

/** Closes the pool behind `db`; waits for checked-out connections to be released. */
export async function destroyDb(db: Kysely<Database>): Promise<void> {
  await db.destroy();
}
