import { type Kysely, sql } from 'kysely';
import type { Priority } from '../domain/priority.ts';
import { canTransition, MESSAGE_STATUSES, type MessageStatus } from '../domain/status.ts';
import { afterRow, byId, decodeCursor, InvalidCursorError, pageSize, toPage } from './cursor.ts';
import { findMessageIdByPartId } from './message-parts.ts';
import type {
  AttemptOutcome,
  Database,
  Message,
  MessageAttempt,
  MessageEvent,
  NewMessage,
} from './schema.ts';

export { InvalidCursorError };

/**
 * Inserts a message unless one with its id (or its account's idempotency key) exists, and returns
 * the row that is now stored. A fresh row also gets its first `message_events` row (its status).
 */
export async function insertMessage(
  db: Kysely<Database>,
  message: NewMessage,
): Promise<{ inserted: boolean; message: Message }> {
  // One statement on the accept path (was four round trips in a transaction): the row and its
  // first event, from the inserted row. No conflict target: a clash on the id or on
  // (account_id, idempotency_key) both mean "exists".
  const inserted = await db
    .with('ins', (qb) =>
      qb
        .insertInto('messages')
        .values(message)
        .onConflict((oc) => oc.doNothing())
        .returningAll(),
    )
    .with('event', (qb) =>
      qb
        .insertInto('message_events')
        .columns(['message_id', 'status'])
        .expression((eb) =>
          eb
            .selectFrom('ins')
            .select((s) => [s.ref('ins.id').as('message_id'), s.ref('ins.status').as('status')]),
        ),
    )
    .selectFrom('ins')
    .selectAll()
    .executeTakeFirst();
  if (inserted) return { inserted: true, message: inserted };
  let existing = await getMessage(db, message.id);
  if (existing === undefined && message.idempotency_key != null) {
    existing = await db
      .selectFrom('messages')
      .selectAll()
      .where('account_id', '=', message.account_id)
      .where('idempotency_key', '=', message.idempotency_key)
      .executeTakeFirst();
  }
  if (existing === undefined) throw new Error(`insertMessage: conflict on ${message.id} but no row found`);
  return { inserted: false, message: existing };
}

export async function getMessage(db: Kysely<Database>, id: string): Promise<Message | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The message when it belongs to `accountId`; another account's message is `undefined` too. */
/** The account's message among `ids` (the candidates of a Twilio-style sid), if any. */
export async function findMessageForAccount(
  db: Kysely<Database>,
  accountId: string,
  ids: readonly string[],
): Promise<Message | undefined> {
  if (ids.length === 0) return undefined;
  return db
    .selectFrom('messages')
    .selectAll()
    .where('id', 'in', ids)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

export async function getMessageForAccount(
  db: Kysely<Database>,
  accountId: string,
  id: string,
): Promise<Message | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

/** Options of {@link listMessages}. */
export interface ListMessagesOptions {
  status?: MessageStatus;
  /** Only this lane. */
  priority?: Priority;
  /** E.164 recipient, exact match. */
  to?: string;
  /** Sender, exact match. */
  from?: string;
  /** Page size 1..100 (clamped). */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | null;
}

/**
 * An account's messages, newest first (created_at, then id), in pages. The cursor names the last
 * message of the previous page and the next page continues strictly after its (created_at, id):
 * the comparison is done in SQL against that row so timestamps keep their microseconds.
 * @throws InvalidCursorError for a cursor we did not produce.
 */
export async function listMessages(
  db: Kysely<Database>,
  accountId: string,
  opts: ListMessagesOptions,
): Promise<{ data: Message[]; nextCursor: string | null }> {
  const limit = pageSize(opts.limit);
  let query = db
    .selectFrom('messages')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (opts.status !== undefined) query = query.where('status', '=', opts.status);
  if (opts.to !== undefined) query = query.where('to_number', '=', opts.to);
  if (opts.from !== undefined) query = query.where('from_sender', '=', opts.from);
  if (opts.priority !== undefined) query = query.where('priority', '=', opts.priority);
  if (opts.cursor) {
    const { id } = decodeCursor(opts.cursor, ['id']);
    const anchor = await db
      .selectFrom('messages')
      .select('id')
      .where('id', '=', id)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (anchor === undefined) throw new InvalidCursorError();
    query = query.where(afterRow('messages', id));
  }
  return toPage(await query.execute(), limit, byId);
}

/**
 * Messages still `accepted` whose row is older than `graceMs` (by the database clock): stored,
 * but maybe without a workflow (the API died or Temporal was down between the insert and the
 * start). Most urgent lane first, then oldest, at most `limit`: a stranded OTP is started before
 * a stranded campaign's backlog. Served by the partial index `messages_accepted_created_idx` (it
 * holds only the handful of `accepted` rows, so the lane sort is cheap). A verification's messages
 * are left out: their verification workflow owns them (DESIGN §10).
 */
export async function listStrandedMessages(
  db: Kysely<Database>,
  opts: { readonly graceMs: number; readonly limit: number },
): Promise<Message[]> {
  return (
    db
      .selectFrom('messages')
      .selectAll()
      // A literal, not a parameter, so the planner can match the partial index's predicate.
      .where('status', '=', sql.lit('accepted'))
      .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${opts.graceMs / 1000})`)
      // A verification's message is started by its verification workflow, never from its row.
      .where('verification_id', 'is', null)
      .orderBy(sql`case priority when 'high' then 0 when 'normal' then 1 else 2 end`)
      .orderBy('created_at')
      .orderBy('id')
      .limit(Math.max(1, Math.trunc(opts.limit)))
      .execute()
  );
}

/** Fields a transition may set along with the status. */
export type TransitionPatch = Partial<
  Pick<
    Message,
    | 'carrier_id'
    | 'carrier_message_id'
    | 'price_micros'
    | 'error_code'
    | 'error_message'
    | 'carrier_error_code'
  >
>;

/**
 * Moves a message to `to` when `canTransition(current, to)` (domain/status.ts): updates status,
 * `patch` and updated_at, and appends a `message_events` row with `detail` (never a phone number
 * or body), atomically.
 *
 * One statement on the hot path (four moves per message, two of them inside the submit's
 * combined writes below; the locked form was five round trips): the UPDATE's guard on the current
 * status does what `SELECT … FOR UPDATE` + a check did, since under READ COMMITTED a concurrent
 * move makes it wait and re-check the guard on the row that move committed; the event row is
 * inserted by the same statement, from the updated row. Only a no-op reads the row again.
 *
 * A repeated or disallowed transition changes nothing — neither the status nor the patch — and
 * returns `{ changed: false, message }` with the row as it is (`message` undefined: no such id).
 */
export async function transitionMessage(
  db: Kysely<Database>,
  messageId: string,
  to: MessageStatus,
  patch: TransitionPatch = {},
  detail?: Record<string, unknown>,
  opts: {
    /** Move only from these statuses, a subset of what the status machine allows (e.g. never back). */
    readonly onlyFrom?: readonly MessageStatus[];
  } = {},
): Promise<{ changed: boolean; message?: Message }> {
  const allowed = MOVES_TO.get(to) ?? [];
  const from = opts.onlyFrom ? allowed.filter((s) => opts.onlyFrom?.includes(s)) : allowed;
  const moved =
    from.length > 0
      ? await withMove(db, { messageId, to, from, patch, detail })
          .selectFrom('moved')
          .selectAll()
          .executeTakeFirst()
      : undefined;
  return movedOrCurrent(db, messageId, moved);
}

/** One status move: the message, the target status, the statuses it may come from, what it sets. */
interface Move {
  readonly messageId: string;
  readonly to: MessageStatus;
  /** Non-empty: a subset of `MOVES_TO.get(to)`. */
  readonly from: readonly MessageStatus[];
  readonly patch: TransitionPatch;
  readonly detail?: Record<string, unknown> | undefined;
  /** Move only if this attempt had no row when the statement began (see {@link beginSendingAttempt}). */
  readonly unlessAttemptBegun?: number;
}

/**
 * A status move as the common table expressions `moved` (the guarded UPDATE, returning the row)
 * and `event` (its `message_events` row, from the updated row), for one statement that may write
 * more beside it.
 */
function withMove(db: Kysely<Database>, move: Move) {
  return db
    .with('moved', (qb) => {
      let update = qb
        .updateTable('messages')
        .set({ ...move.patch, status: move.to, updated_at: new Date() })
        .where('id', '=', move.messageId)
        .where('status', 'in', move.from);
      const attempt = move.unlessAttemptBegun;
      if (attempt !== undefined) {
        update = update.where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('message_attempts')
                .select('attempt')
                .where('message_id', '=', move.messageId)
                .where('attempt', '=', attempt),
            ),
          ),
        );
      }
      return update.returningAll();
    })
    .with('event', (qb) =>
      qb
        .insertInto('message_events')
        .columns(['message_id', 'status', 'detail'])
        .expression((eb) =>
          eb
            .selectFrom('moved')
            .select((s) => [
              s.ref('moved.id').as('message_id'),
              s.ref('moved.status').as('status'),
              sql<string | null>`${move.detail ? JSON.stringify(move.detail) : null}::jsonb`.as('detail'),
            ]),
        ),
    );
}

/** The moved row, or (a no-op) the row as it is; `message` undefined: no such id. */
async function movedOrCurrent(
  db: Kysely<Database>,
  messageId: string,
  moved: Message | undefined,
): Promise<{ changed: boolean; message?: Message }> {
  if (moved) return { changed: true, message: moved };
  const current = await getMessage(db, messageId);
  return current === undefined ? { changed: false } : { changed: false, message: current };
}

/** For each status, the statuses a message may move to it from (the inverse of canTransition). */
const MOVES_TO: ReadonlyMap<MessageStatus, readonly MessageStatus[]> = new Map(
  MESSAGE_STATUSES.map((to) => [to, MESSAGE_STATUSES.filter((from) => canTransition(from, to))]),
);

/** A message's status history, oldest first. */
export async function listEvents(db: Kysely<Database>, messageId: string): Promise<MessageEvent[]> {
  return db
    .selectFrom('message_events')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('id', 'asc')
    .execute();
}

/** Input of {@link beginAttempt}. */
export interface BeginAttemptInput {
  messageId: string;
  carrierId: string;
  /** 1-based across the whole message. */
  attempt: number;
}

/**
 * Records that attempt number `attempt` is about to be sent. When that attempt exists already
 * (an activity retry), returns it with `fresh: false`: if its `outcome` is still null a previous
 * try may have reached the carrier, so the caller must not blindly send again.
 */
export async function beginAttempt(
  db: Kysely<Database>,
  input: BeginAttemptInput,
): Promise<{ fresh: boolean; row: MessageAttempt }> {
  const row = await insertingAttempt(db, input).returningAll().executeTakeFirst();
  if (row) return { fresh: true, row };
  return { fresh: false, row: await attemptInTheWay(db, input, 'beginAttempt') };
}

/** The INSERT of an attempt row that does nothing when the attempt has one (an activity retry). */
function insertingAttempt(db: Kysely<Database>, input: BeginAttemptInput) {
  return db
    .insertInto('message_attempts')
    .values({ message_id: input.messageId, carrier_id: input.carrierId, attempt: input.attempt })
    .onConflict((oc) => oc.columns(['message_id', 'attempt']).doNothing());
}

/** The row that made {@link insertingAttempt} do nothing; `caller` names who hit the conflict. */
async function attemptInTheWay(
  db: Kysely<Database>,
  input: BeginAttemptInput,
  caller: string,
): Promise<MessageAttempt> {
  const existing = await findAttempt(db, input.messageId, input.attempt);
  if (existing === undefined) throw new Error(`${caller}: conflict on attempt ${input.attempt} but no row`);
  return existing;
}

/** What {@link beginSendingAttempt} did. */
export type BeginSendingAttempt =
  /** The attempt row is new; the message moved to `sending` (or, a no-op, `message` is as it was). */
  | { readonly fresh: true; readonly changed: boolean; readonly message?: Message }
  /** The attempt existed (an activity retry): nothing was written; answer from `row`. */
  | { readonly fresh: false; readonly row: MessageAttempt };

/**
 * {@link beginAttempt} and the message's move to `sending` (carrier set) in one statement, the
 * submit's last write before the request: both or neither. The move happens only with a fresh
 * attempt row (the attempt had no row when the statement began; a concurrent twin that lost the
 * insert finds the status moved already).
 */
export async function beginSendingAttempt(
  db: Kysely<Database>,
  input: BeginAttemptInput,
): Promise<BeginSendingAttempt> {
  const row = await withMove(db, {
    messageId: input.messageId,
    to: 'sending',
    from: MOVES_TO.get('sending') ?? [],
    patch: { carrier_id: input.carrierId },
    unlessAttemptBegun: input.attempt,
  })
    .with('began', () => insertingAttempt(db, input).returning('attempt'))
    .selectFrom('began')
    .leftJoin('moved', (join) => join.onTrue())
    .selectAll('moved')
    .executeTakeFirst();
  if (row === undefined)
    return { fresh: false, row: await attemptInTheWay(db, input, 'beginSendingAttempt') };
  // `moved` is left-joined: its columns are all null when the status did not move.
  const moved = row.id === null ? undefined : (row as Message);
  return { fresh: true, ...(await movedOrCurrent(db, input.messageId, moved)) };
}

/** Attempt number `attempt` of a message, when it was begun. */
export async function findAttempt(
  db: Kysely<Database>,
  messageId: string,
  attempt: number,
): Promise<MessageAttempt | undefined> {
  return db
    .selectFrom('message_attempts')
    .selectAll()
    .where('message_id', '=', messageId)
    .where('attempt', '=', attempt)
    .executeTakeFirst();
}

/** Input of {@link finishAttempt}. */
export interface FinishAttemptInput {
  messageId: string;
  attempt: number;
  outcome: AttemptOutcome;
  errorCode?: string | null;
  carrierErrorCode?: string | null;
  errorMessage?: string | null;
  carrierMessageId?: string | null;
  /** What the carrier reported it billed, micro-units. */
  carrierCostMicros?: bigint | null;
}

/**
 * Records an attempt's outcome. The first outcome wins: finishing an attempt that already has one
 * changes nothing and returns the stored row. `undefined` when the attempt was never begun.
 */
export async function finishAttempt(
  db: Kysely<Database>,
  input: FinishAttemptInput,
): Promise<MessageAttempt | undefined> {
  const updated = await finishing(db, input).returningAll().executeTakeFirst();
  return updated ?? findAttempt(db, input.messageId, input.attempt);
}

/** The UPDATE that records an attempt's outcome where it has none: the first outcome wins. */
function finishing(db: Kysely<Database>, input: FinishAttemptInput) {
  return db
    .updateTable('message_attempts')
    .set({
      outcome: input.outcome,
      error_code: input.errorCode ?? null,
      carrier_error_code: input.carrierErrorCode ?? null,
      error_message: input.errorMessage ?? null,
      carrier_message_id: input.carrierMessageId ?? null,
      carrier_cost_micros: input.carrierCostMicros ?? null,
      finished_at: new Date(),
    })
    .where('message_id', '=', input.messageId)
    .where('attempt', '=', input.attempt)
    .where('outcome', 'is', null);
}

/**
 * {@link finishAttempt} and a status move of the message (`sent` with the carrier's id, after
 * the carrier took it) in one statement: both or neither. The move does not depend on the
 * attempt: a retry whose attempt has its outcome still moves a message that has not moved yet.
 */
export async function finishAttemptAndMove(
  db: Kysely<Database>,
  input: FinishAttemptInput,
  to: MessageStatus,
  patch: TransitionPatch,
): Promise<{ changed: boolean; message?: Message }> {
  const from = MOVES_TO.get(to) ?? [];
  if (from.length === 0) throw new Error(`finishAttemptAndMove: nothing moves to ${to}`);
  const moved = await withMove(db, { messageId: input.messageId, to, from, patch })
    .with('finished', () => finishing(db, input))
    .selectFrom('moved')
    .selectAll()
    .executeTakeFirst();
  return movedOrCurrent(db, input.messageId, moved);
}

/** A message's attempts in order. */
export async function listAttempts(db: Kysely<Database>, messageId: string): Promise<MessageAttempt[]> {
  return db
    .selectFrom('message_attempts')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('attempt', 'asc')
    .execute();
}

/**
 * Our message id for a carrier's message id (receipts matched without a client reference): the
 * message's own carrier id, else any part id stored in `message_parts` (SMPP, one per segment).
 */
export async function findMessageIdByCarrierMessageId(
  db: Kysely<Database>,
  carrierId: string,
  carrierMessageId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('messages')
    .select('id')
    .where('carrier_id', '=', carrierId)
    .where('carrier_message_id', '=', carrierMessageId)
    .executeTakeFirst();
  return row?.id ?? (await findMessageIdByPartId(db, carrierId, carrierMessageId));
}
