import type { Kysely } from 'kysely';

/**
 * What the carrier said it billed for an accepted attempt (Twilio's `price`, Vonage's
 * `message-price`, a configured carrier's `pricePath`), in micro-units of the carrier account's
 * currency; null when the carrier does not say.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('message_attempts').addColumn('carrier_cost_micros', 'int8').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('message_attempts').dropColumn('carrier_cost_micros').execute();
}
