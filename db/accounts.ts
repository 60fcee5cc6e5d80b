import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newId, randomBase32 } from './ids.ts';
import type { Account, Database } from './schema.ts';

/** Characters of an API key kept in clear (`api_keys.prefix`) so operators can tell keys apart. */
const KEY_PREFIX_LENGTH = 8;

/** SHA-256 hex of an API key: what `api_keys.key_hash` stores and lookups compare. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Input of {@link createAccount}. */
export interface CreateAccountInput {
  name: string;
  /** Use this key instead of generating one (`hk_` + 32 base32 characters). */
  apiKey?: string;
  /** Default `USD`. */
  currency?: string;
}

/**
 * Creates an account (id `acc_…`, random webhook secret, zero balance) and its first API key.
 * The key is returned once in clear; only its hash and first 8 characters are stored.
 */
export async function createAccount(
  db: Kysely<Database>,
  input: CreateAccountInput,
): Promise<{ account: Account; apiKey: string }> {
  const apiKey = input.apiKey ?? `hk_${randomBase32(32)}`;
  return db.transaction().execute(async (trx) => {
    const account = await trx
      .insertInto('accounts')
      .values({
        id: newId('acc'),
        name: input.name,
        currency: input.currency ?? 'USD',
        webhook_secret: randomBase32(40),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('api_keys')
      .values({
        id: newId('key'),
        account_id: account.id,
        key_hash: hashApiKey(apiKey),
        prefix: apiKey.slice(0, KEY_PREFIX_LENGTH),
      })
      .execute();
    return { account, apiKey };
  });
}

/** The account owning `key`, unless the key is unknown or revoked. */
export async function findAccountByApiKey(db: Kysely<Database>, key: string): Promise<Account | undefined> {
  return db
    .selectFrom('api_keys')
    .innerJoin('accounts', 'accounts.id', 'api_keys.account_id')
    .selectAll('accounts')
    .where('api_keys.key_hash', '=', hashApiKey(key))
    .where('api_keys.revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function getAccount(db: Kysely<Database>, id: string): Promise<Account | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Input of {@link addCredit}. */
export interface AddCreditInput {
  accountId: string;
  /** Micro-units, > 0. */
  amountMicros: bigint;
  /** Caller's reference (e.g. a payment id): the same reference credits an account once. */
  reference?: string;
}

/**
 * Tops up an account: `available += amount` and a `credit` ledger entry, in one transaction.
 * With a `reference` already used on this account nothing moves and the account is returned as is.
 *
 * @returns the account after the credit, or `undefined` when the account does not exist.
 * @throws RangeError when `amountMicros <= 0`.
 */
export async function addCredit(db: Kysely<Database>, input: AddCreditInput): Promise<Account | undefined> {
  if (input.amountMicros <= 0n) throw new RangeError('credit amount must be > 0');
  return db.transaction().execute(async (trx) => {
    // Lock the account first, like every money move (db/ledger.ts), so ledger rows are written in
    // the order of the balance changes and a concurrent credit with the same reference waits here.
    const account = await trx
      .selectFrom('accounts')
      .selectAll()
      .where('id', '=', input.accountId)
      .forUpdate()
      .executeTakeFirst();
    if (account === undefined) return undefined;
    const entry = await trx
      .insertInto('ledger_entries')
      .values({
        account_id: account.id,
        message_id: null,
        kind: 'credit',
        amount_micros: input.amountMicros,
        available_after_micros: account.available_micros + input.amountMicros,
        reserved_after_micros: account.reserved_micros,
        reference: input.reference ?? null,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (entry === undefined) return account; // this reference was credited before
    return trx
      .updateTable('accounts')
      .set((eb) => ({ available_micros: eb('available_micros', '+', input.amountMicros) }))
      .where('id', '=', account.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** The settings `PUT /v1/settings` may change (DESIGN §11); undefined fields stay as they are. */
export interface AccountSettingsPatch {
  readonly inbound_url?: string | null;
  readonly callback_url?: string | null;
  readonly inbound_format?: Account['inbound_format'];
  readonly stop_reply?: string | null;
  readonly start_reply?: string | null;
  readonly help_reply?: string | null;
}

/** Applies the patch; answers the account as it now is (undefined: no such account). */
export async function updateAccountSettings(
  db: Kysely<Database>,
  accountId: string,
  patch: AccountSettingsPatch,
): Promise<Account | undefined> {
  const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length === 0) {
    return db.selectFrom('accounts').selectAll().where('id', '=', accountId).executeTakeFirst();
  }
  return db.updateTable('accounts').set(set).where('id', '=', accountId).returningAll().executeTakeFirst();
}
