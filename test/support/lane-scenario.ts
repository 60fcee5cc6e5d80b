/**
 * The priority-lane scenario of issue 9, on a running stack: one account floods the API with
 * bulk messages, then sends an urgent one every 2 s from the same account; afterwards each
 * urgent message's place in the line is read back from the database (`message_events`, one clock).
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Priority } from '../../domain/priority.ts';
import { apiClient, createFundedAccount } from './stack.ts';

/** Options of {@link runLaneScenario}. */
export interface LaneScenarioOptions {
  /** Bulk messages sent first, as fast as the API accepts them. */
  readonly bulk: number;
  readonly bulkPriority: Priority;
  readonly urgentPriority: Priority;
  /** Pause between urgent messages, ms. Default 2000. */
  readonly urgentEveryMs?: number;
  /** Bulk requests in flight. Default 32. */
  readonly concurrency?: number;
  /** Give up waiting for the backlog after this long, ms. Default 240 000. */
  readonly timeoutMs?: number;
}

/** Where one urgent message landed in the line. */
export interface UrgentPlacement {
  readonly id: string;
  /** Accepted (row stored) → `sent`, ms. */
  readonly acceptedToSentMs: number;
  /** Bulk messages stored before it and not yet sent when it was stored. */
  readonly waiting: number;
  /** Share of {@link waiting} sent after it, 0..1 (1 when none was waiting). */
  readonly overtaken: number;
}

export interface LaneScenarioResult {
  readonly urgent: readonly UrgentPlacement[];
  /** Bulk messages that reached `sent`. */
  readonly bulkSent: number;
}

interface Row {
  readonly id: string;
  readonly createdMs: number;
  readonly sentMs: number | null;
}

/**
 * Runs the scenario against the API at `apiUrl` and measures on `db`. Urgent messages go out every
 * `urgentEveryMs` from 2 s after the first bulk message was accepted until the bulk backlog is sent.
 */
export async function runLaneScenario(
  apiUrl: string,
  db: Kysely<Database>,
  opts: LaneScenarioOptions,
): Promise<LaneScenarioResult> {
  const account = await createFundedAccount(apiUrl, '1000.00');
  const api = apiClient(apiUrl, account.apiKey);
  // The body says which kind a message is, whatever the lanes of this run are called.
  const send = async (kind: 'bulk' | 'urgent', priority: Priority, n: number): Promise<void> => {
    const res = await api('POST', '/v1/messages', { to: '+14155552671', body: `${kind} ${n}`, priority });
    if (res.status !== 202) throw new Error(`send ${priority}: ${res.status} ${JSON.stringify(res.body)}`);
  };

  let firstAccepted: () => void = () => undefined;
  const firstAcceptedP = new Promise<void>((r) => {
    firstAccepted = r;
  });
  let next = 0;
  const bulkDone = Promise.all(
    Array.from({ length: opts.concurrency ?? 32 }, async () => {
      while (next < opts.bulk) {
        const n = next++;
        await send('bulk', opts.bulkPriority, n);
        firstAccepted();
      }
    }),
  );
  await firstAcceptedP;
  await sleep(2_000);

  const deadline = Date.now() + (opts.timeoutMs ?? 240_000);
  const urgentSends: Promise<void>[] = [];
  let urgentCount = 0;
  for (;;) {
    urgentSends.push(send('urgent', opts.urgentPriority, urgentCount++));
    await sleep(opts.urgentEveryMs ?? 2_000);
    const waiting = await unsent(db, account.id);
    if ((waiting === 0 && next >= opts.bulk) || Date.now() > deadline) break;
  }
  await bulkDone;
  await Promise.all(urgentSends);
  while ((await unsent(db, account.id)) > 0) {
    if (Date.now() > deadline) throw new Error('the backlog was not sent in time');
    await sleep(250);
  }

  const rows = await timeline(db, account.id);
  const bulk = rows.filter((r) => r.body.startsWith('bulk '));
  const urgent = rows
    .filter((r) => r.body.startsWith('urgent '))
    .sort((a, b) => a.createdMs - b.createdMs)
    .map((u): UrgentPlacement => {
      const sentMs = u.sentMs ?? Number.POSITIVE_INFINITY;
      const waitingRows = bulk.filter(
        (b) => b.createdMs <= u.createdMs && (b.sentMs === null || b.sentMs > u.createdMs),
      );
      const after = waitingRows.filter((b) => b.sentMs === null || b.sentMs > sentMs).length;
      return {
        id: u.id,
        acceptedToSentMs: sentMs - u.createdMs,
        waiting: waitingRows.length,
        overtaken: waitingRows.length === 0 ? 1 : after / waitingRows.length,
      };
    });
  return { urgent, bulkSent: bulk.filter((b) => b.sentMs !== null).length };
}

/** The account's messages not yet `sent` (or past it). */
export async function unsent(db: Kysely<Database>, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('messages')
    .select(db.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('status', 'in', ['accepted', 'queued', 'sending'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every message of the account with when it was stored and first `sent` (database clock, ms). */
export async function timeline(
  db: Kysely<Database>,
  accountId: string,
): Promise<Array<Row & { body: string }>> {
  const rows = await db
    .selectFrom('messages as m')
    .leftJoin(
      (eb) =>
        eb
          .selectFrom('message_events')
          .select(['message_id', sql<Date>`min(at)`.as('sent_at')])
          .where('status', '=', 'sent')
          .groupBy('message_id')
          .as('e'),
      (join) => join.onRef('e.message_id', '=', 'm.id'),
    )
    .select(['m.id', 'm.body', 'm.created_at', 'e.sent_at'])
    .where('m.account_id', '=', accountId)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    body: r.body,
    createdMs: r.created_at.getTime(),
    sentMs: r.sent_at === null ? null : new Date(r.sent_at).getTime(),
  }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
