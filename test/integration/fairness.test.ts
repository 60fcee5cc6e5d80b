/**
 * Fairness within a lane (issue 9, DESIGN §9): the account id is the run's Temporal fairness key,
 * so when account A has flooded 1,000 `normal` messages and account B then sends 100, the server
 * hands out tasks in turn between the two accounts instead of first come, first served: all of B's
 * hundred are sent before half of A's backlog is. (First come, first served would send B's last
 * message after A's whole backlog.)
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { timeline, unsent } from '../support/lane-scenario.ts';
import { apiClient, createFundedAccount, type Stack, startStack } from '../support/stack.ts';

const FLOOD = 1_000;
const LATECOMER = 100;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ twilio: { receiptDelayMs: 10 }, vonage: { receiptDelayMs: 10 } });
});
afterAll(async () => {
  await stack?.stop();
});

/** Sends `n` messages from `key`, `inFlight` requests at a time; every one must be accepted. */
async function flood(key: string, n: number, inFlight: number): Promise<void> {
  const api = apiClient(stack.apiUrl, key);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        const i = next++;
        const res = await api('POST', '/v1/messages', { to: '+14155552671', body: `fair ${i}` });
        if (res.status !== 202) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
      }
    }),
  );
}

it(`sends all of B's ${LATECOMER} before half of A's backlog of ${FLOOD}`, async () => {
  const a = await createFundedAccount(stack.apiUrl, '100.00');
  const b = await createFundedAccount(stack.apiUrl, '100.00');
  await flood(a.apiKey, FLOOD, 32);
  const backlogAtB = await unsent(stack.db, a.id);
  const bStartedMs = Date.now();
  await flood(b.apiKey, LATECOMER, 10);

  const deadline = Date.now() + 240_000;
  while ((await unsent(stack.db, a.id)) + (await unsent(stack.db, b.id)) > 0) {
    if (Date.now() > deadline) throw new Error('the messages were not sent in time');
    await new Promise((r) => setTimeout(r, 250));
  }
  const aRows = await timeline(stack.db, a.id);
  const bRows = await timeline(stack.db, b.id);
  const lastB = Math.max(...bRows.map((r) => r.sentMs ?? Number.POSITIVE_INFINITY));
  // A's backlog: its messages still unsent when B began (by the database clock, the stored rows).
  const firstB = Math.min(...bRows.map((r) => r.createdMs));
  const backlog = aRows.filter((r) => r.sentMs === null || r.sentMs > firstB);
  const backlogSentBeforeLastB = backlog.filter((r) => r.sentMs !== null && r.sentMs <= lastB).length;
  console.log(
    `[fairness] A's backlog when B began: ${backlog.length} (counted ${backlogAtB} just before); ` +
      `B's ${bRows.length} all sent ${((lastB - firstB) / 1000).toFixed(1)} s after B began ` +
      `(${Date.now() - bStartedMs} ms wall to drain all); A's backlog sent by then: ${backlogSentBeforeLastB}`,
  );
  expect(bRows).toHaveLength(LATECOMER);
  expect(bRows.every((r) => r.sentMs !== null)).toBe(true);
  // A real backlog, or the test proves nothing.
  expect(backlog.length).toBeGreaterThanOrEqual(FLOOD / 2);
  expect(backlogSentBeforeLastB).toBeLessThan(backlog.length / 2);
}, 300_000);
