/**
 * Message runs (`sendMessageV2`) driven through {@link SendMessageHarness}: the test asserts on them, and
 * test/support/record-histories.ts records the histories of {@link RECORDED_SCENARIOS} as replay fixtures.
 */
import { CancelledFailure, WithStartWorkflowOperation, WorkflowFailedError } from '@temporalio/client';
import type { FinishInput } from '../../activities/types.ts';
import {
  cancelUpdate,
  MESSAGE_WORKFLOW_TYPE,
  receiptSignal,
  type SendMessageInput,
} from '../../workflows/definitions.ts';
import type { sendMessageV2 } from '../../workflows/send-message.ts';
import {
  ALPHA,
  accepted,
  BETA,
  receipt,
  type SendMessageHandle,
  type SendMessageHarness,
  type SendMessageResult,
  signalReceipt,
  workflowOptions,
} from './send-message-harness.ts';

export interface ScenarioRun {
  readonly input: SendMessageInput;
  readonly handle: SendMessageHandle;
  readonly result: SendMessageResult;
}

export type Scenario = (h: SendMessageHarness) => Promise<ScenarioRun>;

/** Accepted by alpha (2 segments), `enroute` then `delivered` receipts. */
export const happyPath: Scenario = async (h) => {
  const input = h.input({ segments: 2 });
  const handle = await h.start(input);
  await h.waitForStatus(handle, 'sent');
  await signalReceipt(handle, receipt('alpha', 'alpha-1', 'enroute'));
  await signalReceipt(handle, receipt('alpha', 'alpha-1', 'delivered'));
  return { input, handle, result: await handle.result() };
};

/** alpha throttles every try (3, with backoff timers), beta takes it and delivers. */
export const retryThenFailover: Scenario = async (h) => {
  const input = h.input();
  h.fakes.script(input.messageId, {
    submit: (s, n) =>
      s.carrierId === 'alpha'
        ? {
            ok: false,
            error: { class: 'retry', code: 'throttled', message: 'slow down', carrierCode: '429' },
          }
        : accepted(s, n),
  });
  const handle = await h.start(input);
  await h.waitForStatus(handle, 'sent');
  await signalReceipt(handle, receipt('beta', 'beta-4', 'delivered'));
  return { input, handle, result: await handle.result() };
};

/**
 * The carrier's receipt beats its own submit reply: the submit activity signals `delivered`
 * (twice, as a webhook retry would) before it returns, so the workflow must buffer it.
 */
export const earlyReceipt: Scenario = async (h) => {
  const input = h.input();
  h.fakes.script(input.messageId, {
    submit: async (s, n) => {
      const early = h.client.workflow.getHandle(input.messageId);
      await early.signal(receiptSignal, receipt(s.carrierId, `${s.carrierId}-${n}`, 'delivered'));
      await early.signal(receiptSignal, receipt(s.carrierId, `${s.carrierId}-${n}`, 'delivered'));
      return accepted(s, n);
    },
  });
  const handle = await h.start(input);
  return { input, handle, result: await handle.result() };
};

/** Accepted, but no receipt within a 2 s validity period. */
export const receiptTimeout: Scenario = async (h) => {
  const input = h.input({ validitySeconds: 2 });
  const handle = await h.start(input);
  return { input, handle, result: await handle.result() };
};

/**
 * Cancel arrives with the start (update-with-start), so it is handled before the admission
 * finishes and wins: no carrier ever sees the message.
 */
export async function cancelBeforeSubmit(
  h: SendMessageHarness,
): Promise<ScenarioRun & { readonly update: { canceled: boolean } }> {
  const input = h.input();
  const start = new WithStartWorkflowOperation<typeof sendMessageV2>(
    MESSAGE_WORKFLOW_TYPE,
    workflowOptions(input),
  );
  const update = await h.client.workflow.executeUpdateWithStart(cancelUpdate, {
    startWorkflowOperation: start,
  });
  const handle = await start.workflowHandle();
  return { input, handle, result: await handle.result(), update };
}

/**
 * alpha (which lists receipt code 30008 as "try the next route") reports the message undelivered
 * with that code; the workflow reserves a second leg and beta delivers it.
 */
export const failoverAfterReceipt: Scenario = async (h) => {
  const input = h.input();
  const alpha = { ...ALPHA, failoverReceiptCodes: ['30008'] };
  h.fakes.script(input.messageId, {
    admit: { outcome: 'reserved', routes: [alpha, BETA], quote: BETA.price },
  });
  const handle = await h.start(input);
  await h.waitForStatus(handle, 'sent');
  await signalReceipt(
    handle,
    receipt('alpha', 'alpha-1', 'undelivered', { errorCode: '30008', errorMessage: 'unknown error' }),
  );
  // The status stays `sent` during the second leg: wait for its submit, as a carrier would.
  await waitUntil(() => h.fakes.callsTo(input.messageId, 'submitToCarrier').length === 2);
  await signalReceipt(handle, receipt('beta', 'beta-2', 'delivered'));
  return { input, handle, result: await handle.result() };
};

/**
 * Accepted by alpha; before any receipt an operator cancels the run (Temporal UI, `temporal
 * workflow cancel`): the run settles from the attempt rows (expired, `canceled_by_operator`,
 * charged as a message without a receipt) and closes as canceled. The result is the settlement's.
 */
export const operatorCancelAfterSent: Scenario = async (h) => {
  const input = h.input();
  const handle = await h.start(input);
  await h.waitForStatus(handle, 'sent');
  await handle.cancel();
  const closed = await handle.result().then(
    () => 'completed',
    (err: unknown) =>
      err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure ? 'canceled' : err,
  );
  if (closed !== 'canceled') throw new Error(`run did not close as canceled: ${String(closed)}`);
  const settled = h.fakes.callsTo(input.messageId, 'settleCanceledMessage').length;
  if (settled !== 1) throw new Error(`settleCanceledMessage ran ${settled} times`);
  return { input, handle, result: { status: 'expired', carrierId: 'alpha', captured: ALPHA.price } };
};

async function waitUntil(done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs recorded as replay fixtures (test/fixtures/histories/<name>.json), with the status each must end in. */
export const RECORDED_SCENARIOS: Readonly<
  Record<string, { readonly run: Scenario; readonly status: FinishInput['status'] }>
> = {
  'happy-path': { run: happyPath, status: 'delivered' },
  'retry-then-failover': { run: retryThenFailover, status: 'delivered' },
  'early-receipt': { run: earlyReceipt, status: 'delivered' },
  'receipt-timeout': { run: receiptTimeout, status: 'expired' },
  'cancel-before-submit': { run: cancelBeforeSubmit, status: 'canceled' },
  'failover-after-receipt': { run: failoverAfterReceipt, status: 'delivered' },
  'operator-cancel-after-sent': { run: operatorCancelAfterSent, status: 'expired' },
};
