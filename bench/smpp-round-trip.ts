/**
 * `npm run bench:smpp`: SMPP round trips on one bind over loopback — Herald's adapter and session
 * (adapters/smpp.ts, smpp-session.ts), as the worker builds them, against the SMSC simulator,
 * receipts at once. For each
 * concurrency it sends `--messages` submits and reports the `submit_sm` → `submit_sm_resp` and
 * the `submit_sm` → receipt `deliver_sm` times (p50, p99) and the submits per second.
 *
 * Each run is measured twice: as shipped (both ends call `setNoDelay(true)`), then with Nagle's
 * algorithm left on at both ends, as before that change — a small PDU written while the previous
 * one is unacknowledged waits for the peer's delayed ACK (~40 ms on Linux). Writes
 * bench/results/smpp-rtt-<YYYY-MM-DD-HHmm>.json and latest-smpp-rtt.md.
 */
import net from 'node:net';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { createSmppAdapter, receiptIdBases, smppConfigSchema, smppSessionOptions } from '../adapters/smpp.ts';
import { parseDeliverSmReceipt } from '../adapters/smpp-receipts.ts';
import { SmppSession } from '../adapters/smpp-session.ts';
import { startSmscSimulator } from '../simulators/smsc-sim.ts';
import { writeResultFiles } from './report.ts';
import { summarize } from './stats.ts';

const RESULTS_DIR = join(import.meta.dirname, 'results');
const CREDS = { systemId: 'bench', password: 'bench' };

const argsSchema = z.object({
  messages: z.coerce.number().int().min(10).max(100_000).default(300),
  concurrency: z
    .string()
    .default('1,8')
    .transform((s) => s.split(',').map((n) => Number(n)))
    .pipe(z.array(z.number().int().min(1).max(10)).min(1)),
});

interface RunFigures {
  readonly mode: 'no-delay' | 'nagle';
  readonly concurrency: number;
  readonly submits: number;
  readonly receipts: number;
  readonly submitsPerSecond: number;
  readonly submitMs: { readonly p50: number; readonly p99: number };
  readonly receiptMs: { readonly p50: number; readonly p99: number };
}

/** One bind, `count` submits with `concurrency` in flight, each waiting for its receipt. */
async function measure(mode: RunFigures['mode'], concurrency: number, count: number): Promise<RunFigures> {
  const sim = await startSmscSimulator({ credentials: CREDS, seed: 1, control: false });
  sim.setConfig({ receiptDelayMs: 0 });
  // The simulator answers ids in hex and names them in decimal in its receipts.
  const config = smppConfigSchema.parse({
    host: sim.host,
    port: sim.port,
    ...CREDS,
    idBase: 'hex',
    receiptIdBase: 'decimal',
  });
  const bases = receiptIdBases(config);
  const receiptAt = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  // The worker's shape: its session for this carrier, and the adapter submitting through it.
  const session = new SmppSession({
    ...smppSessionOptions(config),
    async onReceipt(pdu) {
      const { carrierMessageId } = parseDeliverSmReceipt(pdu, bases);
      receiptAt.set(carrierMessageId, performance.now());
      waiting.get(carrierMessageId)?.();
    },
  });
  const adapter = createSmppAdapter(config, { session });
  try {
    session.start();
    if (!(await session.waitForBind(5_000))) throw new Error('no bind');
    const submitMs: number[] = [];
    const receiptMs: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          const t0 = performance.now();
          const r = await adapter.submit({
            messageId: `bench_${i}`,
            to: '+14155550100',
            from: 'Herald',
            body: `round trip ${i}`,
            encoding: 'GSM-7',
            segments: 1,
            validitySeconds: 600,
            statusCallbackUrl: '',
          });
          if (!r.ok) throw new Error(`submit ${i}: ${r.error.message}`);
          submitMs.push(performance.now() - t0);
          const id = r.carrierMessageId;
          if (!receiptAt.has(id)) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2_000);
              waiting.set(id, () => {
                clearTimeout(t);
                resolve();
              });
            });
          }
          const at = receiptAt.get(id);
          if (at !== undefined) receiptMs.push(at - t0);
        }
      }),
    );
    const wallSec = (performance.now() - started) / 1000;
    const s = summarize(submitMs);
    const rc = summarize(receiptMs);
    return {
      mode,
      concurrency,
      submits: submitMs.length,
      receipts: receiptMs.length,
      submitsPerSecond: submitMs.length / wallSec,
      submitMs: { p50: s.p50, p99: s.p99 },
      receiptMs: { p50: rc.p50, p99: rc.p99 },
    };
  } finally {
    await session.close();
    await sim.close();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { messages: { type: 'string' }, concurrency: { type: 'string' } },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(`bad flags: ${z.prettifyError(parsed.error)}`);
    return 2;
  }
  const args = parsed.data;
  const startedAt = new Date().toISOString();
  const runs: RunFigures[] = [];
  for (const c of args.concurrency) runs.push(await measure('no-delay', c, args.messages));
  // As before the change: every setNoDelay(true) from here on is ignored (Nagle stays on).
  const original = net.Socket.prototype.setNoDelay;
  net.Socket.prototype.setNoDelay = function (this: net.Socket) {
    return this;
  };
  try {
    for (const c of args.concurrency) runs.push(await measure('nagle', c, args.messages));
  } finally {
    net.Socket.prototype.setNoDelay = original;
  }
  const f = (n: number): string => n.toFixed(2);
  const rows = runs.map(
    (r) =>
      `| ${r.mode} | ${r.concurrency} | ${r.submits} | ${f(r.submitMs.p50)} / ${f(r.submitMs.p99)} | ${f(r.receiptMs.p50)} / ${f(r.receiptMs.p99)} (${r.receipts}) | ${r.submitsPerSecond.toFixed(0)} |`,
  );
  const markdown = (jsonFile: string): string => `# SMPP round trips — ${startedAt}

\`npm run bench:smpp -- --messages ${args.messages} --concurrency ${args.concurrency.join(',')}\`: one bind over
loopback, Herald's SMPP adapter and session against the SMSC simulator (receipts at once). \`no-delay\` is as
shipped (both ends \`setNoDelay(true)\`); \`nagle\` leaves Nagle's algorithm on at both ends, as before.
Raw figures: \`bench/results/${jsonFile}\`.

| mode | in flight | submits | submit → resp, ms p50 / p99 | submit → receipt, ms p50 / p99 (receipts) | submits/s (each awaits its receipt) |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
  const written = await writeResultFiles(
    { startedAt, args, runs },
    startedAt,
    RESULTS_DIR,
    'smpp-rtt',
    markdown,
  );
  console.log(markdown(basename(written.json)));
  return 0;
}

process.exitCode = await main();
