/**
 * Inbound (mobile-originated) messages (DESIGN §11).
 *
 * | statement          | what it does                                                    | guard                                              |
 * |--------------------|-----------------------------------------------------------------|----------------------------------------------------|
 * | storeInboundPart   | keeps one part of a concatenated message; says when it is whole  | primary key (carrier, part id): a redelivered part is kept once |
 * | storeInbound       | stores a whole message and applies its keyword to the owner's opt-outs, in one transaction | unique (carrier, carrier id): a redelivery changes nothing |
 * | recordInboundReply | notes the message that answered its keyword                     | set once                                           |
 * | recordForward      | counts a forwarding attempt, or writes its final outcome        | a final outcome is written once                    |
 *
 * Invariant: a carrier message is one row, and its keyword changed the opt-out list at most once
 * (in the transaction that stored it). A part names the message it was assembled into (set in
 * that transaction), so a part redelivered later finds its message instead of waiting again, and
 * a concatenation reference the sender reuses starts a new message.
 */
import type { Kysely, Transaction } from 'kysely';
import { inboundMessageId } from '../domain/ids.ts';
import { inboundKeyword } from '../domain/inbound-keywords.ts';
import { afterRow, byId, decodeCursor, InvalidCursorError, pageSize, toPage } from './cursor.ts';
import type { Account, Database, ForwardOutcome, InboundMessage, InboundPart } from './schema.ts';

export { InvalidCursorError };

/** One part as an adapter read it. */
export interface InboundPartInput {
  readonly carrierId: string;
  readonly carrierMessageId: string;
  readonly from: string;
  readonly to: string;
  readonly text: string;
  readonly ref: string;
  readonly total: number;
  readonly seq: number;
}

/**
 * How long a part waits for the rest of its message: Vonage redelivers an inbound message for
 * 24 h. Older waiting parts are left out, so a concatenation reference (often 8 bits) reused
 * later by the same sender never picks up a stale part.
 */
export const PART_WAIT_MS = 24 * 3_600_000;

/** What storing a part came to. */
export type PartOutcome =
  /** Parts are missing still. */
  | { readonly state: 'waiting' }
  /** Every part is here (one per position, the first to arrive): store the message. */
  | { readonly state: 'complete'; readonly parts: readonly InboundPart[] }
  /** A redelivered part of a message stored already. */
  | { readonly state: 'assembled'; readonly inboundId: string };

/** Stores a part (a redelivery is kept once, by the carrier's part id) and says whether its message is whole. */
export async function storeInboundPart(db: Kysely<Database>, part: InboundPartInput): Promise<PartOutcome> {
  const concatKey = `${part.from}|${part.to}|${part.ref}|${part.total}`;
  const inserted = await db
    .insertInto('inbound_parts')
    .values({
      carrier_id: part.carrierId,
      carrier_message_id: part.carrierMessageId,
      concat_key: concatKey,
      seq: part.seq,
      total: part.total,
      text: part.text,
    })
    .onConflict((oc) => oc.columns(['carrier_id', 'carrier_message_id']).doNothing())
    .returning('inbound_id')
    .executeTakeFirst();
  if (!inserted) {
    const known = await db
      .selectFrom('inbound_parts')
      .select('inbound_id')
      .where('carrier_id', '=', part.carrierId)
      .where('carrier_message_id', '=', part.carrierMessageId)
      .executeTakeFirstOrThrow();
    if (known.inbound_id !== null) return { state: 'assembled', inboundId: known.inbound_id };
  }
  const waiting = await db
    .selectFrom('inbound_parts')
    .selectAll()
    .where('carrier_id', '=', part.carrierId)
    .where('concat_key', '=', concatKey)
    .where('inbound_id', 'is', null)
    .where('received_at', '>', new Date(Date.now() - PART_WAIT_MS))
    .orderBy('seq')
    .orderBy('received_at')
    .execute();
  const bySeq = new Map<number, InboundPart>();
  for (const p of waiting) if (!bySeq.has(p.seq)) bySeq.set(p.seq, p);
  if (bySeq.size < part.total) return { state: 'waiting' };
  return { state: 'complete', parts: [...bySeq.values()] };
}

/** A whole inbound message, before it is stored. */
export interface InboundInput {
  readonly carrierId: string;
  readonly carrierMessageId: string;
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly parts: number;
  /** The carrier ids of its parts (a concatenated message): marked as assembled into it. */
  readonly partIds?: readonly string[];
}

/**
 * Stores the message with the account that owns `to` (none: stored, nothing else changes) and
 * its keyword; a STOP adds the sender to the owner's opt-outs (source `keyword`), a START removes
 * it — in the same transaction, so a crash cannot store one without the other.
 *
 * @returns the row, and whether this call stored it (false: a redelivery).
 */
export async function storeInbound(
  db: Kysely<Database>,
  input: InboundInput,
): Promise<{ inserted: boolean; message: InboundMessage }> {
  const id = inboundMessageId(input.carrierId, input.carrierMessageId);
  return db.transaction().execute(async (trx) => {
    const owner = await trx
      .selectFrom('numbers')
      .select('account_id')
      .where('sender', '=', input.to)
      .executeTakeFirst();
    const keyword = inboundKeyword(input.body);
    const inserted = await trx
      .insertInto('inbound_messages')
      .values({
        id,
        carrier_id: input.carrierId,
        carrier_message_id: input.carrierMessageId,
        account_id: owner?.account_id ?? null,
        from_number: input.from,
        to_number: input.to,
        body: input.body,
        parts: input.parts,
        keyword,
      })
      .onConflict((oc) => oc.columns(['carrier_id', 'carrier_message_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (input.partIds && input.partIds.length > 0) {
      await trx
        .updateTable('inbound_parts')
        .set({ inbound_id: id })
        .where('carrier_id', '=', input.carrierId)
        .where('carrier_message_id', 'in', input.partIds)
        .execute();
    }
    if (!inserted) {
      const existing = await trx
        .selectFrom('inbound_messages')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return { inserted: false, message: existing };
    }
    if (inserted.account_id !== null && inserted.from_number.startsWith('+')) {
      await applyKeyword(trx, inserted.account_id, inserted.from_number, keyword);
    }
    return { inserted: true, message: inserted };
  });
}

async function applyKeyword(
  trx: Transaction<Database>,
  accountId: string,
  number: string,
  keyword: InboundMessage['keyword'],
): Promise<void> {
  if (keyword === 'stop') {
    await trx
      .insertInto('opt_outs')
      .values({ account_id: accountId, number, source: 'keyword' })
      .onConflict((oc) => oc.columns(['account_id', 'number']).doNothing())
      .execute();
  } else if (keyword === 'start') {
    await trx
      .deleteFrom('opt_outs')
      .where('account_id', '=', accountId)
      .where('number', '=', number)
      .execute();
  }
}

export async function getInbound(db: Kysely<Database>, id: string): Promise<InboundMessage | undefined> {
  return db.selectFrom('inbound_messages').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getInboundForAccount(
  db: Kysely<Database>,
  accountId: string,
  id: string,
): Promise<InboundMessage | undefined> {
  return db
    .selectFrom('inbound_messages')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

/** An account's keyword replies as set (null: the default text, '': none). */
export async function getKeywordReplies(
  db: Kysely<Database>,
  accountId: string,
): Promise<Pick<Account, 'stop_reply' | 'start_reply' | 'help_reply'> | undefined> {
  return db
    .selectFrom('accounts')
    .select(['stop_reply', 'start_reply', 'help_reply'])
    .where('id', '=', accountId)
    .executeTakeFirst();
}

/** Where and how an account's inbound messages are forwarded, and what signs them. */
export interface ForwardTarget
  extends Pick<
    Account,
    | 'inbound_url'
    | 'inbound_format'
    | 'webhook_secret'
    | 'previous_webhook_secret'
    | 'previous_webhook_secret_expires_at'
  > {
  /** The account's Twilio-compatible pair, when it has one. */
  readonly account_sid: string | null;
  readonly auth_token: string | null;
}

export async function getForwardTarget(
  db: Kysely<Database>,
  accountId: string,
): Promise<ForwardTarget | undefined> {
  return db
    .selectFrom('accounts')
    .leftJoin('twilio_credentials', 'twilio_credentials.account_id', 'accounts.id')
    .select([
      'accounts.inbound_url',
      'accounts.inbound_format',
      'accounts.webhook_secret',
      'accounts.previous_webhook_secret',
      'accounts.previous_webhook_secret_expires_at',
      'twilio_credentials.account_sid',
      'twilio_credentials.auth_token',
    ])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
}

/** Notes the message that answered the keyword (the first one noted stays). */
export async function recordInboundReply(db: Kysely<Database>, id: string, messageId: string): Promise<void> {
  await db
    .updateTable('inbound_messages')
    .set({ reply_message_id: messageId })
    .where('id', '=', id)
    .where('reply_message_id', 'is', null)
    .execute();
}

/**
 * Counts an attempt (`outcome` undefined) or writes the final outcome of forwarding, once.
 *
 * @returns false when an outcome was already written (nothing changed).
 */
export async function recordForward(
  db: Kysely<Database>,
  id: string,
  outcome?: ForwardOutcome,
): Promise<boolean> {
  const res = await db
    .updateTable('inbound_messages')
    .set((eb) =>
      outcome === undefined
        ? { forward_attempts: eb('forward_attempts', '+', 1) }
        : {
            forward_outcome: outcome,
            forwarded_at: outcome === 'delivered' ? new Date() : null,
          },
    )
    .where('id', '=', id)
    .where('forward_outcome', 'is', null)
    .executeTakeFirst();
  return res.numUpdatedRows > 0n;
}

/** An account's inbound messages, newest first, in pages. @throws InvalidCursorError */
export async function listInbound(
  db: Kysely<Database>,
  accountId: string,
  opts: { readonly limit: number; readonly cursor?: string; readonly from?: string; readonly to?: string },
): Promise<{ data: InboundMessage[]; nextCursor: string | null }> {
  const limit = pageSize(opts.limit);
  let query = db
    .selectFrom('inbound_messages')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('received_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (opts.from !== undefined) query = query.where('from_number', '=', opts.from);
  if (opts.to !== undefined) query = query.where('to_number', '=', opts.to);
  if (opts.cursor) {
    const { id } = decodeCursor(opts.cursor, ['id']);
    if ((await getInboundForAccount(db, accountId, id)) === undefined) throw new InvalidCursorError();
    query = query.where(afterRow('inbound_messages', id, 'received_at'));
  }
  return toPage(await query.execute(), limit, byId);
}
