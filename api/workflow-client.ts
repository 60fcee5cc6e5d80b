/**
 * The API's only contact with Temporal: start a message workflow and ask it to cancel (receipts
 * are signalled by services/receipt-intake.ts). Workflows are addressed by name and id (never
 * imported), and SDK errors are mapped here, once: a closed or unknown workflow is a normal
 * answer, anything else is a 503.
 */
import { type Client, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { cancelUpdate } from '../workflows/definitions.ts';
import { serviceUnavailable } from './errors.ts';

// Starting a message workflow is shared with the worker's stranded-message reconciler.
export {
  SEND_MESSAGE_WORKFLOW,
  workflowDetails,
  workflowInput,
  workflowSummary,
} from '../services/message-workflow.ts';

/**
 * Longest a request waits on Temporal (the SDK's own retries included) before answering 503:
 * a client or carrier retrying beats a connection held open while Temporal is down.
 */
export const TEMPORAL_CALL_TIMEOUT_MS = 10_000;

function withTimeout<R>(temporal: Client, fn: () => Promise<R>): Promise<R> {
  return temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, fn);
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
