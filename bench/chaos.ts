/**
 * `npm run chaos`: Herald in its production shape (a Temporal dev server on a SQLite file, a fresh
 * PostgreSQL database, the API and the worker as their own processes, Twilio, Vonage and SMPP
 * simulators) takes messages across every carrier kind while, on a schedule, the worker is
 * SIGKILLed every 5–10 s and restarted, Temporal is stopped and restarted once (its file kept), every
 * PostgreSQL backend of the database is terminated once, one carrier is down for 10 s, a receipt
 * storm posts every receipt twice, and the API is restarted once with SIGTERM under load. Then it
 * proves the books and the deliveries (see {@link ChaosFigures}) and prints the figures; the CLI
 * also writes them to bench/results/.
 *
 *   npm run chaos [-- --messages 1000 --rate 10 --validity 60]
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { addCredit, createAccount } from '../db/accounts.ts';
import { checkInvariant, getBalance } from '../db/ledger.ts';
import { parseMoney } from '../domain/money.ts';
import { type MessageStatus, TERMINAL_STATUSES } from '../domain/status.ts';
import { getFreeFixedPort } from '../scripts/ports.ts';
import { composeStack } from '../scripts/stack/compose.ts';

const projectRoot = resolve(import.meta.dirname, '..');
/** Each message goes to its own number in one of these, so a message sent twice shows by destination. */
const DESTINATIONS = [
  { country: 'US', prefix: '+1415555', digits: 4 }, // Twilio first, Vonage next
  { country: 'GB', prefix: '+4474001', digits: 5 }, // Vonage first, Twilio next
  { country: 'FR', prefix: '+336120', digits: 5 }, // the SMPP bind first, then Vonage, Twilio
] as const;
const ACCOUNTS = 3;
const CREDIT = '100.00';
/** A 503 the client waits out before sending again with the same key, at most. */
const MAX_CLIENT_WAIT_MS = 2_000;
/** A client gives a message up after this long without a 202 (counted as lost). */
const CLIENT_GIVE_UP_MS = 120_000;
const API_EXIT_LIMIT_MS = 5_000;

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** Messages to send. Default 1000. */
  readonly messages?: number;
  /** Sends per second. Default 10. */
  readonly rate?: number;
  /** Each message's validity, s: bounds how long an unconfirmed one waits. Default 60. */
  readonly validitySeconds?: number;
  /** Worker kills come every `killEveryMs[0]`–`killEveryMs[1]` ms. Default 5000–10000. */
  readonly killEveryMs?: readonly [number, number];
  /** Progress lines. Default: stdout. */
  readonly log?: (line: string) => void;
}

/** What a run did and what it proved. Every count under `violations` must be 0. */
export interface ChaosFigures {
  readonly messages: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly workerKills: number;
  readonly temporalRestarts: number;
  readonly postgresBackendsTerminated: number;
  readonly carrierDownMs: number;
  readonly receiptStormMs: number;
  readonly apiRestarts: number;
  /** How long the API took to exit after SIGTERM, ms. */
  readonly apiExitMs: readonly number[];
  /** 503s the clients saw (each carried Retry-After, or it counts under violations). */
  readonly serviceUnavailable: number;
  readonly violations: {
    /** Sends never answered 202, or messages not terminal at the end. */
    readonly lost: number;
    /** Messages with more than one capture on a leg, or a price that is not the sum of captures. */
    readonly doubleCharged: number;
    /** Destinations two different carriers took (no failover-after-receipt is configured). */
    readonly blindDuplicates: number;
    /** Destinations one HTTP carrier took twice under different client references. */
    readonly resubmissionsWithoutSameReference: number;
    /** Accounts whose books do not balance or that still hold a reservation. */
    readonly booksOff: number;
    /** 5xx answers other than 503 with Retry-After. */
    readonly bad5xx: number;
    /** Idempotency keys that gave two message ids, or two rows. */
    readonly idempotencyBroken: number;
    /** API exits after SIGTERM that took longer than 5 s or were not clean. */
    readonly slowApiExits: number;
  };
}

interface ChaosStack {
  readonly apiUrl: string;
  readonly databaseName: string;
  restartWorker(): Promise<void>;
  restartApi(): Promise<number>;
  restartTemporal(): Promise<void>;
  terminateBackends(): Promise<number>;
  stop(): Promise<void>;
}

/** Runs the chaos schedule against a fresh stack; returns the figures (the caller judges them). */
export async function runChaos(opts: ChaosOptions = {}): Promise<ChaosFigures> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const messages = opts.messages ?? 1000;
  const rate = opts.rate ?? 10;
  const validitySeconds = opts.validitySeconds ?? 60;
  const [killMin, killMax] = opts.killEveryMs ?? [5_000, 10_000];
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse())
      await c().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  };
  try {
    // --- the stack -------------------------------------------------------------------------
    const work = await mkdtemp(join(tmpdir(), 'herald-chaos-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const simConfig = { latencyMs: 5, receiptDelayMs: 100 };
    const composed = await composeStack({
      log,
      // A fixed port and a file: Temporal is stopped and started again mid-run.
      temporal: { kind: 'dev-server', port: await getFreeFixedPort(), dbFile: join(work, 'temporal.db') },
      database: { kind: 'postgres', prefix: 'herald_chaos' },
      // Its backends are terminated on purpose: no warning per dropped idle connection.
      quietPool: true,
      carriers: {
        smpp: {
          sim: simConfig,
          tps: 100,
          config: { window: 32, receiptIdBase: 'decimal' },
          prices: { FR: '0.050000' },
        },
        twilio: { sim: simConfig, tps: 100 },
        vonage: { sim: simConfig, tps: 100 },
      },
      apis: { mode: 'process' },
      workers: { mode: 'process', prebuiltBundle: true },
      processes: {
        env: {
          LOG_LEVEL: 'error',
          // Stranded and unsettled messages are picked up within seconds, not minutes.
          STRANDED_MESSAGE_GRACE_MS: '5000',
          STRANDED_MESSAGE_INTERVAL_MS: '2000',
        },
      },
    });
    cleanups.push(() => composed.stop());
    const { db, database } = composed;
    const { twilio, vonage, smpp: smsc } = composed.carriers;
    const [api] = composed.apis;
    const [worker] = composed.workers;
    if (!twilio || !vonage || !smsc || !api || !worker) throw new Error('the chaos stack lacks a part');
    const accounts: Array<{ id: string; apiKey: string }> = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const { account, apiKey } = await createAccount(db, { name: `chaos-${i}` });
      await addCredit(db, { accountId: account.id, amountMicros: parseMoney(CREDIT), reference: 'chaos' });
      accounts.push({ id: account.id, apiKey });
    }
    log(`chaos: stack up (Temporal ${composed.temporal.address}, database ${database.name}, API ${api.url})`);

    const stack: ChaosStack = {
      apiUrl: api.url,
      databaseName: database.name ?? '',
      async restartWorker() {
        await worker.kill();
        await worker.start();
      },
      async restartApi() {
        const { exitMs, clean } = await api.restart();
        return clean ? exitMs : Number.POSITIVE_INFINITY;
      },
      restartTemporal: () => composed.temporal.restart(),
      async terminateBackends() {
        const admin = new pg.Client({ connectionString: database.url });
        await admin.connect();
        try {
          const res = await admin.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [database.name],
          );
          return res.rowCount ?? 0;
        } finally {
          await admin.end();
        }
      },
      async stop() {
        await cleanup();
      },
    };

    // --- load and chaos ----------------------------------------------------------------------
    const runId = randomBytes(4).toString('hex');
    const started = Date.now();
    const sendMs = (messages / rate) * 1000;
    const idsByKey = new Map<string, Set<string>>();
    const fivexx: Array<{ status: number; retryAfter: string | null }> = [];
    let gaveUp = 0;
    const sendOne = async (i: number): Promise<void> => {
      const dest = DESTINATIONS[i % DESTINATIONS.length] ?? DESTINATIONS[0];
      const account = accounts[i % accounts.length] ?? accounts[0];
      if (!account) return;
      const to = `${dest.prefix}${String(i).padStart(dest.digits, '0')}`;
      const key = `chaos-${runId}-${i}`;
      const body = JSON.stringify({ to, body: `chaos ${runId} ${i}`, validitySeconds });
      // Every tenth client sends its message twice with the same key, as a client unsure of a reply would.
      const sends = i % 10 === 0 ? 2 : 1;
      for (let s = 0; s < sends; s++) {
        const deadline = Date.now() + CLIENT_GIVE_UP_MS;
        for (;;) {
          if (Date.now() > deadline) {
            gaveUp++;
            return;
          }
          try {
            const res = await fetch(`${stack.apiUrl}/v1/messages`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${account.apiKey}`,
                'content-type': 'application/json',
                'idempotency-key': key,
              },
              body,
              signal: AbortSignal.timeout(15_000),
            });
            const json = (await res.json().catch(() => ({}))) as { id?: string };
            if (res.status === 202 || res.status === 200 || res.status === 201) {
              const ids = idsByKey.get(key) ?? new Set<string>();
              if (json.id) ids.add(json.id);
              idsByKey.set(key, ids);
              break;
            }
            if (res.status >= 500) {
              const retryAfter = res.headers.get('retry-after');
              fivexx.push({ status: res.status, retryAfter });
              await sleep(Math.min(MAX_CLIENT_WAIT_MS, Number(retryAfter ?? '1') * 1000));
              continue;
            }
            throw new Error(`send ${i}: ${res.status} ${JSON.stringify(json)}`);
          } catch (err) {
            if (err instanceof Error && err.message.startsWith(`send ${i}:`)) throw err;
            // Refused or cut while the API restarts: the same key again shortly.
            await sleep(250);
          }
        }
      }
    };
    const sends: Array<Promise<void>> = [];
    const load = (async () => {
      for (let i = 0; i < messages; i++) {
        const due = started + (i * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        sends.push(sendOne(i));
      }
      await Promise.all(sends);
    })();

    const figures = {
      workerKills: 0,
      temporalRestarts: 0,
      postgresBackendsTerminated: 0,
      carrierDownMs: 0,
      receiptStormMs: 0,
      apiRestarts: 0,
      apiExitMs: [] as number[],
    };
    let loadDone = false;
    void load.finally(() => {
      loadDone = true;
    });
    const at = (fraction: number): Promise<void> =>
      sleep(Math.max(0, started + sendMs * fraction - Date.now()));
    const events = [
      (async () => {
        await at(0.2);
        log('chaos: Temporal stops and restarts (its file kept)');
        await stack.restartTemporal();
        figures.temporalRestarts++;
      })(),
      (async () => {
        await at(0.4);
        figures.postgresBackendsTerminated += await stack.terminateBackends();
        log(`chaos: terminated ${figures.postgresBackendsTerminated} PostgreSQL backends`);
      })(),
      (async () => {
        await at(0.5);
        log('chaos: twilio-sim down for 10 s');
        twilio.setConfig({ down: true, downForMs: 10_000 });
        figures.carrierDownMs = 10_000;
      })(),
      (async () => {
        await at(0.6);
        log('chaos: receipt storm (every receipt twice) for 10 s');
        for (const sim of [twilio, vonage]) sim.setConfig({ duplicateReceipts: true });
        await sleep(10_000);
        for (const sim of [twilio, vonage]) sim.setConfig({ duplicateReceipts: false });
        figures.receiptStormMs = 10_000;
      })(),
      (async () => {
        await at(0.75);
        log('chaos: API SIGTERM under load, then restarted');
        const exitMs = await stack.restartApi();
        figures.apiRestarts++;
        figures.apiExitMs.push(exitMs);
        log(`chaos: API exited in ${exitMs} ms`);
      })(),
      (async () => {
        while (!loadDone) {
          await sleep(killMin + Math.random() * (killMax - killMin));
          if (loadDone) break;
          await stack.restartWorker();
          figures.workerKills++;
        }
      })(),
    ];
    // A chaos step that fails is reported after the load, not as an unhandled rejection.
    const stepErrors: string[] = [];
    const steps = events.map((e) =>
      e.catch((err: unknown) => {
        stepErrors.push(err instanceof Error ? err.message : String(err));
      }),
    );
    await load;
    await Promise.all(steps);
    if (stepErrors.length > 0) throw new Error(`chaos steps failed: ${stepErrors.join('; ')}`);
    log(`chaos: ${messages} sends done in ${((Date.now() - started) / 1000).toFixed(1)} s; settling`);

    // --- settle and judge --------------------------------------------------------------------
    const accountIds = accounts.map((a) => a.id);
    const terminal = [...TERMINAL_STATUSES];
    const settleBy = Date.now() + (validitySeconds + 120) * 1000;
    for (;;) {
      const open = await db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', 'in', accountIds)
        .where('status', 'not in', terminal)
        .executeTakeFirstOrThrow();
      const reserved = await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.sum<string>('reserved_micros').as('r'))
        .where('id', 'in', accountIds)
        .executeTakeFirstOrThrow();
      if (Number(open.n) === 0 && BigInt(reserved.r ?? '0') === 0n) break;
      if (Date.now() > settleBy) {
        log(`chaos: ${open.n} messages still open, ${reserved.r} reserved`);
        break;
      }
      await sleep(1_000);
    }

    const rows = await db
      .selectFrom('messages')
      .select(['id', 'status', 'idempotency_key', 'price_micros'])
      .where('account_id', 'in', accountIds)
      .execute();
    const captures = await sql<{ message_id: string; leg: number; n: string; total: string }>`
      select message_id, leg, count(*) as n, sum(amount_micros) as total from ledger_entries
      where kind = 'capture' and account_id in (${sql.join(accountIds)}) group by message_id, leg`.execute(
      db,
    );
    const accountsSettled: boolean[] = [];
    for (const id of accountIds) {
      const balance = await getBalance(db, id);
      accountsSettled.push((await checkInvariant(db, id)) && balance?.reservedMicros === 0n);
    }
    // Who took each destination: HTTP simulators log our client reference, the SMSC its segments.
    const accepted: ChaosObservations['accepted'] = [
      ...twilio.acceptedSubmissions().map((s) => ({ carrier: 'twilio-sim', ...s })),
      ...vonage.acceptedSubmissions().map((s) => ({ carrier: 'vonage-sim', ...s })),
      ...smsc.segments().map((s) => ({ carrier: 'smpp-sim', to: s.to })),
    ];
    const byStatus: Record<string, number> = {};
    for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const result: ChaosFigures = {
      messages,
      byStatus,
      seconds: Math.round((Date.now() - started) / 1000),
      ...figures,
      serviceUnavailable: fivexx.filter((f) => f.status === 503).length,
      violations: judgeChaos({
        expectedKeys: [...Array(messages).keys()].map((i) => `chaos-${runId}-${i}`),
        rows: rows.map((r) => ({
          id: r.id,
          status: r.status,
          idempotencyKey: r.idempotency_key,
          priceMicros: r.price_micros ?? 0n,
        })),
        captures: captures.rows.map((c) => ({
          messageId: c.message_id,
          count: Number(c.n),
          totalMicros: BigInt(c.total),
        })),
        accountsSettled,
        accepted,
        responses5xx: fivexx,
        idsByKey,
        gaveUp,
        apiExitMs: figures.apiExitMs,
      }),
    };
    await stack.stop();
    return result;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** What a run saw, for {@link judgeChaos}. */
export interface ChaosObservations {
  /** Every Idempotency-Key the clients sent (one per message). */
  readonly expectedKeys: readonly string[];
  /** The message rows of the run's accounts. */
  readonly rows: readonly {
    readonly id: string;
    readonly status: MessageStatus;
    readonly idempotencyKey: string | null;
    readonly priceMicros: bigint;
  }[];
  /** Capture entries per message and leg. */
  readonly captures: readonly {
    readonly messageId: string;
    readonly count: number;
    readonly totalMicros: bigint;
  }[];
  /** Per account: the ledger identity holds and nothing is reserved. */
  readonly accountsSettled: readonly boolean[];
  /** Every submission a carrier took: which carrier, the destination, our client reference. */
  readonly accepted: readonly {
    readonly carrier: string;
    readonly to: string;
    readonly clientRef?: string;
  }[];
  readonly responses5xx: readonly { readonly status: number; readonly retryAfter: string | null }[];
  /** Message ids the API answered per Idempotency-Key. */
  readonly idsByKey: ReadonlyMap<string, ReadonlySet<string>>;
  /** Sends a client gave up on. */
  readonly gaveUp: number;
  readonly apiExitMs: readonly number[];
}

/** Counts every violation of the run's promises in what it saw (pure, so a test can feed it faults). */
export function judgeChaos(o: ChaosObservations): ChaosFigures['violations'] {
  const keysWithRow = new Set(o.rows.map((r) => r.idempotencyKey));
  const unsent = o.expectedKeys.filter((k) => !keysWithRow.has(k)).length;
  const notTerminal = o.rows.filter((r) => !TERMINAL_STATUSES.has(r.status)).length;

  const capturedBy = new Map<string, bigint>();
  for (const c of o.captures)
    capturedBy.set(c.messageId, (capturedBy.get(c.messageId) ?? 0n) + c.totalMicros);
  const doubleCharged =
    o.captures.filter((c) => c.count > 1).length +
    o.rows.filter((r) => TERMINAL_STATUSES.has(r.status) && r.priceMicros !== (capturedBy.get(r.id) ?? 0n))
      .length;

  const digits = (n: string): string => n.replace(/\D/g, '');
  const carriersOf = new Map<string, Set<string>>();
  const refsOf = new Map<string, Set<string>>();
  for (const a of o.accepted) {
    const to = digits(a.to);
    carriersOf.set(to, (carriersOf.get(to) ?? new Set()).add(a.carrier));
    if (a.clientRef !== undefined) {
      const k = `${a.carrier}|${to}`;
      refsOf.set(k, (refsOf.get(k) ?? new Set()).add(a.clientRef));
    }
  }
  const rowsPerKey = new Map<string | null, number>();
  for (const r of o.rows) rowsPerKey.set(r.idempotencyKey, (rowsPerKey.get(r.idempotencyKey) ?? 0) + 1);

  return {
    lost: unsent + o.gaveUp + notTerminal,
    doubleCharged,
    blindDuplicates: [...carriersOf.values()].filter((c) => c.size > 1).length,
    resubmissionsWithoutSameReference: [...refsOf.values()].filter((r) => r.size > 1).length,
    booksOff: o.accountsSettled.filter((ok) => !ok).length,
    bad5xx: o.responses5xx.filter((f) => f.status !== 503 || f.retryAfter === null).length,
    idempotencyBroken:
      [...o.idsByKey.values()].filter((ids) => ids.size > 1).length +
      [...rowsPerKey.values()].filter((n) => n > 1).length,
    slowApiExits: o.apiExitMs.filter((ms) => ms > API_EXIT_LIMIT_MS).length,
  };
}

/** A run with nothing wrong. */
export const NO_VIOLATIONS: ChaosFigures['violations'] = {
  lost: 0,
  doubleCharged: 0,
  blindDuplicates: 0,
  resubmissionsWithoutSameReference: 0,
  booksOff: 0,
  bad5xx: 0,
  idempotencyBroken: 0,
  slowApiExits: 0,
};

/** The figures as lines for a terminal and a report. */
export function formatChaos(f: ChaosFigures): string {
  const v = f.violations;
  return [
    `messages ${f.messages} in ${f.seconds} s: ${Object.entries(f.byStatus)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `worker kills ${f.workerKills}, Temporal restarts ${f.temporalRestarts}, PostgreSQL backends terminated ${f.postgresBackendsTerminated}, carrier down ${f.carrierDownMs / 1000} s, receipt storm ${f.receiptStormMs / 1000} s, API restarts ${f.apiRestarts} (exit ${f.apiExitMs.join(', ')} ms)`,
    `503s with Retry-After ${f.serviceUnavailable}`,
    `lost ${v.lost}, double-charged ${v.doubleCharged}, blind duplicates ${v.blindDuplicates}, resubmissions without the same reference ${v.resubmissionsWithoutSameReference}, books off ${v.booksOff}, other 5xx ${v.bad5xx}, idempotency broken ${v.idempotencyBroken}, slow API exits ${v.slowApiExits}`,
  ].join('\n');
}

/** True when every violation count is 0. */
export function chaosPassed(f: ChaosFigures): boolean {
  return Object.values(f.violations).every((n) => n === 0);
}

/**
 * Starts a process until it gets ready, as a process manager would: one that exits at start (its
 * Temporal or database is restarting just then) is started again after a second, ten times at most.
 */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '10' },
      validity: { type: 'string', default: '60' },
    },
  });
  const figures = await runChaos({
    messages: Number(values.messages),
    rate: Number(values.rate),
    validitySeconds: Number(values.validity),
  });
  const text = formatChaos(figures);
  const passed = chaosPassed(figures);
  console.log(`\n${text}\n${passed ? 'PASSED' : 'FAILED'}`);
  const dir = join(projectRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(join(dir, `chaos-${stamp}.json`), `${JSON.stringify({ ...figures, passed }, null, 2)}\n`);
  process.exitCode = passed ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
