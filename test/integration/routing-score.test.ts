/**
 * The live route score and circuit breaker on the whole stack (DESIGN §6): carrier A (Twilio)
 * delivers 95 %, carrier B (Vonage) 60 % at a lower price. After a warm-up most traffic goes to
 * A; when A starts failing its circuit opens and traffic moves to B; when A recovers, a probe
 * after the cool-down closes the circuit and A wins its traffic back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const US = '+14155552671';
const COOL_DOWN_MS = 3_000;

let stack: Stack;
let api: ReturnType<typeof apiClient>;
let apiKey: string;
const admin = () => apiClient(stack.apiUrl, ADMIN_KEY);

beforeAll(async () => {
  stack = await startStack({
    prices: { twilio: { US: '0.007900' }, vonage: { US: '0.006000' } },
    // Fixed dice: with random ones the warm-up's moving averages (alpha 0.1, ~60 receipts) put the
    // routes in the wrong order about one run in twenty (A 95 % delivered estimated at 0.82, B 60 % at 0.68).
    seed: 1234,
    twilio: {
      receipts: { delivered: 95, undelivered: 5, failed: 0, expired: 0, none: 0 },
      receiptDelayMs: 20,
    },
    vonage: {
      receipts: { delivered: 60, undelivered: 40, failed: 0, expired: 0, none: 0 },
      receiptDelayMs: 20,
    },
    routing: { coolDownMs: COOL_DOWN_MS, failureThreshold: 5, explorationShare: 0.05, statsFlushMs: 100 },
  });
  const account = await createFundedAccount(stack.apiUrl, '20.00');
  apiKey = account.apiKey;
  api = apiClient(stack.apiUrl, apiKey);
});
afterAll(async () => {
  await stack?.stop();
});

/** Sends `n` messages, `parallel` at a time, each settled before the next wave; returns A's share of submissions. */
async function phase(
  n: number,
  parallel = 5,
): Promise<{ shareA: number; a: number; b: number; statuses: string[] }> {
  const a0 = stack.twilio.stats().submissions;
  const b0 = stack.vonage.stats().submissions;
  const statuses: string[] = [];
  for (let sent = 0; sent < n; sent += parallel) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(parallel, n - sent) }, () =>
        api('POST', '/v1/messages', { to: US, body: 'score' }),
      ),
    );
    const done = await Promise.all(
      wave.map((res) => {
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        return waitForMessage(stack.apiUrl, apiKey, res.body.id, terminal);
      }),
    );
    statuses.push(...done.map((m) => m.status));
  }
  const a = stack.twilio.stats().submissions - a0;
  const b = stack.vonage.stats().submissions - b0;
  return { shareA: a / Math.max(1, a + b), a, b, statuses };
}

async function usRoute(carrierId: string) {
  const res = await admin()('GET', '/v1/carriers');
  expect(res.status).toBe(200);
  const carrier = res.body.data.find((c: { id: string }) => c.id === carrierId);
  return carrier.routes.find((r: { country: string }) => r.country === 'US');
}

describe('live route score and circuit breaker', () => {
  it('moves traffic to the route that delivers, away from a failing one, and back', async () => {
    // Warm-up: both routes get receipts (B first: it is cheaper and has no record yet).
    await phase(40);
    const warm = await phase(40);
    console.log(`warm: A ${warm.a}, B ${warm.b} submissions → A share ${(warm.shareA * 100).toFixed(0)} %`);
    const aWarm = await usRoute('twilio-sim');
    const bWarm = await usRoute('vonage-sim');
    console.log('routes after warm-up:', JSON.stringify({ a: aWarm, b: bWarm }));
    expect(warm.shareA).toBeGreaterThan(0.7);
    expect(aWarm.score).toBeGreaterThan(bWarm.score);
    expect(bWarm.inputs.delivery).toBeLessThan(0.85);

    // A fails every submit: within 30 s most traffic is on B and A's circuit is open.
    stack.twilio.setConfig({ mix: { serverError: 1 } });
    const failingSince = Date.now();
    await phase(10);
    const failing = await phase(30);
    console.log(
      `failing: A ${failing.a}, B ${failing.b} submissions → B share ${((1 - failing.shareA) * 100).toFixed(0)} %`,
    );
    expect(Date.now() - failingSince).toBeLessThan(30_000);
    expect(1 - failing.shareA).toBeGreaterThan(0.7);
    expect(failing.statuses.filter((s) => s === 'failed')).toEqual([]);
    const aOpen = await usRoute('twilio-sim');
    expect(aOpen.circuit.state).not.toBe('closed');
    expect(aOpen.circuit.openedAt).not.toBeNull();
    expect(aOpen.consecutiveFailures).toBeGreaterThanOrEqual(5);

    // A recovers: after the cool-down one probe closes its circuit and A wins its traffic back.
    stack.twilio.setConfig({ mix: { accept: 1 } });
    await new Promise((r) => setTimeout(r, COOL_DOWN_MS));
    await phase(10);
    const recovered = await phase(40);
    console.log(
      `recovered: A ${recovered.a}, B ${recovered.b} submissions → A share ${(recovered.shareA * 100).toFixed(0)} %`,
    );
    expect(recovered.shareA).toBeGreaterThan(0.7);
    const aBack = await usRoute('twilio-sim');
    expect(aBack.circuit.state).toBe('closed');
    expect(aBack.consecutiveFailures).toBe(0);
  }, 120_000);
});
