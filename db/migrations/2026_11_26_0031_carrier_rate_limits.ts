import type { Kysely } from 'kysely';

/**
 * Per-carrier segment pacing shared by every worker (db/rate-limit.ts): the time, in epoch ms on
 * the database's clock, from which the carrier's next segment may go.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('carrier_rate_limits')
    .addColumn('carrier_id', 'text', (c) => c.primaryKey().references('carriers.id').onDelete('cascade'))
    .addColumn('next_free_ms', 'double precision', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('carrier_rate_limits').ifExists().execute();
}
