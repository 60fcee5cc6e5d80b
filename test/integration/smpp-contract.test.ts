/**
 * The adapter contract (DESIGN §5, §8) for SMPP, against the SMSC simulator over real sockets.
 * `describeAdapterContract` is built around HTTP (webhook receivers, replay servers, signed
 * callbacks), so this is the SMPP equivalent covering the same points: accepted submit, each
 * error class, timeout after send → ambiguous without a second submit, receipts for every
 * status (and the quirks), malformed `deliver_sm` → no crash — plus what only a bind has:
 * bind failures, reconnection, the window, the TPS bucket and partial multi-part submits.
 */
import net, { type AddressInfo } from 'node:net';
import smpp from 'smpp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSmppAdapter, receiptIdBases, smppConfigSchema } from '../../adapters/smpp.ts';
import { parseDeliverSmReceipt, type SmppReceipt } from '../../adapters/smpp-receipts.ts';
import { SmppSession, type SmppSessionOptions } from '../../adapters/smpp-session.ts';
import type { CarrierAdapter, SubmitRequest, SubmitResult } from '../../adapters/types.ts';
import type { CarrierErrorClass } from '../../domain/carrier-error.ts';
import { type RunningSmsc, type SmscConfigPatch, startSmscSimulator } from '../../simulators/smsc-sim.ts';

const CREDS = { systemId: 'herald', password: 'secret1' };
const HEALTHY: SmscConfigPatch = {
  mix: { accept: 1 },
  down: false,
  rejectBind: false,
  latencyMs: 0,
  receipts: { delivered: 1 },
  receiptDelayMs: 5,
  receiptBeforeResp: false,
  receiptIdBase: 'decimal',
  capitalText: false,
  omitSubDlvrd: false,
  longDates: false,
  receiptTlvs: false,
};
const CONFIG = { idBase: 'hex', receiptIdBase: 'decimal' } as const;
const bases = receiptIdBases(smppConfigSchema.parse({ host: 'x', systemId: 'x', password: '', ...CONFIG }));

let sim: RunningSmsc;
let counter = 0;
const sessions: SmppSession[] = [];

/** A session + adapter pair collecting its receipts. */
function client(opts: Partial<SmppSessionOptions> = {}) {
  const receipts: SmppReceipt[] = [];
  const session = new SmppSession({
    host: sim.host,
    port: sim.port,
    ...CREDS,
    reconnectInitialMs: 50,
    reconnectMaxMs: 200,
    submitTimeoutMs: 1_000,
    async onReceipt(pdu) {
      receipts.push(parseDeliverSmReceipt(pdu, bases));
    },
    ...opts,
  });
  sessions.push(session);
  session.start();
  const adapter: CarrierAdapter = createSmppAdapter(
    { host: sim.host, port: sim.port, ...CREDS, ...CONFIG },
    { session },
  );
  return { session, adapter, receipts };
}

const request = (overrides: Partial<SubmitRequest> = {}): SubmitRequest => ({
  messageId: `msg_smpp_${++counter}`,
  to: '+33612345678',
  from: 'Herald',
  body: `Your code is ${100000 + counter}`,
  encoding: 'GSM-7',
  segments: 1,
  validitySeconds: 600,
  statusCallbackUrl: '',
  ...overrides,
});

function expectError(r: SubmitResult, cls: CarrierErrorClass) {
  expect(r.ok, JSON.stringify(r)).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.error.class).toBe(cls);
  expect(r.error.message.length).toBeGreaterThan(0);
  return r.error;
}

async function until(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let main: ReturnType<typeof client>;

beforeAll(async () => {
  sim = await startSmscSimulator({ credentials: CREDS, seed: 3 });
  main = client();
  expect(await main.session.waitForBind(3_000)).toBe(true);
});
afterAll(async () => {
  for (const s of sessions) await s.close();
  await sim?.close();
});
beforeEach(async () => {
  sim.setConfig(HEALTHY);
  await sim.start();
  await main.session.waitForBind(3_000);
  await until(() => sim.stats().receiptsPending === 0);
  sim.resetStats();
  main.receipts.length = 0;
});

describe('SMPP contract: submit', () => {
  it('accepts a message: hex id normalized, one segment, and its receipt (decimal id) matches', async () => {
    const r = await main.adapter.submit(request());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.carrierMessageId).toMatch(/^[0-9a-f]+$/);
    expect(r).toMatchObject({ segments: 1, receiptParts: 1, partIds: [r.carrierMessageId] });
    expect(sim.stats()).toMatchObject({ submissions: 1, accepted: 1, messages: 1, duplicates: 0 });
    await until(() => main.receipts.length === 1);
    expect(main.receipts[0]).toMatchObject({ carrierMessageId: r.carrierMessageId, status: 'delivered' });
  });

  it('a long message: one submit_sm per segment, all part ids, one receipt per part', async () => {
    const r = await main.adapter.submit(request({ body: 'z'.repeat(320), segments: 3 }));
    if (!r.ok) throw new Error(r.error.message);
    expect(r.partIds).toHaveLength(3);
    expect(r).toMatchObject({ segments: 3, receiptParts: 3, carrierMessageId: r.partIds?.[0] });
    expect(sim.stats()).toMatchObject({ submissions: 3, messages: 1 });
    await until(() => main.receipts.length === 3);
    expect(main.receipts.map((x) => x.carrierMessageId).sort()).toEqual([...(r.partIds ?? [])].sort());
  });

  const refusals: Array<[string, SmscConfigPatch['mix'], CarrierErrorClass, string, string]> = [
    ['throttled (0x58)', { throttle: 1 }, 'retry', 'throttled', '0x58'],
    ['queue full (0x14)', { queueFull: 1 }, 'retry', 'queue_full', '0x14'],
    ['system error (0x08)', { sysErr: 1 }, 'retry', 'carrier_error', '0x08'],
    ['invalid destination (0x0B)', { invalidDest: 1 }, 'permanent', 'invalid_number', '0x0B'],
  ];
  for (const [label, mix, cls, code, carrierCode] of refusals) {
    it(`${label} → ${cls}, keeping the raw code`, async () => {
      sim.setConfig({ mix });
      const e = expectError(await main.adapter.submit(request()), cls);
      expect(e).toMatchObject({ code, carrierCode });
      expect(e.message).toMatch(/ESME_R/);
      if (code === 'throttled' || code === 'queue_full') expect(e.retryAfterMs).toBeGreaterThan(0);
      expect(sim.stats()).toMatchObject({ submissions: 1, accepted: 0, rejected: 1 });
    });
  }

  it('a destination the SMSC cannot route is refused → permanent', async () => {
    const e = expectError(await main.adapter.submit(request({ to: '+1' })), 'permanent');
    expect(e.carrierCode).toBe('0x0B');
  });

  it('no submit_sm_resp in time → ambiguous, never a second submit; the receipt still comes', async () => {
    sim.setConfig({ mix: { noResponse: 1 } });
    const quick = client({ submitTimeoutMs: 200 });
    await quick.session.waitForBind(2_000);
    const started = Date.now();
    const e = expectError(await quick.adapter.submit(request()), 'ambiguous');
    expect(e.code).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sim.stats()).toMatchObject({ submissions: 1, accepted: 1, duplicates: 0 });
    await until(() => quick.receipts.length === 1);
    expect(quick.receipts[0]?.status).toBe('delivered');
    await quick.session.close();
  });

  it('a slow submit_sm_resp within the timeout is still accepted', async () => {
    sim.setConfig({ latencyMs: 150 });
    expect((await main.adapter.submit(request())).ok).toBe(true);
  });

  it('the connection drops after the submit was written → ambiguous; the session binds again', async () => {
    sim.setConfig({ mix: { drop: 1 } });
    const e = expectError(await main.adapter.submit(request()), 'ambiguous');
    expect(e.code).toBe('connection_lost');
    sim.setConfig({ mix: { accept: 1 } });
    expect(await main.session.waitForBind(3_000)).toBe(true);
    expect((await main.adapter.submit(request())).ok).toBe(true);
    expect(sim.stats().duplicates).toBe(0);
  });

  it('part 2 of 3 throttled once: only part 2 is sent again, the message goes through', async () => {
    // The sim's dice are per segment; script it by flipping the mix after part 1.
    const body = 'p'.repeat(400);
    let submits = 0;
    const gate: Pick<SmppSession, 'submitPart'> = {
      async submitPart(part) {
        submits++;
        if (submits === 2) sim.setConfig({ mix: { throttle: 1 } });
        if (submits === 3) sim.setConfig({ mix: { accept: 1 } });
        return main.session.submitPart(part);
      },
    };
    const adapter = createSmppAdapter(
      { host: sim.host, port: sim.port, ...CREDS, ...CONFIG },
      { session: gate },
    );
    const r = await adapter.submit(request({ body, segments: 3 }));
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(sim.stats()).toMatchObject({
      submissions: 4,
      accepted: 3,
      rejected: 1,
      duplicates: 0,
      messages: 1,
    });
  });

  it('part 2 of 2 keeps failing after part 1 was taken → ambiguous partial_submit, part 1 never resent', async () => {
    let submits = 0;
    const gate: Pick<SmppSession, 'submitPart'> = {
      async submitPart(part) {
        if (++submits === 2) sim.setConfig({ mix: { sysErr: 1 } });
        return main.session.submitPart(part);
      },
    };
    const accepted: string[] = [];
    const adapter = createSmppAdapter(
      { host: sim.host, port: sim.port, ...CREDS, ...CONFIG, partRetries: 1 },
      { session: gate, onPartAccepted: (_mid, id) => accepted.push(id) },
    );
    const e = expectError(await adapter.submit(request({ body: 'q'.repeat(200), segments: 2 })), 'ambiguous');
    expect(e).toMatchObject({ code: 'partial_submit', carrierCode: '0x08' });
    expect(accepted).toHaveLength(1);
    expect(sim.stats()).toMatchObject({ accepted: 1, rejected: 2, duplicates: 0 });
  });
});

describe('SMPP contract: the bind', () => {
  it('turns Nagle off at both ends: a PDU written behind another must not wait for a delayed ACK', async () => {
    const noDelay = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    try {
      const fresh = client();
      expect(await fresh.session.waitForBind(3_000)).toBe(true);
      const turnedOff = noDelay.mock.contexts.filter(
        (_, i) => noDelay.mock.calls[i]?.[0] !== false,
      ) as net.Socket[];
      // Herald's end (connected to the SMSC's port) and the simulator's end (accepted on it).
      expect(turnedOff.some((s) => s.remotePort === sim.port)).toBe(true);
      expect(turnedOff.some((s) => s.localPort === sim.port)).toBe(true);
    } finally {
      noDelay.mockRestore();
    }
  });

  it('wrong password → failover auth_failed with the bind status', async () => {
    const wrong = client({ password: 'nope', bindWaitMs: 2_000 });
    const e = expectError(await wrong.adapter.submit(request()), 'failover');
    expect(e).toMatchObject({ code: 'auth_failed', carrierCode: '0x0E' });
    expect(sim.stats().bindRejections).toBeGreaterThan(0);
    await wrong.session.close();
  });

  it('bind rejected by the SMSC (0x0D) → failover; accepted once the SMSC allows it', async () => {
    sim.setConfig({ rejectBind: true });
    const later = client({ bindWaitMs: 2_000 });
    expect(expectError(await later.adapter.submit(request()), 'failover').carrierCode).toBe('0x0D');
    sim.setConfig({ rejectBind: false });
    expect(await later.session.waitForBind(3_000)).toBe(true);
    expect((await later.adapter.submit(request())).ok).toBe(true);
    await later.session.close();
  });

  it('SMSC down → failover at once (nothing written); back up → rebinds by itself', async () => {
    await sim.stop();
    await until(() => main.session.state !== 'bound');
    const started = Date.now();
    const e = expectError(await main.adapter.submit(request()), 'failover');
    expect(e.code).toBe('carrier_unavailable');
    expect(Date.now() - started).toBeLessThan(1_500);
    await sim.start();
    expect(await main.session.waitForBind(3_000)).toBe(true);
    expect((await main.adapter.submit(request())).ok).toBe(true);
    expect(sim.stats().submissions).toBe(1);
  });

  it('a window of 2 holds at most 2 PDUs in flight', async () => {
    sim.setConfig({ latencyMs: 60 });
    const narrow = client({ window: 2 });
    await narrow.session.waitForBind(2_000);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, narrow.session.stats().inFlight);
    }, 5);
    const results = await Promise.all(Array.from({ length: 6 }, () => narrow.adapter.submit(request())));
    clearInterval(sampler);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(peak).toBe(2);
    await narrow.session.close();
  });

  it('the TPS bucket paces segments: 24 segments at 20/s outrun the one-second burst', async () => {
    const slow = client({ tps: 20 });
    await slow.session.waitForBind(2_000);
    const started = Date.now();
    // 4 messages × 3 segments; the burst allowance is one second's worth (20).
    await Promise.all(
      Array.from({ length: 4 }, () => slow.adapter.submit(request({ body: 'r'.repeat(400) }))),
    );
    await Promise.all(
      Array.from({ length: 4 }, () => slow.adapter.submit(request({ body: 's'.repeat(400) }))),
    );
    expect(Date.now() - started).toBeGreaterThan(150);
    expect(sim.stats().submissions).toBe(24);
    await slow.session.close();
  });
});

describe('SMPP contract: receipts', () => {
  const outcomes = [
    ['delivered', 'delivered', 'DELIVRD'],
    ['undelivered', 'undelivered', 'UNDELIV'],
    ['expired', 'expired', 'EXPIRED'],
    ['rejected', 'undelivered', 'REJECTD'],
    ['deleted', 'undelivered', 'DELETED'],
    ['unknown', 'undelivered', 'UNKNOWN'],
  ] as const;
  for (const [outcome, status, stat] of outcomes) {
    it(`${stat} → ${status}`, async () => {
      sim.setConfig({ receipts: { [outcome]: 1 } });
      const r = await main.adapter.submit(request());
      if (!r.ok) throw new Error(r.error.message);
      await until(() => main.receipts.length === 1);
      expect(main.receipts[0]).toMatchObject({
        carrierMessageId: r.carrierMessageId,
        status,
        carrierStatus: stat,
      });
      if (status !== 'delivered') expect(main.receipts[0]?.errorCode).toBeDefined();
    });
  }

  it('ENROUTE first, then DELIVRD', async () => {
    sim.setConfig({ receipts: { enroute: 1 } });
    expect((await main.adapter.submit(request())).ok).toBe(true);
    await until(() => main.receipts.length === 2);
    expect(main.receipts.map((x) => x.status)).toEqual(['enroute', 'delivered']);
  });

  it('the quirks: Text:, no sub/dlvrd, 12-digit dates, TLVs', async () => {
    sim.setConfig({ capitalText: true, omitSubDlvrd: true, longDates: true, receiptTlvs: true });
    const r = await main.adapter.submit(request());
    if (!r.ok) throw new Error(r.error.message);
    await until(() => main.receipts.length === 1);
    expect(main.receipts[0]).toMatchObject({ carrierMessageId: r.carrierMessageId, status: 'delivered' });
    expect(main.receipts[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it('a receipt may arrive before submit_sm_resp', async () => {
    sim.setConfig({ receiptBeforeResp: true });
    const r = await main.adapter.submit(request());
    if (!r.ok) throw new Error(r.error.message);
    // Already here when submit returns: it came first on the wire.
    expect(main.receipts.map((x) => x.carrierMessageId)).toContain(r.carrierMessageId);
  });

  it('a receipt the handler cannot take is answered 0x64 and delivered again', async () => {
    let failures = 0;
    const got: SmppReceipt[] = [];
    const flaky = client({
      async onReceipt(pdu) {
        if (failures++ === 0) throw new Error('database down');
        got.push(parseDeliverSmReceipt(pdu, bases));
      },
    });
    await flaky.session.waitForBind(2_000);
    const r = await flaky.adapter.submit(request());
    if (!r.ok) throw new Error(r.error.message);
    await until(() => got.length === 1 && sim.stats().receiptsAcked === 1);
    expect(got[0]?.carrierMessageId).toBe(r.carrierMessageId);
    expect(sim.stats()).toMatchObject({ receiptsSent: 2, receiptsAcked: 1 });
    expect(main.receipts).toHaveLength(0);
    await flaky.session.close();
  });
});

describe('SMPP contract: malformed deliver_sm', () => {
  it('garbage, empty, truncated and non-receipt deliver_sm: answered, session stays bound, nothing parsed', async () => {
    const answers: number[] = [];
    const errors: unknown[] = [];
    const server = smpp.createServer({}, (s) => {
      s.on('error', () => {});
      s.on('enquire_link', (pdu: smpp.PDU) => s.send(pdu.response()));
      s.on('bind_transceiver', (pdu: smpp.PDU) => {
        s.send(pdu.response({ system_id: 'evil' }));
        const bad: Array<Record<string, unknown>> = [
          { esm_class: 0x04, short_message: Buffer.from([0xff, 0x00, 0x13]) },
          { esm_class: 0x04, short_message: Buffer.alloc(0) },
          { esm_class: 0x04, short_message: Buffer.from('id:12 sub:001 dlv', 'latin1') },
          { esm_class: 0x00, short_message: Buffer.from('an MO message', 'latin1') },
        ];
        for (const fields of bad) {
          s.send(new smpp.PDU('deliver_sm', fields), (resp) => answers.push(resp.command_status));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const session = new SmppSession({
      host: '127.0.0.1',
      port,
      ...CREDS,
      async onReceipt(pdu) {
        try {
          parseDeliverSmReceipt(pdu, bases);
        } catch (err) {
          // what workers/smpp-sessions.ts does: log it, answer all the same
          errors.push(err);
        }
      },
    });
    session.start();
    await until(() => answers.length === 4);
    expect(answers).toEqual([0, 0, 0, 0]);
    expect(errors).toHaveLength(3);
    expect(session.state).toBe('bound');
    await session.close();
    await new Promise<void>((r) => {
      for (const s of server.sessions) s.destroy();
      server.close(() => r());
    });
  });
});
