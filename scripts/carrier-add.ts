/**
 * `npm run carrier:add -- <file> [--base-url <url>]` — validates a carrier definition file (see
 * scripts/carrier-file.ts) and upserts the carrier and its prices into DATABASE_URL. Running it
 * again updates the carrier. Workers build their adapters at start: restart them afterwards.
 */
import { z } from 'zod';
import { createDb, destroyDb } from '../db/connection.ts';
import { loadCarrierFile } from './carrier-file.ts';
import { seedCarriers } from './seed.ts';

const Env = z.object({
  DATABASE_URL: z
    .string({
      error: 'DATABASE_URL is not set: give it the PostgreSQL URL, e.g. postgres://user@host:5432/herald',
    })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// or postgresql:// URL'),
});

function parseArgs(argv: readonly string[]): { file: string; baseUrl?: string } {
  const args = [...argv];
  let baseUrl: string | undefined;
  const i = args.indexOf('--base-url');
  if (i >= 0) {
    baseUrl = args[i + 1];
    if (!baseUrl) throw new Error('--base-url needs a URL');
    args.splice(i, 2);
  }
  const [file, ...rest] = args;
  if (!file || rest.length > 0)
    throw new Error('usage: npm run carrier:add -- <carrier file> [--base-url <url>]');
  return { file, ...(baseUrl !== undefined ? { baseUrl } : {}) };
}

async function main(): Promise<void> {
  let seed: ReturnType<typeof loadCarrierFile>;
  let url: string;
  try {
    const { file, baseUrl } = parseArgs(process.argv.slice(2));
    seed = loadCarrierFile(file, baseUrl !== undefined ? { baseUrl } : {});
    const env = Env.safeParse(process.env);
    if (!env.success) throw new Error(env.error.issues.map((i) => i.message).join('; '));
    url = env.data.DATABASE_URL;
  } catch (err) {
    console.error(`carrier:add: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const db = createDb(url, { max: 1 });
  try {
    await seedCarriers(db, [seed]);
    const countries = Object.keys(seed.prices).join(', ') || 'no countries';
    console.log(
      `carrier:add: ${seed.id} (${seed.kind}) saved, priced for ${countries}; restart workers to use it`,
    );
  } catch (err) {
    console.error(`carrier:add: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    await destroyDb(db);
  }
}

await main();
