/**
 * Senders assigned to accounts (DESIGN §11).
 *
 * | statement      | what it does                                          | guard                              |
 * |----------------|-------------------------------------------------------|------------------------------------|
 * | assignNumber   | gives a sender to an account (again: no change)        | primary key: one account per sender |
 * | releaseNumber  | takes it back                                          | —                                  |
 * | findOwnSender  | the send path's check of `from`                        | —                                  |
 * | senderCarrier  | the carrier a sender is provisioned on (routes pin to it) | —                               |
 */
import type { Kysely } from 'kysely';
import type { AssignedNumber, Database } from './schema.ts';

export type AssignOutcome =
  | { readonly outcome: 'assigned' | 'unchanged'; readonly number: AssignedNumber }
  | { readonly outcome: 'taken' };

/** Assigns `sender` to the account; `taken` when another account holds it. */
export async function assignNumber(
  db: Kysely<Database>,
  row: {
    readonly sender: string;
    readonly accountId: string;
    readonly kind: AssignedNumber['kind'];
    readonly carrierId: string | null;
  },
): Promise<AssignOutcome> {
  const inserted = await db
    .insertInto('numbers')
    .values({ sender: row.sender, account_id: row.accountId, kind: row.kind, carrier_id: row.carrierId })
    .onConflict((oc) => oc.column('sender').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { outcome: 'assigned', number: inserted };
  const existing = await db
    .selectFrom('numbers')
    .selectAll()
    .where('sender', '=', row.sender)
    .executeTakeFirstOrThrow();
  return existing.account_id === row.accountId
    ? { outcome: 'unchanged', number: existing }
    : { outcome: 'taken' };
}

export async function releaseNumber(db: Kysely<Database>, sender: string): Promise<boolean> {
  const res = await db.deleteFrom('numbers').where('sender', '=', sender).executeTakeFirst();
  return res.numDeletedRows > 0n;
}

/** Every assigned sender (of one account, when given), by sender. */
export async function listNumbers(db: Kysely<Database>, accountId?: string): Promise<AssignedNumber[]> {
  let query = db.selectFrom('numbers').selectAll().orderBy('sender');
  if (accountId !== undefined) query = query.where('account_id', '=', accountId);
  return query.execute();
}

/** The account's own sender row (the send path's check of `from`), or undefined. */
export async function findOwnSender(
  db: Kysely<Database>,
  accountId: string,
  sender: string,
): Promise<AssignedNumber | undefined> {
  return db
    .selectFrom('numbers')
    .selectAll()
    .where('sender', '=', sender)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

/**
 * The carrier the account's sender is provisioned on, when it was assigned to one: its messages
 * can only go out through that carrier (a number belongs to one carrier's network).
 *
 * @returns the carrier id, or undefined (not assigned, or assigned to any carrier).
 */
export async function senderCarrier(
  db: Kysely<Database>,
  accountId: string,
  sender: string,
): Promise<string | undefined> {
  return (await findOwnSender(db, accountId, sender))?.carrier_id ?? undefined;
}
