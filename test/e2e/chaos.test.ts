/**
 * The short form of `npm run chaos` (bench/chaos.ts): 200 messages across Twilio, Vonage and the
 * SMPP bind against the production shape (Temporal on a file, PostgreSQL, API and worker processes)
 * while the worker is SIGKILLed every 5–10 s, Temporal restarts once, every PostgreSQL backend is
 * terminated once, Twilio is down for 10 s, receipts come twice for 10 s and the API is restarted
 * with SIGTERM under load. Nothing lost, nothing charged twice, no message sent by two carriers,
 * books exact, only 503s with Retry-After, one message per Idempotency-Key, the API out in < 5 s.
 */
import { expect, it } from 'vitest';
import { type ChaosFigures, formatChaos, NO_VIOLATIONS, runChaos } from '../../bench/chaos.ts';

it('200 messages through the chaos schedule: every violation count is 0', async () => {
  const figures: ChaosFigures = await runChaos({
    messages: 200,
    rate: 10,
    validitySeconds: 30,
    log: () => {},
  });
  console.log(formatChaos(figures));
  // The schedule really ran.
  expect(figures.workerKills).toBeGreaterThanOrEqual(1);
  expect(figures.temporalRestarts).toBe(1);
  expect(figures.postgresBackendsTerminated).toBeGreaterThanOrEqual(1);
  expect(figures.apiRestarts).toBe(1);
  expect(Object.values(figures.byStatus).reduce((a, b) => a + b, 0)).toBe(200);
  expect(figures.violations).toEqual(NO_VIOLATIONS);
}, 600_000);
