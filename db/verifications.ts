/**
 * Verifications (DESIGN §10). The API inserts a row as `pending` behind the fraud guard
 * (db/fraud.ts); from then on only the verification's workflow writes it, through
 * {@link recordVerification}.
 *
 * | statement            | what it does                                               | guard                           |
 * |----------------------|------------------------------------------------------------|---------------------------------|
 * | recordVerification   | checks left, sends, latest message; the decision, once     | `status = 'pending'`            |
 *
 * Invariant: a verification leaves `pending` once; `decided_at` is set with that move and never again.
 */
import { type Kysely, sql } from 'kysely';
import type { VerificationStatus } from '../domain/verification.ts';
import { afterRow, byId, decodeCursor, InvalidCursorError, pageSize, toPage } from './cursor.ts';
import type { Database, Verification } from './schema.ts';

export async function getVerificationForAccount(
  db: Kysely<Database>,
  accountId: string,
  id: string,
): Promise<Verification | undefined> {
  return db
    .selectFrom('verifications')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

/** What the workflow records; `status` other than `pending` is the decision. */
export interface VerificationRecord {
  readonly status?: VerificationStatus;
  readonly checksLeft?: number;
  readonly sends?: number;
  readonly lastSentAt?: Date;
  readonly messageId?: string;
}

/**
 * Writes what the workflow decided, only while the row is `pending`: a replayed or late write
 * after the decision changes nothing. Answers the row as it is now.
 */
export async function recordVerification(
  db: Kysely<Database>,
  id: string,
  record: VerificationRecord,
): Promise<Verification | undefined> {
  const decided = record.status !== undefined && record.status !== 'pending';
  const updated = await db
    .updateTable('verifications')
    .set({
      ...(record.status ? { status: record.status } : {}),
      ...(record.checksLeft !== undefined ? { checks_left: record.checksLeft } : {}),
      ...(record.sends !== undefined ? { sends: record.sends } : {}),
      ...(record.lastSentAt ? { last_sent_at: record.lastSentAt } : {}),
      ...(record.messageId ? { message_id: record.messageId } : {}),
      ...(decided ? { decided_at: sql<Date>`now()` } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
  return updated ?? db.selectFrom('verifications').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface ListVerificationsOptions {
  readonly limit: number;
  readonly status?: VerificationStatus;
  /** E.164. */
  readonly to?: string;
  readonly cursor?: string;
}

/** The account's verifications, newest first, by pages. @throws InvalidCursorError */
export async function listVerifications(
  db: Kysely<Database>,
  accountId: string,
  opts: ListVerificationsOptions,
): Promise<{ data: Verification[]; nextCursor: string | null }> {
  const limit = pageSize(opts.limit);
  let query = db
    .selectFrom('verifications')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (opts.status !== undefined) query = query.where('status', '=', opts.status);
  if (opts.to !== undefined) query = query.where('to_number', '=', opts.to);
  if (opts.cursor) {
    const { id } = decodeCursor(opts.cursor, ['id']);
    const anchor = await getVerificationForAccount(db, accountId, id);
    if (anchor === undefined) throw new InvalidCursorError();
    query = query.where(afterRow('verifications', id));
  }
  return toPage(await query.execute(), limit, byId);
}
