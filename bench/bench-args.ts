/** Command-line flags of `npm run bench` (bench/send-bench.ts), parsed and validated by zod. */
import { parseArgs } from 'node:util';
import { z } from 'zod';

/** Carrier TPS of the priority scenario when `--carrier-tps` is not given: low enough to queue. */
export const PRIORITY_DEFAULT_CARRIER_TPS = 50;
/** Carrier TPS of the send scenario when `--carrier-tps` is not given: never binds. */
export const SEND_DEFAULT_CARRIER_TPS = 10_000;

/** Parsed flags of the send benchmark. */
export interface SendBenchArgs {
  /** Messages in the measured phase (`--messages`). Default 1000. */
  readonly messages: number;
  /** In-flight `POST /v1/messages` requests (`--concurrency`). Default 64. */
  readonly concurrency: number;
  /** `postgres` (a fresh database on the local server, default) or `pglite` (embedded, temp dir). */
  readonly db: 'postgres' | 'pglite';
  /**
   * The databases to run, in order: `[db]` when `--db` was given; without it `['postgres']`, or
   * both databases one after the other with `--priority`.
   */
  readonly dbs: ReadonlyArray<'postgres' | 'pglite'>;
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
   * Every bench carrier's `tps` (`--carrier-tps`). Default 10 000 (the rate limit never binds), or
   * 50 with `--priority` (a backlog on the carrier queue); lower it to study pacing.
   */
  readonly carrierTps: number;
  /**
   * No-op workflows run after the measured phase to measure the stack's floor cost per workflow,
   * then as many receipt-shaped ones (`--noop N`; 0 skips both). Default: `messages`.
   */
  readonly noop: number;
  /** Run the priority scenario instead of the send benchmark (`--priority`, bench/priority-scenario.ts). */
  readonly priority: boolean;
  /** Priority scenario: `low` messages of the flood (`--low`). Default 1500. */
  readonly low: number;
  /** Priority scenario: ms between `high` messages (`--high-every`). Default 2000. */
  readonly highEveryMs: number;
  /** Priority scenario: at least this many `high` messages (`--min-high`). Default 5. */
  readonly minHigh: number;
  /** Run the verification scenario instead (`--verify`, bench/verify-scenario.ts). */
  readonly verify: boolean;
  /** Verify scenario: verifications started (`--verifications`). Default 200. */
  readonly verifications: number;
  /** Verify scenario: verification starts per second (`--start-rate`). Default 20. */
  readonly startRate: number;
  /** Verify scenario: checks per second, open loop (`--check-rate`). Default 50. */
  readonly checkRate: number;
  /** Worker processes (`--workers`). Default 1. */
  readonly workers: number;
  /** API processes, each on its own port; requests go round-robin (`--apis`). Default 1. */
  readonly apis: number;
}

const count = (min: number, max: number, dflt: number) =>
  z.coerce.number().int().min(min).max(max).default(dflt);

const argsSchema = z.object({
  messages: count(1, 1_000_000, 1000),
  concurrency: count(1, 4096, 64),
  db: z.enum(['postgres', 'pglite']).optional(),
  warmup: count(0, 10_000, 20),
  label: z.string().default(''),
  profile: z.boolean().default(false),
  carrier: z.enum(['http', 'smpp']).default('http'),
  'carrier-tps': z.coerce.number().int().min(1).max(1_000_000).optional(),
  noop: z.coerce.number().int().min(0).max(1_000_000).optional(),
  priority: z.boolean().default(false),
  low: count(1, 1_000_000, 1500),
  'high-every': count(100, 600_000, 2000),
  'min-high': count(1, 10_000, 5),
  workers: count(1, 16, 1),
  apis: count(1, 16, 1),
  verify: z.boolean().default(false),
  verifications: count(1, 1000, 200),
  'start-rate': count(1, 1000, 20),
  'check-rate': count(1, 10_000, 50),
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
  'usage: npm run bench -- [--messages N=1000] [--concurrency C=64] [--db postgres|pglite] [--warmup W=20] [--label TEXT] [--profile] [--dynamic-config KEY=JSON ...] [--carrier http|smpp] [--carrier-tps N=10000 (50 with --priority)] [--noop N=messages] [--workers N=1] [--apis N=1] [--priority [--low N=1500] [--high-every MS=2000] [--min-high N=5]] [--verify [--verifications N=200] [--start-rate R=20] [--check-rate R=50]] (--priority without --db runs postgres, then pglite)';

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
        noop: { type: 'string' },
        priority: { type: 'boolean' },
        low: { type: 'string' },
        'high-every': { type: 'string' },
        'min-high': { type: 'string' },
        workers: { type: 'string' },
        apis: { type: 'string' },
        verify: { type: 'boolean' },
        verifications: { type: 'string' },
        'start-rate': { type: 'string' },
        'check-rate': { type: 'string' },
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
  const {
    'dynamic-config': dynamicConfig,
    'carrier-tps': carrierTps,
    'high-every': highEveryMs,
    'min-high': minHigh,
    'start-rate': startRate,
    'check-rate': checkRate,
    db,
    noop,
    ...rest
  } = parsed.data;
  if (rest.priority && rest.carrier !== 'http') {
    throw new Error(`--priority runs on the HTTP carrier simulators only (drop --carrier smpp)\n${USAGE}`);
  }
  const dbs: Array<'postgres' | 'pglite'> =
    db !== undefined ? [db] : rest.priority ? ['postgres', 'pglite'] : ['postgres'];
  return {
    ...rest,
    db: dbs[0] ?? 'postgres',
    dbs,
    dynamicConfig,
    carrierTps: carrierTps ?? (rest.priority ? PRIORITY_DEFAULT_CARRIER_TPS : SEND_DEFAULT_CARRIER_TPS),
    noop: noop ?? rest.messages,
    highEveryMs,
    minHigh,
    startRate,
    checkRate,
  };
}
