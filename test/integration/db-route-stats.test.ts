/**
 * The batched route-stats upsert against PostgreSQL: the folded EWMA equals applying outcomes one
 * by one, and the SQL circuit rules match domain/circuit.ts; plus the shared send pacing.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { upsertCarrier } from '../../db/carriers.ts';
import { reserveSendSlot } from '../../db/rate-limit.ts';
import { applyRouteStatsBatch, claimProbe, listRoutes } from '../../db/route-stats.ts';
import { updateEwma } from '../../domain/routing.ts';
import { foldObservations } from '../../workers/route-stats-buffer.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let t: TestDatabase;
const circuit = { failureThreshold: 3, coolDownMs: 200 };
const submits = (...oks: boolean[]) => oks.map((ok) => ({ type: 'submit' as const, ok, latencyMs: 100 }));
const apply = (list: ReturnType<typeof submits>) =>
  applyRouteStatsBatch(t.db, foldObservations('c1', 'US', list, 0.5), circuit);

beforeAll(async () => {
  t = await createTestDatabase();
  await upsertCarrier(t.db, { id: 'c1', kind: 'twilio', config: {}, tps: 10, enabled: true });
  await t.db
    .insertInto('carrier_prices')
    .values({ carrier_id: 'c1', country: 'US', price_micros: 7_900n, enabled: true })
    .execute();
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(async () => {
  await t.db.deleteFrom('route_stats').execute();
});

async function route() {
  const [r] = await listRoutes(t.db, 'US');
  if (!r) throw new Error('no route');
  return r;
}

describe('applyRouteStatsBatch', () => {
  it('folds a batch exactly like one-by-one EWMA updates', async () => {
    const outcomes = [true, false, false, true, false];
    await apply(submits(...outcomes.slice(0, 2)));
    await apply(submits(...outcomes.slice(2)));
    const expected = outcomes.reduce((p, ok) => updateEwma(p, ok, 0.5), 1);
    const r = await route();
    expect(r.acceptanceEwma).toBeCloseTo(expected, 12);
    expect(r.attempts).toBe(5);
    expect(r.circuit.consecutiveFailures).toBe(1);
    expect(r.submitLatencyMs).toBeCloseTo(100, 9);
  });

  it('opens at the threshold across batches, hands out one probe, closes on success', async () => {
    expect((await apply(submits(false, false))).state).toBe('closed');
    const opened = await apply(submits(false));
    expect(opened.state).toBe('open');
    expect(opened.openedAt).not.toBeNull();
    expect(await claimProbe(t.db, { carrierId: 'c1', country: 'US', coolDownMs: 200 })).toBe(false);
    await new Promise((r) => setTimeout(r, 250));
    expect(await claimProbe(t.db, { carrierId: 'c1', country: 'US', coolDownMs: 200 })).toBe(true);
    expect(await claimProbe(t.db, { carrierId: 'c1', country: 'US', coolDownMs: 200 })).toBe(false);
    const closed = await apply(submits(true));
    expect(closed).toEqual({ state: 'closed', consecutiveFailures: 0, openedAt: null, probeStartedAt: null });
    // Back from an outage, acceptance restarts from the prior.
    expect((await route()).acceptanceEwma).toBe(1);
  });

  it('a failed probe re-opens with a fresh cool-down; failures inside it only count', async () => {
    const opened = await apply(submits(false, false, false));
    const inside = await apply(submits(false));
    expect(inside.openedAt).toBe(opened.openedAt);
    expect(inside.consecutiveFailures).toBe(4);
    await new Promise((r) => setTimeout(r, 250));
    expect(await claimProbe(t.db, { carrierId: 'c1', country: 'US', coolDownMs: 200 })).toBe(true);
    const reopened = await apply(submits(false));
    expect(reopened.state).toBe('open');
    expect(reopened.openedAt ?? 0).toBeGreaterThan(opened.openedAt ?? 0);
    expect(reopened.probeStartedAt).toBeNull();
  });

  it('records receipts: delivery EWMA and receipt latency', async () => {
    await applyRouteStatsBatch(
      t.db,
      foldObservations(
        'c1',
        'US',
        [
          { type: 'receipt', delivered: false, latencyMs: 1_000 },
          { type: 'receipt', delivered: true, latencyMs: 3_000 },
        ],
        0.5,
      ),
      circuit,
    );
    const r = await route();
    expect(r.deliveryEwma).toBeCloseTo(0.75, 12);
    expect(r.receipts).toBe(2);
    // Weighted mean of the first batch: (0.25·1000 + 0.5·3000) / 0.75.
    expect(r.receiptLatencyMs).toBeCloseTo(7_000 / 3, 6);
    expect(r.circuit.state).toBe('closed');
  });
});

describe('reserveSendSlot', () => {
  it('hands out back-to-back slots of segments / rate, and refuses beyond the horizon', async () => {
    const a = await reserveSendSlot(t.db, { carrierId: 'c1', segments: 2, segmentsPerSecond: 10 });
    const b = await reserveSendSlot(t.db, { carrierId: 'c1', segments: 3, segmentsPerSecond: 10 });
    if (!a.ok || !b.ok) throw new Error('expected slots');
    expect(a.slotMs).toBe(200);
    expect(b.startAtMs - a.startAtMs).toBeCloseTo(200, 6);
    const refused = await reserveSendSlot(t.db, {
      carrierId: 'c1',
      segments: 1,
      segmentsPerSecond: 10,
      maxWaitMs: 100,
    });
    expect(refused.ok).toBe(false);
  });
});
