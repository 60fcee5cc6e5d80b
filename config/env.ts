/**
 * Configuration from the environment, parsed by zod. A bad variable fails start-up with a
 * message that names it, never with a stack trace from deep inside a client library.
 */
import { z } from 'zod';
import { KEY_ID_PATTERN, parseCodecKeys, toKeyring } from '../codec/keys.ts';
import { DEFAULT_COOL_DOWN_MS, DEFAULT_FAILURE_THRESHOLD } from '../domain/circuit.ts';
import { DEFAULT_WEIGHTS } from '../domain/routing.ts';
import { isAllowListEntry } from './allow-list.ts';
import {
  DEFAULT_CALLBACK_RETRY_INITIAL_MS,
  DEFAULT_CALLBACK_TIMEOUT_MS,
  DEFAULT_EWMA_ALPHA,
  DEFAULT_EXPLORATION_SHARE,
  DEFAULT_ROUTE_STATS_FLUSH_MS,
  DEFAULT_STRANDED_GRACE_MS,
  DEFAULT_STRANDED_INTERVAL_MS,
} from './defaults.ts';
import {
  DEFAULT_CARRIER_QUEUE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
} from './worker-defaults.ts';

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
  /**
   * Status callbacks may reach these despite the SSRF rules (loopback, private, link-local …):
   * comma-separated host names, IP addresses or CIDR ranges, e.g. `127.0.0.1,localhost`. Default none.
   */
  CALLBACK_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((h) => h.trim())
        .filter((h) => h !== ''),
    )
    .pipe(z.array(z.string().refine(isAllowListEntry, 'must be a host name, an IP address or a CIDR range'))),
  /** First retry delay of a failed status callback (doubling, at most 1 h apart, for 24 h). Default 1000. */
  CALLBACK_RETRY_INITIAL_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3_600_000)
    .default(DEFAULT_CALLBACK_RETRY_INITIAL_MS),
  /** Timeout of one status callback request. Default 10000. */
  CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_CALLBACK_TIMEOUT_MS),
  /** Worker: cap on concurrent submits per carrier queue, and workflow tasks held at once (config/worker-defaults.ts). */
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).default(DEFAULT_MAX_CONCURRENT_ACTIVITIES),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce
    .number()
    .int()
    .min(2)
    .default(DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS),
  /**
   * Route score weights as JSON, e.g. `{"delivery":0.5,"price":0.2}`; keys left out keep their
   * defaults (acceptance 0.2, delivery 0.5, submitLatency 0.05, receiptLatency 0.05, price 0.2).
   */
  ROUTING_WEIGHTS: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .strictObject({
          acceptance: z.number().min(0).finite().optional(),
          delivery: z.number().min(0).finite().optional(),
          submitLatency: z.number().min(0).finite().optional(),
          receiptLatency: z.number().min(0).finite().optional(),
          price: z.number().min(0).finite().optional(),
        })
        .transform((w) => ({ ...DEFAULT_WEIGHTS, ...w })),
    )
    .default(DEFAULT_WEIGHTS),
  /** Share of messages that try a non-top route first, to keep its stats fresh (0..1). Default 0.05. */
  ROUTING_EXPLORATION: z.coerce.number().min(0).max(1).default(DEFAULT_EXPLORATION_SHARE),
  /** EWMA weight of one observation in the route stats, (0, 1]. Default 0.1. */
  ROUTING_EWMA_ALPHA: z.coerce.number().gt(0).max(1).default(DEFAULT_EWMA_ALPHA),
  /** How often each worker writes its batched route stats, ms. Default 500. */
  ROUTE_STATS_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(DEFAULT_ROUTE_STATS_FLUSH_MS),
  /**
   * Worker: age (ms) after which a message still `accepted` counts as stranded (its workflow never
   * started) and the reconciler starts it. Default 30000.
   */
  STRANDED_MESSAGE_GRACE_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(86_400_000)
    .default(DEFAULT_STRANDED_GRACE_MS),
  /** Worker: pause between stranded-message reconciler passes, ms. Default 15000. */
  STRANDED_MESSAGE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(DEFAULT_STRANDED_INTERVAL_MS),
  /** Consecutive route failures that open its circuit. Default 5. */
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(DEFAULT_FAILURE_THRESHOLD),
  /** How long an open circuit waits before one probe, ms. Default 10000. */
  CIRCUIT_COOL_DOWN_MS: z.coerce.number().int().min(100).default(DEFAULT_COOL_DOWN_MS),
  /** Longest wait of a submit on a carrier's task queue before the message fails over (no worker polls it). */
  CARRIER_QUEUE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(86_400_000)
    .default(DEFAULT_CARRIER_QUEUE_TIMEOUT_MS),
  /** Database pool size per process. Default 10. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * `false` runs every statement unnamed (a pooler that cannot keep prepared statements, e.g.
   * PgBouncer in transaction mode before 1.21). Default `true` (db/connection.ts).
   */
  DATABASE_PREPARED_STATEMENTS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Worker: port of its Prometheus `/metrics` (Herald's activity metrics and the Temporal runtime's).
   * Unset = no metrics server; the container image sets 9464.
   */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Worker: interface of the metrics server. Default 127.0.0.1; the container image sets 0.0.0.0. */
  WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Worker: a prebuilt workflow bundle (`scripts/bundle-workflows.ts`); unset = bundle at start. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /**
   * Payload-encryption keys: `{"k1":"<base64 32 bytes>"}` or `k1:<base64>,k2:<base64>`. Required by
   * `npm run api` / `npm run worker` / the codec server; `npm start` keeps its own in
   * `.data/codec-keys.json`. Old keys stay listed after a rotation so old history still decrypts.
   */
  HERALD_CODEC_KEYS: z
    .string()
    .transform((text, ctx) => {
      try {
        return parseCodecKeys(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    })
    .optional(),
  /** Id of the key that encrypts new payloads; may be left out when HERALD_CODEC_KEYS holds one key. */
  HERALD_CODEC_KEY_ID: z
    .string()
    .regex(KEY_ID_PATTERN, 'must be 1–64 letters, digits, ".", "_" or "-"')
    .optional(),
  /** Bearer token of the codec server. Required by the codec server; `npm start` generates one. */
  /**
   * Server secret verification codes are derived under (HMAC; DESIGN §10), at least 32 characters.
   * The API (checks) and the workers (sends) need the same one. Unset: the verification routes answer
   * 503. `npm start` keeps one in its data dir.
   */
  VERIFY_SECRET: z.string().min(32, 'VERIFY_SECRET must be at least 32 characters').optional(),
  CODEC_TOKEN: z.string().min(16, 'CODEC_TOKEN must be at least 16 characters').optional(),
  /** Codec server port. Default 8888 (0 = a free port). */
  CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8888),
  /** Comma-separated origins (the Temporal UI's) allowed to call the codec server. `npm start` adds its UI. */
  CODEC_CORS_ORIGINS: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    )
    .pipe(z.array(z.union([z.url(), z.literal('*')])))
    .optional(),
});

/** The current key id must name a configured key (or be implied by a single key). */
const checkedEnvSchema = envSchema.superRefine((env, ctx) => {
  if (!env.HERALD_CODEC_KEYS) return;
  try {
    toKeyring(env.HERALD_CODEC_KEYS, env.HERALD_CODEC_KEY_ID);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      path: ['HERALD_CODEC_KEY_ID'],
      message: err instanceof Error ? err.message : String(err),
    });
  }
});

export type Env = z.infer<typeof envSchema>;

/** Every variable the configuration reads (deployment files are checked against it in tests). */
export const ENV_KEYS: readonly string[] = Object.keys(envSchema.shape);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `source` (default `process.env`); throws ConfigError naming every bad variable. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings mean "unset" (shell habits such as `FOO= npm start`).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checkedEnvSchema.safeParse(cleaned);
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
