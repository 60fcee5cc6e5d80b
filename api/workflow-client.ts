/**
 * The API's only contact with Temporal: start a message workflow and ask it to cancel (receipts
 * are signalled by services/receipt-intake.ts). Workflows are addressed by name and id (never
 * imported), and SDK errors are mapped here, once: a closed or unknown workflow is a normal
 * answer, anything else is a 503.
 */
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../config/defaults.ts';
import type { Message } from '../db/schema.ts';
import { messageWorkflowOptions } from '../services/message-workflow.ts';
import { cancelUpdate, MESSAGE_WORKFLOW_TYPE } from '../workflows/definitions.ts';
import { serviceUnavailable } from './errors.ts';

function withTimeout<R>(temporal: Client, fn: () => Promise<R>): Promise<R> {
  return temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, fn);
}

/** What the workflow answered to a cancel request. */
export type CancelOutcome = 'canceled' | 'too_late';

/**
 * Asks the message's workflow to cancel (an Update, so the answer is synchronous). A message
 * still `accepted` may have no workflow yet (stranded while Temporal was down): the update then
 * starts it (update-with-start, the same start options as sending), so it is canceled before any
 * carrier sees it instead of answering 409 until the reconciler gets to it.
 *
 * @returns `too_late` when the workflow refused, rejected the update, or is already closed.
 * @throws ApiError 503 when Temporal cannot be reached or the workflow does not answer in time
 *   (no worker running).
 */
export async function cancelMessageWorkflow(temporal: Client, message: Message): Promise<CancelOutcome> {
  try {
    const { canceled } = await withTimeout(temporal, () => {
      if (message.status !== 'accepted') {
        return temporal.workflow.getHandle(message.id).executeUpdate(cancelUpdate);
      }
      const startWorkflowOperation = new WithStartWorkflowOperation(
        MESSAGE_WORKFLOW_TYPE,
        // Update-with-start needs an explicit policy: join the run if one is open.
        { ...messageWorkflowOptions(message), workflowIdConflictPolicy: 'USE_EXISTING' },
      );
      return temporal.workflow.executeUpdateWithStart(cancelUpdate, { startWorkflowOperation });
    });
    return canceled ? 'canceled' : 'too_late';
  } catch (err) {
    if (
      err instanceof WorkflowNotFoundError ||
      err instanceof WorkflowUpdateFailedError ||
      // A closed run for the id: REJECT_DUPLICATE refuses to start it again.
      err instanceof WorkflowExecutionAlreadyStartedError
    ) {
      return 'too_late';
    }
    throw serviceUnavailable('could not reach the message workflow; retry later', err);
  }
}
