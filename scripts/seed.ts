/** Demo data for `npm start`, tests and benchmarks: carriers, prices and a funded account. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { addCredit, createAccount, findAccountByApiKey } from '../db/accounts.ts';
import { upsertCarrier, upsertPrice } from '../db/carriers.ts';
import type { Database } from '../db/schema.ts';
import { parseMoney } from '../domain/money.ts';

export interface CarrierSeed {
  readonly id: string;
  readonly kind: string;
  readonly config: Record<string, unknown>;
  /** Default 100. */
  readonly tps?: number;
  /** Country → price per segment, decimal string. */
  readonly prices: Readonly<Record<string, string>>;
}

/** Demo price list: Twilio is cheaper in North America, Vonage in Europe. */
export const DEMO_PRICES = {
  twilio: { US: '0.007900', CA: '0.007900', GB: '0.040000', DE: '0.079000', FR: '0.070000' },
  vonage: { US: '0.008500', CA: '0.008500', GB: '0.035000', DE: '0.068000', FR: '0.062000' },
} as const;

/** Upserts carriers and their prices: a second start points them at the new simulator ports. */
export async function seedCarriers(db: Kysely<Database>, carriers: readonly CarrierSeed[]): Promise<void> {
  for (const c of carriers) {
    await upsertCarrier(db, { id: c.id, kind: c.kind, config: c.config, tps: c.tps ?? 100, enabled: true });
    for (const [country, price] of Object.entries(c.prices)) {
      await upsertPrice(db, { carrierId: c.id, country, priceMicros: parseMoney(price), enabled: true });
    }
  }
}

const demoFileSchema = z.object({ accountId: z.string(), apiKey: z.string(), adminApiKey: z.string() });
export type DemoIdentity = z.infer<typeof demoFileSchema>;

/**
 * The demo account and admin key survive restarts in `<dataDir>/demo.json` (keys are stored
 * hashed in the database, so this file is the only place the plaintext lives).
 */
export async function ensureDemoAccount(
  db: Kysely<Database>,
  opts: { dataDir: string; adminApiKey?: string; credit?: string; generateKey: () => string },
): Promise<DemoIdentity> {
  const file = join(opts.dataDir, 'demo.json');
  if (existsSync(file)) {
    const saved = demoFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (saved.success && (await findAccountByApiKey(db, saved.data.apiKey))) {
      return { ...saved.data, adminApiKey: opts.adminApiKey ?? saved.data.adminApiKey };
    }
  }
  const { account, apiKey } = await createAccount(db, { name: 'Demo' });
  await addCredit(db, {
    accountId: account.id,
    amountMicros: parseMoney(opts.credit ?? '10.00'),
    reference: 'demo',
  });
  const identity = { accountId: account.id, apiKey, adminApiKey: opts.adminApiKey ?? opts.generateKey() };
  mkdirSync(opts.dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  return identity;
}
