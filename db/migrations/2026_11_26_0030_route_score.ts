import { type Kysely, sql } from 'kysely';

/**
 * Live route score (DESIGN §6): delivery rate and latencies next to the acceptance EWMA
 * (`success_ewma`), and the circuit breaker's state. Half-open is derived (open + cooled down);
 * `probe_started_at` marks the single probe handed out while half-open.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('route_stats')
    .addColumn('delivery_ewma', 'double precision', (c) =>
      c.notNull().defaultTo(1).check(sql`delivery_ewma >= 0 and delivery_ewma <= 1`),
    )
    .addColumn('receipts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('submit_latency_ms', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('receipt_latency_ms', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('circuit_state', 'text', (c) =>
      c.notNull().defaultTo('closed').check(sql`circuit_state in ('closed', 'open')`),
    )
    .addColumn('opened_at', 'timestamptz')
    .addColumn('probe_started_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('route_stats')
    .dropColumn('probe_started_at')
    .dropColumn('opened_at')
    .dropColumn('circuit_state')
    .dropColumn('receipt_latency_ms')
    .dropColumn('submit_latency_ms')
    .dropColumn('receipts')
    .dropColumn('delivery_ewma')
    .execute();
}
