/** Command-line flags of `npm run bench` (bench/send-bench.ts), parsed and validated by zod. */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** Parsed flags of the send benchmark. */
export interface SendBenchArgs {
  /** Messages in the measured phase (`--messages`). Default 1000. */
  readonly messages: number;
  /** In-flight `POST /v1/messages` requests (`--concurrency`). Default 64. */
  readonly concurrency: number;
  /** `postgres` (a fresh database on the local server, default) or `pglite` (embedded, temp dir). */
  readonly db: 'postgres' | 'pglite';
  /** Messages sent (and awaited) before measuring (`--warmup`). Default 20. */
  readonly warmup: number;
  /** Free text stored with the results, e.g. what was changed for this run (`--label`). Default ''. */
  readonly label: string;
  /** Run the worker and the API under `node --cpu-prof` (`--profile`); profiles go to a temp dir. */
  readonly profile: boolean;
  /**
   * Extra Temporal dev-server dynamic config for experiments (`--dynamic-config KEY=JSON`,
   * repeatable), merged over scripts/temporal-dev-server.ts DEV_SERVER_DYNAMIC_CONFIG. Default none.
   */
  readonly dynamicConfig: Readonly<Record<string, string | number | boolean>>;
  /**
   * `http` (Twilio and Vonage simulators, default) or `smpp` (`--carrier smpp`: every message over
   * an SMPP bind to the SMSC simulator; reports go to `send-smpp-*`).
   */
  readonly carrier: 'http' | 'smpp';
  /**
   * Every bench carrier's `tps` (`--carrier-tps`). Default 10 000, so the rate limit never binds;
   * lower it to study pacing, or where the pacer itself costs (see bench/results/README.md).
   */
  readonly carrierTps: number;
}

const argsSchema = z.object({
  messages: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  concurrency: z.coerce.number().int().min(1).max(4096).default(64),
  db: z.enum(['postgres', 'pglite']).default('postgres'),
  warmup: z.coerce.number().int().min(0).max(10_000).default(20),
  label: z.string().default(''),
  profile: z.boolean().default(false),
  carrier: z.enum(['http', 'smpp']).default('http'),
  'carrier-tps': z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  'dynamic-config': z
    .array(z.string().regex(/^[\w.]+=.+$/, 'expected KEY=JSON'))
    .default([])
    .transform((pairs, ctx) => {
      const out: Record<string, string | number | boolean> = {};
      for (const pair of pairs) {
        const at = pair.indexOf('=');
        const value = parseJsonScalar(pair.slice(at + 1));
        if (value === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `${pair}: the value must be a JSON string, number or boolean`,
          });
          return z.NEVER;
        }
        out[pair.slice(0, at)] = value;
      }
      return out;
    }),
});

function parseJsonScalar(text: string): string | number | boolean | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

export const USAGE =
  'usage: npm run bench -- [--messages N=1000] [--concurrency C=64] [--db postgres|pglite] [--warmup W=20] [--label TEXT] [--profile] [--dynamic-config KEY=JSON ...] [--carrier http|smpp] [--carrier-tps N=10000]';

/** Parses `argv` (without node and script); throws an Error naming the bad flag and the usage. */
export function parseBenchArgs(argv: readonly string[]): SendBenchArgs {
  let values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        messages: { type: 'string', short: 'n' },
        concurrency: { type: 'string', short: 'c' },
        db: { type: 'string' },
        warmup: { type: 'string' },
        label: { type: 'string' },
        profile: { type: 'boolean' },
        carrier: { type: 'string' },
        'carrier-tps': { type: 'string' },
        'dynamic-config': { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${problems}\n${USAGE}`);
  }
  const { 'dynamic-config': dynamicConfig, 'carrier-tps': carrierTps, ...rest } = parsed.data;
  return { ...rest, dynamicConfig, carrierTps };
}
