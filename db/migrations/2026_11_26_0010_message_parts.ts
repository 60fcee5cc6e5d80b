import type { Kysely } from 'kysely';

/**
 * Every part id of a multi-part message as the carrier numbered it (SMPP: one `submit_sm`, one
 * id and one receipt per segment), so a receipt that names only a part is matched to its message.
 * Ids are stored normalized (adapters/smpp-ids.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('message_parts')
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('carrier_id', 'text', (c) => c.notNull())
    // 1-based position of the part in the message.
    .addColumn('part', 'integer', (c) => c.notNull())
    .addColumn('carrier_message_id', 'text', (c) => c.notNull())
    .addUniqueConstraint('message_parts_carrier_message_uq', ['carrier_id', 'carrier_message_id'])
    .execute();
  await db.schema.createIndex('message_parts_message_idx').on('message_parts').column('message_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('message_parts').ifExists().execute();
}
