import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCredit, createAccount, findAccountByApiKey } from '../../db/accounts.ts';
import { createDb, destroyDb } from '../../db/connection.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../db/embedded.ts';
import { checkInvariant, getBalance, reserve, settle } from '../../db/ledger.ts';
import { migrateToLatest } from '../../db/migrate.ts';

const UNIT = 1_000_000n;

let dataDir: string;
let running: EmbeddedPostgres | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-pglite-'));
});

afterAll(async () => {
  await running?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('embedded PostgreSQL (PGlite behind a socket server)', () => {
  it('serves pg pools on a random port, keeps money moves correct and persists across restarts', async () => {
    running = await startEmbeddedPostgres({ dataDir });
    expect(running.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(running.url).not.toMatch(/:5432\//);
    let db = createDb(running.url, { max: 10 });
    await migrateToLatest(db);

    const { account, apiKey } = await createAccount(db, { name: 'embedded' });
    await addCredit(db, { accountId: account.id, amountMicros: 30n * UNIT, reference: 'seed' });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        reserve(db, { accountId: account.id, messageId: `msg_e${i}`, amountMicros: UNIT }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(30);
    // Whichever 30 got there first (a pool's connections open in any order) are the reserved ones.
    const reservedIds = results.flatMap((r, i) => (r.ok ? [`msg_e${i}`] : []));
    const dup = await Promise.all(
      Array.from({ length: 10 }, () =>
        reserve(db, { accountId: account.id, messageId: reservedIds[0] ?? '', amountMicros: UNIT }),
      ),
    );
    expect(dup.every((r) => r.ok && r.alreadyDone)).toBe(true);
    const settled = await Promise.all(
      reservedIds.map((messageId) =>
        settle(db, { accountId: account.id, messageId, captureMicros: 600_000n }),
      ),
    );
    expect(settled).toHaveLength(30);
    expect(settled.every((s) => s.capturedMicros === 600_000n && !s.alreadyDone)).toBe(true);
    expect(await getBalance(db, account.id)).toEqual({ availableMicros: 12n * UNIT, reservedMicros: 0n });
    expect(await checkInvariant(db, account.id)).toBe(true);
    await destroyDb(db);
    await running.close();
    running = undefined;

    // Same directory again: the data is still there and migrations have nothing left to do.
    running = await startEmbeddedPostgres({ dataDir });
    db = createDb(running.url, { max: 10 });
    try {
      await migrateToLatest(db);
      expect((await findAccountByApiKey(db, apiKey))?.id).toBe(account.id);
      expect(await getBalance(db, account.id)).toEqual({ availableMicros: 12n * UNIT, reservedMicros: 0n });
      expect(await checkInvariant(db, account.id)).toBe(true);
      // The credit reference survived too: replaying it moves nothing.
      const again = await addCredit(db, {
        accountId: account.id,
        amountMicros: 30n * UNIT,
        reference: 'seed',
      });
      expect(again?.available_micros).toBe(12n * UNIT);
    } finally {
      await destroyDb(db);
    }
  });
});

/** Fails with `what` instead of hanging until the test timeout (a stuck session is one failure mode). */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A frontend message: type byte, int32 length, body. */
function frame(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
const int16 = (n: number): Buffer => Buffer.from([(n >> 8) & 0xff, n & 0xff]);

function startupMessage(): Buffer {
  const body = Buffer.concat([
    Buffer.from([0, 3, 0, 0]),
    cstr('user'),
    cstr('postgres'),
    cstr('database'),
    cstr('postgres'),
    cstr(''),
  ]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length + 4);
  return Buffer.concat([len, body]);
}

/** A raw wire-protocol client: collects backend messages and waits for the ones a test expects. */
class RawClient {
  private buffered = Buffer.alloc(0);
  readonly messages: Array<{ type: string; body: Buffer }> = [];
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  static async open(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
    return new RawClient(socket);
  }

  /** Before startup the server answers an SSLRequest with one unframed byte. */
  private expectSslByte = false;

  async sslRequest(): Promise<string> {
    this.expectSslByte = true;
    const req = Buffer.alloc(8);
    req.writeInt32BE(8, 0);
    req.writeInt32BE(80877103, 4);
    this.socket.write(req);
    await this.until(() => this.messages.some((m) => m.type === 'ssl'));
    return this.messages.find((m) => m.type === 'ssl')?.body.toString('latin1') ?? '';
  }

  /** Writes `bytes` one byte per write so the server must reassemble messages from fragments. */
  async trickle(bytes: Buffer): Promise<void> {
    for (const byte of bytes) {
      this.socket.write(Buffer.from([byte]));
      await sleep(0);
    }
  }

  private parse(): void {
    if (this.expectSslByte && this.buffered.length >= 1) {
      this.expectSslByte = false;
      this.messages.push({ type: 'ssl', body: this.buffered.subarray(0, 1) });
      this.buffered = this.buffered.subarray(1);
    }
    while (this.buffered.length >= 5) {
      const len = this.buffered.readInt32BE(1);
      if (this.buffered.length < len + 1) break;
      this.messages.push({
        type: String.fromCharCode(this.buffered[0] ?? 0),
        body: this.buffered.subarray(5, len + 1),
      });
      this.buffered = this.buffered.subarray(len + 1);
    }
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `check` holds (re-checked on every message); rejects when the socket closes first. */
  async until(check: () => boolean): Promise<void> {
    while (!check()) {
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((ok) => this.waiters.push(ok));
    }
  }

  /** Number of ReadyForQuery messages so far. */
  readyCount(): number {
    return this.messages.filter((m) => m.type === 'Z').length;
  }

  /** Text of the first column of every DataRow so far. */
  firstColumns(): string[] {
    return this.messages
      .filter((m) => m.type === 'D')
      .map((m) => {
        const len = m.body.readInt32BE(2);
        return m.body.subarray(6, 6 + len).toString('utf8');
      });
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('embedded PostgreSQL under concurrent connections', () => {
  it('keeps parameterized queries, simple queries and transactions of 20 connections apart', async () => {
    const embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'concurrent') });
    const pool = new pg.Pool({ connectionString: embedded.url, max: 20 });
    pool.on('error', () => {});
    try {
      await pool.query('CREATE TABLE wire_counter (id int PRIMARY KEY, n int NOT NULL)');
      await pool.query('INSERT INTO wire_counter VALUES (1, 0)');
      // Lanes of sequential work run side by side, so every kind meets every other kind on the wire.
      const problems: string[] = [];
      /** `count` lanes; lane `l` runs `step(l * 1000 + j)` for j = 0, 1, … while `step` answers true. */
      const lane = (kind: string, count: number, step: (i: number) => Promise<boolean>): Promise<void>[] =>
        Array.from({ length: count }, async (_, l) => {
          for (let j = 0; j < 1000 && problems.length < 20; j++) {
            try {
              if (!(await step(l * 1000 + j))) return;
            } catch (error) {
              problems.push(`${kind} ${l * 1000 + j}: ${String(error)}`);
            }
          }
        });

      // Extended protocol (Parse/Bind/Describe/Execute/Sync), one statement text per query:
      // every answer must echo its own parameters and its own statement.
      const echoes = lane('echo', 10, async (i) => {
        const s = `v${i}-`.repeat((i % 7) + 1);
        const { rows } = await pool.query(`SELECT $1::int AS n, $2::text AS s, ${i} AS k`, [i, s]);
        if (JSON.stringify(rows) !== JSON.stringify([{ n: i, s, k: i }])) {
          problems.push(`echo ${i}: got ${JSON.stringify(rows)}`);
        }
        return i % 1000 < 39;
      });
      // Named statements: every pool connection prepares "wire_double" once, under the same name.
      const named = lane('named', 4, async (i) => {
        const { rows } = await pool.query({
          name: 'wire_double',
          text: 'SELECT $1::int * 2 AS d',
          values: [i],
        });
        if (rows[0]?.d !== 2 * i) problems.push(`named ${i}: got ${JSON.stringify(rows)}`);
        return i % 1000 < 24;
      });
      // Simple protocol (Query), two statements in one message.
      const simple = lane('simple', 2, async (i) => {
        const results = (await pool.query(
          `SELECT ${i} AS n; SELECT 'x${i}' AS s`,
        )) as unknown as pg.QueryResult[];
        const got = JSON.stringify(results.map((r) => r.rows));
        if (got !== JSON.stringify([[{ n: i }], [{ s: `x${i}` }]])) problems.push(`simple ${i}: got ${got}`);
        return i % 1000 < 49;
      });
      // Read-modify-write transactions; every fifth one rolls back.
      let committed = 0;
      const transactions = lane('transaction', 8, async (i) => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query('SELECT n FROM wire_counter WHERE id = $1 FOR UPDATE', [1]);
          await sleep(1); // give other connections every chance to get in between
          await client.query('UPDATE wire_counter SET n = $1 WHERE id = $2', [(rows[0]?.n ?? 0) + 1, 1]);
          if (i % 5 === 0) {
            await client.query('ROLLBACK');
          } else {
            await client.query('COMMIT');
            committed++;
          }
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
        return i % 1000 < 14;
      });

      const all = Promise.all([...echoes, ...named, ...simple, ...transactions]);
      const hung = await within(45_000, 'concurrent queries', all).then(
        () => '',
        (error: Error) => error.message,
      );
      // Wrong answers first: a hang often follows them.
      expect(problems).toEqual([]);
      expect(hung).toBe('');
      expect(committed).toBe(8 * 12);
      const { rows } = await pool.query('SELECT n FROM wire_counter WHERE id = 1');
      expect(rows).toEqual([{ n: committed }]);
    } finally {
      // A hung run leaves clients checked out; pool.end() would wait for them forever.
      await within(5_000, 'pool end', pool.end()).catch(() => {});
      await embedded.close();
    }
  }, 60_000);

  it('makes other connections wait for an open transaction and rolls it back when its client vanishes', async () => {
    const embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'disconnect') });
    const pool = new pg.Pool({ connectionString: embedded.url, max: 5 });
    pool.on('error', () => {});
    try {
      await pool.query('CREATE TABLE wire_counter (id int PRIMARY KEY, n int NOT NULL)');
      await pool.query('INSERT INTO wire_counter VALUES (1, 0)');

      // A committed transaction: a reader that arrives meanwhile waits and then sees the commit.
      const writer = new pg.Client({ connectionString: embedded.url });
      writer.on('error', () => {}); // it is cut off below
      await writer.connect();
      await writer.query('BEGIN');
      await writer.query('UPDATE wire_counter SET n = n + $1 WHERE id = 1', [5]);
      let read: number | undefined;
      const reader = pool.query<{ n: number }>('SELECT n FROM wire_counter WHERE id = $1', [1]).then((r) => {
        read = r.rows[0]?.n;
      });
      await sleep(100);
      expect(read).toBeUndefined();
      await writer.query('COMMIT');
      await within(5_000, 'reader after commit', reader);
      expect(read).toBe(5);

      // The same client prepared a named statement; it vanishes mid-transaction.
      await writer.query({
        name: 'wire_bump',
        text: 'UPDATE wire_counter SET n = n + $1 WHERE id = 1',
        values: [0],
      });
      await writer.query('BEGIN');
      await writer.query({
        name: 'wire_bump',
        text: 'UPDATE wire_counter SET n = n + $1 WHERE id = 1',
        values: [1000],
      });
      writer.connection.stream.destroy();

      const after = await within(
        5_000,
        'query after disconnect',
        pool.query<{ n: number }>('SELECT n FROM wire_counter'),
      );
      expect(after.rows).toEqual([{ n: 5 }]);
      // Its statement name is free for a new connection.
      const other = new pg.Client({ connectionString: embedded.url });
      await other.connect();
      try {
        const { rows } = await within(
          5_000,
          'named statement on a new connection',
          other.query<{ d: number }>({ name: 'wire_bump', text: 'SELECT $1::int * 3 AS d', values: [7] }),
        );
        expect(rows).toEqual([{ d: 21 }]);
      } finally {
        await other.end();
      }

      // A raw client vanishes half way through an extended query (Parse/Bind, no Sync) inside a transaction.
      const raw = await RawClient.open(embedded.url);
      raw.socket.write(startupMessage());
      await within(
        5_000,
        'raw startup',
        raw.until(() => raw.readyCount() === 1),
      );
      raw.socket.write(frame('Q', cstr('BEGIN; UPDATE wire_counter SET n = n + 100')));
      await within(
        5_000,
        'raw begin',
        raw.until(() => raw.readyCount() === 2),
      );
      raw.socket.write(
        Buffer.concat([
          frame('P', cstr(''), cstr('UPDATE wire_counter SET n = n + 1'), int16(0)),
          frame('B', cstr(''), cstr(''), int16(0), int16(0), int16(0)),
          frame('H'),
        ]),
      );
      await within(
        5_000,
        'raw parse/bind',
        raw.until(() => raw.messages.some((m) => m.type === '2')),
      );
      raw.close();
      const last = await within(
        5_000,
        'query after raw disconnect',
        pool.query<{ n: number }>('SELECT n FROM wire_counter'),
      );
      expect(last.rows).toEqual([{ n: 5 }]);

      // Stopping the server with a transaction open rolls it back; the data directory reopens.
      await within(5_000, 'pool end', pool.end());
      const holder = new pg.Client({ connectionString: embedded.url });
      holder.on('error', () => {}); // cut off by close()
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('UPDATE wire_counter SET n = n + 7');
      await within(10_000, 'close with a transaction open', embedded.close());
      const reopened = await startEmbeddedPostgres({ dataDir: join(dataDir, 'disconnect') });
      const check = new pg.Client({ connectionString: reopened.url });
      try {
        await check.connect();
        expect((await check.query('SELECT n FROM wire_counter')).rows).toEqual([{ n: 5 }]);
      } finally {
        await check.end();
        await reopened.close();
      }
    } finally {
      // A hung run leaves clients checked out; pool.end() would wait for them forever.
      await within(5_000, 'pool end', pool.end()).catch(() => {});
      await embedded.close();
    }
  }, 60_000);

  it('answers SSLRequest with N, reassembles fragmented messages and refuses connections over the limit', async () => {
    const embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'fragments'), maxConnections: 1 });
    const raw = await RawClient.open(embedded.url);
    try {
      expect(await within(5_000, 'SSLRequest', raw.sslRequest())).toBe('N');
      await raw.trickle(startupMessage());
      await within(
        5_000,
        'startup',
        raw.until(() => raw.readyCount() === 1),
      );
      expect(raw.messages.some((m) => m.type === 'R' && m.body.readInt32BE(0) === 0)).toBe(true);
      await raw.trickle(
        Buffer.concat([
          frame('P', cstr(''), cstr('SELECT $1::text || $1::text'), int16(0)),
          frame(
            'B',
            cstr(''),
            cstr(''),
            int16(0),
            int16(1),
            Buffer.from([0, 0, 0, 2]),
            Buffer.from('ab'),
            int16(0),
          ),
          frame('E', cstr(''), Buffer.from([0, 0, 0, 0])),
          frame('S'),
          frame('Q', cstr("SELECT 'simple'")),
        ]),
      );
      await within(
        5_000,
        'queries',
        raw.until(() => raw.readyCount() === 3),
      );
      expect(raw.firstColumns()).toEqual(['abab', 'simple']);

      // The one allowed connection is taken: a second is told so, as PostgreSQL would.
      const extra = new pg.Client({ connectionString: embedded.url });
      await expect(extra.connect()).rejects.toThrow(/too many clients/);

      raw.socket.write(frame('X'));
      await within(
        5_000,
        'close after Terminate',
        raw.until(() => raw.closed),
      );
    } finally {
      raw.close();
      await embedded.close();
    }
  });
});
