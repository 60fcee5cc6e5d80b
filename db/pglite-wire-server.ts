/**
 * A PostgreSQL wire-protocol server in front of one PGlite instance, for many `pg` connections.
 *
 * PGlite is a single backend session, so whatever one connection leaves in it (the unnamed
 * statement and portal of an extended query, an open transaction, named statements) is seen by
 * the next one. `@electric-sql/pglite-socket` queues single messages, so another connection's
 * Parse/Bind can land between a client's Parse and Execute; and it trusts PGlite's transaction
 * flag, which is off in the middle of an extended query. Here instead:
 *
 * - a connection's messages are buffered up to a Sync, Query, FunctionCall, Flush or
 *   CopyDone/CopyFail and run as one batch, never interleaved with another connection's;
 * - a connection keeps the session after its batch until PGlite is ReadyForQuery with status
 *   `I` (idle): through an open or failed transaction (`T`/`E`) and through an extended query cut
 *   at a Flush, only that connection's batches run and the others queue in arrival order;
 * - named prepared statements are renamed per connection (Parse/Bind/Describe/Close), so pool
 *   connections that prepare the same name do not collide, and are deallocated on disconnect;
 * - when a connection goes away (Terminate, EOF, error) while it holds the session, its
 *   transaction is rolled back and the session handed on.
 *
 * Still shared, unlike real PostgreSQL: session settings (`SET` outside a transaction),
 * SQL-level `PREPARE`, temporary tables, LISTEN; and a transaction that waits on another
 * connection's query deadlocks instead of blocking. No TLS (SSLRequest is answered `N`), trust
 * auth, CancelRequest is ignored.
 */
import { createServer, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

/** Options for {@link startPgliteWireServer}. */
export interface PgliteWireServerOptions {
  /** A ready PGlite; the server never closes it. */
  pglite: PGlite;
  /** TCP port. Default 0: the OS picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Client connections accepted at once; more are refused with SQLSTATE 53300. Default 50. */
  maxConnections?: number;
}

/** A listening {@link startPgliteWireServer}. */
export interface PgliteWireServer {
  host: string;
  /** The port actually bound. */
  port: number;
  /**
   * Stops listening, drops every connection, rolls back a transaction left open and waits for
   * the batch in flight, so PGlite can be closed right after.
   */
  close(): Promise<void>;
}

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;
const CANCEL_REQUEST_CODE = 80877102;
const MAX_STARTUP_LENGTH = 10_000;
/** Larger than anything PostgreSQL accepts (1 GB); a bigger length means a broken stream. */
const MAX_MESSAGE_LENGTH = 0x40000000;

const byte = (ch: string): number => ch.charCodeAt(0);
const READY_FOR_QUERY = byte('Z');
const IDLE = byte('I');
/** Frontend messages after which the client waits for an answer: they end a batch. */
const BATCH_END = new Set(['S', 'Q', 'F', 'H', 'c', 'f'].map(byte));
const TERMINATE = byte('X');

/** Builds a frontend or backend message: type byte, int32 length, body. */
function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(5 + body.length);
  out.write(type, 0, 'latin1');
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const cstring = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
const SYNC = message('S');
const ROLLBACK = message('Q', cstring('ROLLBACK'));

/** ErrorResponse with severity FATAL. */
function fatal(code: string, text: string): Buffer {
  return message(
    'E',
    Buffer.concat([
      Buffer.from('S'),
      cstring('FATAL'),
      Buffer.from('V'),
      cstring('FATAL'),
      Buffer.from('C'),
      cstring(code),
      Buffer.from('M'),
      cstring(text),
      Buffer.from([0]),
    ]),
  );
}

/** Status byte of the last ReadyForQuery in a backend reply, or undefined when it has none. */
function lastReadyStatus(reply: Uint8Array): number | undefined {
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  let status: number | undefined;
  let offset = 0;
  while (offset + 5 <= view.length) {
    const length = view.readInt32BE(offset + 1);
    if (view[offset] === READY_FOR_QUERY && length === 5) status = view[offset + 5];
    offset += 1 + length;
  }
  return status;
}

interface Connection {
  readonly id: number;
  readonly socket: Socket;
  /** Bytes not yet forming a whole message. */
  pending: Buffer;
  /** Whole messages of the batch being collected. */
  batch: Buffer[];
  /** The startup message has been seen (later bytes are typed messages). */
  started: boolean;
  /** Over `maxConnections`: answered with an error once it has sent its startup message. */
  refused: boolean;
  closed: boolean;
  /** Session names of the prepared statements this connection created. */
  statements: Set<string>;
}

interface Job {
  conn: Connection;
  run(): Promise<void>;
}

/**
 * Rewrites the statement name in Parse, Bind, Describe and Close to `c<id>:<name>`, so each
 * connection has its own namespace in the shared session. The unnamed statement is left alone:
 * batching keeps it private already.
 */
function renameStatement(conn: Connection, msg: Buffer): Buffer {
  const type = String.fromCharCode(msg[0] ?? 0);
  let at: number;
  if (type === 'P') {
    at = 5;
  } else if (type === 'B') {
    at = msg.indexOf(0, 5) + 1; // after the portal name
  } else if ((type === 'D' || type === 'C') && msg[5] === byte('S')) {
    at = 6;
  } else {
    return msg;
  }
  const end = msg.indexOf(0, at);
  if (at <= 0 || end < 0 || end === at) return msg;
  const sessionName = `c${conn.id}:${msg.toString('utf8', at, end)}`;
  if (type === 'P') conn.statements.add(sessionName);
  if (type === 'C') conn.statements.delete(sessionName);
  const body = Buffer.concat([msg.subarray(5, at), cstring(sessionName), msg.subarray(end + 1)]);
  return message(type, body);
}

/**
 * Serves `opts.pglite` over TCP to any number of PostgreSQL clients, one batch at a time and one
 * transaction at a time (see the module comment).
 */
export async function startPgliteWireServer(opts: PgliteWireServerOptions): Promise<PgliteWireServer> {
  const { pglite } = opts;
  const host = opts.host ?? '127.0.0.1';
  const maxConnections = opts.maxConnections ?? 50;
  await pglite.waitReady;

  /** Connections that count against `maxConnections`. */
  const connections = new Set<Connection>();
  /** Every open socket, also those refused or half-closed after Terminate: close() drops them. */
  const sockets = new Set<Socket>();
  const queue: Job[] = [];
  /** The connection whose transaction (or unfinished extended query) the session is in. */
  let owner: Connection | null = null;
  let inFlight: Promise<void> | null = null;
  let stopping = false;
  let nextId = 1;

  const exec = (bytes: Uint8Array): Promise<Uint8Array> =>
    pglite.runExclusive(() => pglite.execProtocolRaw(bytes));

  const send = (conn: Connection, bytes: Uint8Array): void => {
    if (bytes.length > 0 && !conn.closed && conn.socket.writable) conn.socket.write(bytes);
  };

  /** Takes the session back from a connection that left it mid-transaction or mid-query. */
  async function resetSession(): Promise<void> {
    const status = lastReadyStatus(await exec(SYNC));
    if (status !== IDLE) await exec(ROLLBACK);
  }

  function pump(): void {
    if (inFlight || stopping) return;
    const index = owner ? queue.findIndex((job) => job.conn === owner) : queue.length > 0 ? 0 : -1;
    if (index < 0) return;
    const [job] = queue.splice(index, 1);
    if (!job) return;
    inFlight = job
      .run()
      .catch((error: unknown) => {
        // Jobs handle PGlite's failures themselves; this is a last guard so the queue never stalls.
        console.warn(`[pglite-wire] connection ${job.conn.id}: ${String(error)}`);
        if (owner === job.conn) job.conn.socket.destroy();
      })
      .finally(() => {
        inFlight = null;
        pump();
      });
  }

  function enqueue(conn: Connection, run: () => Promise<void>): void {
    queue.push({ conn, run });
    pump();
  }

  /**
   * Runs a batch (or the startup message) and keeps the session for `conn` unless PGlite ends
   * it idle. No ReadyForQuery at all means an extended query cut at a Flush (or a COPY from the
   * client) is still going: that holds the session too, unless the batch was a bare Flush.
   */
  function runBatch(conn: Connection, bytes: Buffer): void {
    const bareFlush = bytes.length === 5 && bytes[0] === byte('H');
    enqueue(conn, async () => {
      if (conn.closed) return; // nobody reads the answer; the disconnect job cleans up
      let reply: Uint8Array;
      try {
        reply = await exec(bytes);
      } catch (error) {
        // PGlite itself failed (not an SQL error, those come back as ErrorResponse).
        owner = conn;
        send(conn, fatal('XX000', `embedded database failed: ${(error as Error).message}`));
        conn.socket.destroy();
        return;
      }
      const status = lastReadyStatus(reply);
      if (status !== undefined) owner = status === IDLE ? null : conn;
      else if (!bareFlush) owner = conn;
      send(conn, reply);
    });
  }

  function disconnect(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    connections.delete(conn);
    conn.batch = [];
    conn.pending = Buffer.alloc(0);
    if (stopping || !conn.started) return; // close() resets the session itself
    // Queued behind the connection's own batches (which skip, being closed): by then it is clear
    // whether it left the session inside a transaction.
    enqueue(conn, async () => {
      try {
        if (owner === conn) await resetSession();
        if (conn.statements.size > 0) {
          const closes = [...conn.statements].map((name) =>
            message('C', Buffer.concat([Buffer.from('S'), cstring(name)])),
          );
          await exec(Buffer.concat([...closes, SYNC]));
        }
      } catch {
        // PGlite is failing or closing; nothing more to undo.
      } finally {
        if (owner === conn) owner = null;
      }
    });
  }

  function refuse(conn: Connection, code: string, text: string): void {
    send(conn, fatal(code, text));
    conn.socket.end();
    disconnect(conn);
  }

  /** Consumes what the startup phase can: SSL/GSS requests, CancelRequest, the StartupMessage. */
  function readStartup(conn: Connection): boolean {
    const buf = conn.pending;
    if (buf.length < 8) return false;
    const length = buf.readInt32BE(0);
    const code = buf.readInt32BE(4);
    if (length < 8 || length > MAX_STARTUP_LENGTH) {
      refuse(conn, '08P01', 'invalid length of startup packet');
      return false;
    }
    if (buf.length < length) return false;
    const packet = buf.subarray(0, length);
    conn.pending = buf.subarray(length);
    if (length === 8 && (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE)) {
      send(conn, Buffer.from('N')); // no encryption; the client continues in plain text
      return true;
    }
    if (code === CANCEL_REQUEST_CODE) {
      // PGlite has no other backend to signal; PostgreSQL answers nothing either.
      conn.socket.end();
      disconnect(conn);
      return false;
    }
    if (code >>> 16 !== 3) {
      refuse(conn, '0A000', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}`);
      return false;
    }
    if (conn.refused) {
      // After the startup message, as PostgreSQL does: a client that is still sending when the
      // socket closes could otherwise lose the error to a TCP reset.
      refuse(conn, '53300', 'sorry, too many clients already');
      return false;
    }
    conn.started = true;
    runBatch(conn, Buffer.from(packet));
    return true;
  }

  function onData(conn: Connection, chunk: Buffer): void {
    if (conn.closed) return;
    conn.pending = conn.pending.length === 0 ? chunk : Buffer.concat([conn.pending, chunk]);
    while (!conn.closed) {
      if (!conn.started) {
        if (!readStartup(conn)) return;
        continue;
      }
      const buf = conn.pending;
      if (buf.length < 5) return;
      const length = buf.readInt32BE(1);
      if (length < 4 || length > MAX_MESSAGE_LENGTH) {
        refuse(conn, '08P01', `invalid message length ${length}`);
        return;
      }
      if (buf.length < 1 + length) return;
      const type = buf[0] ?? 0;
      // Copy: `pending` may be a view of a socket chunk that the batch outlives.
      const msg = Buffer.from(buf.subarray(0, 1 + length));
      conn.pending = buf.subarray(1 + length);
      if (type === TERMINATE) {
        conn.socket.end();
        disconnect(conn);
        return;
      }
      conn.batch.push(renameStatement(conn, msg));
      if (BATCH_END.has(type)) {
        const batch = Buffer.concat(conn.batch);
        conn.batch = [];
        runBatch(conn, batch);
      }
    }
  }

  const server = createServer((socket) => {
    const conn: Connection = {
      id: nextId++,
      socket,
      pending: Buffer.alloc(0),
      batch: [],
      started: false,
      refused: connections.size >= maxConnections,
      closed: false,
      statements: new Set(),
    };
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      sockets.delete(socket);
      disconnect(conn);
    });
    if (stopping) {
      socket.destroy();
      return;
    }
    if (!conn.refused) connections.add(conn);
    socket.on('data', (chunk: Buffer) => onData(conn, chunk));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');

  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    close() {
      closing ??= (async () => {
        stopping = true;
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of [...sockets]) socket.destroy();
        queue.length = 0;
        await inFlight;
        if (owner) {
          owner = null;
          await resetSession().catch(() => {});
        }
        await serverClosed;
      })();
      return closing;
    },
  };
}
