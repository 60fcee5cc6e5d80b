import { type Kysely, sql } from 'kysely';
import { enabledRoutesFrom } from './route-stats.ts';
import type { Carrier, CarrierPrice, Database } from './schema.ts';

/** Input of {@link upsertCarrier}. */
export interface UpsertCarrierInput {
  id: string;
  /** Adapter kind: 'twilio', 'vonage', 'smpp', … */
  kind: string;
  /** Adapter configuration, validated by the adapter's own zod schema when used. */
  config: Record<string, unknown>;
  /** Submits per second (> 0). */
  tps: number;
  enabled: boolean;
}

/** Creates or replaces a carrier (kind, config, tps, enabled). */
export async function upsertCarrier(db: Kysely<Database>, input: UpsertCarrierInput): Promise<Carrier> {
  const values = {
    kind: input.kind,
    config: JSON.stringify(input.config),
    tps: input.tps,
    enabled: input.enabled,
  };
  return db
    .insertInto('carriers')
    .values({ id: input.id, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function getCarrier(db: Kysely<Database>, id: string): Promise<Carrier | undefined> {
  return db.selectFrom('carriers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Carriers by id; `enabledOnly` (default false) leaves out disabled ones. */
export async function listCarriers(
  db: Kysely<Database>,
  opts: { enabledOnly?: boolean } = {},
): Promise<Carrier[]> {
  let query = db.selectFrom('carriers').selectAll().orderBy('id');
  if (opts.enabledOnly) query = query.where('enabled', '=', true);
  return query.execute();
}

/** Input of {@link upsertPrice}. */
export interface UpsertPriceInput {
  carrierId: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** Per segment, micro-units, >= 0. */
  priceMicros: bigint;
  /** Default true. */
  enabled?: boolean;
}

/** Creates or replaces the price of a (carrier, country) route. */
export async function upsertPrice(db: Kysely<Database>, input: UpsertPriceInput): Promise<CarrierPrice> {
  const values = { price_micros: input.priceMicros, enabled: input.enabled ?? true, updated_at: new Date() };
  return db
    .insertInto('carrier_prices')
    .values({ carrier_id: input.carrierId, country: input.country, ...values })
    .onConflict((oc) => oc.columns(['carrier_id', 'country']).doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Filters of {@link listPrices}; each one given narrows the list. */
export interface ListPricesFilter {
  carrierId?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
}

/** Every price (enabled or not) matching `filter` (default: all), by carrier then country. */
export async function listPrices(
  db: Kysely<Database>,
  filter: ListPricesFilter = {},
): Promise<CarrierPrice[]> {
  let query = db.selectFrom('carrier_prices').selectAll().orderBy('carrier_id').orderBy('country');
  if (filter.carrierId !== undefined) query = query.where('carrier_id', '=', filter.carrierId);
  if (filter.country !== undefined) query = query.where('country', '=', filter.country);
  return query.execute();
}

/**
 * Enables or disables a route's price without changing the amount; a disabled price takes the
 * route out of ranking and out of the worst-case reservation.
 * @returns the updated row, or `undefined` when the route has no price.
 */
export async function setPriceEnabled(
  db: Kysely<Database>,
  input: { carrierId: string; country: string; enabled: boolean },
): Promise<CarrierPrice | undefined> {
  return db
    .updateTable('carrier_prices')
    .set({ enabled: input.enabled, updated_at: new Date() })
    .where('carrier_id', '=', input.carrierId)
    .where('country', '=', input.country)
    .returningAll()
    .executeTakeFirst();
}

/** A route the router may pick, with its live stats (defaults for a route never tried). */
export interface RouteCandidate {
  carrierId: string;
  kind: string;
  /** Per segment. */
  priceMicros: bigint;
  /** EWMA of acceptance in [0, 1]; 1 for a route never tried. */
  successEwma: number;
  attempts: number;
  consecutiveFailures: number;
  /** Last outcome recorded (circuit-breaker cool-down); null for a route never tried. */
  updatedAt: Date | null;
}

/** Enabled carriers with an enabled price for `country`, cheapest first (then by id). */
export async function listRouteCandidates(db: Kysely<Database>, country: string): Promise<RouteCandidate[]> {
  return enabledRoutesFrom(db)
    .select([
      'c.id as carrierId',
      'c.kind as kind',
      'p.price_micros as priceMicros',
      sql<number>`coalesce(s.success_ewma, 1)`.as('successEwma'),
      sql<number>`coalesce(s.attempts, 0)`.as('attempts'),
      sql<number>`coalesce(s.consecutive_failures, 0)`.as('consecutiveFailures'),
      's.updated_at as updatedAt',
    ])
    .where('p.country', '=', country)
    .orderBy('p.price_micros')
    .orderBy('c.id')
    .execute();
}

/** Input of {@link recordRouteOutcome}. */
export interface RouteOutcomeInput {
  carrierId: string;
  country: string;
  success: boolean;
  /** EWMA weight of this outcome, in (0, 1]. Default 0.2. */
  alpha?: number;
}

/**
 * Folds one outcome into the route's stats: `ewma = (1 − α)·ewma + α·(success ? 1 : 0)` from a
 * prior of 1, attempts + 1, consecutive failures reset on success. One upsert statement computes
 * from the stored row, so concurrent updates serialize on it and none is lost.
 */
export async function recordRouteOutcome(db: Kysely<Database>, input: RouteOutcomeInput): Promise<void> {
  const alpha = input.alpha ?? 0.2;
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError('alpha must be in (0, 1]');
  const hit = input.success ? 1 : 0;
  await db
    .insertInto('route_stats')
    .values({
      carrier_id: input.carrierId,
      country: input.country,
      success_ewma: 1 - alpha + alpha * hit,
      attempts: 1,
      consecutive_failures: input.success ? 0 : 1,
    })
    .onConflict((oc) =>
      oc.columns(['carrier_id', 'country']).doUpdateSet({
        success_ewma: sql<number>`least(1, greatest(0, route_stats.success_ewma * (1 - ${alpha}::float8) + ${alpha}::float8 * ${hit}::float8))`,
        attempts: sql<number>`route_stats.attempts + 1`,
        consecutive_failures: input.success ? 0 : sql<number>`route_stats.consecutive_failures + 1`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** What carriers reported billing on one route over a window. */
export interface RouteBilling {
  readonly carrierId: string;
  readonly country: string;
  /** Accepted attempts whose carrier reported a price. */
  readonly attempts: number;
  readonly segments: number;
  /** Sum of the reported prices, micro-units. */
  readonly billedMicros: bigint;
}

/**
 * Per route, what carriers said they billed for accepted attempts that finished in the last
 * `sinceMs` (default 7 days): the input of the billed-vs-configured drift `GET /v1/carriers` shows.
 */
export async function listRouteBilling(
  db: Kysely<Database>,
  sinceMs = 7 * 24 * 3600 * 1000,
): Promise<RouteBilling[]> {
  const rows = await db
    .selectFrom('message_attempts as a')
    .innerJoin('messages as m', 'm.id', 'a.message_id')
    .select([
      'a.carrier_id',
      'm.country',
      sql<string>`count(*)`.as('attempts'),
      sql<string>`sum(m.segments)`.as('segments'),
      sql<string>`sum(a.carrier_cost_micros)`.as('billed'),
    ])
    .where('a.outcome', '=', 'accepted')
    .where('a.carrier_cost_micros', 'is not', null)
    .where('a.finished_at', '>', sql<Date>`now() - make_interval(secs => ${sinceMs / 1000})`)
    .groupBy(['a.carrier_id', 'm.country'])
    .execute();
  return rows.map((r) => ({
    carrierId: r.carrier_id,
    country: r.country,
    attempts: Number(r.attempts),
    segments: Number(r.segments),
    billedMicros: BigInt(r.billed),
  }));
}
