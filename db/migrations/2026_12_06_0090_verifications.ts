import { type Kysely, sql } from 'kysely';

/**
 * Verifications (DESIGN §10): one row per verification, written by its workflow as it decides
 * (the code is never stored). A verification's messages carry its id, so the stranded-message
 * reconciler leaves them to the verification workflow that owns them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('verifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'approved', 'expired', 'failed', 'canceled')`),
    )
    .addColumn('code_length', 'integer', (c) => c.notNull().check(sql`code_length between 4 and 10`))
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('app_name', 'text')
    .addColumn('template', 'text')
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('checks_left', 'integer', (c) => c.notNull().check(sql`checks_left >= 0`))
    .addColumn('sends', 'integer', (c) => c.notNull().defaultTo(0).check(sql`sends >= 0`))
    .addColumn('last_sent_at', 'timestamptz')
    .addColumn('message_id', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('verifications_account_created_idx')
    .on('verifications')
    .columns(['account_id', 'created_at', 'id'])
    .execute();
  await db.schema.alterTable('messages').addColumn('verification_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('verification_id').execute();
  await db.schema.dropTable('verifications').execute();
}
