/**
 * Carrier definition files (`carriers/*.json` or `.yaml`): one carrier, its adapter kind and
 * config, TPS and prices. Validated in full — the file's own fields and the adapter config (by
 * the adapter's schema) — so a bad file fails with the field it got wrong before it reaches the
 * database.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createAdapter } from '../adapters/registry.ts';
import type { CarrierSeed } from './seed.ts';

export const carrierFileSchema = z.strictObject({
  /** Carrier id: the webhook path segment and the `carrier-<id>` task queue. */
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
  /** Adapter kind, e.g. `http-config`, `twilio`, `vonage`, `infobip`. */
  kind: z.string().min(1),
  /** Submits per second. Default 100. */
  tps: z.number().positive().default(100),
  /** ISO country → our price per segment, a decimal string ("0.030000"). */
  prices: z.record(
    z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code'),
    z.string().regex(/^\d+(\.\d{1,6})?$/),
  ),
  config: z.record(z.string(), z.unknown()),
});

/** Options of {@link loadCarrierFile}. */
export interface LoadCarrierOptions {
  /** Replaces `config.baseUrl` (point a definition at a simulator or a staging host). */
  readonly baseUrl?: string;
}

/**
 * Reads and validates a carrier file (JSON, or YAML by extension `.yaml` / `.yml`). Throws an
 * Error naming the file and each bad field.
 */
export function loadCarrierFile(path: string, opts: LoadCarrierOptions = {}): CarrierSeed {
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid ${extname(path).slice(1) || 'JSON'}: ${(err as Error).message}`);
  }
  const parsed = carrierFileSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new Error(`${path}: invalid carrier file: ${fields}`);
  }
  const file = parsed.data;
  const config = opts.baseUrl === undefined ? file.config : { ...file.config, baseUrl: opts.baseUrl };
  try {
    createAdapter({ id: file.id, kind: file.kind, config });
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
  return { id: file.id, kind: file.kind, tps: file.tps, prices: file.prices, config };
}
