/**
 * What the benchmark reads from the database: progress towards "every message terminal", and the
 * figures only the database knows (accept → carrier-submit latency, outcomes, carriers used).
 * Every query is scoped to one account, so warm-up messages never count.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import { TERMINAL_STATUSES } from '../domain/status.ts';

const TERMINAL = [...TERMINAL_STATUSES];

/** Terminal messages of the account right now. */
export async function countTerminal(db: Kysely<Database>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', 'in', TERMINAL)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Options of {@link waitForTerminal}. */
export interface WaitOptions {
  readonly expected: number;
  /** Give up this long after the call. */
  readonly timeoutMs: number;
  /** Give up when the count has not moved for this long. */
  readonly stallMs: number;
  /** Default 100. */
  readonly pollMs?: number;
  readonly onProgress?: (terminal: number) => void;
}

/** Polls until `expected` messages of the account are terminal; returns the last count seen. */
export async function waitForTerminal(
  db: Kysely<Database>,
  accountId: string,
  opts: WaitOptions,
): Promise<{ terminal: number; reachedAt: number | null; reason: 'done' | 'timeout' | 'stalled' }> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = -1;
  let lastMoveAt = Date.now();
  let lastReport = 0;
  for (;;) {
    const terminal = await countTerminal(db, accountId);
    const now = Date.now();
    if (terminal >= opts.expected) return { terminal, reachedAt: now, reason: 'done' };
    if (terminal !== last) {
      last = terminal;
      lastMoveAt = now;
    }
    if (opts.onProgress && now - lastReport >= 2_000) {
      lastReport = now;
      opts.onProgress(terminal);
    }
    if (now >= deadline) return { terminal, reachedAt: null, reason: 'timeout' };
    if (now - lastMoveAt >= opts.stallMs) return { terminal, reachedAt: null, reason: 'stalled' };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

/** Latency percentiles computed by the database, ms. */
export interface DbLatency {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** Database-side figures of the measured messages. */
export interface DbFigures {
  /** Messages per status. */
  readonly statuses: Record<string, number>;
  /** Messages per carrier that took them (null carrier counted as "none"). */
  readonly carriers: Record<string, number>;
  /** Epoch ms of the last terminal transition (`updated_at` of terminal rows). */
  readonly lastTerminalAt: number | null;
  /** `message_attempts.started_at` (first attempt) − `messages.created_at`. */
  readonly acceptToSubmitMs: DbLatency;
  /** Terminal `updated_at` − `created_at`: one message's whole life. */
  readonly acceptToTerminalMs: DbLatency;
  /** Attempts per message (1 when nothing was retried or failed over). */
  readonly attemptsPerMessage: number;
  /**
   * Status → time from `created_at` to the message's first event with that status
   * (`message_events`), ms: where a message's life goes, stage by stage.
   */
  readonly stagesMs: Record<string, DbLatency>;
}

const ms = (expr: RawBuilder<unknown>) => sql`(extract(epoch from (${expr})) * 1000)::float8`;

async function latency(
  db: Kysely<Database>,
  expr: RawBuilder<unknown>,
  from: RawBuilder<unknown>,
): Promise<DbLatency> {
  const value = ms(expr);
  const result = await sql<{
    p50: number | null;
    p95: number | null;
    p99: number | null;
    max: number | null;
  }>`
    select percentile_cont(0.5) within group (order by ${value}) as p50,
           percentile_cont(0.95) within group (order by ${value}) as p95,
           percentile_cont(0.99) within group (order by ${value}) as p99,
           max(${value}) as max
    ${from}`.execute(db);
  const row = result.rows[0];
  return { p50: row?.p50 ?? 0, p95: row?.p95 ?? 0, p99: row?.p99 ?? 0, max: row?.max ?? 0 };
}

/** Reads every database-side figure of the account's messages. */
export async function readDbFigures(db: Kysely<Database>, accountId: string): Promise<DbFigures> {
  const byStatus = await db
    .selectFrom('messages')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('account_id', '=', accountId)
    .groupBy('status')
    .execute();
  const byCarrier = await db
    .selectFrom('messages')
    .select(['carrier_id', (eb) => eb.fn.countAll<string>().as('n')])
    .where('account_id', '=', accountId)
    .groupBy('carrier_id')
    .execute();
  const last = await sql<{ at: number | null }>`
    select (extract(epoch from max(updated_at)) * 1000)::float8 as at
    from messages where account_id = ${accountId} and status in (${sql.join(TERMINAL)})`.execute(db);
  const attempts = await sql<{ per: number | null }>`
    select (count(a.id)::float8 / nullif(count(distinct m.id), 0)) as per
    from messages m left join message_attempts a on a.message_id = m.id
    where m.account_id = ${accountId}`.execute(db);
  return {
    statuses: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
    carriers: Object.fromEntries(byCarrier.map((r) => [r.carrier_id ?? 'none', Number(r.n)])),
    lastTerminalAt: last.rows[0]?.at ?? null,
    acceptToSubmitMs: await latency(
      db,
      sql`a.started_at - m.created_at`,
      sql`from messages m join message_attempts a on a.message_id = m.id and a.attempt = 1
          where m.account_id = ${accountId}`,
    ),
    acceptToTerminalMs: await latency(
      db,
      sql`m.updated_at - m.created_at`,
      sql`from messages m where m.account_id = ${accountId} and m.status in (${sql.join(TERMINAL)})`,
    ),
    attemptsPerMessage: attempts.rows[0]?.per ?? 0,
    stagesMs: await stageLatencies(db, accountId),
  };
}

/** Time from acceptance to each status's first event, per status reached by any message. */
async function stageLatencies(db: Kysely<Database>, accountId: string): Promise<Record<string, DbLatency>> {
  const value = ms(sql`first_at - created_at`);
  const result = await sql<{
    status: string;
    p50: number;
    p95: number;
    p99: number;
    max: number;
  }>`
    with firsts as (
      select m.created_at, e.status, min(e.at) as first_at
      from messages m join message_events e on e.message_id = m.id
      where m.account_id = ${accountId}
      group by m.id, m.created_at, e.status
    )
    select status,
           percentile_cont(0.5) within group (order by ${value}) as p50,
           percentile_cont(0.95) within group (order by ${value}) as p95,
           percentile_cont(0.99) within group (order by ${value}) as p99,
           max(${value}) as max
    from firsts group by status order by p50`.execute(db);
  return Object.fromEntries(
    result.rows.map((r) => [r.status, { p50: r.p50, p95: r.p95, p99: r.p99, max: r.max }]),
  );
}
