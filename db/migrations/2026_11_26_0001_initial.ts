import { type Kysely, sql } from 'kysely';

/**
 * Initial schema (DESIGN §3, §4): accounts and keys, the money ledger, messages with their events
 * and attempts, carriers with prices and route stats, and raw receipts. Money columns are `bigint`
 * micro-units; every timestamp is `timestamptz` defaulting to now().
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull().defaultTo('USD'))
    .addColumn('available_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reserved_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('webhook_secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('accounts_available_non_negative', sql`available_micros >= 0`)
    .addCheckConstraint('accounts_reserved_non_negative', sql`reserved_micros >= 0`)
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('api_keys_account_idx').on('api_keys').column('account_id').execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('message_id', 'text')
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('credit', 'reserve', 'capture', 'release', 'refund')`),
    )
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('available_after_micros', 'bigint', (c) => c.notNull())
    .addColumn('reserved_after_micros', 'bigint', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('ledger_entries_amount_positive', sql`amount_micros > 0`)
    .execute();
  // The keys that make money moves idempotent (db/ledger.ts, db/accounts.ts).
  await db.schema
    .createIndex('ledger_entries_message_kind_uq')
    .on('ledger_entries')
    .columns(['message_id', 'kind'])
    .unique()
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('ledger_entries_account_reference_uq')
    .on('ledger_entries')
    .columns(['account_id', 'reference'])
    .unique()
    .where(sql.ref('reference'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('ledger_entries_account_idx')
    .on('ledger_entries')
    .columns(['account_id', 'id desc'])
    .execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('idempotency_key', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('to_number', 'text', (c) => c.notNull())
    .addColumn('from_sender', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('encoding', 'text', (c) => c.notNull().check(sql`encoding in ('GSM-7', 'UCS-2')`))
    .addColumn('segments', 'integer', (c) => c.notNull())
    .addColumn('quote_micros', 'bigint', (c) => c.notNull().check(sql`quote_micros >= 0`))
    .addColumn('price_micros', 'bigint', (c) => c.check(sql`price_micros >= 0`))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('carrier_id', 'text')
    .addColumn('carrier_message_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('carrier_error_code', 'text')
    .addColumn('validity_seconds', 'integer', (c) => c.notNull())
    .addColumn('callback_url', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('messages_account_idempotency_uq')
    .on('messages')
    .columns(['account_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('messages_account_created_idx')
    .on('messages')
    .columns(['account_id', 'created_at desc', 'id desc'])
    .execute();
  await db.schema
    .createIndex('messages_carrier_message_idx')
    .on('messages')
    .columns(['carrier_id', 'carrier_message_id'])
    .where(sql.ref('carrier_message_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('message_events')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('detail', 'jsonb')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('message_events_message_idx')
    .on('message_events')
    .columns(['message_id', 'id'])
    .execute();

  await db.schema
    .createTable('message_attempts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('message_id', 'text', (c) => c.notNull().references('messages.id').onDelete('cascade'))
    .addColumn('carrier_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull().check(sql`attempt >= 1`))
    .addColumn('outcome', 'text', (c) =>
      c.check(sql`outcome in ('accepted', 'retry', 'failover', 'permanent', 'ambiguous')`),
    )
    .addColumn('error_code', 'text')
    .addColumn('carrier_error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('carrier_message_id', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .addUniqueConstraint('message_attempts_message_attempt_uq', ['message_id', 'attempt'])
    .execute();

  await db.schema
    .createTable('carriers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('config', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('tps', 'integer', (c) => c.notNull().check(sql`tps > 0`))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('carrier_prices')
    .addColumn('carrier_id', 'text', (c) => c.notNull().references('carriers.id').onDelete('cascade'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('price_micros', 'bigint', (c) => c.notNull().check(sql`price_micros >= 0`))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('carrier_prices_pk', ['carrier_id', 'country'])
    .execute();
  await db.schema.createIndex('carrier_prices_country_idx').on('carrier_prices').column('country').execute();

  await db.schema
    .createTable('route_stats')
    .addColumn('carrier_id', 'text', (c) => c.notNull().references('carriers.id').onDelete('cascade'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('success_ewma', 'double precision', (c) =>
      c.notNull().defaultTo(1).check(sql`success_ewma >= 0 and success_ewma <= 1`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('route_stats_pk', ['carrier_id', 'country'])
    .execute();

  await db.schema
    .createTable('receipts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('carrier_id', 'text', (c) => c.notNull().references('carriers.id').onDelete('cascade'))
    .addColumn('carrier_message_id', 'text', (c) => c.notNull())
    // No FK: a receipt is stored even when it matches no message (yet).
    .addColumn('message_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('carrier_status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('raw', 'text', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('receipts_carrier_message_status_uq', ['carrier_id', 'carrier_message_id', 'status'])
    .execute();
  await db.schema
    .createIndex('receipts_message_idx')
    .on('receipts')
    .column('message_id')
    .where(sql.ref('message_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'receipts',
    'route_stats',
    'carrier_prices',
    'carriers',
    'message_attempts',
    'message_events',
    'messages',
    'ledger_entries',
    'api_keys',
    'accounts',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
