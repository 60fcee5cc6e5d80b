/** Status callbacks: delivery attempts, where a message's callbacks go, and webhook secrets. */
import type { Kysely } from 'kysely';
import type { MessageStatus } from '../domain/status.ts';
import { randomBase32 } from './ids.ts';
import type { Account, CallbackAttempt, CallbackOutcome, Database } from './schema.ts';

/** Length of a generated webhook secret (base32, 200 bits), as for new accounts. */
const SECRET_LENGTH = 40;

/** Where a message's callbacks go and the secrets that sign them. */
export interface CallbackTarget {
  readonly messageId: string;
  readonly accountId: string;
  readonly callbackUrl: string;
  /** Current secret first; the previous one while its grace period lasts. */
  readonly secrets: readonly string[];
  /**
   * Set for a message sent through the Twilio-compatible API by an account with Twilio
   * credentials: its callbacks are Twilio's form posts, signed with this auth token.
   */
  readonly twilio?: {
    readonly accountSid: string;
    readonly authToken: string;
    readonly to: string;
    readonly from: string;
  };
}

/** The callback target of a message, or undefined when it has no callback URL (or no such id). */
export async function getCallbackTarget(
  db: Kysely<Database>,
  messageId: string,
  now: Date = new Date(),
): Promise<CallbackTarget | undefined> {
  const row = await db
    .selectFrom('messages')
    .innerJoin('accounts', 'accounts.id', 'messages.account_id')
    .leftJoin('twilio_credentials', 'twilio_credentials.account_id', 'messages.account_id')
    .select([
      'messages.id',
      'messages.account_id',
      'messages.callback_url',
      'messages.api_format',
      'messages.to_number',
      'messages.from_sender',
      'accounts.webhook_secret',
      'accounts.previous_webhook_secret',
      'accounts.previous_webhook_secret_expires_at',
      'twilio_credentials.account_sid',
      'twilio_credentials.auth_token',
    ])
    .where('messages.id', '=', messageId)
    .executeTakeFirst();
  if (!row?.callback_url) return undefined;
  return {
    messageId: row.id,
    accountId: row.account_id,
    callbackUrl: row.callback_url,
    secrets: signingSecrets(row, now),
    ...(row.api_format === 'twilio' && row.account_sid && row.auth_token
      ? {
          twilio: {
            accountSid: row.account_sid,
            authToken: row.auth_token,
            to: row.to_number,
            from: row.from_sender,
          },
        }
      : {}),
  };
}

/** The secrets that sign an account's callbacks at `now`: current, then previous in its grace period. */
export function signingSecrets(
  account: Pick<Account, 'webhook_secret' | 'previous_webhook_secret' | 'previous_webhook_secret_expires_at'>,
  now: Date = new Date(),
): string[] {
  const previous = account.previous_webhook_secret;
  const until = account.previous_webhook_secret_expires_at;
  return previous && until && until.getTime() > now.getTime()
    ? [account.webhook_secret, previous]
    : [account.webhook_secret];
}

/** One row of `callback_attempts`. */
export interface CallbackAttemptInput {
  readonly messageId: string;
  readonly eventId: string;
  readonly status: MessageStatus;
  readonly attempt: number | null;
  readonly outcome: CallbackOutcome;
  readonly httpStatus?: number | null;
  readonly error?: string | null;
}

export async function recordCallbackAttempt(
  db: Kysely<Database>,
  input: CallbackAttemptInput,
): Promise<void> {
  await db
    .insertInto('callback_attempts')
    .values({
      message_id: input.messageId,
      event_id: input.eventId,
      status: input.status,
      attempt: input.attempt,
      outcome: input.outcome,
      http_status: input.httpStatus ?? null,
      error: input.error ?? null,
    })
    .execute();
}

/**
 * Whether nothing more should be sent for this event: it was delivered or given up, or the
 * receiver answered 410 Gone for any of the message's callbacks. Makes a redelivery (activity
 * retry after a crash, a later run of the callback workflow) a no-op.
 */
export async function isCallbackSettled(
  db: Kysely<Database>,
  messageId: string,
  eventId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('callback_attempts')
    .select('id')
    .where('message_id', '=', messageId)
    .where((eb) =>
      eb.or([
        eb.and([eb('event_id', '=', eventId), eb('outcome', 'in', ['delivered', 'refused', 'abandoned'])]),
        eb('outcome', '=', 'gone'),
      ]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** A message's callback attempts, oldest first. */
export async function listCallbackAttempts(
  db: Kysely<Database>,
  messageId: string,
): Promise<CallbackAttempt[]> {
  return db
    .selectFrom('callback_attempts')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('id', 'asc')
    .execute();
}

/**
 * Replaces an account's webhook secret with a fresh one. With `graceSeconds > 0` the old secret
 * keeps signing (as a second `v1=`) until then, so receivers can switch without losing a
 * callback; with 0 it stops at once.
 *
 * @returns the new secret and when the previous one stops signing (null: it already has), or
 *   undefined when the account does not exist.
 */
export async function rotateWebhookSecret(
  db: Kysely<Database>,
  accountId: string,
  graceSeconds: number,
): Promise<{ secret: string; previousExpiresAt: Date | null } | undefined> {
  const secret = randomBase32(SECRET_LENGTH);
  const expiresAt = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
  const updated = await db
    .updateTable('accounts')
    .set((eb) => ({
      previous_webhook_secret: expiresAt ? eb.ref('webhook_secret') : null,
      previous_webhook_secret_expires_at: expiresAt,
      webhook_secret: secret,
    }))
    .where('id', '=', accountId)
    .returning(['webhook_secret', 'previous_webhook_secret_expires_at'])
    .executeTakeFirst();
  if (!updated) return undefined;
  return { secret: updated.webhook_secret, previousExpiresAt: updated.previous_webhook_secret_expires_at };
}
