/**
 * Failover on receipt (issue 4): a negative receipt whose error code the carrier lists in
 * `failoverReceiptCodes` makes the workflow try the next route once, on a second reservation,
 * charging each carrier what it billed. Other receipt codes end the message as before.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkInvariant, FAILOVER_LEG } from '../../db/ledger.ts';
import { listEntriesForMessage } from '../support/ledger.ts';
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

let stack: Stack;
let account: { id: string; apiKey: string };
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startStack({
    // Twilio's 30008 ("unknown error") is the route's fault; 30003 (handset unreachable) is not.
    carriers: { twilio: { config: { failoverReceiptCodes: ['30008'] } } },
    routing: { explorationShare: 0, statsFlushMs: 50 },
  });
  account = await createFundedAccount(stack.apiUrl, '1.00');
  api = apiClient(stack.apiUrl, account.apiKey);
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(async () => {
  stack.vonage.setConfig({ receipts: { delivered: 1 } });
  // Each case starts from fresh route stats (Twilio, the cheaper, first): let the worker's last
  // batch land, then forget it.
  await new Promise((r) => setTimeout(r, 200));
  await stack.db.deleteFrom('route_stats').execute();
});

async function sendAndSettle() {
  const res = await api('POST', '/v1/messages', { to: US, body: 'failover on receipt' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitForMessage(stack.apiUrl, account.apiKey, res.body.id, terminal);
}

describe('failover on receipt', () => {
  it('tries the next route once after a failover receipt code and charges both carriers', async () => {
    stack.twilio.setConfig({ receipts: { failed: 1 } });
    const before = (await api('GET', '/v1/balance')).body;
    const msg = await sendAndSettle();
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('vonage-sim');
    expect(
      msg.attempts.map((a: { carrier: string; outcome: string }) => `${a.carrier}:${a.outcome}`),
    ).toEqual(['twilio-sim:accepted', 'vonage-sim:accepted']);
    // Twilio billed its submission (0.0079), Vonage its own (0.0085).
    expect(msg.price).toBe('0.016400');
    const after = (await api('GET', '/v1/balance')).body;
    expect(Number(before.available) - Number(after.available)).toBeCloseTo(0.0164, 6);
    expect(after.reserved).toBe('0.000000');
    expect(await listEntriesForMessage(stack.db, msg.id)).toEqual([
      { kind: 'reserve', amount: '0.008500' },
      { kind: 'capture', amount: '0.007900' },
      { kind: 'release', amount: '0.000600' },
    ]);
    expect(await listEntriesForMessage(stack.db, msg.id, FAILOVER_LEG)).toEqual([
      { kind: 'reserve', amount: '0.008500' },
      { kind: 'capture', amount: '0.008500' },
    ]);
    // Each leg's charge on the message; the ledger names the message by its public id and its leg.
    expect(msg.charges).toEqual([
      { leg: 'first', captured: '0.007900', refunded: '0.000000' },
      { leg: 'failover', captured: '0.008500', refunded: '0.000000' },
    ]);
    const ledger = (await api('GET', '/v1/ledger')).body.data as Array<{
      messageId: string | null;
      leg: string | null;
      kind: string;
    }>;
    expect(ledger.every((e) => e.messageId === null || /^msg_[a-z0-9]+$/.test(e.messageId))).toBe(true);
    expect(
      ledger
        .filter((e) => e.messageId === msg.id)
        .map((e) => `${e.leg} ${e.kind}`)
        .sort(),
    ).toEqual(['failover capture', 'failover reserve', 'first capture', 'first release', 'first reserve']);
    // A refund sees both legs: the whole 0.0164 can be given back, and no more.
    const admin = apiClient(stack.apiUrl, ADMIN_KEY);
    const tooMuch = await admin('POST', `/v1/accounts/${account.id}/refunds`, {
      messageId: msg.id,
      amount: '0.016401',
    });
    expect(tooMuch.status).toBe(400);
    const refunded = await admin('POST', `/v1/accounts/${account.id}/refunds`, {
      messageId: msg.id,
      amount: '0.016400',
    });
    expect(refunded.status).toBe(200);
    const view = (await api('GET', `/v1/messages/${msg.id}`)).body;
    expect(view.charges.map((c: { refunded: string }) => c.refunded)).toEqual(['0.016400', '0.000000']);
    expect(await checkInvariant(stack.db, account.id)).toBe(true);
  });

  it('fails over only once: a second failover receipt ends the message undelivered', async () => {
    stack.twilio.setConfig({ receipts: { failed: 1 } });
    stack.vonage.setConfig({ receipts: { undelivered: 1 } });
    const msg = await sendAndSettle();
    expect(msg.status).toBe('undelivered');
    expect(msg.carrier).toBe('vonage-sim');
    expect(msg.attempts).toHaveLength(2);
    expect(msg.price).toBe('0.016400');
  });

  it('does not fail over on a receipt code the carrier does not list', async () => {
    stack.twilio.setConfig({ receipts: { undelivered: 1 } });
    const vonageBefore = stack.vonage.stats().submissions;
    const msg = await sendAndSettle();
    expect(msg.status).toBe('undelivered');
    expect(msg.carrier).toBe('twilio-sim');
    expect(msg.error.carrierCode).toBe('30003');
    expect(msg.price).toBe('0.007900');
    expect(stack.vonage.stats().submissions).toBe(vonageBefore);
    expect(await listEntriesForMessage(stack.db, msg.id, FAILOVER_LEG)).toEqual([]);
    expect(msg.charges).toEqual([{ leg: 'first', captured: '0.007900', refunded: '0.000000' }]);
  });
});
