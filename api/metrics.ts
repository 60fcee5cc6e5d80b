/**
 * The API's `/metrics` (Prometheus text, prom-client): Herald's business metrics read from the
 * database at scrape time with a few aggregate queries, plus the process's own metrics.
 *
 * Read from the database, they describe the whole deployment, not this process: every API
 * instance reports the same values, so aggregate across instances with `max`, not `sum`. Counters
 * come from rows that are only ever added (attempts, ledger entries, callback attempts), so they
 * are monotonic as Prometheus expects, and exact across restarts.
 */

import type { Kysely } from 'kysely';
import { type RawBuilder, sql } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { listAllRoutes } from '../db/route-stats.ts';
import type { Database } from '../db/schema.ts';
import { type CircuitState, circuitState } from '../domain/circuit.ts';

/** Submit latency buckets (seconds): carrier HTTP round trips. */
export const SUBMIT_BUCKETS_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;
/** Receipt latency buckets (seconds): submit accepted → first receipt, up to the 4 h default validity. */
export const RECEIPT_BUCKETS_SECONDS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400] as const;

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open'];

export interface ApiMetricsOptions {
  /** The breaker's cool-down as the workers use it (open → half_open). Default domain/circuit.ts's. */
  readonly coolDownMs?: number;
  /** Also export Node's process metrics (CPU, memory, event loop lag), prefixed `herald_api_`. Default true. */
  readonly processMetrics?: boolean;
}

/** A registry of its own per app instance, so several apps in one process never collide. */
export function createApiMetrics(db: Kysely<Database>, opts: ApiMetricsOptions = {}): Registry {
  const registry = new Registry();
  const breaker = opts.coolDownMs === undefined ? {} : { coolDownMs: opts.coolDownMs };
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'herald_api_' });

  new Gauge({
    name: 'herald_messages',
    help: 'Messages by current status and carrier ("none" before a carrier is chosen)',
    labelNames: ['status', 'carrier'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('messages')
        .select(['status', 'carrier_id', sql<number>`count(*)`.as('n')])
        .groupBy(['status', 'carrier_id'])
        .execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status, carrier: r.carrier_id ?? 'none' }, Number(r.n));
    },
  });

  new Gauge({
    name: 'herald_verifications',
    help: 'Verifications by current status and destination country',
    labelNames: ['status', 'country'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('verifications')
        .select(['status', 'country', sql<number>`count(*)`.as('n')])
        .groupBy(['status', 'country'])
        .execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status, country: r.country }, Number(r.n));
    },
  });

  new Gauge({
    name: 'herald_verification_conversion_ratio',
    help: 'Share of decided verifications that were approved, by destination country (pumping drives it down)',
    labelNames: ['country'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('verifications')
        .select([
          'country',
          sql<number>`count(*)`.as('decided'),
          sql<number>`count(*) filter (where status = 'approved')`.as('approved'),
        ])
        .where('status', '<>', 'pending')
        .groupBy('country')
        .execute();
      this.reset();
      for (const r of rows)
        this.set({ country: r.country }, Number(r.approved) / Math.max(1, Number(r.decided)));
    },
  });

  new Counter({
    name: 'herald_verification_requests_total',
    help: 'Verification requests by what the fraud guard answered (created, geo_blocked, rate_limited, fraud_suspected)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('verification_attempts')
        .select(['outcome', sql<number>`count(*)`.as('n')])
        .groupBy('outcome')
        .execute();
      this.reset();
      for (const r of rows) this.inc({ outcome: r.outcome }, Number(r.n));
    },
  });

  new Gauge({
    name: 'herald_fraud_blocks',
    help: 'Active fraud blocks by scope (prefix, country) and reason',
    labelNames: ['scope', 'reason'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('fraud_blocks')
        .select(['scope', 'reason', sql<number>`count(*)`.as('n')])
        .where('lifted_at', 'is', null)
        .groupBy(['scope', 'reason'])
        .execute();
      this.reset();
      for (const r of rows) this.set({ scope: r.scope, reason: r.reason }, Number(r.n));
    },
  });

  new Counter({
    name: 'herald_failovers_total',
    help: 'Times a message moved on from one carrier to another',
    labelNames: ['from', 'to'],
    registers: [registry],
    async collect() {
      const { rows } = await sql<{ from_carrier: string; to_carrier: string; n: unknown }>`
        select from_carrier, to_carrier, count(*) as n
        from (select carrier_id as to_carrier,
                     lag(carrier_id) over (partition by message_id order by attempt) as from_carrier
              from message_attempts) t
        where from_carrier is not null and from_carrier <> to_carrier
        group by from_carrier, to_carrier`.execute(db);
      this.reset();
      for (const r of rows) this.inc({ from: r.from_carrier, to: r.to_carrier }, Number(r.n));
    },
  });

  new Gauge({
    name: 'herald_route_circuit_state',
    help: 'Circuit breaker state of each route: 1 on the current state (closed, open, half_open), 0 on the others',
    labelNames: ['carrier', 'country', 'state'],
    registers: [registry],
    async collect() {
      const routes = await listAllRoutes(db);
      const now = Date.now();
      this.reset();
      for (const r of routes) {
        const current = circuitState(r.circuit, now, breaker);
        for (const state of CIRCUIT_STATES) {
          this.set({ carrier: r.carrierId, country: r.country, state }, state === current ? 1 : 0);
        }
      }
    },
  });

  new Gauge({
    name: 'herald_route_consecutive_failures',
    help: 'Consecutive failed submits of each route (the breaker opens at its threshold)',
    labelNames: ['carrier', 'country'],
    registers: [registry],
    async collect() {
      const routes = await listAllRoutes(db);
      this.reset();
      for (const r of routes) {
        this.set({ carrier: r.carrierId, country: r.country }, r.circuit.consecutiveFailures);
      }
    },
  });

  new Counter({
    name: 'herald_ledger_micros_total',
    help: 'Sum of ledger entries by kind (credit, reserve, capture, release, refund), in micro-units',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('ledger_entries')
        .select(['kind', sql<string>`sum(amount_micros)`.as('total')])
        .groupBy('kind')
        .execute();
      this.reset();
      for (const r of rows) this.inc({ kind: r.kind }, Number(r.total));
    },
  });

  new Gauge({
    name: 'herald_balance_micros',
    help: 'Sum over accounts of the available and the reserved balance, in micro-units',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom('accounts')
        .select([
          sql<string>`coalesce(sum(available_micros), 0)`.as('available'),
          sql<string>`coalesce(sum(reserved_micros), 0)`.as('reserved'),
        ])
        .executeTakeFirstOrThrow();
      this.set({ state: 'available' }, Number(row.available));
      this.set({ state: 'reserved' }, Number(row.reserved));
    },
  });

  new Counter({
    name: 'herald_callback_attempts_total',
    help: 'Status callback attempts by outcome; failures are failed, refused (SSRF) and abandoned',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('callback_attempts')
        .select(['outcome', sql<number>`count(*)`.as('n')])
        .groupBy('outcome')
        .execute();
      this.reset();
      for (const r of rows) this.inc({ outcome: r.outcome }, Number(r.n));
    },
  });

  new Counter({
    name: 'herald_inbound_messages_total',
    help: 'Inbound messages stored, by carrier and keyword ("none": ordinary text; unowned numbers included)',
    labelNames: ['carrier', 'keyword'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('inbound_messages')
        .select(['carrier_id', 'keyword', sql<number>`count(*)`.as('n')])
        .groupBy(['carrier_id', 'keyword'])
        .execute();
      this.reset();
      for (const r of rows) this.inc({ carrier: r.carrier_id, keyword: r.keyword ?? 'none' }, Number(r.n));
    },
  });

  new Gauge({
    name: 'herald_inbound_forwards',
    help: 'Inbound messages of owned numbers by forwarding outcome ("pending" while it is retried; "none": no inboundUrl)',
    labelNames: ['outcome'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('inbound_messages')
        .select(['forward_outcome', sql<number>`count(*)`.as('n')])
        .where('account_id', 'is not', null)
        .groupBy('forward_outcome')
        .execute();
      this.reset();
      for (const r of rows) this.set({ outcome: r.forward_outcome ?? 'pending' }, Number(r.n));
    },
  });

  new Gauge({
    name: 'herald_opt_outs',
    help: 'Opted-out numbers over all accounts, by source (api, keyword)',
    labelNames: ['source'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('opt_outs')
        .select(['source', sql<number>`count(*)`.as('n')])
        .groupBy('source')
        .execute();
      this.reset();
      for (const r of rows) this.set({ source: r.source }, Number(r.n));
    },
  });

  registry.registerMetric(
    dbHistogram({
      name: 'herald_submit_duration_seconds',
      help: 'Carrier submit round trip of finished attempts, by carrier and outcome',
      labels: ['carrier', 'outcome'],
      buckets: SUBMIT_BUCKETS_SECONDS,
      db,
      source: sql`select carrier_id as carrier, outcome,
                         extract(epoch from (finished_at - started_at))::float8 as s
                  from message_attempts where finished_at is not null and outcome is not null`,
    }),
  );
  registry.registerMetric(
    dbHistogram({
      name: 'herald_receipt_latency_seconds',
      help: 'Accepted submit to first delivery receipt, by carrier',
      labels: ['carrier'],
      buckets: RECEIPT_BUCKETS_SECONDS,
      db,
      // An early receipt (before the submit returned) counts as 0.
      source: sql`select a.carrier_id as carrier,
                         greatest(0, extract(epoch from (r.first_at - a.finished_at)))::float8 as s
                  from (select message_id, min(received_at) as first_at from receipts
                        where message_id is not null group by message_id) r
                  join message_attempts a on a.message_id = r.message_id
                   and a.outcome = 'accepted' and a.finished_at is not null`,
    }),
  );
  return registry;
}

interface DbHistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labels: readonly L[];
  readonly buckets: readonly number[];
  readonly db: Kysely<Database>;
  /** A query yielding one row per observation: the label columns and `s`, the value. */
  readonly source: RawBuilder<unknown>;
}

/**
 * A histogram whose buckets are counted by the database at scrape time (one `count(*) filter`
 * per bucket), exposed through prom-client's registry. prom-client's own Histogram can only be
 * fed single observations, hence this small collector of the same shape.
 */
function dbHistogram<L extends string>(opts: DbHistogramOptions<L>): Metric {
  const labelCols = sql.join(opts.labels.map((l) => sql.ref(l)));
  const bucketCols = sql.join(
    opts.buckets.map((b, i) => sql`count(*) filter (where s <= ${b}::float8) as ${sql.ref(`b${i}`)}`),
  );
  const query = sql<Record<string, unknown>>`
    select ${labelCols}, ${bucketCols}, count(*) as n, coalesce(sum(s), 0) as total
    from (${opts.source}) t group by ${labelCols}`;
  const metric = {
    name: opts.name,
    help: opts.help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const { rows } = await query.execute(opts.db);
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> =
        [];
      for (const row of rows) {
        const labels: Record<string, string> = {};
        for (const l of opts.labels) labels[l] = String(row[l] ?? 'none');
        opts.buckets.forEach((b, i) => {
          values.push({
            metricName: `${opts.name}_bucket`,
            labels: { ...labels, le: b },
            value: Number(row[`b${i}`]),
          });
        });
        values.push({
          metricName: `${opts.name}_bucket`,
          labels: { ...labels, le: '+Inf' },
          value: Number(row.n),
        });
        values.push({ metricName: `${opts.name}_sum`, labels, value: Number(row.total) });
        values.push({ metricName: `${opts.name}_count`, labels, value: Number(row.n) });
      }
      return { name: opts.name, help: opts.help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
  // The registry only calls name, get() and reset(); the cast names the structural match.
  return metric as unknown as Metric;
}
