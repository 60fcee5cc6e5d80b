/**
 * Carriers beyond the built-in two, through the whole stack: the XML aggregator seeded from its
 * definition file (kind `http-config`, the cheapest of three routes for GB and the only one for
 * IE) and Infobip (the only route for AT), delivering through the API with their own receipts,
 * and refusing tampered receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256 } from '../../adapters/webhook-auth.ts';
import { listEntriesForMessage } from '../support/ledger.ts';
import {
  apiClient,
  createFundedAccount,
  INFOBIP_CREDS,
  INFOBIP_TEST_PRICE,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const GB = '+447400123456';
/** Only the XML aggregator is priced for IE: no other route (nor routing exploration) can take it. */
const IE = '+353851234567';
/** Only Infobip is priced for AT. */
const AT = '+436641234567';
const XML_SECRET = 'xml-agg-demo-webhook-secret';

let stack: Stack;
let account: { id: string; apiKey: string };
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startStack({ xmlAggregator: { receiptDelayMs: 20 }, infobip: { receiptDelayMs: 20 } });
  account = await createFundedAccount(stack.apiUrl, '5.00');
  api = apiClient(stack.apiUrl, account.apiKey);
});
afterAll(async () => {
  await stack?.stop();
});

async function send(body: Record<string, unknown>) {
  const res = await api('POST', '/v1/messages', body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return waitForMessage(stack.apiUrl, account.apiKey, res.body.id, terminal);
}

/** Posts a receipt to the webhook as a carrier would. */
async function postReceipt(carrier: string, mid: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${stack.apiUrl}/webhooks/carriers/${carrier}?mid=${mid}`, {
    method: 'POST',
    headers,
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('XML aggregator added by configuration', () => {
  it('is the cheapest route for GB: delivered by its XML receipt and charged its price', async () => {
    const msg = await send({ to: GB, body: 'Your code is 424242' });
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('xml-aggregator');
    expect(msg.carrierMessageId).toMatch(/^[0-9A-F]{16}$/);
    expect(msg.price).toBe('0.030000');
    const entries = await listEntriesForMessage(stack.db, msg.id);
    expect(entries.find((e) => e.kind === 'capture')?.amount).toBe('0.030000');
    const receipts = await stack.db
      .selectFrom('receipts')
      .select(['status', 'raw'])
      .where('message_id', '=', msg.id)
      .execute();
    expect(receipts).toHaveLength(1);
    expect(receipts[0]?.raw).toContain('<dlr>');
    expect(stack.xmlAggregator?.stats()).toMatchObject({ accepted: 1, duplicates: 0 });
  });

  it('charges a two-part message per segment', async () => {
    const msg = await send({ to: IE, body: 'b'.repeat(200) });
    expect(msg).toMatchObject({
      status: 'delivered',
      carrier: 'xml-aggregator',
      segments: 2,
      price: '0.062000',
    });
  });

  it('answers a tampered XML receipt 403 and a correctly signed one 200', async () => {
    const msg = await send({ to: IE, body: 'tamper test' });
    expect(msg).toMatchObject({ status: 'delivered', carrier: 'xml-aggregator' });
    const body = `<?xml version="1.0"?><dlr><messageId>${msg.carrierMessageId}</messageId><clientRef>${msg.id}</clientRef><status>delivered</status><errCode>0</errCode></dlr>`;
    const headers = {
      'content-type': 'application/xml',
      'x-signature': `sha256=${hmacSha256(XML_SECRET, body)}`,
    };
    const tampered = await postReceipt(
      'xml-aggregator',
      msg.id,
      body.replace('delivered', 'failed'),
      headers,
    );
    expect(tampered.status).toBe(403);
    const unsigned = await postReceipt('xml-aggregator', msg.id, body, { 'content-type': 'application/xml' });
    expect(unsigned.status).toBe(403);
    const good = await postReceipt('xml-aggregator', msg.id, body, headers);
    expect(good).toEqual({ status: 200, text: 'OK' });
    const garbage = '<dlr><messageId>x</messageId>';
    const broken = await postReceipt('xml-aggregator', msg.id, garbage, {
      'content-type': 'application/xml',
      'x-signature': `sha256=${hmacSha256(XML_SECRET, garbage)}`,
    });
    expect(broken.status).toBe(400);
  });
});

describe('Infobip', () => {
  it('delivers by its JSON report and is charged its price', async () => {
    const msg = await send({ to: AT, body: 'Hallo from Infobip' });
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('infobip-sim');
    // Infobip keeps our message id as its own.
    expect(msg.carrierMessageId).toBe(msg.id);
    expect(msg.price).toBe(INFOBIP_TEST_PRICE);
  });

  it('refuses a report without the right webhook secret', async () => {
    const msg = await send({ to: AT, body: 'secret test' });
    const body = JSON.stringify({
      results: [{ messageId: msg.id, callbackData: msg.id, status: { groupName: 'UNDELIVERABLE' } }],
    });
    const wrong = await postReceipt('infobip-sim', msg.id, body, {
      'content-type': 'application/json',
      'x-herald-webhook-secret': `${INFOBIP_CREDS.webhookSecret}-not`,
    });
    expect(wrong.status).toBe(403);
    const row = await waitForMessage(stack.apiUrl, account.apiKey, msg.id, terminal);
    expect(row.status).toBe('delivered');
  });
});
