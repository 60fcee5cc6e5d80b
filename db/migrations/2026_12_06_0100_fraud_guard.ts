import { type Kysely, sql } from 'kysely';

/**
 * The verification fraud guard (DESIGN §10): every request is logged with its number prefix and
 * outcome (the velocity and spike counts read it), blocks of prefixes or countries until an admin
 * lifts them, and per-account geo permissions.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('verifications').addColumn('number_prefix', 'text').execute();
  await db.schema
    .createIndex('verifications_prefix_created_idx')
    .on('verifications')
    .columns(['number_prefix', 'created_at'])
    .execute();
  await db.schema
    .createIndex('verifications_to_created_idx')
    .on('verifications')
    .columns(['to_number', 'created_at'])
    .execute();
  await db.schema
    .createIndex('verifications_country_created_idx')
    .on('verifications')
    .columns(['country', 'created_at'])
    .execute();

  await db.schema
    .createTable('verification_attempts')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('number_prefix', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) =>
      c.notNull().check(sql`outcome in ('created', 'geo_blocked', 'rate_limited', 'fraud_suspected')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('verification_attempts_prefix_idx')
    .on('verification_attempts')
    .columns(['number_prefix', 'created_at'])
    .execute();
  await db.schema
    .createIndex('verification_attempts_country_idx')
    .on('verification_attempts')
    .columns(['country', 'created_at'])
    .execute();

  await db.schema
    .createTable('fraud_blocks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull().check(sql`scope in ('prefix', 'country')`))
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('verifications', 'integer', (c) => c.notNull())
    .addColumn('approved', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('lifted_at', 'timestamptz')
    .execute();
  // At most one active block per scope and value.
  await sql`create unique index fraud_blocks_active_idx on fraud_blocks (scope, value) where lifted_at is null`.execute(
    db,
  );

  await db.schema
    .createTable('verification_settings')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('allowed_countries', sql`text[]`, (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('verification_settings').execute();
  await db.schema.dropTable('fraud_blocks').execute();
  await db.schema.dropTable('verification_attempts').execute();
  await db.schema.dropIndex('verifications_country_created_idx').execute();
  await db.schema.dropIndex('verifications_to_created_idx').execute();
  await db.schema.dropIndex('verifications_prefix_created_idx').execute();
  await db.schema.alterTable('verifications').dropColumn('number_prefix').execute();
}
