/**
 * The real message workflow (`sendMessageV2`) on a real Temporal dev server, with fake activities (DESIGN §8):
 * what it decides (status, capture, which carrier, how often) for each carrier behaviour, read
 * from its result, its progress query, its history and the activity calls it made.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { SubmitOutcome } from '../../activities/types.ts';
import { runNoopWorkflows } from '../../bench/noop-floor.ts';
import { USE_CARRIER_QUEUE } from '../../domain/carrier-error.ts';
import {
  cancelUpdate,
  HeraldCarrier,
  HeraldStatus,
  MAIN_TASK_QUEUE,
  progressQuery,
} from '../../workflows/definitions.ts';
import {
  accepted,
  receipt,
  type SendMessageHarness,
  signalReceipt,
  startSendMessageHarness,
} from '../support/send-message-harness.ts';
import {
  cancelBeforeSubmit,
  earlyReceipt,
  failoverAfterReceipt,
  happyPath,
  operatorCancelAfterSent,
  receiptTimeout,
  retryThenFailover,
} from '../support/send-message-scenarios.ts';
import { temporalCliPath } from '../support/temporal.ts';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

let h: SendMessageHarness;

beforeAll(async () => {
  h = await startSendMessageHarness({ cliPath: temporalCliPath() });
});

afterAll(async () => {
  await h?.stop();
});

/** The message's activity calls, by name only. */
const callNames = (messageId: string): string[] => h.fakes.calls(messageId).map((c) => c.name);

async function historyEvents(workflowId: string): Promise<HistoryEvent[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

describe('sendMessageV2 against a dev server with fake activities', () => {
  test('happy path: admit → submit → receipt → settle, capturing price × segments once', async () => {
    const { input, handle, result } = await happyPath(h);

    expect(result).toEqual({ status: 'delivered', carrierId: 'alpha', captured: '0.015800' });
    expect(callNames(input.messageId)).toEqual(['admitMessage', 'submitToCarrier', 'finishMessage']);
    expect(h.fakes.callsTo(input.messageId, 'admitMessage')).toEqual([
      { messageId: input.messageId, accountId: input.accountId, country: 'US', segments: 2 },
    ]);
    const [submit] = h.fakes.callsTo(input.messageId, 'submitToCarrier');
    expect(submit).toMatchObject({
      messageId: input.messageId,
      carrierId: 'alpha',
      attempt: 1,
      to: input.to,
      body: input.body,
      segments: 2,
      validitySeconds: input.validitySeconds,
      skipIfOpen: true,
      // The lean path (LEAN_PATH_PATCH's, the only one of sendMessageV2): a local submit.
      local: true,
    });
    const [finish] = h.fakes.callsTo(input.messageId, 'finishMessage');
    expect(finish).toMatchObject({
      status: 'delivered',
      capture: '0.015800',
      carrierId: 'alpha',
      carrierMessageId: 'alpha-1',
      deliveryOutcomes: [{ carrierId: 'alpha', country: 'US', delivered: true }],
    });
    expect(finish?.error).toBeUndefined();
    expect(await handle.query(progressQuery)).toEqual({
      status: 'delivered',
      carrierId: 'alpha',
      carrierMessageId: 'alpha-1',
      attempts: 1,
    });
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(HeraldStatus)).toBe('delivered');
    expect(described.typedSearchAttributes.get(HeraldCarrier)).toBe('alpha');

    // What the happy path costs in history: no activity task, no patch marker (a new workflow
    // type needs none, so no TemporalChangeVersion upsert either) and two search-attribute
    // upserts: `sent` (with its carrier) and the end.
    const events = await historyEvents(input.messageId);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(0);
    expect(events.map((e) => e.markerRecordedEventAttributes?.markerName).filter(Boolean)).toEqual([
      'core_local_activity',
      'core_local_activity',
      'core_local_activity',
    ]);
    const upserts = events.flatMap((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      return fields ? [Object.keys(fields).sort().join('+')] : [];
    });
    expect(upserts).toEqual(['HeraldCarrier+HeraldStatus', 'HeraldCarrier+HeraldStatus']);
  });

  test('a local submit that finds the carrier busy queues it on the carrier task queue, as a new attempt', async () => {
    const input = h.input();
    h.fakes.script(input.messageId, {
      submit: (s, n) =>
        s.local
          ? { ok: false, error: { class: 'retry', code: USE_CARRIER_QUEUE, message: 'booked ahead' } }
          : accepted(s, n),
    });
    const handle = await h.start(input);
    await h.waitForStatus(handle, 'sent');
    await signalReceipt(handle, receipt('alpha', 'alpha-2', 'delivered'));

    expect(await handle.result()).toEqual({ status: 'delivered', carrierId: 'alpha', captured: '0.007900' });
    const submits = h.fakes.callsTo(input.messageId, 'submitToCarrier');
    expect(submits.map((s) => [s.carrierId, s.attempt, s.local ?? false])).toEqual([
      ['alpha', 1, true],
      ['alpha', 2, false],
    ]);
    const events = await historyEvents(input.messageId);
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name ?? []);
    expect(scheduled).toEqual(['carrier-alpha']);
    // No backoff timer: the line is the carrier queue's, not a retry.
    expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
  });

  test('a retryable error is retried 3 times with backoff, then the next route takes the message', async () => {
    const { input, result } = await retryThenFailover(h);

    expect(result).toEqual({ status: 'delivered', carrierId: 'beta', captured: '0.008500' });
    const submits = h.fakes.callsTo(input.messageId, 'submitToCarrier');
    expect(submits.map((s) => [s.carrierId, s.attempt])).toEqual([
      ['alpha', 1],
      ['alpha', 2],
      ['alpha', 3],
      ['beta', 4],
    ]);
    // beta is the last route left: it is tried even if its breaker opened since planning.
    expect(submits[3]?.skipIfOpen).toBeUndefined();
    const timers = (await historyEvents(input.messageId)).flatMap((e) => {
      const fire = e.timerStartedEventAttributes?.startToFireTimeout;
      return fire ? [Number(fire.seconds ?? 0) * 1000 + (fire.nanos ?? 0) / 1e6] : [];
    });
    // Backoff 0.5 s then 1 s, then the receipt wait (what is left of the 60 s validity).
    expect(timers.slice(0, -1)).toEqual([500, 1000]);
    expect(timers.at(-1)).toBeGreaterThan(50_000);
    const [finish] = h.fakes.callsTo(input.messageId, 'finishMessage');
    expect(finish).toMatchObject({ status: 'delivered', capture: '0.008500', carrierId: 'beta' });
    expect((await h.client.workflow.getHandle(input.messageId).query(progressQuery)).attempts).toBe(4);
  });

  test('a failover-class error moves to the next route at once, without retrying or waiting', async () => {
    const input = h.input();
    h.fakes.script(input.messageId, {
      submit: (s, n) =>
        s.carrierId === 'alpha'
          ? { ok: false, error: { class: 'failover', code: 'carrier_unavailable', message: 'refused' } }
          : accepted(s, n),
    });
    const handle = await h.start(input);
    await h.waitForStatus(handle, 'sent');
    await signalReceipt(handle, receipt('beta', 'beta-2', 'delivered'));

    expect(await handle.result()).toEqual({ status: 'delivered', carrierId: 'beta', captured: '0.008500' });
    expect(h.fakes.callsTo(input.messageId, 'submitToCarrier').map((s) => s.carrierId)).toEqual([
      'alpha',
      'beta',
    ]);
    // The only timer is the receipt wait: no backoff before beta.
    const timers = (await historyEvents(input.messageId)).filter((e) => e.timerStartedEventAttributes);
    expect(timers).toHaveLength(1);
  });

  test('a permanent error fails the message: no failover, nothing captured, the reservation released', async () => {
    const input = h.input();
    h.fakes.script(input.messageId, {
      submit: () => ({
        ok: false,
        error: { class: 'permanent', code: 'invalid_number', message: 'not a mobile', carrierCode: '21211' },
      }),
    });
    const handle = await h.start(input);

    expect(await handle.result()).toEqual({ status: 'failed', carrierId: 'alpha', captured: '0.000000' });
    expect(callNames(input.messageId)).toEqual(['admitMessage', 'submitToCarrier', 'finishMessage']);
    // Capturing nothing is what releases the whole reservation in the real settlement.
    const [finish] = h.fakes.callsTo(input.messageId, 'finishMessage');
    expect(finish).toMatchObject({
      status: 'failed',
      capture: '0.000000',
      error: { code: 'invalid_number', carrierCode: '21211' },
    });
  });

  test('no receipt within the validity period: expired, still charged (carriers bill on submission)', async () => {
    const started = Date.now();
    const { input, result } = await receiptTimeout(h);

    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(result).toEqual({ status: 'expired', carrierId: 'alpha', captured: '0.007900' });
    const [finish] = h.fakes.callsTo(input.messageId, 'finishMessage');
    expect(finish).toMatchObject({ status: 'expired', capture: '0.007900', error: { code: 'no_receipt' } });
    expect(finish?.deliveryOutcomes).toBeUndefined();
  });

  test('an ambiguous submit never confirmed by a receipt expires uncharged', async () => {
    const input = h.input({ validitySeconds: 1 });
    h.fakes.script(input.messageId, {
      submit: () => ({ ok: false, error: { class: 'ambiguous', code: 'timeout', message: 'no reply' } }),
    });
    const handle = await h.start(input);

    expect(await handle.result()).toEqual({ status: 'expired', carrierId: 'alpha', captured: '0.000000' });
    // Never a blind second submit: the carrier may hold the message.
    expect(h.fakes.callsTo(input.messageId, 'submitToCarrier')).toHaveLength(1);
    const [finish] = h.fakes.callsTo(input.messageId, 'finishMessage');
    expect(finish).toMatchObject({ capture: '0.000000', error: { code: 'submit_unconfirmed' } });
  });

  test('cancel before submission wins: canceled, nothing submitted or captured', async () => {
    const { input, result, update } = await cancelBeforeSubmit(h);

    expect(update).toEqual({ canceled: true });
    expect(result).toEqual({ status: 'canceled', carrierId: null, captured: '0.000000' });
    expect(callNames(input.messageId)).toEqual(['admitMessage', 'finishMessage']);
    expect(h.fakes.callsTo(input.messageId, 'finishMessage')[0]).toMatchObject({
      status: 'canceled',
      capture: '0.000000',
    });
  });

  test('cancel once a carrier has the message is refused and the message goes on', async () => {
    const input = h.input();
    let release = (): void => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let submitting = (): void => {};
    const inSubmit = new Promise<void>((r) => {
      submitting = r;
    });
    h.fakes.script(input.messageId, {
      submit: async (s, n): Promise<SubmitOutcome> => {
        submitting();
        await gate;
        return accepted(s, n);
      },
    });
    const handle = await h.start(input);
    await inSubmit;

    expect(await handle.executeUpdate(cancelUpdate)).toEqual({ canceled: false });
    release();
    await h.waitForStatus(handle, 'sent');
    await signalReceipt(handle, receipt('alpha', 'alpha-1', 'delivered'));
    expect((await handle.result()).status).toBe('delivered');
  });

  test("an operator's Temporal cancel after sent settles from the attempt rows and closes the run canceled", async () => {
    const { input, handle } = await operatorCancelAfterSent(h);
    expect(h.fakes.calls(input.messageId).map((c) => c.name)).toEqual([
      'admitMessage',
      'submitToCarrier',
      'settleCanceledMessage',
    ]);
    const described = await handle.describe();
    expect(described.status.name).toBe('CANCELLED');
    expect(described.typedSearchAttributes.get(HeraldStatus)).toBe('expired');
  });

  test('a receipt that arrives before the submit returns is buffered and applied', async () => {
    const { input, result } = await earlyReceipt(h);

    expect(result).toEqual({ status: 'delivered', carrierId: 'alpha', captured: '0.007900' });
    const events = await historyEvents(input.messageId);
    // The fake submit had the server store both signals before it returned (the scenario awaits
    // them); the local submit's result is recorded with its workflow task, so the signals follow
    // its marker in history, and the run still had to hold them until the submit was done.
    expect(events.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(2);
    // The same receipt twice (a webhook retry) settles once.
    expect(h.fakes.callsTo(input.messageId, 'finishMessage')).toHaveLength(1);
  });

  test('duplicate receipts charge once: a repeated part does not complete a 2-part message', async () => {
    const input = h.input({ segments: 2 });
    h.fakes.script(input.messageId, { submit: (s, n) => accepted(s, n, 2) });
    const handle = await h.start(input);
    await h.waitForStatus(handle, 'sent');

    await signalReceipt(handle, receipt('alpha', 'part-1', 'delivered'));
    await signalReceipt(handle, receipt('alpha', 'part-1', 'delivered'));
    // Queries see every signal accepted before them: still waiting for the second part.
    expect((await handle.query(progressQuery)).status).toBe('sent');
    await signalReceipt(handle, receipt('alpha', 'part-2', 'delivered'));

    expect(await handle.result()).toEqual({ status: 'delivered', carrierId: 'alpha', captured: '0.015800' });
    // A receipt after the run closed reaches no workflow (the API stores it as a late receipt).
    await expect(signalReceipt(handle, receipt('alpha', 'part-2', 'delivered'))).rejects.toThrow();
    const finishes = h.fakes.callsTo(input.messageId, 'finishMessage');
    expect(finishes).toHaveLength(1);
    expect(finishes[0]).toMatchObject({ status: 'delivered', capture: '0.015800' });
  });

  test.each([
    ['insufficient_funds', 'the account cannot pay for this message'],
    ['no_route', 'no carrier serves US'],
  ] as const)('admission answering %s fails the message without a submit', async (outcome, message) => {
    const input = h.input();
    h.fakes.script(input.messageId, { admit: { outcome } });
    const handle = await h.start(input);

    expect(await handle.result()).toEqual({ status: 'failed', carrierId: null, captured: '0.000000' });
    expect(callNames(input.messageId)).toEqual(['admitMessage', 'finishMessage']);
    expect(h.fakes.callsTo(input.messageId, 'finishMessage')[0]).toMatchObject({
      status: 'failed',
      capture: '0.000000',
      error: { code: outcome, message },
    });
  });

  test('a message whose validity ended before its workflow started fails unadmitted and uncharged', async () => {
    // Stored 2 minutes ago with 60 s of validity, started only now (stranded while Temporal was down).
    const input = h.input({ validitySeconds: 60, notAfter: Date.now() - 60_000 });
    const handle = await h.start(input);

    expect(await handle.result()).toEqual({ status: 'failed', carrierId: null, captured: '0.000000' });
    expect(callNames(input.messageId)).toEqual(['finishMessage']);
    expect(h.fakes.callsTo(input.messageId, 'finishMessage')[0]).toMatchObject({
      status: 'failed',
      capture: '0.000000',
      error: { code: 'validity_expired' },
    });
  });

  test('a message started late gives the carrier only what is left of its validity', async () => {
    // 600 s of validity of which about 300 s are gone.
    const input = h.input({ validitySeconds: 600, notAfter: Date.now() + 300_000 });
    const handle = await h.start(input);
    await h.waitForStatus(handle, 'sent');
    await signalReceipt(handle, receipt('alpha', 'alpha-1', 'delivered'));

    expect((await handle.result()).status).toBe('delivered');
    const [submit] = h.fakes.callsTo(input.messageId, 'submitToCarrier');
    expect(submit?.validitySeconds).toBeGreaterThan(290);
    expect(submit?.validitySeconds).toBeLessThanOrEqual(300);
  });

  test('a negative receipt with a failover code reserves and sends a second leg; each leg captures its bill', async () => {
    const { input, result } = await failoverAfterReceipt(h);

    expect(result).toEqual({ status: 'delivered', carrierId: 'beta', captured: '0.016400' });
    expect(callNames(input.messageId)).toEqual([
      'admitMessage',
      'submitToCarrier',
      'reserveFailover',
      'submitToCarrier',
      'finishMessage',
    ]);
    expect(h.fakes.callsTo(input.messageId, 'reserveFailover')[0]?.amount).toBe('0.008500');
    expect(h.fakes.callsTo(input.messageId, 'finishMessage')[0]).toMatchObject({
      capture: '0.007900',
      failoverCapture: '0.008500',
      carrierId: 'beta',
    });
  });
});

describe("the bench's floors (workflows/noop.ts, bench/noop-floor.ts)", () => {
  /** A run's events, in order, named by the attributes they carry (`workflowTaskScheduled` …). */
  const types = async (id: string) =>
    (await historyEvents(id)).map(
      (e) =>
        Object.keys(e)
          .find((k) => k.endsWith('EventAttributes') && e[k as keyof HistoryEvent] != null)
          ?.replace('EventAttributes', '') ?? '?',
    );

  test('the no-op floor is a start, one workflow task and the completion', async () => {
    const run = await runNoopWorkflows(h.client, { count: 4, concurrency: 2 });
    expect(run).toMatchObject({ completed: 4, errors: [] });
    expect(await types(run.ids[0] as string)).toEqual([
      'workflowExecutionStarted',
      'workflowTaskScheduled',
      'workflowTaskStarted',
      'workflowTaskCompleted',
      'workflowExecutionCompleted',
    ]);
  });

  test('the receipt-shaped floor is a task, the signal after it, a task and the completion; unsignalled it waits', async () => {
    // As many in flight as runs: the bench then waits for every first task before signalling.
    const run = await runNoopWorkflows(h.client, { count: 4, concurrency: 4, shape: 'receipt' });
    expect(run).toMatchObject({ completed: 4, errors: [] });
    for (const id of run.ids) {
      expect(await types(id)).toEqual([
        'workflowExecutionStarted',
        'workflowTaskScheduled',
        'workflowTaskStarted',
        'workflowTaskCompleted',
        'workflowExecutionSignaled',
        'workflowTaskScheduled',
        'workflowTaskStarted',
        'workflowTaskCompleted',
        'workflowExecutionCompleted',
      ]);
    }
    // Without its signal the run waits.
    const waiting = await h.client.workflow.start('receiptShapedWorkflow', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: `floor-unsignalled-${Date.now()}`,
      args: [],
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await waiting.describe()).status.name).toBe('RUNNING');
    await waiting.terminate('test done');
  });
});
