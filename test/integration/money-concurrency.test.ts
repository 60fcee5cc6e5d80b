/**
 * Issue 4, "done when" 1: 500 sends started at once on an account that can pay for exactly 300.
 * Whole stack; the simulators accept at once and hold receipts, so all 300 reservations are open
 * together and the remaining sends race against a full account. A separate connection samples the account row every few
 * milliseconds during the run, and the ledger's after-balances record every state the account
 * ever passed through; both must show reserved ≤ 300 × price and nothing below zero. Sends the
 * API pre-check refuses get 402 and leave no row; sends that pass it but lose the reservation
 * race in the workflow end `failed` / `insufficient_funds`; neither is charged.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariant } from '../../db/ledger.ts';
import { formatMoney, parseMoney } from '../../domain/money.ts';
import { TEST_PG_ADMIN_URL } from '../support/db.ts';
import { ADMIN_KEY, apiClient, createFundedAccount, type Stack, startStack } from '../support/stack.ts';

const SENDS = 500;
const AFFORDABLE = 300;
const PRICE = '0.010000';
const CREDIT = '3.000000';
const TO = '+14155552671';
const TERMINAL = ['delivered', 'undelivered', 'failed', 'expired', 'canceled'];
/**
 * Carriers answer at once but hold every receipt for a while, so reservations pile up instead of
 * being captured as fast as they land: the account reaches its ceiling while sends still race.
 */
const HOLD_RECEIPTS = { latencyMs: 0, receiptDelayMs: 30_000 };

let stack: Stack;
let sampler: pg.Client;

beforeAll(async () => {
  stack = await startStack({
    twilio: HOLD_RECEIPTS,
    vonage: HOLD_RECEIPTS,
    // Throughput is not under test here: let the carriers take the burst at once.
    carriers: { twilio: { tps: 5_000 }, vonage: { tps: 5_000 } },
  });
  // Its own connection, so sampling never waits behind the stack's pool (and never slows it).
  const { name } = await stack.db
    .selectNoFrom((eb) => eb.fn<string>('current_database', []).as('name'))
    .executeTakeFirstOrThrow();
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  sampler = new pg.Client({ connectionString: url.toString() });
  await sampler.connect();
}, 120_000);
afterAll(async () => {
  await sampler?.end();
  await stack?.stop();
});

interface Sample {
  available: bigint;
  reserved: bigint;
}

/** Reads the account row every `everyMs` until stopped. */
function sampleBalance(accountId: string, everyMs: number): { stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await sampler.query<{ a: string; r: string }>(
        'select available_micros::text as a, reserved_micros::text as r from accounts where id = $1',
        [accountId],
      );
      const row = rows[0];
      if (row) samples.push({ available: BigInt(row.a), reserved: BigInt(row.r) });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

async function statusCounts(accountId: string): Promise<Map<string, number>> {
  const rows = await stack.db
    .selectFrom('messages')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .where('account_id', '=', accountId)
    .groupBy('status')
    .execute();
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

describe('500 sends racing on an account that can pay for 300', () => {
  it('never reserves more than it holds, never goes negative, and charges only what was delivered', async () => {
    const admin = apiClient(stack.apiUrl, ADMIN_KEY);
    for (const carrier of ['twilio-sim', 'vonage-sim']) {
      const res = await admin('PUT', `/v1/prices/${carrier}/US`, { price: PRICE });
      expect(res.status).toBe(200);
    }
    const account = await createFundedAccount(stack.apiUrl, CREDIT);
    const api = apiClient(stack.apiUrl, account.apiKey);
    // What one send reserves is the worst case over the eligible routes: the quote's max.
    const quote = await api('POST', '/v1/messages/quote', { to: TO, body: 'race 0' });
    expect(quote.status).toBe(200);
    const worst = parseMoney(quote.body.price.max);
    expect(parseMoney(CREDIT) / worst).toBe(BigInt(AFFORDABLE));
    const ceiling = worst * BigInt(AFFORDABLE);

    const sampling = sampleBalance(account.id, 3);
    const startedAt = Date.now();
    // All 500 requests leave before the first answer comes back.
    const answers = await Promise.all(
      Array.from({ length: SENDS }, (_, i) => api('POST', '/v1/messages', { to: TO, body: `race ${i}` })),
    );
    const acceptedMs = Date.now() - startedAt;
    const accepted = answers.filter((a) => a.status === 202).map((a) => a.body.id as string);
    const refused = answers.filter((a) => a.status === 402);
    expect(
      accepted.length + refused.length,
      JSON.stringify(answers.find((a) => ![202, 402].includes(a.status))),
    ).toBe(SENDS);
    for (const r of refused) expect(r.body.error.code).toBe('insufficient_funds');
    // Only a send that could have been afforded when it was checked passes the pre-check, and
    // money only runs out once 300 reservations have landed, so at least 300 got through.
    expect(accepted.length).toBeGreaterThanOrEqual(AFFORDABLE);

    // Every accepted message reaches a final status.
    const deadline = Date.now() + 240_000;
    let counts = await statusCounts(account.id);
    while ([...counts].some(([status, n]) => n > 0 && !TERMINAL.includes(status)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      counts = await statusCounts(account.id);
    }
    const settledMs = Date.now() - startedAt;
    const samples = await sampling.stop();

    // 402s left no message behind; every 202 did.
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(accepted.length);
    expect(counts.get('delivered'), JSON.stringify([...counts])).toBe(AFFORDABLE);
    expect(counts.get('failed') ?? 0).toBe(accepted.length - AFFORDABLE);

    // At every sample: nothing negative, never more than 300 messages' worth reserved.
    expect(samples.length).toBeGreaterThan(20);
    let maxReserved = 0n;
    for (const s of samples) {
      expect(s.available).toBeGreaterThanOrEqual(0n);
      expect(s.reserved).toBeGreaterThanOrEqual(0n);
      expect(s.reserved).toBeLessThanOrEqual(ceiling);
      if (s.reserved > maxReserved) maxReserved = s.reserved;
    }
    // The ledger holds the balance after every change: the same holds for every state ever taken.
    const entries = await stack.db
      .selectFrom('ledger_entries')
      .select(['kind', 'message_id', 'amount_micros', 'available_after_micros', 'reserved_after_micros'])
      .where('account_id', '=', account.id)
      .orderBy('id')
      .execute();
    let maxReservedEver = 0n;
    for (const e of entries) {
      expect(e.available_after_micros).toBeGreaterThanOrEqual(0n);
      expect(e.reserved_after_micros).toBeGreaterThanOrEqual(0n);
      expect(e.reserved_after_micros).toBeLessThanOrEqual(ceiling);
      if (e.reserved_after_micros > maxReservedEver) maxReservedEver = e.reserved_after_micros;
    }
    // Receipts were held, so the account did fill up: the ceiling was reached and never passed.
    expect(maxReservedEver).toBe(ceiling);
    expect(await checkInvariant(stack.db, account.id)).toBe(true);

    // Exactly once: 300 reservations, each captured in full once, nothing else charged.
    const byKind = (kind: string) => entries.filter((e) => e.kind === kind);
    expect(byKind('reserve')).toHaveLength(AFFORDABLE);
    expect(byKind('capture')).toHaveLength(AFFORDABLE);
    expect(byKind('release')).toHaveLength(0);
    const captured = byKind('capture').reduce((sum, e) => sum + e.amount_micros, 0n);
    expect(captured).toBe(BigInt(counts.get('delivered') ?? 0) * parseMoney(PRICE));
    const delivered = await stack.db
      .selectFrom('messages')
      .select(['id', 'price_micros'])
      .where('account_id', '=', account.id)
      .where('status', '=', 'delivered')
      .execute();
    const capturedFor = new Set(byKind('capture').map((e) => e.message_id));
    for (const m of delivered) {
      expect(capturedFor.has(m.id)).toBe(true);
      expect(m.price_micros).toBe(parseMoney(PRICE));
    }

    // The losers of the race: failed, insufficient_funds, no ledger row of any kind.
    const failed = await stack.db
      .selectFrom('messages')
      .select(['id', 'error_code', 'price_micros'])
      .where('account_id', '=', account.id)
      .where('status', '=', 'failed')
      .execute();
    const touched = new Set(entries.map((e) => e.message_id));
    for (const m of failed) {
      expect(m.error_code).toBe('insufficient_funds');
      expect(m.price_micros ?? 0n).toBe(0n);
      expect(touched.has(m.id)).toBe(false);
    }

    // The books through the API: 3.00 − 300 × 0.01 leaves nothing, and the ledger agrees.
    const balance = (await api('GET', '/v1/balance')).body;
    expect(balance).toEqual({ available: '0.000000', reserved: '0.000000', currency: 'USD' });
    const newest = (await api('GET', '/v1/ledger?limit=1')).body.data[0];
    expect({ available: newest.available, reserved: newest.reserved }).toEqual({
      available: balance.available,
      reserved: balance.reserved,
    });

    console.info(
      `[money-concurrency] ${SENDS} sends: ${accepted.length} × 202 (all answered in ${acceptedMs} ms), ` +
        `${refused.length} × 402; ${counts.get('delivered')} delivered, ${failed.length} failed insufficient_funds ` +
        `(settled in ${settledMs} ms); ${samples.length} samples, max reserved sampled ${formatMoney(maxReserved)}, ` +
        `max reserved in the ledger ${formatMoney(maxReservedEver)} (ceiling ${formatMoney(ceiling)})`,
    );
  }, 300_000);
});
