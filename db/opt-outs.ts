/**
 * Opt-outs (DESIGN §11): one row per account and number.
 *
 * | statement     | what it does                                  | guard                        |
 * |---------------|-----------------------------------------------|------------------------------|
 * | addOptOut     | records a number (again: keeps the first row) | primary key (account, number)|
 * | removeOptOut  | lets the number receive again                 | —                            |
 * | isOptedOut    | the send path's check                         | —                            |
 */
import type { Kysely } from 'kysely';
import { decodeCursor, InvalidCursorError, pageSize, toPage } from './cursor.ts';
import type { Database, OptOut } from './schema.ts';

export { InvalidCursorError };

/** Records `number` (E.164) for `accountId`; answers the row and whether it is new. */
export async function addOptOut(
  db: Kysely<Database>,
  row: { readonly accountId: string; readonly number: string; readonly source: OptOut['source'] },
): Promise<{ created: boolean; optOut: OptOut }> {
  const inserted = await db
    .insertInto('opt_outs')
    .values({ account_id: row.accountId, number: row.number, source: row.source })
    .onConflict((oc) => oc.columns(['account_id', 'number']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { created: true, optOut: inserted };
  const existing = await db
    .selectFrom('opt_outs')
    .selectAll()
    .where('account_id', '=', row.accountId)
    .where('number', '=', row.number)
    .executeTakeFirstOrThrow();
  return { created: false, optOut: existing };
}

/** Removes the opt-out; false when there was none. */
export async function removeOptOut(
  db: Kysely<Database>,
  accountId: string,
  number: string,
): Promise<boolean> {
  const res = await db
    .deleteFrom('opt_outs')
    .where('account_id', '=', accountId)
    .where('number', '=', number)
    .executeTakeFirst();
  return res.numDeletedRows > 0n;
}

export async function isOptedOut(db: Kysely<Database>, accountId: string, number: string): Promise<boolean> {
  const row = await db
    .selectFrom('opt_outs')
    .select('number')
    .where('account_id', '=', accountId)
    .where('number', '=', number)
    .executeTakeFirst();
  return row !== undefined;
}

/** The account's opt-outs by number, in pages (the cursor names the last number). @throws InvalidCursorError */
export async function listOptOuts(
  db: Kysely<Database>,
  accountId: string,
  opts: { readonly limit: number; readonly cursor?: string },
): Promise<{ data: OptOut[]; nextCursor: string | null }> {
  const limit = pageSize(opts.limit);
  let query = db
    .selectFrom('opt_outs')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('number')
    .limit(limit + 1);
  if (opts.cursor) {
    const { number } = decodeCursor(opts.cursor, ['number']);
    if (!/^\+\d{1,15}$/.test(number)) throw new InvalidCursorError();
    query = query.where('number', '>', number);
  }
  return toPage(await query.execute(), limit, (row) => ({ number: row.number }));
}
