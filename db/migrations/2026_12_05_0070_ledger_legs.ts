import { type Kysely, sql } from 'kysely';

/**
 * Which leg of a message a money move belongs to, in a real column: 1 = the first submission, 2 =
 * a failover after a negative receipt (activities/failover.ts), which reserves and settles apart.
 * Before this, the second leg was booked under a synthetic message id `<id>:failover` that leaked
 * into `GET /v1/ledger`; those rows get their real message id and leg 2. Idempotency becomes
 * unique per (message, leg, kind).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('ledger_entries')
    .addColumn('leg', 'smallint', (c) => c.notNull().defaultTo(1).check(sql`leg in (1, 2)`))
    .execute();
  // The old index first: a renamed row would collide with its first leg's (message, kind).
  await db.schema.dropIndex('ledger_entries_message_kind_uq').execute();
  await sql`update ledger_entries
    set message_id = left(message_id, length(message_id) - length(':failover')), leg = 2
    where message_id like '%:failover'`.execute(db);
  await db.schema
    .createIndex('ledger_entries_message_leg_kind_uq')
    .on('ledger_entries')
    .columns(['message_id', 'leg', 'kind'])
    .unique()
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('ledger_entries_message_leg_kind_uq').execute();
  await sql`update ledger_entries set message_id = message_id || ':failover' where leg = 2`.execute(db);
  await db.schema
    .createIndex('ledger_entries_message_kind_uq')
    .on('ledger_entries')
    .columns(['message_id', 'kind'])
    .unique()
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
  await db.schema.alterTable('ledger_entries').dropColumn('leg').execute();
}
