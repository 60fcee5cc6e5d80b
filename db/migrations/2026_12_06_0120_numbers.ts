import { type Kysely, sql } from 'kysely';

/**
 * Sender numbers and alphanumeric sender ids assigned to accounts by an admin (DESIGN §11): an
 * account sends `from` one of its own or the default sender, and inbound messages to a number
 * route to its account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('numbers')
    .addColumn('sender', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('number', 'alphanumeric')`))
    .addColumn('carrier_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('numbers_account_idx')
    .on('numbers')
    .columns(['account_id', 'sender'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('numbers').execute();
}
