/**
 * The money moves (DESIGN §4). Each is ONE short transaction on one connection, idempotent per
 * `(message_id, kind)` through the unique index on `ledger_entries`, and never takes a balance
 * below zero (the UPDATE's guard, backed by the CHECK constraints). The two every message makes,
 * {@link reserve} and {@link settle}, are database functions (migration
 * 2026_12_06_0140_ledger_functions): the statements described here, one round trip each.
 *
 * What each kind does to the account:
 *
 * | kind    | available | reserved |
 * |---------|-----------|----------|
 * | credit  | + a       |          |
 * | reserve | − a       | + a      |
 * | capture |           | − a      |  (money leaves: the carrier was paid)
 * | release | + a       | − a      |
 * | refund  | + a       |          |  (money comes back after a capture)
 *
 * Hence, per account, with Σkind the sum of that kind's amounts:
 *   reserved  = Σreserve − Σcapture − Σrelease
 *   available = Σcredit − Σreserve + Σrelease + Σrefund
 *   balance   = available + reserved = Σcredit − Σcapture + Σrefund
 * {@link checkInvariant} verifies exactly these.
 */
import { type Kysely, sql } from 'kysely';
import { byId, decodeCursor, InvalidCursorError, pageSize, toPage } from './cursor.ts';
import type { Database, LedgerEntry, LedgerKind, LedgerLeg } from './schema.ts';

export { InvalidCursorError };

/** A message's first submission; {@link FAILOVER_LEG} is its failover after a negative receipt. */
export const FIRST_LEG: LedgerLeg = 1;
/** The second leg of a failover after a receipt: reserved and settled apart from the first. */
export const FAILOVER_LEG: LedgerLeg = 2;

/** Input of {@link reserve}. */
export interface ReserveInput {
  accountId: string;
  messageId: string;
  /** Default {@link FIRST_LEG}. */
  leg?: LedgerLeg;
  /** Micro-units, >= 0. Zero succeeds without a ledger row (entries are always > 0). */
  amountMicros: bigint;
}

export type ReserveResult =
  | { ok: true; alreadyDone: boolean }
  | { ok: false; reason: 'insufficient_funds' | 'account_not_found' };

/**
 * Locks the account row for the rest of the transaction; every money move starts with this lock
 * (`reserve` and `settle` take it as the first statement of their database functions).
 */
async function lockAccount(trx: Kysely<Database>, accountId: string) {
  return trx
    .selectFrom('accounts')
    .select(['available_micros', 'reserved_micros'])
    .where('id', '=', accountId)
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Moves `amountMicros` from available to reserved for a message, at most once per message.
 *
 * Concurrency: every money move first locks the account row (`SELECT … FOR UPDATE`), so moves on
 * one account run one after another and each sees the balance the previous one committed. Under
 * that lock the `reserve` row is inserted with `ON CONFLICT DO NOTHING`: when the message was
 * reserved before (by a call that held the lock earlier and committed), nothing is inserted and
 * the call returns `alreadyDone` without touching the balance. The balance UPDATE keeps the guard
 * `available >= amount` and the CHECK constraints back it. Because ledger rows are only inserted
 * under the account lock, their ids follow the order of the balance changes, which is what lets
 * {@link checkInvariant} replay the after-balances entry by entry.
 *
 * A repeated call returns `alreadyDone` whatever amount it passes: the first amount stands.
 */
export async function reserve(db: Kysely<Database>, input: ReserveInput): Promise<ReserveResult> {
  const { accountId, messageId, amountMicros } = input;
  const leg = input.leg ?? FIRST_LEG;
  if (amountMicros < 0n) throw new RangeError('reserve amount must be >= 0');
  // The statements above, in one round trip (migration 2026_12_06_0140_ledger_functions).
  const { rows } = await sql<{ outcome: string }>`
    select herald_reserve(${accountId}, ${messageId}, ${leg}::smallint, ${amountMicros}::bigint) as outcome
  `.execute(db);
  switch (rows[0]?.outcome) {
    case 'reserved':
      return { ok: true, alreadyDone: false };
    case 'already_done':
      return { ok: true, alreadyDone: true };
    case 'insufficient_funds':
      return { ok: false, reason: 'insufficient_funds' };
    case 'account_not_found':
      return { ok: false, reason: 'account_not_found' };
    default:
      throw new Error(`reserve: unexpected outcome ${String(rows[0]?.outcome)}`);
  }
}

/** Input of {@link settle}. */
export interface SettleInput {
  accountId: string;
  messageId: string;
  /** Default {@link FIRST_LEG}. */
  leg?: LedgerLeg;
  /** What the message actually cost (>= 0); capped at what was reserved for it. */
  captureMicros: bigint;
}

export interface SettleResult {
  capturedMicros: bigint;
  releasedMicros: bigint;
  /** True when the message was settled before: the amounts are those of that first settlement. */
  alreadyDone: boolean;
}

/**
 * Settles a message's reservation: captures `min(captureMicros, reserved)` (it leaves the
 * account) and releases the rest back to available, writing a `capture` and/or `release` row.
 *
 * Exactly once: like every money move it locks the account row first, so a concurrent settle of
 * the same message waits, then (its next statement takes a fresh READ COMMITTED snapshot) finds
 * the first's rows and returns their amounts with `alreadyDone`.
 * Without a reservation (none made, or a zero amount) nothing moves: `{ 0, 0, alreadyDone: false }`.
 */
export async function settle(db: Kysely<Database>, input: SettleInput): Promise<SettleResult> {
  const { accountId, messageId, captureMicros } = input;
  const leg = input.leg ?? FIRST_LEG;
  if (captureMicros < 0n) throw new RangeError('capture amount must be >= 0');
  // The statements above, in one round trip (migration 2026_12_06_0140_ledger_functions).
  const { rows } = await sql<{ captured: bigint; released: bigint; already_done: boolean }>`
    select captured, released, already_done
    from herald_settle(${accountId}, ${messageId}, ${leg}::smallint, ${captureMicros}::bigint)
  `.execute(db);
  const row = rows[0];
  if (!row) throw new Error('settle: no answer');
  return { capturedMicros: row.captured, releasedMicros: row.released, alreadyDone: row.already_done };
}

/** Input of {@link refund}. */
export interface RefundInput {
  accountId: string;
  messageId: string;
  /** Micro-units, > 0 and at most what the message captured. */
  amountMicros: bigint;
}

export type RefundResult =
  | { ok: true; refundedMicros: bigint; alreadyDone: boolean }
  | { ok: false; reason: 'account_not_found' | 'not_captured' | 'exceeds_capture' };

/**
 * Gives back (part of) what a message was charged, over every leg (a failover after a receipt is
 * charged twice): `available += amount` and one `refund` row (leg 1), at most once per message (the
 * `(message_id, leg, kind)` index). `not_captured` when the message charged this account nothing,
 * `exceeds_capture` when `amountMicros` is more than all its legs captured. A repeated
 * call returns the first refund's amount with `alreadyDone`, whatever amount it passes.
 * @throws RangeError when `amountMicros <= 0`.
 */
export async function refund(db: Kysely<Database>, input: RefundInput): Promise<RefundResult> {
  const { accountId, messageId, amountMicros } = input;
  if (amountMicros <= 0n) throw new RangeError('refund amount must be > 0');
  return db.transaction().execute(async (trx): Promise<RefundResult> => {
    const account = await lockAccount(trx, accountId);
    if (account === undefined) return { ok: false, reason: 'account_not_found' };
    const entries = await trx
      .selectFrom('ledger_entries')
      .select(['kind', 'amount_micros'])
      .where('message_id', '=', messageId)
      .where('account_id', '=', accountId)
      .where('kind', 'in', ['capture', 'refund'])
      .execute();
    const done = entries.find((e) => e.kind === 'refund');
    if (done) return { ok: true, refundedMicros: done.amount_micros, alreadyDone: true };
    const captures = entries.filter((e) => e.kind === 'capture');
    if (captures.length === 0) return { ok: false, reason: 'not_captured' };
    const captured = captures.reduce((sum, e) => sum + e.amount_micros, 0n);
    if (amountMicros > captured) return { ok: false, reason: 'exceeds_capture' };
    await trx
      .insertInto('ledger_entries')
      .values({
        account_id: accountId,
        message_id: messageId,
        kind: 'refund',
        amount_micros: amountMicros,
        available_after_micros: account.available_micros + amountMicros,
        reserved_after_micros: account.reserved_micros,
      })
      .execute();
    await trx
      .updateTable('accounts')
      .set((eb) => ({ available_micros: eb('available_micros', '+', amountMicros) }))
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    return { ok: true, refundedMicros: amountMicros, alreadyDone: false };
  });
}

/** A message's ledger entries on `accountId`, every leg, oldest first. */
export async function listMessageEntries(
  db: Kysely<Database>,
  accountId: string,
  messageId: string,
): Promise<LedgerEntry[]> {
  return db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('message_id', '=', messageId)
    .orderBy('id')
    .execute();
}

export interface Balance {
  availableMicros: bigint;
  reservedMicros: bigint;
}

/** The account's balance, or `undefined` when there is no such account. */
export async function getBalance(db: Kysely<Database>, accountId: string): Promise<Balance | undefined> {
  const row = await db
    .selectFrom('accounts')
    .select(['available_micros', 'reserved_micros'])
    .where('id', '=', accountId)
    .executeTakeFirst();
  return row && { availableMicros: row.available_micros, reservedMicros: row.reserved_micros };
}

/** Options of {@link listLedger}. */
export interface ListLedgerOptions {
  /** Page size, 1..100 (clamped). */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | null;
}

/**
 * An account's ledger entries, newest first, paged by an opaque cursor.
 * @throws InvalidCursorError for a cursor we did not produce.
 */
export async function listLedger(
  db: Kysely<Database>,
  accountId: string,
  opts: ListLedgerOptions,
): Promise<{ data: LedgerEntry[]; nextCursor: string | null }> {
  const limit = pageSize(opts.limit);
  let query = db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (opts.cursor) {
    const { id } = decodeCursor(opts.cursor, ['id']);
    if (!/^\d{1,19}$/.test(id)) throw new InvalidCursorError();
    query = query.where('id', '<', BigInt(id));
  }
  return toPage(await query.execute(), limit, byId);
}

/** Sums of an account's ledger entries by kind, in micro-units. */
export interface LedgerTotals {
  credits: bigint;
  /** Σ of `reserve` entries (all ever made, settled or not). */
  reserved: bigint;
  captured: bigint;
  released: bigint;
  refunded: bigint;
}

export async function ledgerTotals(db: Kysely<Database>, accountId: string): Promise<LedgerTotals> {
  const sumOf = (kind: string) =>
    sql<bigint>`coalesce(sum(amount_micros) filter (where kind = ${kind}), 0)::bigint`;
  const row = await db
    .selectFrom('ledger_entries')
    .select([
      sumOf('credit').as('credits'),
      sumOf('reserve').as('reserved'),
      sumOf('capture').as('captured'),
      sumOf('release').as('released'),
      sumOf('refund').as('refunded'),
    ])
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return row;
}

/**
 * True when the account's balance agrees with its ledger: the sum identities in the module comment
 * hold, replaying the entries in id order reproduces every entry's after-balances (starting from
 * zero) and ends on the current balance, and no message captured plus released more than it
 * reserved. For tests and audits; reads one snapshot.
 */
export async function checkInvariant(db: Kysely<Database>, accountId: string): Promise<boolean> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const balance = await getBalance(trx, accountId);
      if (balance === undefined) return false;
      const t = await ledgerTotals(trx, accountId);
      const reservedOk = balance.reservedMicros === t.reserved - t.captured - t.released;
      const availableOk = balance.availableMicros === t.credits - t.reserved + t.released + t.refunded;

      const entries = await trx
        .selectFrom('ledger_entries')
        .select(['kind', 'amount_micros', 'available_after_micros', 'reserved_after_micros'])
        .where('account_id', '=', accountId)
        .orderBy('id', 'asc')
        .execute();
      let available = 0n;
      let reserved = 0n;
      let replayOk = true;
      for (const e of entries) {
        const [da, dr] = LEDGER_EFFECT[e.kind];
        available += da * e.amount_micros;
        reserved += dr * e.amount_micros;
        if (available !== e.available_after_micros || reserved !== e.reserved_after_micros) replayOk = false;
      }
      const endOk = available === balance.availableMicros && reserved === balance.reservedMicros;

      const overSettled = await trx
        .selectFrom('ledger_entries')
        .select('message_id')
        .where('account_id', '=', accountId)
        .where('message_id', 'is not', null)
        .groupBy('message_id')
        .having(
          sql<boolean>`coalesce(sum(amount_micros) filter (where kind in ('capture', 'release')), 0)
            > coalesce(sum(amount_micros) filter (where kind = 'reserve'), 0)`,
        )
        .limit(1)
        .executeTakeFirst();
      return reservedOk && availableOk && replayOk && endOk && overSettled === undefined;
    });
}

/** Sign each kind applies to (available, reserved); the table in the module comment. */
const LEDGER_EFFECT: Readonly<Record<LedgerKind, readonly [bigint, bigint]>> = {
  credit: [1n, 0n],
  reserve: [-1n, 1n],
  capture: [0n, -1n],
  release: [1n, -1n],
  refund: [1n, 0n],
};
