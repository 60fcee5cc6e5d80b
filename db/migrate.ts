import { type Kysely, type Migration, type MigrationResultSet, Migrator } from 'kysely';
import * as initial from './migrations/2026_11_26_0001_initial.ts';
import * as messageParts from './migrations/2026_11_26_0010_message_parts.ts';
import * as routeScore from './migrations/2026_11_26_0030_route_score.ts';
import * as carrierRateLimits from './migrations/2026_11_26_0031_carrier_rate_limits.ts';
import * as callbackAttempts from './migrations/2026_11_26_0040_callback_attempts.ts';
import * as strandedMessages from './migrations/2026_11_27_0050_stranded_messages.ts';
import * as messagePriority from './migrations/2026_12_05_0060_message_priority.ts';
import * as ledgerLegs from './migrations/2026_12_05_0070_ledger_legs.ts';
import * as attemptCarrierCost from './migrations/2026_12_05_0080_attempt_carrier_cost.ts';
import * as verifications from './migrations/2026_12_06_0090_verifications.ts';
import * as fraudGuard from './migrations/2026_12_06_0100_fraud_guard.ts';
import * as optOuts from './migrations/2026_12_06_0110_opt_outs.ts';
import * as numbers from './migrations/2026_12_06_0120_numbers.ts';
import * as inbound from './migrations/2026_12_06_0130_inbound.ts';
import * as ledgerFunctions from './migrations/2026_12_06_0140_ledger_functions.ts';
import type { Database } from './schema.ts';

/**
 * Every migration, by name; names sort in the order they apply. Listed in code rather than read
 * from the filesystem so migrations run the same under tsx, vitest and bundles.
 * Add a new one here when you add a file to `db/migrations/`.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2026_11_26_0001_initial': initial,
  '2026_11_26_0010_message_parts': messageParts,
  '2026_11_26_0030_route_score': routeScore,
  '2026_11_26_0031_carrier_rate_limits': carrierRateLimits,
  '2026_11_26_0040_callback_attempts': callbackAttempts,
  '2026_11_27_0050_stranded_messages': strandedMessages,
  '2026_12_05_0060_message_priority': messagePriority,
  '2026_12_05_0070_ledger_legs': ledgerLegs,
  '2026_12_05_0080_attempt_carrier_cost': attemptCarrierCost,
  '2026_12_06_0090_verifications': verifications,
  '2026_12_06_0100_fraud_guard': fraudGuard,
  '2026_12_06_0110_opt_outs': optOuts,
  '2026_12_06_0120_numbers': numbers,
  '2026_12_06_0130_inbound': inbound,
  '2026_12_06_0140_ledger_functions': ledgerFunctions,
};

/** Thrown when a migration fails; `cause` holds the database error. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    // 0030/0031 were written after 0040 had been applied on some databases: apply whatever is
    // missing rather than refuse. Every migration here is independent of the ones named after it.
    allowUnorderedMigrations: true,
  });
}

function check(direction: string, { error, results }: MigrationResultSet): void {
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  const reason = error instanceof Error ? error.message : String(error);
  throw new MigrationError(`Migration ${direction} failed${failed ? ` at ${failed}` : ''}: ${reason}`, {
    cause: error,
  });
}

/** Applies every pending migration (each in its own transaction, under kysely's migration lock). */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  check('up', await migrator(db).migrateToLatest());
}

/** Rolls back the most recent migration; does nothing when none is applied. */
export async function migrateDown(db: Kysely<Database>): Promise<void> {
  check('down', await migrator(db).migrateDown());
}
