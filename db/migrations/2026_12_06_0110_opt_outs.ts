import { type Kysely, sql } from 'kysely';

/**
 * Opt-outs (DESIGN §11): numbers an account may not send to, because their owner said STOP (or the
 * account recorded it). One row per account and number; a send to it is refused before anything
 * is stored or charged.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('opt_outs')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('api', 'keyword')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('opt_outs_pk', ['account_id', 'number'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('opt_outs').execute();
}
