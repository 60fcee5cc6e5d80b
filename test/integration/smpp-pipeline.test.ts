/**
 * SMPP through the whole stack: API → workflow → submit activity → the worker's bind →
 * SMSC simulator → per-segment `deliver_sm` receipts (decimal ids for hex submit ids) → the
 * receipt intake → the workflow → settlement per segment. Then the SMSC dies mid-run: messages
 * fail over to an HTTP carrier, and the bind comes back by itself when the SMSC does.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { analyzeBody } from '../../domain/segments.ts';
import { listEntriesForMessage } from '../support/ledger.ts';
import {
  apiClient,
  createFundedAccount,
  SMPP_TEST_PRICE,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const FR = '+33612345678';
const FR_WIRE = '33612345678';

const HEALTHY_SMSC = {
  mix: { accept: 1 },
  receipts: { delivered: 1 },
  receiptDelayMs: 20,
  receiptBeforeResp: false,
  receiptIdBase: 'decimal',
  capitalText: false,
  omitSubDlvrd: false,
  longDates: false,
  receiptTlvs: false,
  latencyMs: 0,
} as const;

let stack: Stack;
let api: ReturnType<typeof apiClient>;
let apiKey: string;

const smsc = () => {
  if (!stack.smsc) throw new Error('stack started without an SMSC');
  return stack.smsc;
};

beforeAll(async () => {
  // No exploration share: every FR message starts on the cheapest route, the SMPP one.
  stack = await startStack({ smsc: HEALTHY_SMSC, routing: { explorationShare: 0 } });
  const account = await createFundedAccount(stack.apiUrl, '20.00');
  apiKey = account.apiKey;
  api = apiClient(stack.apiUrl, apiKey);
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  smsc().setConfig(HEALTHY_SMSC);
  smsc().resetStats();
});

async function send(body: string, to = FR): Promise<string> {
  const res = await api('POST', '/v1/messages', { to, body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

const settle = (id: string) => waitForMessage(stack.apiUrl, apiKey, id, terminal);

/** Price × segments as the API prints it. */
const charged = (segments: number) => (Number(SMPP_TEST_PRICE) * segments).toFixed(6);

async function partsOf(messageId: string) {
  return stack.db
    .selectFrom('message_parts')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('part')
    .execute();
}

describe('SMPP through the API', () => {
  it('a 400-character GSM-7 message goes out in 3 parts, is delivered from 3 receipts and charged × 3', async () => {
    const body = 'Herald SMPP long message. '.repeat(16).slice(0, 400);
    expect(analyzeBody(body)).toMatchObject({ encoding: 'GSM-7', segments: 3 });
    const id = await send(body);
    const msg = await settle(id);
    expect(msg).toMatchObject({ status: 'delivered', carrier: 'smpp-sim', segments: 3, encoding: 'GSM-7' });
    expect(msg.price).toBe(charged(3));

    const segs = smsc()
      .segments()
      .filter((s) => s.to === FR_WIRE);
    expect(segs).toHaveLength(3);
    expect(segs.every((s) => s.dataCoding === 0 && s.esmClass === 0x40)).toBe(true);
    expect(segs.map((s) => s.concat?.seq)).toEqual([1, 2, 3]);
    expect(new Set(segs.map((s) => s.concat?.ref)).size).toBe(1);
    expect(segs.map((s) => s.text).join('')).toBe(body);
    expect(smsc().stats()).toMatchObject({ submissions: 3, messages: 1, duplicates: 0 });

    // Every part id stored (normalized hex), and the message id is the first one.
    const parts = await partsOf(id);
    expect(parts.map((p) => p.carrier_message_id)).toEqual(
      segs.map((s) => BigInt(`0x${s.messageId}`).toString(16)),
    );
    expect(msg.carrierMessageId).toBe(parts[0]?.carrier_message_id);
    // One receipt per segment, each matched to the message despite its decimal id.
    const receipts = await stack.db.selectFrom('receipts').selectAll().where('message_id', '=', id).execute();
    expect(new Set(receipts.map((r) => r.carrier_message_id)).size).toBe(3);
    const capture = (await listEntriesForMessage(stack.db, id)).filter((e) => e.kind === 'capture');
    expect(capture.map((e) => e.amount)).toEqual([charged(3)]);
  });

  it('an intermediate ENROUTE receipt is stored, not signalled: the run sees only the final one', async () => {
    smsc().setConfig({ receipts: { enroute: 1 } });
    const id = await send('Herald SMPP enroute then delivered');
    const msg = await settle(id);
    expect(msg).toMatchObject({ status: 'delivered', carrier: 'smpp-sim' });
    const receipts = await stack.db
      .selectFrom('receipts')
      .select(['status', 'carrier_status'])
      .where('message_id', '=', id)
      .execute();
    // The two deliver_sm are taken in concurrently, so either may be stored first.
    expect(receipts.map((r) => `${r.status} ${r.carrier_status}`).sort()).toEqual([
      'delivered DELIVRD',
      'enroute ENROUTE',
    ]);
    // The run closes just after the row turns delivered.
    const handle = stack.client.workflow.getHandle(id);
    await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(1);
  });

  it('a 100-character UCS-2 message goes out in 2 parts (data_coding 8) and is charged × 2', async () => {
    const body = 'Привет, это Herald: доставка по SMPP работает. '.repeat(3).slice(0, 100);
    expect(analyzeBody(body)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    const msg = await settle(await send(body));
    expect(msg).toMatchObject({ status: 'delivered', carrier: 'smpp-sim', segments: 2, encoding: 'UCS-2' });
    expect(msg.price).toBe(charged(2));
    const segs = smsc().segments();
    expect(segs.map((s) => [s.dataCoding, s.concat?.seq, s.concat?.total])).toEqual([
      [8, 1, 2],
      [8, 2, 2],
    ]);
    expect(segs.map((s) => s.text).join('')).toBe(body);
  });

  it('receipts that beat submit_sm_resp, with Text:, no sub/dlvrd and 12-digit dates, still deliver', async () => {
    smsc().setConfig({ receiptBeforeResp: true, capitalText: true, omitSubDlvrd: true, longDates: true });
    const body = 'Early receipts for every part of this message. '.repeat(5).slice(0, 200);
    const msg = await settle(await send(body));
    expect(msg).toMatchObject({ status: 'delivered', carrier: 'smpp-sim', segments: 2 });
    expect(msg.price).toBe(charged(2));
    // One submit per part; every receipt acked (a receipt of an earlier case may still arrive).
    expect(smsc().stats().submissions).toBe(2);
    expect(smsc().stats().receiptsAcked).toBeGreaterThanOrEqual(2);
  });

  it('a negative receipt in the TLVs (message_state, receipted_message_id) ends undelivered and is charged', async () => {
    smsc().setConfig({ receiptTlvs: true, receipts: { undelivered: 1 } });
    const msg = await settle(await send('This one will not arrive'));
    expect(msg).toMatchObject({ status: 'undelivered', carrier: 'smpp-sim' });
    expect(msg.price).toBe(charged(1));
    expect(msg.error).toMatchObject({ code: 'undelivered' });
  });

  it('a refused destination (0x0B) fails the message without failover', async () => {
    smsc().setConfig({ mix: { invalidDest: 1 } });
    const msg = await settle(await send('Nobody home'));
    expect(msg).toMatchObject({ status: 'failed', carrier: 'smpp-sim' });
    expect(msg.error).toMatchObject({ code: 'invalid_number', carrierCode: '0x0B' });
    expect(msg.attempts).toHaveLength(1);
  });

  it('the SMSC dies: messages fail over to HTTP; it comes back: the bind returns without a restart', async () => {
    await smsc().stop();
    const during = await Promise.all([1, 2, 3].map((i) => send(`Sent while the SMSC is down ${i}`)));
    let triedSmpp = 0;
    for (const id of during) {
      const msg = await settle(id);
      expect(msg.status).toBe('delivered');
      expect(msg.carrier).not.toBe('smpp-sim');
      // The ranking's exploration share may start a message elsewhere; where SMPP was tried, it failed over.
      const smppTries = msg.attempts.filter((a: { carrier: string }) => a.carrier === 'smpp-sim');
      for (const a of smppTries) expect(a).toMatchObject({ outcome: 'failover' });
      triedSmpp += smppTries.length;
    }
    expect(triedSmpp).toBeGreaterThan(0);
    expect(smsc().stats().submissions).toBe(0);

    await smsc().start();
    const deadline = Date.now() + 10_000;
    while (smsc().stats().binds === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(smsc().stats().binds).toBe(1);
    // The ranking may still favour the route that just worked; SMPP must carry traffic again soon.
    let viaSmpp = false;
    for (let i = 0; i < 5 && !viaSmpp; i++) {
      const msg = await settle(await send(`After the SMSC came back ${i}`));
      expect(msg.status).toBe('delivered');
      viaSmpp = msg.carrier === 'smpp-sim';
    }
    expect(viaSmpp).toBe(true);
    expect(smsc().stats().submissions).toBeGreaterThan(0);
  });
});
