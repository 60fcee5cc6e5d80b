/**
 * Twilio-compatible credentials (DESIGN §11): an `AC…` alias and an auth token per account.
 *
 * | statement              | what it does                                               | guard                               |
 * |------------------------|------------------------------------------------------------|-------------------------------------|
 * | issueTwilioCredentials | first call: a new alias and token; later calls: a new token | primary key (account): one pair each |
 * | findTwilioCredentials  | the Basic-auth lookup by alias                              | unique alias                         |
 *
 * The token is kept (not hashed), as Twilio keeps it: Herald signs the account's Twilio-format
 * callbacks with it, exactly as the account's webhook secret is kept to sign Herald's.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, TwilioCredentials } from './schema.ts';

/** Gives the account its pair, or a fresh token under the same alias (the old token stops working). */
export async function issueTwilioCredentials(
  db: Kysely<Database>,
  accountId: string,
): Promise<{ credentials: TwilioCredentials; rotated: boolean }> {
  const authToken = randomBytes(16).toString('hex');
  const row = await db
    .insertInto('twilio_credentials')
    .values({
      account_id: accountId,
      account_sid: `AC${randomBytes(16).toString('hex')}`,
      auth_token: authToken,
    })
    .onConflict((oc) =>
      oc.column('account_id').doUpdateSet({ auth_token: authToken, rotated_at: new Date() }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return { credentials: row, rotated: row.rotated_at !== null };
}

export async function findTwilioCredentials(
  db: Kysely<Database>,
  accountSid: string,
): Promise<TwilioCredentials | undefined> {
  return db
    .selectFrom('twilio_credentials')
    .selectAll()
    .where('account_sid', '=', accountSid)
    .executeTakeFirst();
}
