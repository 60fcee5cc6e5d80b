/**
 * The verification fraud guard's statements (DESIGN §10; rules in domain/fraud.ts). Geo permissions
 * are checked first ({@link geoAllowed}, before the request is priced); then one guarded
 * transaction decides, serialized per number prefix by an advisory lock, so two API processes
 * never both let the 21st verification of a prefix through:
 *
 * | step                | what it does                                                                 |
 * |---------------------|------------------------------------------------------------------------------|
 * | geo permissions     | (geoAllowed) the destination's country is in the account's allowed list     |
 * | active block        | a prefix or country an admin has not lifted → `fraud_suspected`             |
 * | velocity            | per number, per prefix (since its last lift), per account → `rate_limited`  |
 * | spike               | many requests, almost no approvals → a new block, `fraud_suspected`          |
 * | insert              | the verification row, only when nothing above refused                       |
 *
 * Every request leaves a `verification_attempts` row with its outcome (what the spike rule counts).
 * Invariant: a refused request writes no verification and no message, so nothing is sent or charged.
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import {
  ACCOUNT_LIMIT,
  type AutoBlockRule,
  type BlockScope,
  COUNTRY_AUTO_BLOCK,
  DEFAULT_VERIFY_COUNTRIES,
  type GuardRefusal,
  looksLikePumping,
  NUMBER_LIMIT,
  PREFIX_AUTO_BLOCK,
  PREFIX_LIMIT,
  type VelocityLimit,
} from '../domain/fraud.ts';
import type {
  Database,
  FraudBlock,
  NewVerification,
  Verification,
  VerificationAttemptOutcome,
} from './schema.ts';

export type GuardedInsert =
  | { readonly ok: true; readonly verification: Verification }
  | { readonly ok: false; readonly refusal: GuardRefusal };

/** The countries `accountId` may verify: its own list, else {@link DEFAULT_VERIFY_COUNTRIES}. */
export async function allowedCountries(db: Kysely<Database>, accountId: string): Promise<readonly string[]> {
  const row = await db
    .selectFrom('verification_settings')
    .select('allowed_countries')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  return row?.allowed_countries ?? DEFAULT_VERIFY_COUNTRIES;
}

export async function setAllowedCountries(
  db: Kysely<Database>,
  accountId: string,
  countries: readonly string[],
): Promise<void> {
  await db
    .insertInto('verification_settings')
    .values({ account_id: accountId, allowed_countries: [...countries] })
    .onConflict((oc) =>
      oc
        .column('account_id')
        .doUpdateSet({ allowed_countries: [...countries], updated_at: sql<Date>`now()` }),
    )
    .execute();
}

/**
 * The geo-permission step alone, before anything is priced: true when `country` is allowed; a
 * refusal is logged as an attempt like any other.
 */
export async function geoAllowed(
  db: Kysely<Database>,
  attempt: { readonly accountId: string; readonly numberPrefix: string; readonly country: string },
): Promise<boolean> {
  if ((await allowedCountries(db, attempt.accountId)).includes(attempt.country)) return true;
  await db
    .insertInto('verification_attempts')
    .values({
      account_id: attempt.accountId,
      number_prefix: attempt.numberPrefix,
      country: attempt.country,
      outcome: 'geo_blocked',
    })
    .execute();
  return false;
}

/**
 * Runs the guard's transaction for `row` (its country already passed {@link geoAllowed}) (a `pending` verification with its `number_prefix`) and inserts it when
 * nothing refuses; `newBlockId` names a block this request may create.
 */
export async function insertVerificationGuarded(
  db: Kysely<Database>,
  row: NewVerification & { readonly number_prefix: string },
  newBlockId: () => string,
): Promise<GuardedInsert> {
  return db.transaction().execute(async (trx) => {
    const prefix = row.number_prefix;
    await sql`select pg_advisory_xact_lock(hashtext(${`herald-verify:${prefix}`}))`.execute(trx);
    const refusal = await decide(trx, row, prefix, newBlockId);
    await trx
      .insertInto('verification_attempts')
      .values({
        account_id: row.account_id,
        number_prefix: prefix,
        country: row.country,
        outcome: (refusal?.reason ?? 'created') satisfies VerificationAttemptOutcome,
      })
      .execute();
    if (refusal) return { ok: false, refusal };
    const verification = await trx
      .insertInto('verifications')
      .values(row)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ok: true, verification };
  });
}

async function decide(
  trx: Transaction<Database>,
  row: NewVerification,
  prefix: string,
  newBlockId: () => string,
): Promise<GuardRefusal | undefined> {
  const blocked = await trx
    .selectFrom('fraud_blocks')
    .select(['scope', 'value'])
    .where('lifted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('scope', '=', 'prefix'), eb('value', '=', prefix)]),
        eb.and([eb('scope', '=', 'country'), eb('value', '=', row.country)]),
      ]),
    )
    .executeTakeFirst();
  if (blocked) return { reason: 'fraud_suspected', scope: blocked.scope, value: blocked.value };

  const prefixLift = await lastLift(trx, 'prefix', prefix);
  const countryLift = await lastLift(trx, 'country', row.country);
  // Spikes first: a pumping run trips its block even while the velocity limit refuses it.
  for (const [scope, value, rule, since] of [
    ['prefix', prefix, PREFIX_AUTO_BLOCK, prefixLift],
    ['country', row.country, COUNTRY_AUTO_BLOCK, countryLift],
  ] as const) {
    const counts = await spikeCounts(trx, scope, value, rule, since);
    if (looksLikePumping(rule, counts)) {
      await trx
        .insertInto('fraud_blocks')
        .values({ id: newBlockId(), scope, value, reason: 'low_conversion_spike', ...counts })
        .onConflict((oc) => oc.doNothing())
        .execute();
      return { reason: 'fraud_suspected', scope, value };
    }
  }

  const velocity: Array<
    [
      'number' | 'prefix' | 'account',
      VelocityLimit,
      'to_number' | 'number_prefix' | 'account_id',
      string,
      Date | null,
    ]
  > = [
    ['number', NUMBER_LIMIT, 'to_number', row.to_number, null],
    ['prefix', PREFIX_LIMIT, 'number_prefix', prefix, prefixLift],
    ['account', ACCOUNT_LIMIT, 'account_id', row.account_id, null],
  ];
  for (const [scope, limit, column, value, since] of velocity) {
    const recent = await trx
      .selectFrom('verifications')
      .select([sql<string>`count(*)`.as('n'), sql<Date | null>`min(created_at)`.as('oldest')])
      .where(column, '=', value)
      .where('created_at', '>', windowStart(limit.windowMs, since))
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= limit.max) {
      const oldest = recent.oldest ? new Date(recent.oldest).getTime() : Date.now();
      return {
        reason: 'rate_limited',
        scope,
        retryAfterMs: Math.max(1_000, oldest + limit.windowMs - Date.now()),
      };
    }
  }
  return undefined;
}

/** `now() - windowMs`, or the scope's last lift when that is later (a lift starts the count afresh). */
function windowStart(windowMs: number, since: Date | null) {
  const start = sql<Date>`now() - make_interval(secs => ${windowMs / 1000})`;
  return since ? sql<Date>`greatest(${start}, ${since})` : start;
}

async function lastLift(trx: Transaction<Database>, scope: BlockScope, value: string): Promise<Date | null> {
  const row = await trx
    .selectFrom('fraud_blocks')
    .select(sql<Date | null>`max(lifted_at)`.as('at'))
    .where('scope', '=', scope)
    .where('value', '=', value)
    .executeTakeFirst();
  return row?.at ? new Date(row.at) : null;
}

/** Requests (this one included) in the spike window, and verifications / approvals in the conversion window. */
async function spikeCounts(
  trx: Transaction<Database>,
  scope: BlockScope,
  value: string,
  rule: AutoBlockRule,
  since: Date | null,
): Promise<{ attempts: number; verifications: number; approved: number }> {
  const column = scope === 'prefix' ? 'number_prefix' : 'country';
  const attempts = await trx
    .selectFrom('verification_attempts')
    .select(sql<string>`count(*)`.as('n'))
    .where(column, '=', value)
    .where('created_at', '>', windowStart(rule.spikeWindowMs, since))
    .executeTakeFirstOrThrow();
  const made = await trx
    .selectFrom('verifications')
    .select([
      sql<string>`count(*)`.as('n'),
      sql<string>`count(*) filter (where status = 'approved')`.as('approved'),
    ])
    .where(column, '=', value)
    .where('created_at', '>', windowStart(rule.conversionWindowMs, since))
    .executeTakeFirstOrThrow();
  return { attempts: Number(attempts.n) + 1, verifications: Number(made.n), approved: Number(made.approved) };
}

/** Active blocks (lifted ones too when `includeLifted`), newest first. */
export async function listFraudBlocks(db: Kysely<Database>, includeLifted = false): Promise<FraudBlock[]> {
  let query = db.selectFrom('fraud_blocks').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
  if (!includeLifted) query = query.where('lifted_at', 'is', null);
  return query.execute();
}

/** Lifts an active block; answers it, or undefined when there is no active block with that id. */
export async function liftFraudBlock(db: Kysely<Database>, id: string): Promise<FraudBlock | undefined> {
  return db
    .updateTable('fraud_blocks')
    .set({ lifted_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('lifted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}
