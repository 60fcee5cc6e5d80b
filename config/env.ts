/**
 * Configuration from the environment, parsed by zod. A bad variable fails start-up with a
 * message that names it, never with a stack trace from deep inside a client library.
 */
import { z } from 'zod';

const envSchema = z.object({
  /** PostgreSQL URL. Required by `npm run api` / `npm run worker`; `npm start` supplies embedded PGlite when unset. */
  DATABASE_URL: z.string().url().optional(),
  /** Temporal frontend `host:port`. Unset in `npm start` → the project starts a dev server. */
  TEMPORAL_ADDRESS: z.string().min(3).optional(),
  /** Default `default`. */
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** API port. Default 3000. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Admin key for account and credit endpoints. Required outside `npm start`, which generates one. */
  ADMIN_API_KEY: z.string().min(16, 'ADMIN_API_KEY must be at least 16 characters').optional(),
  /**
   * The URL carriers use to reach our webhooks (receipts). Default `http://127.0.0.1:<PORT>`.
   * Signature checks (Twilio) cover the full URL, so it must be exactly what carriers post to.
   */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** Currency code of the deployment's balance. Default USD. */
  CURRENCY: z.string().length(3).default('USD'),
  /** Worker: concurrent workflow tasks / activities. */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(200),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(1).default(100),
  /** Database pool size per process. Default 10. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `source` (default `process.env`); throws ConfigError naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings mean "unset" (shell habits such as `FOO= npm start`).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}

/** Like loadEnv but insists on the variables a production process cannot run without. */
export function requireEnv<K extends keyof Env>(
  env: Env,
  ...keys: K[]
): Env & { [P in K]-?: NonNullable<Env[P]> } {
  const missing = keys.filter((k) => env[k] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(`Missing required environment variable(s): ${missing.join(', ')}`);
  }
  return env as Env & { [P in K]-?: NonNullable<Env[P]> };
}
