import { type Kysely, sql } from 'kysely';

/**
 * Two-way SMS (DESIGN §11):
 * - `inbound_messages`: mobile-originated messages, one row per carrier message (unique on the
 *   carrier's id, so a carrier's redelivery is stored once), with the account that owns the
 *   number it was sent to (null: unassigned), the opt-out keyword it carried, and what became of
 *   its forwarding to the account's `inbound_url`.
 * - `inbound_parts`: parts of concatenated inbound messages, one row per carrier part id; a part
 *   waits (`inbound_id` null) until its message is whole, then names the message it became.
 * - account settings: where inbound messages and (by default) status callbacks go, the keyword
 *   replies, and the format inbound messages are forwarded in.
 * - `twilio_credentials`: an account's Twilio-style `AC…` alias and auth token (Twilio-compatible
 *   API); the token is kept, as Twilio keeps it, because status callbacks are signed with it.
 * - `messages.api_format`: which API created the message, so its callbacks take that API's shape.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inbound_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('carrier_id', 'text', (c) => c.notNull())
    .addColumn('carrier_message_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
    .addColumn('from_number', 'text', (c) => c.notNull())
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('parts', 'integer', (c) => c.notNull().check(sql`parts >= 1`))
    .addColumn('keyword', 'text', (c) => c.check(sql`keyword in ('stop', 'start', 'help')`))
    .addColumn('reply_message_id', 'text')
    .addColumn('forward_outcome', 'text', (c) =>
      c.check(sql`forward_outcome in ('delivered', 'refused', 'gone', 'abandoned', 'none')`),
    )
    .addColumn('forward_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('forwarded_at', 'timestamptz')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('inbound_messages_carrier_uq', ['carrier_id', 'carrier_message_id'])
    .execute();
  await db.schema
    .createIndex('inbound_messages_account_idx')
    .on('inbound_messages')
    .columns(['account_id', 'received_at', 'id'])
    .execute();
  await db.schema
    .createTable('inbound_parts')
    .addColumn('carrier_id', 'text', (c) => c.notNull())
    .addColumn('carrier_message_id', 'text', (c) => c.notNull())
    .addColumn('concat_key', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull().check(sql`seq >= 1`))
    .addColumn('total', 'integer', (c) => c.notNull().check(sql`total >= 2`))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('inbound_id', 'text')
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('inbound_parts_pk', ['carrier_id', 'carrier_message_id'])
    .execute();
  await db.schema
    .createIndex('inbound_parts_waiting_idx')
    .on('inbound_parts')
    .columns(['carrier_id', 'concat_key', 'received_at'])
    .where(sql.ref('inbound_id'), 'is', null)
    .execute();
  await db.schema
    .alterTable('accounts')
    .addColumn('inbound_url', 'text')
    .addColumn('callback_url', 'text')
    .addColumn('inbound_format', 'text', (c) =>
      c.notNull().defaultTo('herald').check(sql`inbound_format in ('herald', 'twilio')`),
    )
    .addColumn('stop_reply', 'text')
    .addColumn('start_reply', 'text')
    .addColumn('help_reply', 'text')
    .execute();
  await db.schema
    .createTable('twilio_credentials')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('account_sid', 'text', (c) => c.notNull().unique())
    .addColumn('auth_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('rotated_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('messages')
    .addColumn('api_format', 'text', (c) =>
      c.notNull().defaultTo('herald').check(sql`api_format in ('herald', 'twilio')`),
    )
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').dropColumn('api_format').execute();
  await db.schema.dropTable('twilio_credentials').execute();
  for (const column of [
    'inbound_url',
    'callback_url',
    'inbound_format',
    'stop_reply',
    'start_reply',
    'help_reply',
  ]) {
    await db.schema.alterTable('accounts').dropColumn(column).execute();
  }
  await db.schema.dropTable('inbound_parts').execute();
  await db.schema.dropTable('inbound_messages').execute();
}
