/**
 * Live route stats and circuit state (DESIGN §6) in `route_stats`: read for ranking and the
 * operators' view, written in batches (workers/route-stats-buffer.ts) as ONE upsert per
 * (carrier, country), so a hot destination costs a statement per flush, not per message.
 */
import { type Kysely, sql } from 'kysely';
import type { Circuit } from '../domain/circuit.ts';
import type { Database } from './schema.ts';

/** A route the router may pick: price, live stats, circuit and the carrier's failover codes. */
export interface RouteRow {
  carrierId: string;
  kind: string;
  country: string;
  /** Per segment. */
  priceMicros: bigint;
  /** The carrier's adapter config (for `failoverReceiptCodes`). */
  config: Record<string, unknown>;
  acceptanceEwma: number;
  deliveryEwma: number;
  submitLatencyMs: number;
  receiptLatencyMs: number;
  attempts: number;
  receipts: number;
  circuit: Circuit;
  updatedAt: Date | null;
}

interface RawRouteRow {
  carrierId: string;
  kind: string;
  country: string;
  priceMicros: bigint;
  config: Record<string, unknown>;
  acceptanceEwma: number | null;
  deliveryEwma: number | null;
  submitLatencyMs: number | null;
  receiptLatencyMs: number | null;
  attempts: number | null;
  receipts: number | null;
  consecutiveFailures: number | null;
  circuitState: 'closed' | 'open' | null;
  openedAt: Date | null;
  probeStartedAt: Date | null;
  updatedAt: Date | null;
}

function toRouteRow(r: RawRouteRow): RouteRow {
  return {
    carrierId: r.carrierId,
    kind: r.kind,
    country: r.country,
    priceMicros: r.priceMicros,
    config: r.config,
    acceptanceEwma: r.acceptanceEwma ?? 1,
    deliveryEwma: r.deliveryEwma ?? 1,
    submitLatencyMs: r.submitLatencyMs ?? 0,
    receiptLatencyMs: r.receiptLatencyMs ?? 0,
    attempts: r.attempts ?? 0,
    receipts: r.receipts ?? 0,
    circuit: {
      state: r.circuitState ?? 'closed',
      consecutiveFailures: r.consecutiveFailures ?? 0,
      openedAt: r.openedAt ? r.openedAt.getTime() : null,
      probeStartedAt: r.probeStartedAt ? r.probeStartedAt.getTime() : null,
    },
    updatedAt: r.updatedAt,
  };
}

/**
 * Enabled carriers (`c`) joined with their enabled prices (`p`) and, where a route has been
 * tried, its stats (`s`): the routes the router may pick, for every query that lists them.
 */
export function enabledRoutesFrom(db: Kysely<Database>) {
  return db
    .selectFrom('carriers as c')
    .innerJoin('carrier_prices as p', 'p.carrier_id', 'c.id')
    .leftJoin('route_stats as s', (join) =>
      join.onRef('s.carrier_id', '=', 'c.id').onRef('s.country', '=', 'p.country'),
    )
    .where('c.enabled', '=', true)
    .where('p.enabled', '=', true);
}

function routesQuery(db: Kysely<Database>) {
  return enabledRoutesFrom(db).select([
    'c.id as carrierId',
    'c.kind as kind',
    'p.country as country',
    'p.price_micros as priceMicros',
    'c.config as config',
    's.success_ewma as acceptanceEwma',
    's.delivery_ewma as deliveryEwma',
    's.submit_latency_ms as submitLatencyMs',
    's.receipt_latency_ms as receiptLatencyMs',
    's.attempts as attempts',
    's.receipts as receipts',
    's.consecutive_failures as consecutiveFailures',
    's.circuit_state as circuitState',
    's.opened_at as openedAt',
    's.probe_started_at as probeStartedAt',
    's.updated_at as updatedAt',
  ]);
}

/** Enabled carriers with an enabled price for `country`, with their stats (defaults when never tried). */
export async function listRoutes(db: Kysely<Database>, country: string): Promise<RouteRow[]> {
  const rows = await routesQuery(db).where('p.country', '=', country).orderBy('c.id').execute();
  return rows.map((r) => toRouteRow(r as RawRouteRow));
}

/** Every enabled route, by carrier then country (the operators' view). */
export async function listAllRoutes(db: Kysely<Database>): Promise<RouteRow[]> {
  const rows = await routesQuery(db).orderBy('c.id').orderBy('p.country').execute();
  return rows.map((r) => toRouteRow(r as RawRouteRow));
}

/**
 * Claims the half-open probe of a route: succeeds for exactly one caller per cool-down (an
 * atomic conditional UPDATE), and only when the circuit is open, cooled down, and no probe is
 * out (or the one out is older than a cool-down). True when this caller holds the probe.
 */
export async function claimProbe(
  db: Kysely<Database>,
  input: { carrierId: string; country: string; coolDownMs: number },
): Promise<boolean> {
  const coolDown = sql`make_interval(secs => ${input.coolDownMs / 1000}::float8)`;
  const claimed = await db
    .updateTable('route_stats')
    .set({ probe_started_at: sql`now()` })
    .where('carrier_id', '=', input.carrierId)
    .where('country', '=', input.country)
    .where('circuit_state', '=', 'open')
    .where(sql<boolean>`opened_at <= now() - ${coolDown}`)
    .where(sql<boolean>`(probe_started_at is null or probe_started_at <= now() - ${coolDown})`)
    .executeTakeFirst();
  return claimed.numUpdatedRows === 1n;
}

/** Everything one worker observed on one route since its last flush, folded (see foldEwma). */
export interface RouteStatsBatch {
  carrierId: string;
  country: string;
  /** Submit outcomes (acceptance) in the batch; 0 leaves acceptance and the circuit alone. */
  outcomes: number;
  /** Acceptance EWMA as an affine map: new = old · decay + add. */
  acceptance: { decay: number; add: number };
  /** Whether any outcome succeeded, and the failures after the last success (all, if none). */
  hadSuccess: boolean;
  trailingFailures: number;
  submitLatency: { decay: number; add: number };
  /** Final receipts in the batch. */
  receipts: number;
  delivery: { decay: number; add: number };
  receiptLatency: { decay: number; add: number };
}

/** Breaker settings the flush applies. */
export interface CircuitSettings {
  failureThreshold: number;
  coolDownMs: number;
}

/**
 * Applies a batch as ONE upsert and returns the route's circuit after it. The circuit rules are
 * domain/circuit.ts's, written as SQL over the stored row (all failures of a batch share the
 * database's `now()`): a success closes (then the trailing failures count afresh); failures on
 * a closed circuit open it at the threshold; a failure on an open, cooled-down circuit (the
 * probe) re-opens it with a fresh cool-down; inside the cool-down failures only count.
 * Latency EWMAs start from the first sample rather than from 0. A success on an open circuit (a
 * probe) restarts the acceptance EWMA from 1, so a recovered route competes on its merits.
 */
export async function applyRouteStatsBatch(
  db: Kysely<Database>,
  b: RouteStatsBatch,
  circuit: CircuitSettings,
): Promise<Circuit> {
  const th = circuit.failureThreshold;
  const coolDown = sql`make_interval(secs => ${circuit.coolDownMs / 1000}::float8)`;
  const hs = sql`${b.hadSuccess}::boolean`;
  const tr = sql`${b.trailingFailures}::int`;
  const n = sql`${b.outcomes}::int`;
  const rs = sql.table('route_stats');
  // The stored row's values, as the upsert's SET expressions see them.
  const old = (col: string) => sql`${rs}.${sql.ref(col)}`;
  const affine = (col: string, f: { decay: number; add: number }) =>
    sql<number>`least(1, greatest(0, ${old(col)} * ${f.decay}::float8 + ${f.add}::float8))`;
  // A latency EWMA of 0 means "no sample yet": the batch's own mean is the start.
  const latency = (col: string, f: { decay: number; add: number }, samples: number) =>
    samples === 0
      ? sql<number>`${old(col)}`
      : sql<number>`case when ${old(col)} = 0 then ${f.add / (1 - f.decay || 1)}::float8
          else ${old(col)} * ${f.decay}::float8 + ${f.add}::float8 end`;
  const newFailures = sql`case when ${hs} then ${tr} else ${old('consecutive_failures')} + ${tr} end`;
  const halfOpen = sql`${old('opened_at')} <= now() - ${coolDown}`;
  const firstState = b.trailingFailures >= th ? 'open' : 'closed';
  const fresh = {
    carrier_id: b.carrierId,
    country: b.country,
    success_ewma: Math.min(1, Math.max(0, b.acceptance.decay + b.acceptance.add)),
    attempts: b.outcomes,
    consecutive_failures: b.trailingFailures,
    delivery_ewma: Math.min(1, Math.max(0, b.delivery.decay + b.delivery.add)),
    receipts: b.receipts,
    submit_latency_ms: b.outcomes === 0 ? 0 : b.submitLatency.add / (1 - b.submitLatency.decay || 1),
    receipt_latency_ms: b.receipts === 0 ? 0 : b.receiptLatency.add / (1 - b.receiptLatency.decay || 1),
    circuit_state: firstState,
    opened_at: firstState === 'open' ? sql<Date>`now()` : null,
  } as const;
  const row = await db
    .insertInto('route_stats')
    .values(fresh)
    .onConflict((oc) =>
      oc.columns(['carrier_id', 'country']).doUpdateSet({
        // A route back from an outage (a success on an open circuit) restarts its acceptance from
        // the prior: the breaker dealt with the outage; the score judges the route in service.
        success_ewma: sql<number>`case when ${hs} and ${old('circuit_state')} = 'open'
          then ${fresh.success_ewma}::float8 else ${affine('success_ewma', b.acceptance)} end`,
        attempts: sql<number>`${old('attempts')} + ${n}`,
        consecutive_failures: sql<number>`${newFailures}`,
        delivery_ewma: affine('delivery_ewma', b.delivery),
        receipts: sql<number>`${old('receipts')} + ${b.receipts}::int`,
        submit_latency_ms: latency('submit_latency_ms', b.submitLatency, b.outcomes),
        receipt_latency_ms: latency('receipt_latency_ms', b.receiptLatency, b.receipts),
        circuit_state: sql<'closed' | 'open'>`case
          when ${hs} then (case when ${tr} >= ${th}::int then 'open' else 'closed' end)
          when ${tr} = 0 then ${old('circuit_state')}
          when ${old('circuit_state')} = 'closed'
            then (case when ${old('consecutive_failures')} + ${tr} >= ${th}::int then 'open' else 'closed' end)
          else 'open' end`,
        opened_at: sql<Date | null>`case
          when ${hs} then (case when ${tr} >= ${th}::int then now() else null end)
          when ${tr} = 0 then ${old('opened_at')}
          when ${old('circuit_state')} = 'closed'
            then (case when ${old('consecutive_failures')} + ${tr} >= ${th}::int then now() else null end)
          when ${halfOpen} then now()
          else ${old('opened_at')} end`,
        probe_started_at: sql<Date | null>`case
          when ${hs} then null
          when ${tr} = 0 then ${old('probe_started_at')}
          when ${old('circuit_state')} = 'closed' then null
          when ${halfOpen} then null
          else ${old('probe_started_at')} end`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .returning(['circuit_state', 'consecutive_failures', 'opened_at', 'probe_started_at'])
    .executeTakeFirstOrThrow();
  return {
    state: row.circuit_state,
    consecutiveFailures: row.consecutive_failures,
    openedAt: row.opened_at ? row.opened_at.getTime() : null,
    probeStartedAt: row.probe_started_at ? row.probe_started_at.getTime() : null,
  };
}
