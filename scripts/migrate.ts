/**
 * `npm run migrate` — applies pending migrations to DATABASE_URL.
 * `npm run migrate -- --down` — rolls back the most recent one.
 */
import { z } from 'zod';
import { createDb, destroyDb } from '../db/connection.ts';
import { migrateDown, migrateToLatest } from '../db/migrate.ts';

const Env = z.object({
  DATABASE_URL: z
    .string({
      error: 'DATABASE_URL is not set: give it the PostgreSQL URL, e.g. postgres://user@host:5432/herald',
    })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// or postgresql:// URL'),
});

async function main(): Promise<void> {
  const env = Env.safeParse(process.env);
  if (!env.success) {
    for (const issue of env.error.issues) console.error(`migrate: ${issue.message}`);
    process.exitCode = 1;
    return;
  }
  const down = process.argv.slice(2).includes('--down');
  const db = createDb(env.data.DATABASE_URL, { max: 1 });
  try {
    if (down) await migrateDown(db);
    else await migrateToLatest(db);
    console.log(down ? 'migrate: rolled back one migration' : 'migrate: database is up to date');
  } catch (error) {
    console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  } finally {
    await destroyDb(db);
  }
}

await main();
