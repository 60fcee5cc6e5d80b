/**
 * The API's only contact with Temporal: start a message workflow, signal it a receipt, ask it to
 * cancel. Workflows are addressed by name and id (never imported), and SDK errors are mapped
 * here, once: a closed or unknown workflow is a normal answer, anything else is a 503.
 */
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { Message } from '../db/schema.ts';
import {
  cancelUpdate,
  HeraldAccount,
  HeraldCountry,
  HeraldStatus,
  MAIN_TASK_QUEUE,
  type ReceiptSignal,
  receiptSignal,
  type SendMessageInput,
} from '../workflows/definitions.ts';
import { serviceUnavailable } from './errors.ts';

/** Workflow type name of workflows/send-message.ts. */
export const SEND_MESSAGE_WORKFLOW = 'sendMessage';

/**
 * Longest a request waits on Temporal (the SDK's own retries included) before answering 503:
 * a client or carrier retrying beats a connection held open while Temporal is down.
 */
export const TEMPORAL_CALL_TIMEOUT_MS = 10_000;

function withTimeout<R>(temporal: Client, fn: () => Promise<R>): Promise<R> {
  return temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, fn);
}

/**
 * Starts the message's workflow, idempotently: a running one is reused, a closed one is not
 * started again (the message is already done), so calling this twice is always safe.
 *
 * @throws ApiError 503 when Temporal cannot be reached.
 */
export async function startMessageWorkflow(temporal: Client, message: Message): Promise<void> {
  try {
    await withTimeout(temporal, () =>
      temporal.workflow.start(SEND_MESSAGE_WORKFLOW, {
        taskQueue: MAIN_TASK_QUEUE,
        workflowId: message.id,
        args: [workflowInput(message)],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: workflowSummary(message),
        staticDetails: workflowDetails(message),
        typedSearchAttributes: [
          { key: HeraldStatus, value: 'accepted' },
          { key: HeraldAccount, value: message.account_id },
          { key: HeraldCountry, value: message.country },
        ],
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw serviceUnavailable(
      'the message is stored but could not be started; retry with the same Idempotency-Key',
      err,
    );
  }
}

/**
 * One line the Temporal UI shows for the run, e.g. `US · acc_… · GSM-7 · 1 segment`. Never the
 * number or the body (the UI lists it beside every run).
 */
export function workflowSummary(message: Message): string {
  const segments = `${message.segments} segment${message.segments === 1 ? '' : 's'}`;
  return [message.country, message.account_id, message.encoding, segments].join(' · ');
}

/** The run's static details (Temporal markdown): what was asked, not what happened. */
export function workflowDetails(message: Message): string {
  return [
    `**Message** ${message.id}`,
    `**Account** ${message.account_id}`,
    `**Country** ${message.country}`,
    `**Encoding** ${message.encoding}, ${message.segments} segment(s)`,
    `**Validity** ${message.validity_seconds} s`,
  ].join('  \n');
}

/** The workflow's input, built from the stored row so a replayed request starts the same workflow. */
export function workflowInput(message: Message): SendMessageInput {
  return {
    messageId: message.id,
    accountId: message.account_id,
    to: message.to_number,
    from: message.from_sender,
    body: message.body,
    country: message.country,
    encoding: message.encoding,
    segments: message.segments,
    validitySeconds: message.validity_seconds,
  };
}

/**
 * Signals a receipt to the message's workflow.
 *
 * @returns `false` when the workflow is closed or unknown (the receipt is late).
 * @throws ApiError 503 when Temporal cannot be reached.
 */
export async function signalReceipt(
  temporal: Client,
  messageId: string,
  receipt: ReceiptSignal,
): Promise<boolean> {
  try {
    await withTimeout(temporal, () => temporal.workflow.getHandle(messageId).signal(receiptSignal, receipt));
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw serviceUnavailable('could not deliver the receipt; retry later', err);
  }
}

/** What the workflow answered to a cancel request. */
export type CancelOutcome = 'canceled' | 'too_late';

/**
 * Asks the message's workflow to cancel (an Update, so the answer is synchronous).
 *
 * @returns `too_late` when the workflow refused, rejected the update, or is already closed.
 * @throws ApiError 503 when Temporal cannot be reached or the workflow does not answer in time
 *   (no worker running).
 */
export async function cancelMessageWorkflow(temporal: Client, messageId: string): Promise<CancelOutcome> {
  try {
    const { canceled } = await withTimeout(temporal, () =>
      temporal.workflow.getHandle(messageId).executeUpdate(cancelUpdate),
    );
    return canceled ? 'canceled' : 'too_late';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return 'too_late';
    throw serviceUnavailable('could not reach the message workflow; retry later', err);
  }
}
