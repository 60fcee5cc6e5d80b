import { type Kysely, sql } from 'kysely';

/**
 * The stranded-message reconciler's index: `accepted` rows by age. Partial, so it holds only the
 * messages whose workflow has not yet moved them on (a handful), not the whole history.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('messages_accepted_created_idx')
    .on('messages')
    .columns(['created_at', 'id'])
    .where(sql.ref('status'), '=', 'accepted')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_accepted_created_idx').ifExists().execute();
}
