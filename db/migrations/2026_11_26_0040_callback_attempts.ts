import { type Kysely, sql } from 'kysely';

/**
 * Signed status callbacks: every delivery attempt (and the final verdict on an event that was
 * given up) in `callback_attempts`, and the previous webhook secret of an account that rotated
 * its secret, still used for signing until its grace period ends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('callback_attempts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    // The message status the event reports.
    .addColumn('status', 'text', (c) => c.notNull())
    // Temporal's attempt number of the delivery activity; null on a verdict row (given up).
    .addColumn('attempt', 'integer')
    .addColumn('outcome', 'text', (c) =>
      c.notNull().check(sql`outcome in ('delivered', 'failed', 'gone', 'refused', 'abandoned')`),
    )
    .addColumn('http_status', 'integer')
    .addColumn('error', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('callback_attempts_message_idx')
    .on('callback_attempts')
    .columns(['message_id', 'id'])
    .execute();
  await db.schema
    .createIndex('callback_attempts_event_idx')
    .on('callback_attempts')
    .column('event_id')
    .execute();

  await db.schema.alterTable('accounts').addColumn('previous_webhook_secret', 'text').execute();
  await db.schema
    .alterTable('accounts')
    .addColumn('previous_webhook_secret_expires_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('previous_webhook_secret_expires_at').execute();
  await db.schema.alterTable('accounts').dropColumn('previous_webhook_secret').execute();
  await db.schema.dropTable('callback_attempts').ifExists().execute();
}
