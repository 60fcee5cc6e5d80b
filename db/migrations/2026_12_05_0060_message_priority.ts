import { type Kysely, sql } from 'kysely';

/**
 * A message's lane (domain/priority.ts): `normal` for every row stored before lanes existed.
 * Listing by lane uses the account's created_at index and filters; the column is low-cardinality.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('messages')
    .addColumn('priority', 'text', (c) =>
      c.notNull().defaultTo('normal').check(sql`priority in ('high', 'normal', 'low')`),
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('priority').execute();
}
