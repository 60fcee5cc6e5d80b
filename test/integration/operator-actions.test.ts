/**
 * Operator actions on real parts (issue 10): a Temporal cancel or terminate of a message run, at
 * each stage, leaves the row terminal and the money settled (released before any carrier saw the
 * message, captured at the route's price once one took it), with the ledger identity intact; and
 * submit failures that are not the carrier's are classified: a bug fails the message at once, a
 * carrier queue no worker polls fails over within CARRIER_QUEUE_TIMEOUT_MS.
 */
import { randomBytes } from 'node:crypto';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmitInput } from '../../activities/types.ts';
import { getCarrier, upsertCarrier, upsertPrice } from '../../db/carriers.ts';
import { checkInvariant, getBalance } from '../../db/ledger.ts';
import { insertMessage } from '../../db/messages.ts';
import { ID_RANDOM_BYTES, newMessageId } from '../../domain/ids.ts';
import { messageWorkflowOptions } from '../../services/message-workflow.ts';
import { HeraldStatus, LEGACY_MESSAGE_WORKFLOW_TYPE } from '../../workflows/definitions.ts';
import { messageRow } from '../support/db.ts';
import { listEntriesForMessage } from '../support/ledger.ts';
import {
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const US = '+14155552671';
/** Served by the late carrier alone: a submit for it waits on a queue no worker polls. */
const DE = '+4915123456789';
/** The late carrier is cheapest here, so it is tried first and the message fails over from it. */
const FR = '+33612345678';
const QUEUE_TIMEOUT_MS = 6_000;
/** A body that makes the test's interceptor throw inside the submit activity: a bug, not a carrier error. */
const BUG_MARKER = 'trigger-a-bug';

/** Throws a TypeError in the submit activity for messages whose body carries {@link BUG_MARKER}. */
const buggySubmit: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      const [arg] = input.args as [SubmitInput | undefined];
      if (arg && typeof arg === 'object' && 'body' in arg && arg.body.includes(BUG_MARKER)) {
        throw new TypeError('cannot read properties of undefined (a planted bug)');
      }
      return next(input);
    },
  } satisfies ActivityInboundCallsInterceptor,
});

describe.each(['postgres', 'pglite'] as const)('on %s', (db) => {
  let stack: Stack;
  let account: { id: string; apiKey: string };
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    stack = await startStack({
      db,
      twilio: { receipts: { delivered: 0, undelivered: 0, failed: 0, expired: 0, none: 1 } },
      prices: { twilio: { US: '0.007900', FR: '0.070000' }, vonage: { US: '0.008500', FR: '0.062000' } },
      routing: { carrierQueueTimeoutMs: QUEUE_TIMEOUT_MS },
      activityInterceptors: () => [buggySubmit],
      // The reconciler settles terminated runs one second after they close.
      strandedMessages: { graceMs: 1_000, intervalMs: 500 },
    });
    account = await createFundedAccount(stack.apiUrl, '5.00');
    api = apiClient(stack.apiUrl, account.apiKey);
  }, 90_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function send(to: string, body = 'operator test'): Promise<string> {
    const res = await api('POST', '/v1/messages', { to, body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  /** Waits until the run has a pending activity of `type` (a submit waiting on a carrier queue). */
  async function waitForPendingActivity(id: string, type: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const described = await stack.client.workflow.getHandle(id).describe();
      if ((described.raw.pendingActivities ?? []).some((a) => a.activityType?.name === type)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no pending ${type} for ${id}`);
  }

  /** A carrier added after the workers started: no worker polls its queue (until one restarts). */
  async function addLateCarrier(): Promise<void> {
    const twilio = await getCarrier(stack.db, 'twilio-sim');
    await upsertCarrier(stack.db, {
      id: 'late-sim',
      kind: 'twilio',
      config: twilio?.config ?? {},
      tps: 10,
      enabled: true,
    });
    await upsertPrice(stack.db, {
      carrierId: 'late-sim',
      country: 'DE',
      priceMicros: 50_000n,
      enabled: true,
    });
    await upsertPrice(stack.db, {
      carrierId: 'late-sim',
      country: 'FR',
      priceMicros: 10_000n,
      enabled: true,
    });
  }

  /**
   * The run's own `HeraldStatus`: only the workflow upserts it, so a final one shows the run
   * settled the cancel itself (the reconciler would settle a run that closed unsettled too).
   */
  async function runStatus(id: string): Promise<string | undefined> {
    // The row is settled inside the run's last workflow task; wait for the run to close.
    await stack.client.workflow
      .getHandle(id)
      .result()
      .catch(() => undefined);
    const described = await stack.client.workflow.getHandle(id).describe();
    return described.typedSearchAttributes.get(HeraldStatus);
  }

  /** The books of the test account balance, and nothing stays reserved once every message settled. */
  async function expectBooksSettled(): Promise<void> {
    expect(await checkInvariant(stack.db, account.id)).toBe(true);
    expect((await getBalance(stack.db, account.id))?.reservedMicros).toBe(0n);
  }

  const kinds = async (id: string) =>
    (await listEntriesForMessage(stack.db, id)).map((e) => `${e.kind} ${e.amount}`);

  describe('before admission (the worker is down)', () => {
    it('cancel before admission: canceled, nothing reserved', async () => {
      await stack.stopWorker();
      const id = await send(US);
      await stack.client.workflow.getHandle(id).cancel();
      await stack.startWorker();
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('canceled');
      expect(await kinds(id)).toEqual([]);
      expect(await runStatus(id)).toBe('canceled');
      expect((await stack.client.workflow.getHandle(id).describe()).status.name).toBe('CANCELLED');
      await expectBooksSettled();
    }, 60_000);

    it('terminate before admission: the reconciler cancels it, nothing reserved', async () => {
      await stack.stopWorker();
      const id = await send(US);
      await stack.client.workflow.getHandle(id).terminate('operator test');
      await stack.startWorker();
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('canceled');
      expect(await kinds(id)).toEqual([]);
      await expectBooksSettled();
    }, 60_000);
  });

  describe('an operator cancel settles the message', () => {
    // After the restarts above: the workers running from here on do not know this carrier.
    beforeAll(addLateCarrier);

    it('while its submit waits on a carrier queue: canceled, released, nothing sent', async () => {
      const id = await send(DE);
      await waitForPendingActivity(id, 'submitToCarrier');
      await stack.client.workflow.getHandle(id).cancel();
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('canceled');
      expect(await runStatus(id)).toBe('canceled');
      expect(done.attempts).toEqual([]);
      expect(await kinds(id)).toEqual(['reserve 0.050000', 'release 0.050000']);
      await expectBooksSettled();
    }, 60_000);

    it('after sent: expired with canceled_by_operator, charged as a message without a receipt', async () => {
      const id = await send(US);
      await waitForMessage(stack.apiUrl, account.apiKey, id, (m) => m.status === 'sent');
      await stack.client.workflow.getHandle(id).cancel();
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('expired');
      expect(done.error?.code).toBe('canceled_by_operator');
      expect(done.price).toBe('0.007900');
      expect(await runStatus(id)).toBe('expired');
      expect(await kinds(id)).toEqual(['reserve 0.008500', 'capture 0.007900', 'release 0.000600']);
      await expectBooksSettled();
    }, 60_000);
  });

  describe('an operator terminate is settled by the reconciler', () => {
    it('while its submit waits on a carrier queue: canceled, released', async () => {
      const id = await send(DE);
      await waitForPendingActivity(id, 'submitToCarrier');
      await stack.client.workflow.getHandle(id).terminate('operator test');
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('canceled');
      expect(await kinds(id)).toEqual(['reserve 0.050000', 'release 0.050000']);
      await expectBooksSettled();
    }, 60_000);

    it('after sent: expired with canceled_by_operator, charged at the route price', async () => {
      const id = await send(US);
      await waitForMessage(stack.apiUrl, account.apiKey, id, (m) => m.status === 'sent');
      await stack.client.workflow.getHandle(id).terminate('operator test');
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('expired');
      expect(done.error?.code).toBe('canceled_by_operator');
      expect(await kinds(id)).toEqual(['reserve 0.008500', 'capture 0.007900', 'release 0.000600']);
      await expectBooksSettled();
    }, 60_000);
  });

  it('a run of the type before sendMessageV2 (open across a release) is settled by the reconciler too', async () => {
    // Stored as the API stores it, then started as the older type, as a run from before the release.
    const { message } = await insertMessage(
      stack.db,
      messageRow(account.id, {
        id: newMessageId(randomBytes(ID_RANDOM_BYTES)),
        to_number: US,
        quote_micros: 8_500n,
      }),
    );
    const handle = await stack.client.workflow.start(
      LEGACY_MESSAGE_WORKFLOW_TYPE,
      messageWorkflowOptions(message),
    );
    await waitForMessage(stack.apiUrl, account.apiKey, message.id, (m) => m.status === 'sent');
    expect((await handle.describe()).type).toBe(LEGACY_MESSAGE_WORKFLOW_TYPE);
    await handle.terminate('operator test');
    const done = await waitForMessage(stack.apiUrl, account.apiKey, message.id, terminal);
    expect(done.status).toBe('expired');
    expect(done.error?.code).toBe('canceled_by_operator');
    expect(await kinds(message.id)).toEqual(['reserve 0.008500', 'capture 0.007900', 'release 0.000600']);
    await expectBooksSettled();
  }, 60_000);

  describe('submit failures that are not the carrier answering', () => {
    it('a bug in the submit activity fails the message with internal_error at once and releases it', async () => {
      const started = Date.now();
      const id = await send(US, `please ${BUG_MARKER}`);
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      const tookMs = Date.now() - started;
      expect(done.status).toBe('failed');
      expect(done.error?.code).toBe('internal_error');
      // Not after the validity period (600 s by default), nor after five retries' backoff.
      expect(tookMs).toBeLessThan(5_000);
      expect(await kinds(id)).toEqual(['reserve 0.008500', 'release 0.008500']);
      await expectBooksSettled();
    }, 60_000);

    it('a carrier queue no worker polls fails over within the configured bound', async () => {
      const id = await send(FR);
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('delivered');
      expect(done.carrier).toBe('vonage-sim');
      // From acceptance to the second carrier's acceptance: the queue timeout, then the failover.
      const at = (status: string) =>
        Date.parse(done.events.find((e: { status: string }) => e.status === status)?.at ?? '');
      const tookMs = at('sent') - at('accepted');
      expect(tookMs).toBeGreaterThanOrEqual(QUEUE_TIMEOUT_MS);
      expect(tookMs).toBeLessThan(QUEUE_TIMEOUT_MS + 5_000);
    }, 60_000);
  });
});
