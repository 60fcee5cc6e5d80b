import { createHash } from 'node:crypto';
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
  /**
   * Run parameterized statements outside transactions as named (server-side prepared) statements,
   * so each connection parses and plans a statement once instead of on every call (PostgreSQL's
   * CPU per message −28 % in the bench). Turn off behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21). Default true.
   */
  preparedStatements?: boolean;
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
  const naming = opts.preparedStatements === false ? undefined : statementNames;
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: discardingBrokenClients(pool, naming) }),
  });
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
 * Names of prepared statements, by SQL text, shared by every pool of the process (a name is only
 * a hash of its text, so pools and connections agree). Bounded: past {@link MAX_NAMED_STATEMENTS}
 * texts (statements built with a variable number of parameters), new ones run unnamed.
 */
export interface StatementNames {
  /** The name to run `text` under, or undefined: run it unnamed. */
  nameFor(text: string): string | undefined;
  /** `text` failed as a prepared statement (its table changed under it): never name it again. */
  forget(text: string): void;
}

const MAX_NAMED_STATEMENTS = 1_000;

/** @param max - how many texts get a name. Default {@link MAX_NAMED_STATEMENTS}. */
export function createStatementNames(max = MAX_NAMED_STATEMENTS): StatementNames {
  const names = new Map<string, string>();
  const unnamed = new Set<string>();
  return {
    nameFor(text) {
      const known = names.get(text);
      if (known !== undefined || unnamed.has(text) || names.size >= max) return known;
      const name = `herald_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
      names.set(text, name);
      return name;
    },
    forget(text) {
      names.delete(text);
      unnamed.add(text);
    },
  };
}

const statementNames = createStatementNames();

/** A transaction's first and last statements (kysely sends `begin` / `start transaction …`, `commit`, `rollback`). */
const TRANSACTION_STARTS = /^\s*(begin|start\s+transaction)\b/i;
const TRANSACTION_ENDS = /^\s*(commit|end|abort|rollback)\b(?!\s+to\b)/i;

/**
 * SQLSTATE 0A000 on a prepared statement: "cached plan must not change result type" — a migration
 * changed a table under a `RETURNING *` or `SELECT *` this connection had prepared.
 */
const PLAN_CHANGED = '0A000';

/**
 * The pool as kysely sees it, except that:
 * - a client whose query failed because its connection was lost is destroyed on release instead
 *   of going back to the idle list. pg rejects the query on the server's 57P01 message before the
 *   socket closes, so pg-pool would otherwise hand the dead client to the next query, which then
 *   fails too;
 * - with `naming`, a parameterized statement outside a transaction runs as a named statement
 *   (parsed once per connection). One whose cached plan a migration invalidated fails before it
 *   does anything, so it is run again unnamed, and that text is not named again. Inside a
 *   transaction statements stay unnamed: there the failure would abort the transaction.
 */
function discardingBrokenClients(pool: pg.Pool, naming: StatementNames | undefined): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let lost = false;
      let inTransaction = false;
      const run = (args: unknown[]): unknown => (client.query as (...a: unknown[]) => unknown)(...args);
      const query = ((...args: Parameters<pg.PoolClient['query']>) => {
        const [text, values] = args as unknown[];
        if (typeof text === 'string') {
          if (TRANSACTION_STARTS.test(text)) inTransaction = true;
          else if (TRANSACTION_ENDS.test(text)) inTransaction = false;
        }
        const name =
          naming && !inTransaction && typeof text === 'string' && Array.isArray(values) && values.length > 0
            ? naming.nameFor(text)
            : undefined;
        const first = name === undefined ? run(args) : run([{ name, text, values }]);
        if (!(first instanceof Promise)) return first; // a cursor: its own reads report errors
        let result: Promise<unknown> = first;
        if (name !== undefined) {
          result = result.catch((error: unknown) => {
            if (!(error instanceof pg.DatabaseError) || error.code !== PLAN_CHANGED) throw error;
            naming?.forget(text as string);
            return run(args);
          });
        }
        return result.catch((error: unknown) => {
          if (isConnectionLost(error)) lost = true;
          throw error;
        });
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
