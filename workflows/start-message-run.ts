/**
 * Starting a stored message's `sendMessage` run from another workflow (a verification's code, an
 * inbound keyword's reply): a child that outlives its parent, in the message's lane with the
 * account as fairness key, its search attributes set from the start.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { PRIORITY_KEYS, type Priority } from '../domain/priority.ts';
import {
  HeraldAccount,
  HeraldCountry,
  HeraldPriority,
  HeraldStatus,
  MAIN_TASK_QUEUE,
  type SendMessageInput,
} from './definitions.ts';

/** Workflow type of the message runs (services/message-workflow.ts). */
const SEND_MESSAGE = 'sendMessage';

/** A message stored by an activity, ready to start. */
export interface PreparedMessageRun {
  readonly messageId: string;
  readonly input: SendMessageInput;
  readonly summary: string;
  readonly details: string;
}

/** Starts the run; one started before this task was retried is left as it is. */
export async function startMessageRun(prepared: PreparedMessageRun, priority: Priority): Promise<void> {
  try {
    await startChild(SEND_MESSAGE, {
      workflowId: prepared.messageId,
      taskQueue: MAIN_TASK_QUEUE,
      args: [prepared.input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      priority: { priorityKey: PRIORITY_KEYS[priority], fairnessKey: prepared.input.accountId },
      staticSummary: prepared.summary,
      staticDetails: prepared.details,
      typedSearchAttributes: [
        { key: HeraldStatus, value: 'accepted' },
        { key: HeraldAccount, value: prepared.input.accountId },
        { key: HeraldCountry, value: prepared.input.country },
        { key: HeraldPriority, value: priority },
      ],
    });
  } catch (err) {
    // Started before this task was retried: the message is under way, which is all we need.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
