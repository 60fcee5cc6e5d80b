/**
 * The worker process is SIGKILLed while a submit is in flight, then restarted: the message still
 * completes exactly once, the carrier sees one submission, and the account is charged once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listEntriesForMessage } from '../support/ledger.ts';
import { apiClient, createFundedAccount, type Stack, startStack, waitForMessage } from '../support/stack.ts';

let stack: Stack;
beforeAll(async () => {
  // A slow carrier, so the kill lands while the HTTP request is open.
  stack = await startStack({ workerProcess: true, twilio: { latencyMs: 2_000, receiptDelayMs: 100 } });
});
afterAll(async () => {
  await stack?.stop();
});

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('a worker killed mid-send and restarted completes the message once and charges it once', async () => {
  const account = await createFundedAccount(stack.apiUrl, '1.00');
  const api = apiClient(stack.apiUrl, account.apiKey);
  const res = await api('POST', '/v1/messages', { to: '+14155552671', body: 'crash test' });
  expect(res.status).toBe(202);

  // The simulator has the request; the worker is waiting for the reply. Generous bounds: in the
  // full suite this runs beside the 1,500-message lane tests, which can starve it for a while.
  await waitFor(() => stack.twilio.stats().submissions === 1, 120_000);
  stack.killWorker();
  await new Promise((r) => setTimeout(r, 500));
  await stack.startWorker();

  const msg = await waitForMessage(
    stack.apiUrl,
    account.apiKey,
    res.body.id,
    (m) => m.status === 'delivered',
    120_000,
  );
  expect(msg.carrier).toBe('twilio-sim');
  expect(msg.price).toBe('0.007900');
  expect(stack.twilio.stats().submissions).toBe(1);
  expect(stack.twilio.stats().duplicates).toBe(0);
  expect(stack.vonage.stats().submissions).toBe(0);

  const entries = await listEntriesForMessage(stack.db, msg.id);
  expect(entries.filter((e) => e.kind === 'reserve')).toHaveLength(1);
  expect(entries.filter((e) => e.kind === 'capture')).toEqual([{ kind: 'capture', amount: '0.007900' }]);
  const balance = await api('GET', '/v1/balance');
  expect(balance.body).toMatchObject({ available: '0.992100', reserved: '0.000000' });
  const delivered = msg.events.filter((e: { status: string }) => e.status === 'delivered');
  expect(delivered).toHaveLength(1);
}, 300_000);
